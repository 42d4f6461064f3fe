//! A static file server for the built lab, on 127.0.0.1 only. It sends the
//! same Content-Security-Policy the pages carry, and the wasm MIME type that
//! streaming compilation needs.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

fn mime(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// The file a request path names, if it stays inside `root`.
fn resolve(root: &Path, url: &str) -> Option<PathBuf> {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    let mut out = root.to_path_buf();
    for c in Path::new(path.trim_start_matches('/')).components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if out.is_dir() {
        out.push("index.html");
    }
    out.is_file().then_some(out)
}

/// Starts serving `root` on 127.0.0.1:`port` (0 picks a free port) in a
/// background thread; returns the base URL.
pub fn start(root: &Path, port: u16) -> Result<String, String> {
    let server = tiny_http::Server::http(("127.0.0.1", port)).map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let addr = server.server_addr().to_ip().ok_or("not an IP listener")?;
    let server = Arc::new(server);
    let root = root.to_path_buf();
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let header = |k: &str, v: &str| tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).expect("valid header");
            let response = match resolve(&root, request.url()).and_then(|p| std::fs::read(&p).ok().map(|b| (p, b))) {
                Some((path, body)) => tiny_http::Response::from_data(body).with_header(header("Content-Type", mime(&path))),
                None => tiny_http::Response::from_data(b"not found\n".to_vec())
                    .with_status_code(404)
                    .with_header(header("Content-Type", "text/plain")),
            };
            let response = response
                .with_header(header("Content-Security-Policy", CSP))
                .with_header(header("Cache-Control", "no-cache"))
                .with_header(header("X-Content-Type-Options", "nosniff"))
                // The embed script may be loaded by documentation sites on other origins.
                .with_header(header("Access-Control-Allow-Origin", "*"));
            let _ = request.respond(response);
        }
    });
    Ok(format!("http://{addr}/"))
}
