//! A small static file server for www/: correct MIME types (the browser refuses
//! `WebAssembly.instantiateStreaming` and module scripts otherwise) and `no-store`, so a
//! rebuilt www/pkg is never shadowed by a cached copy.

use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use tiny_http::{Header, Method, Request, Response, Server, StatusCode};

use crate::util::Result;

pub fn mime_type(path: &Path) -> &'static str {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" | "map" => "application/json; charset=utf-8",
        "txt" | "md" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "tar" => "application/x-tar",
        _ => "application/octet-stream",
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("static header names and values are ASCII")
}

/// Decode %XX escapes; None on malformed input or non-UTF-8 results.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Source files that only work once Vite has bundled them (they import CSS and npm
/// packages by bare name): the server sends the browser to their build in www/dist.
const BUNDLED: [&str; 3] = ["notebook.html", "embed/example.html", "embed/convbook-cell.js"];

enum Resolved {
    File(PathBuf),
    /// A directory requested without its trailing slash: redirect so relative URLs work.
    Redirect(String),
    /// A source page whose build is in www/dist (a temporary redirect: the build may go).
    Built(String),
    /// A source page whose build is missing.
    NeedsBuild(String),
    NotFound,
    BadRequest,
}

/// Map a request path onto a file under `root`, refusing anything that leaves it.
fn resolve(root: &Path, url: &str) -> Resolved {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    let Some(decoded) = percent_decode(path) else { return Resolved::BadRequest };
    let rel = Path::new(decoded.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) || decoded.contains('\0') {
        return Resolved::BadRequest;
    }
    let query = url.find('?').map(|i| &url[i..]).unwrap_or("");
    if let Some(page) = BUNDLED.iter().find(|p| Path::new(p) == rel) {
        return if root.join("dist").join(page).is_file() {
            Resolved::Built(format!("/dist/{page}{query}"))
        } else {
            Resolved::NeedsBuild((*page).to_string())
        };
    }
    let mut file = root.join(rel);
    if file.is_dir() {
        if !decoded.ends_with('/') {
            return Resolved::Redirect(format!("{path}/{query}"));
        }
        file = file.join("index.html");
    }
    if file.is_file() {
        Resolved::File(file)
    } else {
        Resolved::NotFound
    }
}

fn text(status: u16, body: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    Response::from_string(body)
        .with_status_code(StatusCode(status))
        .with_header(header("Content-Type", "text/plain; charset=utf-8"))
}

fn handle(root: &Path, request: Request) {
    let method = request.method().clone();
    let url = request.url().to_string();
    let no_store = header("Cache-Control", "no-store");
    let result = if !matches!(method, Method::Get | Method::Head) {
        request.respond(text(405, "only GET and HEAD are supported\n").with_header(header("Allow", "GET, HEAD")))
    } else {
        match resolve(root, &url) {
            Resolved::File(path) => match std::fs::File::open(&path) {
                Ok(file) => {
                    // Content-Length rather than chunked encoding, even for the wasm: lets
                    // the browser show progress and is simplest for every client.
                    let response = Response::from_file(file)
                        .with_chunked_threshold(usize::MAX)
                        .with_header(header("Content-Type", mime_type(&path)))
                        .with_header(no_store)
                        .with_header(header("X-Content-Type-Options", "nosniff"))
                        // Public static files: other origins may embed cells from here.
                        .with_header(header("Access-Control-Allow-Origin", "*"));
                    request.respond(response)
                }
                Err(e) => {
                    eprintln!("    {method} {url} -> 500 ({e})");
                    request.respond(text(500, &format!("cannot read file: {e}\n")))
                }
            },
            Resolved::Redirect(to) => request
                .respond(Response::empty(StatusCode(301)).with_header(header("Location", &to)).with_header(no_store)),
            Resolved::Built(to) => request.respond(
                Response::empty(StatusCode(302))
                    .with_header(header("Location", &to))
                    .with_header(no_store)
                    .with_header(header("Access-Control-Allow-Origin", "*")),
            ),
            Resolved::NeedsBuild(page) => request.respond(
                text(404, &format!("www/{page} only works bundled, and www/dist/{page} is missing: run `cargo xtask build`\n"))
                    .with_header(no_store),
            ),
            Resolved::NotFound => {
                eprintln!("    {method} {url} -> 404");
                let hint = if url.starts_with("/pkg/") { " (the wasm build writes www/pkg)" } else { "" };
                request.respond(text(404, &format!("not found: {url}{hint}\n")).with_header(no_store))
            }
            Resolved::BadRequest => request.respond(text(400, "bad path\n")),
        }
    };
    // A client that went away mid-response is not our problem.
    if let Err(e) = result {
        if !matches!(e.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset) {
            eprintln!("    {method} {url}: {e}");
        }
    }
}

/// Serve `root` on 127.0.0.1:`port` until interrupted.
pub fn serve(root: &Path, port: u16, notebook: bool) -> Result {
    let addr = format!("127.0.0.1:{port}");
    let server = Server::http(&addr).map_err(|e| {
        let busy = e.to_string().to_lowercase().contains("in use");
        if busy {
            format!("cannot listen on {addr}: the port is in use; pick another with --port {}", port.wrapping_add(1))
        } else {
            format!("cannot listen on {addr}: {e}")
        }
    })?;
    let server = Arc::new(server);
    eprintln!();
    eprintln!("  convbook is served at  \x1b[1mhttp://{addr}/\x1b[0m");
    if notebook && root.join("dist/notebook.html").is_file() {
        eprintln!("  the notebook:          http://{addr}/dist/notebook.html");
    }
    eprintln!("  browser smoke tests:   http://{addr}/tests/smoke.html");
    eprintln!("  (serving {}; Ctrl-C to stop)", root.display());
    eprintln!();
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let server = server.clone();
            let root = root.to_path_buf();
            std::thread::spawn(move || loop {
                match server.recv() {
                    Ok(request) => handle(&root, request),
                    Err(e) => {
                        eprintln!("    server error: {e}");
                        break;
                    }
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    Err("the server stopped".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_types() {
        assert_eq!(mime_type(Path::new("a/convbook_bg.wasm")), "application/wasm");
        assert!(mime_type(Path::new("convbook.js")).starts_with("text/javascript"));
        assert!(mime_type(Path::new("smoke.MJS")).starts_with("text/javascript"));
        assert!(mime_type(Path::new("index.html")).starts_with("text/html"));
        assert_eq!(mime_type(Path::new("weights.bin")), "application/octet-stream");
    }

    #[test]
    fn resolve_refuses_escapes() {
        let root = crate::util::root().join("xtask");
        assert!(matches!(resolve(&root, "/../Cargo.toml"), Resolved::BadRequest));
        assert!(matches!(resolve(&root, "/%2e%2e/Cargo.toml"), Resolved::BadRequest));
        assert!(matches!(resolve(&root, "/Cargo.toml?x=1"), Resolved::File(_)));
        assert!(matches!(resolve(&root, "/src"), Resolved::Redirect(ref to) if to == "/src/"));
        assert!(matches!(resolve(&root, "/nope.js"), Resolved::NotFound));
    }

    #[test]
    fn bundled_source_pages_go_to_their_build() {
        let root = std::env::temp_dir().join(format!("convbook-serve-test-{}", std::process::id()));
        std::fs::create_dir_all(root.join("dist/embed")).unwrap();
        std::fs::create_dir_all(root.join("embed")).unwrap();
        std::fs::write(root.join("embed/example.html"), "source").unwrap();
        assert!(matches!(resolve(&root, "/embed/example.html"), Resolved::NeedsBuild(ref p) if p == "embed/example.html"));
        std::fs::write(root.join("dist/embed/example.html"), "built").unwrap();
        assert!(matches!(resolve(&root, "/embed/example.html?x=1"), Resolved::Built(ref to) if to == "/dist/embed/example.html?x=1"));
        assert!(matches!(resolve(&root, "/dist/embed/example.html"), Resolved::File(_)));
        assert!(matches!(resolve(&root, "/embed/other.html"), Resolved::NotFound));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
