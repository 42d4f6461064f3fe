//! Project chores: `cargo xtask lab` and `cargo xtask test`.
//!
//! Both install what a fresh machine lacks (the wasm target, clang for ring's
//! wasm build) before doing their work, so the README's two commands are all a
//! newcomer needs.

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("lab") => lab(),
        Some("test") => test(),
        Some("bench") => run("cargo", &["bench", "--workspace"]),
        _ => {
            eprintln!("usage: cargo xtask <lab|test|bench>\n  lab    build and run the lab\n  test   run every check and test\n  bench  run the benchmarks");
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

fn have(program: &str) -> bool {
    let on_path = Command::new("sh").args(["-c", &format!("command -v {program}")]).output().is_ok_and(|o| o.status.success());
    on_path || std::path::Path::new("/usr/sbin").join(program).exists()
}

/// Installs Debian packages that provide the missing programs.
fn apt(packages: &[(&str, &str)]) -> Result {
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
    apt(&[("swaks", "swaks"), ("postfix", "postfix"), ("tshark", "tshark")])?;
    let has_aiosmtpd = Command::new("python3").args(["-c", "import aiosmtpd"]).output().is_ok_and(|o| o.status.success());
    if !has_aiosmtpd {
        run("python3", &["-m", "pip", "install", "--quiet", "aiosmtpd"])?;
    }
    Ok(())
}

/// The wasm-bindgen version the crate pins (`wasm-bindgen = "=x.y.z"`); the CLI must match it.
fn wasm_bindgen_version() -> std::result::Result<String, String> {
    let manifest = std::fs::read_to_string("Cargo.toml").map_err(|e| format!("Cargo.toml: {e}"))?;
    manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("wasm-bindgen = \"=")?.strip_suffix('"').map(str::to_owned))
        .ok_or_else(|| "Cargo.toml pins no wasm-bindgen version".into())
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

fn lab() -> Result {
    ensure_tools()?;
    run("cargo", &["build", "--release", "--bin", "smtp-lab"])?;
    eprintln!("\nA 587 submission session: STARTTLS, then AUTH, then one message.\n");
    run("cargo", &["run", "--quiet", "--release", "--bin", "smtp-lab", "--", "run"])?;
    eprintln!("\nNext: `cargo run --release -- presets` lists the lessons (run one with `-- run --preset ID`),\n`-- matrix` runs every attack against every client policy, `-- run --help` shows every setting.");
    Ok(())
}

fn test() -> Result {
    ensure_tools()?;
    ensure_peers()?;
    run("cargo", &["fmt", "--all", "--", "--check"])?;
    run("cargo", &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    run("cargo", &["clippy", "--lib", "--target", "wasm32-unknown-unknown", "--no-default-features", "--", "-D", "warnings"])?;
    wasm_smoke()?;
    run("cargo", &["test", "--workspace"])
}
