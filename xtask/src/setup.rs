//! "Installs what is missing": the wasm target, wasm-bindgen-cli at the locked version,
//! Debian packages for the browser tests, and the npm test dependencies. Each check is
//! cheap and offline when the thing is already there.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{self, note, output, root, run, step, warn, Result};

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The Debian path the browser tests launch.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// `rustup target add wasm32-unknown-unknown` unless the standard library for it is there.
pub fn wasm_target() -> Result {
    let sysroot = output("rustc", &["--print", "sysroot"]).ok_or("could not run `rustc --print sysroot`")?;
    let lib = Path::new(&sysroot).join("lib/rustlib").join(WASM_TARGET).join("lib");
    if lib.is_dir() {
        return Ok(());
    }
    step(&format!("installing the Rust target {WASM_TARGET}"));
    if util::which("rustup").is_none() {
        return Err(format!(
            "the Rust standard library for {WASM_TARGET} is missing and rustup is not installed; \
             install Rust with rustup, or add the target with your toolchain manager"
        ));
    }
    run(Command::new("rustup").args(["target", "add", WASM_TARGET]).current_dir(root()))
}

/// The version of the `wasm-bindgen` crate recorded in Cargo.lock: the CLI must match it
/// exactly or the generated JS glue will refuse the module.
pub fn locked_wasm_bindgen_version() -> Result<String> {
    let path = root().join("Cargo.lock");
    let lock = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let versions = lock_versions(&lock, "wasm-bindgen");
    match versions.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err("Cargo.lock has no `wasm-bindgen` package; run `cargo generate-lockfile`".into()),
        many => Err(format!("Cargo.lock holds several wasm-bindgen versions ({}); keep exactly one", many.join(", "))),
    }
}

/// Versions of package `name` in a Cargo.lock (`[[package]]` tables).
fn lock_versions(lock: &str, name: &str) -> Vec<String> {
    let unquote = |v: &str| v.trim().trim_matches('"').to_string();
    let mut found = Vec::new();
    for block in lock.split("[[package]]").skip(1) {
        let mut pkg_name = None;
        let mut version = None;
        for line in block.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                break;
            }
            if let Some((key, value)) = line.split_once('=') {
                match key.trim() {
                    "name" => pkg_name = Some(unquote(value)),
                    "version" => version = Some(unquote(value)),
                    _ => {}
                }
            }
        }
        if let (Some(n), Some(v)) = (pkg_name, version) {
            if n == name {
                found.push(v);
            }
        }
    }
    found
}

/// Where `cargo install` puts binaries: $CARGO_INSTALL_ROOT/bin, else $CARGO_HOME/bin.
fn cargo_bin_dir() -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_INSTALL_ROOT")
        .or_else(|| std::env::var_os("CARGO_HOME"))
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    Some(home.join("bin"))
}

fn bindgen_version(program: &Path) -> Option<String> {
    // "wasm-bindgen 0.2.130"
    let out = output(program.to_str()?, &["--version"])?;
    out.split_whitespace().nth(1).map(str::to_string)
}

/// Path to a wasm-bindgen CLI of exactly the locked version, installing it if needed.
pub fn wasm_bindgen() -> Result<PathBuf> {
    let want = locked_wasm_bindgen_version()?;
    let exe = format!("wasm-bindgen{}", std::env::consts::EXE_SUFFIX);
    let candidates: Vec<PathBuf> =
        util::which(&exe).into_iter().chain(cargo_bin_dir().map(|d| d.join(&exe))).filter(|p| p.is_file()).collect();
    let mut seen = Vec::new();
    for c in &candidates {
        match bindgen_version(c) {
            Some(v) if v == want => return Ok(c.clone()),
            Some(v) => seen.push(format!("{} is {v}", c.display())),
            None => {}
        }
    }
    step(&format!("installing wasm-bindgen-cli {want} (the version in Cargo.lock)"));
    if !seen.is_empty() {
        note(&format!("found a different version: {}", seen.join("; ")));
    }
    let install = |locked: bool| {
        let mut cmd = util::cargo();
        cmd.args(["install", "wasm-bindgen-cli", "--version", &want]);
        if locked {
            cmd.arg("--locked");
        }
        run(&mut cmd)
    };
    if let Err(e) = install(true) {
        warn(&format!("{e}; retrying without --locked (newest compatible dependencies)"));
        install(false).map_err(|e| format!("{e}\nwasm-bindgen-cli {want} could not be installed; without network access, install it on a connected machine with `cargo install wasm-bindgen-cli --version {want}`"))?;
    }
    let installed =
        cargo_bin_dir().map(|d| d.join(&exe)).ok_or("cannot locate the cargo bin directory (set CARGO_HOME)")?;
    match bindgen_version(&installed) {
        Some(v) if v == want => Ok(installed),
        other => Err(format!("after installing, {} reports version {other:?}, expected {want}", installed.display())),
    }
}

fn dpkg_installed(pkg: &str) -> bool {
    output("dpkg-query", &["-W", "-f=${Status}", pkg]).is_some_and(|s| s.ends_with("install ok installed"))
}

/// Debian packages for the tests: chromium (browser tests), the Vulkan loader and mesa's
/// lavapipe (the GPU the native tests run on), node + npm if missing. Uses apt-get
/// when root; otherwise says what to run.
pub fn system_packages() -> Result {
    let debian = util::which("dpkg-query").is_some() && util::which("apt-get").is_some();
    let mut missing: Vec<&str> = Vec::new();
    let custom_chromium = std::env::var_os("CHROMIUM_PATH").is_some_and(|p| Path::new(&p).is_file());
    if !custom_chromium && !Path::new(CHROMIUM).exists() {
        missing.push("chromium");
    }
    if debian {
        for pkg in ["mesa-vulkan-drivers", "libvulkan1"] {
            if !dpkg_installed(pkg) {
                missing.push(pkg);
            }
        }
    }
    if util::which("node").is_none() {
        missing.push("nodejs");
    }
    if util::which("npm").is_none() {
        missing.push("npm");
    }
    if missing.is_empty() {
        return Ok(());
    }
    if !debian {
        return Err(format!(
            "missing: {} (and this is not a Debian-like system with apt-get); install them with your \
             package manager; the browser tests expect chromium at {CHROMIUM}",
            missing.join(", ")
        ));
    }
    let install_cmd = format!("apt-get install -y --no-install-recommends {}", missing.join(" "));
    if !util::is_root() {
        return Err(format!(
            "missing Debian packages: {}; run: sudo apt-get update && sudo {install_cmd}",
            missing.join(", ")
        ));
    }
    step(&format!("installing Debian packages: {}", missing.join(", ")));
    let apt = |args: &[&str]| {
        let mut cmd = Command::new("apt-get");
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        run(&mut cmd)
    };
    let mut install_args = vec!["install", "-y", "--no-install-recommends"];
    install_args.extend(missing.iter().copied());
    // Package lists may be absent (fresh containers) or stale: update once, then install.
    apt(&["update"])?;
    apt(&install_args)
}

/// Node dependencies of the browser tests: `npm ci` (or `npm install` without a
/// lockfile) when node_modules is missing or older than package.json / the lockfile.
pub fn npm_deps() -> Result {
    let root = root();
    let lock = root.join("package-lock.json");
    let marker = root.join("node_modules/.package-lock.json");
    let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let installed = mtime(&marker);
    let inputs = [mtime(&root.join("package.json")), mtime(&lock)];
    let fresh = installed.is_some_and(|t| inputs.iter().flatten().all(|&i| i <= t))
        && root.join("node_modules/playwright-core/package.json").is_file();
    if fresh {
        return Ok(());
    }
    let (verb, why) = if lock.is_file() { ("ci", "package-lock.json") } else { ("install", "package.json") };
    step(&format!("installing the browser-test npm dependencies (npm {verb}, from {why})"));
    let mut cmd = Command::new("npm");
    cmd.args([verb, "--no-audit", "--no-fund"]).current_dir(&root).env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
    run(&mut cmd)
        .map_err(|e| format!("{e}\n(the npm dependencies need network access once; after that the tests run offline)"))
}

#[cfg(test)]
mod tests {
    use super::lock_versions;

    #[test]
    fn finds_the_locked_version() {
        let lock = r#"
version = 4

[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+x"
dependencies = [
 "wasm-bindgen-macro",
]

[[package]]
name = "wasm-bindgen-macro"
version = "0.2.130"
"#;
        assert_eq!(lock_versions(lock, "wasm-bindgen"), vec!["0.2.130".to_string()]);
        assert!(lock_versions(lock, "tiny_http").is_empty());
    }
}
