//! Project chores: `cargo xtask lab` and `cargo xtask test`.
//!
//! Both install what a fresh machine lacks (the wasm target, clang for ring's
//! wasm build, wasm-bindgen-cli, binaryen, Chromium, the npm test tools)
//! before doing their work, so the README's two commands are all a newcomer
//! needs.

mod fuzz;
mod load;
mod rfc;
mod www;

use std::path::PathBuf;
use std::process::{Command, ExitCode};

/// Project chores. Each installs what a fresh machine lacks before it starts.
#[derive(clap::Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
enum Task {
    /// Build the browser lab and serve it on 127.0.0.1.
    Lab {
        #[arg(default_value_t = 8080)]
        port: u16,
    },
    /// Run every check and test.
    Test,
    /// Build the lab and run only the browser tests.
    Browser,
    /// The npm package (target/dist/smtp-lab-VERSION.tgz) and the static site (target/dist/site).
    Dist,
    /// Print the lab's download size and time to first render.
    Budget,
    /// Run the benchmarks.
    Bench,
    /// Build every fuzz target and run each on a fixed number of inputs (--smoke), or run one longer.
    Fuzz {
        /// One target to run for --minutes; without it, the smoke run of every target.
        #[arg(conflicts_with = "smoke")]
        target: Option<String>,
        /// Every target, a fixed number of inputs each (what `test` runs).
        #[arg(long)]
        smoke: bool,
        #[arg(long, default_value_t = 5, requires = "target")]
        minutes: u64,
    },
    /// Rewrite fuzz/corpus from the lessons' traces.
    FuzzSeeds,
    /// smtp-lab serve under load (smtp-source, and STARTTLS from its own client), beside Postfix's
    /// smtp-sink; idle timeout, connection limit, peak RSS.
    Load,
    /// Rewrite src/cite/rfc_sections.tsv (every section's heading) from ../shared/reference/rfc.
    RfcSections,
}

fn main() -> ExitCode {
    let result = match <Task as clap::Parser>::parse() {
        Task::Lab { port } => lab(port),
        Task::Test => test(),
        Task::Browser => browser_tests(),
        Task::Budget => www::build().and_then(|()| budget()),
        Task::Dist => www::dist(),
        Task::Bench => bench(),
        Task::Fuzz { target, minutes, .. } => fuzz::fuzz(target.as_deref(), minutes),
        Task::FuzzSeeds => fuzz::seeds(),
        Task::Load => load::load(),
        Task::RfcSections => rfc::sections(),
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

/// The wasm-bindgen version the binding crate pins (`wasm-bindgen = "=x.y.z"`); the CLI must match it.
fn wasm_bindgen_version() -> std::result::Result<String, String> {
    let binding = package(www::WASM_CRATE)?;
    binding["dependencies"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| d["name"] == "wasm-bindgen")
        .and_then(|d| d["req"].as_str()?.strip_prefix('=').map(str::to_owned))
        .ok_or_else(|| format!("{} pins no wasm-bindgen version", www::WASM_CRATE))
}

/// A workspace package as `cargo metadata` describes it (name, version,
/// license, description, dependencies with their requirements).
pub fn package(name: &str) -> std::result::Result<serde_json::Value, String> {
    let out = Command::new("cargo")
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .map_err(|e| format!("cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata: {e}"))?;
    let packages = metadata["packages"].as_array().cloned().unwrap_or_default();
    packages.into_iter().find(|p| p["name"] == name).ok_or_else(|| format!("the workspace has no package {name}"))
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
    run("cargo", &["build", "-p", www::WASM_CRATE, "--lib", "--target", "wasm32-unknown-unknown"])?;
    let wasm = www::wasm_file("debug");
    run("wasm-bindgen", &["--target", "nodejs", "--out-name", "smtp_lab", "--out-dir", "target/wasm-node", &wasm])?;
    run("cargo", &["build", "--bin", "smtp-lab"])?;
    run("node", &["tests/wasm/smoke.mjs", "./target/wasm-node/smtp_lab.js", "./target/debug/smtp-lab"])
}

/// Installs an npm package under target/tools (once) and returns the path of one of its programs.
fn npm_tool(package: &str, program: &str) -> std::result::Result<PathBuf, String> {
    let bin = PathBuf::from("target/tools/node_modules/.bin").join(program);
    let version = package.rsplit_once('@').map_or("", |(_, v)| v);
    let installed =
        std::fs::read(format!("target/tools/node_modules/{}/package.json", package.rsplit_once('@').map_or(package, |(n, _)| n)))
            .ok()
            .and_then(|p| serde_json::from_slice::<serde_json::Value>(&p).ok())
            .is_some_and(|p| p["version"] == version);
    if !bin.exists() || !installed {
        std::fs::create_dir_all("target/tools").map_err(|e| e.to_string())?;
        run("npm", &["install", "--prefix", "target/tools", "--no-audit", "--no-fund", "--silent", package])?;
    }
    std::fs::canonicalize(&bin).map_err(|e| format!("{}: {e}", bin.display()))
}

/// Debian's Chromium and ChromeDriver, for every browser test.
fn ensure_browser() -> Result {
    // pdftotext (poppler) reads back the printed handout the page tests make with page.pdf().
    apt(&[("chromium", "chromium"), ("chromedriver", "chromium-driver"), ("pdftotext", "poppler-utils")])
}

fn lab(port: u16) -> Result {
    www::build()?;
    let (mut server, url) = start_server(port)?;
    eprintln!(
        "\nThe lab is ready: {url}\n  explainer: {url}ports.html  matrix: {url}matrix.html  embed: {url}embed.html\n(Ctrl-C stops it.)"
    );
    server.wait().map_err(|e| e.to_string())?;
    Err("the lab server stopped".into())
}

/// The native benchmarks, then the wasm boundary's in headless Chromium, built as the lab ships.
fn bench() -> Result {
    run("cargo", &["bench", "--workspace"])?;
    ensure_tools()?;
    ensure_wasm_bindgen_cli()?;
    ensure_browser()?;
    let status = Command::new("cargo")
        .args(["bench", "-p", www::WASM_CRATE, "--bench", "boundary", "--target", "wasm32-unknown-unknown", "--profile", "wasm-release"])
        .envs(BROWSER_RUNNER)
        .env_remove("LD_LIBRARY_PATH")
        .status()
        .map_err(|e| format!("cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("the wasm boundary benchmark failed".into())
    }
}

/// How cargo runs a wasm32 test or bench: in Debian's headless Chromium.
const BROWSER_RUNNER: [(&str, &str); 3] = [
    ("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner"),
    ("CHROMEDRIVER", "/usr/bin/chromedriver"),
    ("WASM_BINDGEN_TEST_TIMEOUT", "600"),
];

/// wasm-bindgen-test in headless Chromium: the wasm API as the page calls it,
/// and the core's determinism test built for the browser.
fn wasm_browser_tests() -> Result {
    ensure_browser()?;
    let runs: [&[&str]; 2] =
        [&["-p", www::WASM_CRATE, "--test", "browser_api"], &["-p", "smtp-lab", "--no-default-features", "--test", "determinism"]];
    for which in runs {
        let status = Command::new("cargo")
            .args(["test", "--target", "wasm32-unknown-unknown"])
            .args(which)
            .envs(BROWSER_RUNNER)
            .env_remove("LD_LIBRARY_PATH")
            .status()
            .map_err(|e| format!("cargo: {e}"))?;
        if !status.success() {
            return Err(format!("wasm-bindgen-test in Chromium failed ({})", which.join(" ")));
        }
    }
    Ok(())
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
    run(
        "cargo",
        &["clippy", "-p", www::WASM_CRATE, "--lib", "--tests", "--benches", "--target", "wasm32-unknown-unknown", "--", "-D", "warnings"],
    )?;
    run(
        "cargo",
        &[
            "clippy",
            "-p",
            "smtp-lab",
            "--lib",
            "--no-default-features",
            "--test",
            "determinism",
            "--target",
            "wasm32-unknown-unknown",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    wasm_smoke()?;
    run("cargo", &["test", "--workspace"])?;
    browser_tests()?;
    fuzz::fuzz(None, 0)
}
