//! Small helpers shared by the commands: paths, running programs, messages.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Instant;

pub type Result<T = ()> = std::result::Result<T, String>;

/// The workspace root (the directory holding the top-level Cargo.toml).
pub fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// The cargo that runs us (so nested builds use the same toolchain).
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// `==> message` headline for a step.
pub fn step(msg: &str) {
    eprintln!("\x1b[1m==> {msg}\x1b[0m");
}

pub fn note(msg: &str) {
    eprintln!("    {msg}");
}

pub fn warn(msg: &str) {
    eprintln!("\x1b[33mwarning:\x1b[0m {msg}");
}

/// Describe a command the way a user would type it.
pub fn show(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    if let Some(name) = Path::new(&s).file_name() {
        s = name.to_string_lossy().into_owned();
    }
    for a in cmd.get_args() {
        let a = a.to_string_lossy();
        if a.contains(' ') {
            s.push_str(&format!(" '{a}'"));
        } else {
            s.push(' ');
            s.push_str(&a);
        }
    }
    s
}

/// Run a command with inherited stdio; Err names it and its exit status.
pub fn run(cmd: &mut Command) -> Result {
    eprintln!("    $ {}", show(cmd));
    let status = spawn_status(cmd)?;
    check(cmd, status)
}

pub fn spawn_status(cmd: &mut Command) -> Result<ExitStatus> {
    cmd.status().map_err(|e| format!("could not start `{}`: {e}", show(cmd)))
}

pub fn check(cmd: &Command, status: ExitStatus) -> Result {
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", show(cmd)))
    }
}

/// Run quietly and return trimmed stdout, or None if the program is missing or fails.
pub fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Full path of `program` on PATH, if any.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|p| p.is_file())
}

pub fn is_root() -> bool {
    output("id", &["-u"]).as_deref() == Some("0")
}

/// "1m 23s" / "4.2s".
pub fn elapsed(since: Instant) -> String {
    let s = since.elapsed().as_secs_f64();
    if s >= 60.0 {
        format!("{}m {:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        format!("{s:.1}s")
    }
}

/// A private XDG_RUNTIME_DIR (mesa and chromium warn without one), removed on drop.
pub struct RuntimeDir(pub PathBuf);

impl RuntimeDir {
    pub fn new() -> Result<RuntimeDir> {
        let dir = std::env::temp_dir().join(format!("convbook-xdg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
        }
        Ok(RuntimeDir(dir))
    }
}

impl Drop for RuntimeDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Run with output captured: on success return it (for a one-line digest), on failure
/// print all of it so nothing is hidden.
pub fn run_captured(cmd: &mut Command) -> Result<String> {
    eprintln!("    $ {}", show(cmd));
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| format!("could not start `{}`: {e}", show(cmd)))?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        Ok(text)
    } else {
        eprintln!("{text}");
        Err(format!("`{}` failed ({})", show(cmd), out.status))
    }
}
