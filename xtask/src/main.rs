//! Project chores: `cargo xtask lab` and `cargo xtask test`.
//!
//! Both install what a fresh machine lacks (the wasm target, clang for ring's
//! wasm build, wasm-bindgen-cli, binaryen, Chromium, the npm test tools)
//! before doing their work, so the README's two commands are all a newcomer
//! needs.

mod fuzz;
mod load;
mod www;

use std::path::PathBuf;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("lab") => lab(args.get(1).map(String::as_str)),
        Some("test") => test(),
        Some("browser") => browser_tests(),
        Some("budget") => www::build().and_then(|()| budget()),
        Some("dist") => www::dist(),
        Some("bench") => run("cargo", &["bench", "--workspace"]),
        Some("fuzz") => fuzz::fuzz(&args[1..]),
        Some("fuzz-seeds") => fuzz::seeds(),
        Some("load") => load::load(),
        _ => {
            eprintln!(
                "usage: cargo xtask <lab|test|browser|dist|budget|bench|fuzz|fuzz-seeds|load>\n  lab [PORT]  build the browser lab and serve it on 127.0.0.1 (default port 8080)\n  dist        the npm package (target/dist/smtp-lab-VERSION.tgz) and the static site (target/dist/site)\n  test        run every check and test\n  browser     build the lab and run only the browser tests\n  budget      print the lab's download size and time to first render\n  bench       run the benchmarks\n  fuzz --smoke                   build every fuzz target and run each for 30 s\n  fuzz TARGET [--minutes N]      run one target longer\n  fuzz-seeds  rewrite fuzz/corpus from the lessons' traces\n  load        smtp-lab serve under load (smtp-source, and STARTTLS from its own client), beside\n              Postfix's smtp-sink; idle timeout, connection limit, peak RSS"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result = std::result::Result<(), String>;

fn run(program: &str, args: &[&str]) -> Result {
    eprintln!("+ {program} {}", args.join(" "));
    let status = Command::new(program).args(args).status().map_err(|e| format!("{program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

pub fn have(program: &str) -> bool {
    let on_path = Command::new("sh").args(["-c", &format!("command -v {program}")]).output().is_ok_and(|o| o.status.success());
    on_path || std::path::Path::new("/usr/sbin").join(program).exists()
}

/// Installs Debian packages that provide the missing programs.
pub fn apt(packages: &[(&str, &str)]) -> Result {
    let missing: Vec<&str> = packages.iter().filter(|(program, _)| !have(program)).map(|(_, package)| *package).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let sudo = if have("id") && Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() != b"0") { "sudo" } else { "" };
    let shell =
        format!("{sudo} apt-get update -qq && {sudo} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq {}", missing.join(" "));
    run("sh", &["-c", &shell])
}

/// The toolchain pieces every command needs.
fn ensure_tools() -> Result {
    let targets = Command::new("rustup").args(["target", "list", "--installed"]).output().map_err(|e| format!("rustup: {e}"))?;
    if !String::from_utf8_lossy(&targets.stdout).contains("wasm32-unknown-unknown") {
        run("rustup", &["target", "add", "wasm32-unknown-unknown"])?;
    }
    let components = Command::new("rustup").args(["component", "list", "--installed"]).output().map_err(|e| format!("rustup: {e}"))?;
    let components = String::from_utf8_lossy(&components.stdout).into_owned();
    for c in ["rustfmt", "clippy"] {
        if !components.contains(c) {
            run("rustup", &["component", "add", c])?;
        }
    }
    // ring's C code for wasm32 needs clang (and llvm-ar, which comes with it).
    apt(&[("clang", "clang")])
}

/// Real SMTP software the interop tests talk to.
fn ensure_peers() -> Result {
    apt(&[("swaks", "swaks"), ("postfix", "postfix"), ("tshark", "tshark"), ("openssl", "openssl"), ("testssl", "testssl.sh")])?;
    let has_aiosmtpd = Command::new("python3").args(["-c", "import aiosmtpd"]).output().is_ok_and(|o| o.status.success());
    if !has_aiosmtpd {
        run("python3", &["-m", "pip", "install", "--quiet", "aiosmtpd"])?;
    }
    Ok(())
}

/// The wasm-bindgen version the crate pins (`wasm-bindgen = "=x.y.z"`); the CLI must match it.
fn wasm_bindgen_version() -> std::result::Result<String, String> {
    manifest_value(&read_manifest()?, "wasm-bindgen")
        .and_then(|v| v.strip_prefix('=').map(str::to_owned))
        .ok_or_else(|| "Cargo.toml pins no wasm-bindgen version".into())
}

/// The crate's Cargo.toml, read for the values xtask takes from it.
pub fn read_manifest() -> std::result::Result<String, String> {
    std::fs::read_to_string("Cargo.toml").map_err(|e| format!("Cargo.toml: {e}"))
}

/// The first `key = "value"` line's value (for `name`, the package's: `[package]` comes first).
pub fn manifest_value(manifest: &str, key: &str) -> Option<String> {
    manifest.lines().find_map(|l| l.trim().strip_prefix(key)?.strip_prefix(" = \"")?.strip_suffix('"').map(str::to_owned))
}

fn ensure_wasm_bindgen_cli() -> Result {
    let want = wasm_bindgen_version()?;
    let have =
        Command::new("wasm-bindgen").arg("--version").output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    if have.split_whitespace().nth(1) != Some(want.as_str()) {
        // Not --locked: the registry mirror lags the CLI's lock file.
        run("cargo", &["install", "--quiet", "wasm-bindgen-cli", "--version", &want])?;
    }
    Ok(())
}

/// Builds the wasm library, binds it for Node and runs the smoke test: real
/// TLS handshakes by ring and rustls compiled to wasm32.
fn wasm_smoke() -> Result {
    ensure_wasm_bindgen_cli()?;
    run("cargo", &["build", "--lib", "--target", "wasm32-unknown-unknown", "--no-default-features"])?;
    let wasm = "target/wasm32-unknown-unknown/debug/smtp_lab.wasm";
    run("wasm-bindgen", &["--target", "nodejs", "--out-dir", "target/wasm-node", wasm])?;
    run("cargo", &["build", "--bin", "smtp-lab"])?;
    run("node", &["tests/wasm/smoke.mjs", "./target/wasm-node/smtp_lab.js", "./target/debug/smtp-lab"])
}

/// Installs an npm package under target/tools (once) and returns the path of one of its programs.
fn npm_tool(package: &str, program: &str) -> std::result::Result<PathBuf, String> {
    let bin = PathBuf::from("target/tools/node_modules/.bin").join(program);
    let version = package.rsplit_once('@').map_or("", |(_, v)| v);
    let installed =
        std::fs::read_to_string(format!("target/tools/node_modules/{}/package.json", package.rsplit_once('@').map_or(package, |(n, _)| n)))
            .is_ok_and(|p| p.contains(&format!("\"version\": \"{version}")));
    if !bin.exists() || !installed {
        std::fs::create_dir_all("target/tools").map_err(|e| e.to_string())?;
        run("npm", &["install", "--prefix", "target/tools", "--no-audit", "--no-fund", "--silent", package])?;
    }
    std::fs::canonicalize(&bin).map_err(|e| format!("{}: {e}", bin.display()))
}

/// Debian's Chromium and ChromeDriver, for every browser test.
fn ensure_browser() -> Result {
    apt(&[("chromium", "chromium"), ("chromedriver", "chromium-driver")])
}

fn lab(port: Option<&str>) -> Result {
    let port: u16 = port.unwrap_or("8080").parse().map_err(|_| "the port must be a number".to_owned())?;
    www::build()?;
    let (mut server, url) = start_server(port)?;
    eprintln!(
        "\nThe lab is ready: {url}\n  explainer: {url}ports.html  matrix: {url}matrix.html  embed: {url}embed.html\n(Ctrl-C stops it.)"
    );
    server.wait().map_err(|e| e.to_string())?;
    Err("the lab server stopped".into())
}

/// wasm-bindgen-test in headless Chromium: the wasm API as the page calls it.
fn wasm_browser_tests() -> Result {
    ensure_browser()?;
    let status = Command::new("cargo")
        .args(["test", "--target", "wasm32-unknown-unknown", "--no-default-features", "--test", "browser_api", "--test", "determinism"])
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner")
        .env("CHROMEDRIVER", "/usr/bin/chromedriver")
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
        .env_remove("LD_LIBRARY_PATH")
        .status()
        .map_err(|e| format!("cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("wasm-bindgen-test in Chromium failed".into())
    }
}

/// The npm packages the page tests use (playwright-core, axe-core, mermaid).
fn ensure_browser_test_tools() -> Result {
    if !std::path::Path::new("tests/browser/node_modules/playwright-core").exists()
        || !std::path::Path::new("tests/browser/node_modules/mermaid").exists()
    {
        run("npm", &["install", "--prefix", "tests/browser", "--no-audit", "--no-fund", "--silent"])?;
    }
    Ok(())
}

/// A clean environment for anything that starts Chromium. `cargo xtask` runs
/// under cargo, which puts the Rust toolchain into LD_LIBRARY_PATH and PATH;
/// none of that belongs in a browser's environment (while chasing stalled
/// navigations, Chromium's helpers were seen dying under it).
fn browser_env(cmd: &mut Command) -> &mut Command {
    cmd.env_clear().env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    for keep in ["HOME", "TMPDIR", "LANG", "USER", "TERM"] {
        if let Some(v) = std::env::var_os(keep) {
            cmd.env(keep, v);
        }
    }
    cmd
}

/// The static server for the built lab (`xtask/serve.mjs`, Node's http
/// module), on 127.0.0.1; returns the process and the URL it printed.
fn start_server(port: u16) -> std::result::Result<(std::process::Child, String), String> {
    use std::io::BufRead;
    if !have("node") {
        apt(&[("node", "nodejs"), ("npm", "npm")])?;
    }
    let mut server = Command::new("node")
        .args(["xtask/serve.mjs", www::DIST, &port.to_string(), www::CSP])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("node: {e}"))?;
    let mut url = String::new();
    std::io::BufReader::new(server.stdout.take().expect("piped")).read_line(&mut url).map_err(|e| e.to_string())?;
    if url.trim().is_empty() {
        let _ = server.wait();
        return Err(format!("the lab server did not start (is port {port} free?)"));
    }
    Ok((server, url.trim().to_owned()))
}

/// Node scripts against the built lab, served by a server of their own.
fn node_against_lab(args: &[&str]) -> Result {
    let (mut server, url) = start_server(0)?;
    eprintln!("+ LAB_URL={url} node {}", args.join(" "));
    let status = browser_env(&mut Command::new("node")).args(args).env("LAB_URL", &url).status();
    let _ = server.kill();
    let _ = server.wait();
    if status.map_err(|e| format!("node: {e}"))?.success() {
        Ok(())
    } else {
        Err(format!("`node {}` failed", args.join(" ")))
    }
}

/// The page end to end in Chromium (playwright-core), axe-core, Mermaid's parser, the package in
/// its hosts (Vite, a plain page, a docs theme, the site under a sub-path), and the budget.
fn browser_tests() -> Result {
    ensure_browser()?;
    ensure_browser_test_tools()?;
    // The lab, and the package and static site the page tests install into their hosts.
    www::dist()?;
    wasm_browser_tests()?;
    node_against_lab(&["--test", "--test-concurrency=1", "tests/browser/"])?;
    // The figures, without the native matrix comparison (`cargo xtask budget` adds it).
    node_against_lab(&["tests/browser/budget.mjs"])
}

fn budget() -> Result {
    ensure_browser()?;
    ensure_browser_test_tools()?;
    // The matrix page is compared with the same sessions run natively.
    run("cargo", &["build", "--release", "--bin", "smtp-lab"])?;
    std::env::set_var("SMTP_LAB_RELEASE", "target/release/smtp-lab");
    node_against_lab(&["tests/browser/budget.mjs"])
}

fn test() -> Result {
    ensure_tools()?;
    ensure_peers()?;
    run("cargo", &["fmt", "--all", "--", "--check"])?;
    run("cargo", &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    run("cargo", &["clippy", "--lib", "--target", "wasm32-unknown-unknown", "--no-default-features", "--", "-D", "warnings"])?;
    run(
        "cargo",
        &[
            "clippy",
            "--target",
            "wasm32-unknown-unknown",
            "--no-default-features",
            "--test",
            "browser_api",
            "--test",
            "determinism",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    wasm_smoke()?;
    run("cargo", &["test", "--workspace"])?;
    browser_tests()?;
    fuzz::fuzz(&["--smoke".to_owned()])
}
