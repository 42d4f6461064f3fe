//! `cargo xtask fuzz`: coverage-guided fuzzing with cargo-fuzz (libFuzzer) on
//! nightly, no sanitizer. `--smoke` builds every target and runs each for
//! 30 s on its committed seeds and regression inputs (what CI runs);
//! `fuzz TARGET --minutes N` runs one target longer. Each run prints its
//! executions, executions per second and coverage.

use std::path::Path;
use std::process::Command;

use crate::{have, run, Result};

/// The targets in `fuzz/fuzz_targets/`, parsers first.
pub const TARGETS: [&str; 9] = ["command", "reply", "data", "link", "server", "client", "attacker", "tls_pair", "honest"];

fn ensure_nightly_and_cargo_fuzz() -> Result {
    let toolchains = Command::new("rustup").args(["toolchain", "list"]).output().map_err(|e| format!("rustup: {e}"))?;
    if !String::from_utf8_lossy(&toolchains.stdout).lines().any(|l| l.starts_with("nightly")) {
        run("rustup", &["toolchain", "install", "nightly", "--profile", "minimal"])?;
    }
    if !have("cargo-fuzz") {
        run("cargo", &["install", "--quiet", "cargo-fuzz"])?;
    }
    Ok(())
}

/// What libFuzzer reported at the end of a run.
struct Stats {
    runs: u64,
    per_sec: u64,
    cov: String,
}

fn stats(log: &str) -> Stats {
    let stat =
        |name: &str| log.lines().find_map(|l| l.strip_prefix(&format!("stat::{name}:")).and_then(|v| v.trim().parse().ok())).unwrap_or(0);
    let cov = log
        .lines()
        .rev()
        .find_map(|l| l.split_once(" cov: ").map(|(_, rest)| rest.split_whitespace().next().unwrap_or("?").to_owned()))
        .unwrap_or_else(|| "?".into());
    Stats { runs: stat("number_of_executed_units"), per_sec: stat("average_exec_per_sec"), cov }
}

/// Runs one target for `seconds` on a scratch corpus seeded from the committed one.
fn fuzz_one(target: &str, seconds: u64) -> Result {
    let scratch = Path::new("target/fuzz-corpus").join(target);
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let mut args: Vec<String> = ["+nightly", "fuzz", "run", "-s", "none", target].iter().map(|s| (*s).to_owned()).collect();
    args.push(scratch.display().to_string());
    for dir in [format!("fuzz/corpus/{target}"), format!("fuzz/regressions/{target}")] {
        if Path::new(&dir).exists() {
            args.push(dir);
        }
    }
    args.extend(
        ["--", "-dict=fuzz/smtp.dict", "-print_final_stats=1", "-timeout=20", "-rss_limit_mb=2048", "-max_len=16384"].map(str::to_owned),
    );
    args.push(format!("-max_total_time={seconds}"));
    eprintln!("+ cargo {}", args.join(" "));
    let out = Command::new("cargo").args(&args).output().map_err(|e| format!("cargo fuzz: {e}"))?;
    let log = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let s = stats(&log);
    println!("fuzz {target:10} {:>12} executions  {:>8} exec/s  cov {}  ({seconds} s)", s.runs, s.per_sec, s.cov);
    if out.status.success() {
        Ok(())
    } else {
        let tail: Vec<&str> = log.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect();
        Err(format!("fuzz target {target} failed (the input is under fuzz/artifacts/{target}/):\n{}", tail.join("\n")))
    }
}

/// `cargo xtask fuzz --smoke` or `cargo xtask fuzz TARGET [--minutes N]`.
pub fn fuzz(args: &[String]) -> Result {
    ensure_nightly_and_cargo_fuzz()?;
    run("cargo", &["+nightly", "fuzz", "build", "-s", "none"])?;
    match args.first().map(String::as_str) {
        Some("--smoke") | None => {
            for target in TARGETS {
                fuzz_one(target, 30)?;
            }
            Ok(())
        }
        Some(target) if TARGETS.contains(&target) => {
            let minutes: u64 = match args.get(1).map(String::as_str) {
                Some("--minutes") => args.get(2).and_then(|m| m.parse().ok()).ok_or("--minutes takes a number")?,
                None => 5,
                Some(other) => return Err(format!("unknown option {other}")),
            };
            fuzz_one(target, minutes * 60)
        }
        Some(other) => Err(format!("no fuzz target {other}; one of: {}", TARGETS.join(", "))),
    }
}

/// Rewrites `fuzz/corpus/` from the lessons' traces (`cargo xtask fuzz-seeds`).
pub fn seeds() -> Result {
    let _ = std::fs::remove_dir_all("fuzz/corpus");
    run("cargo", &["run", "--quiet", "--release", "--example", "fuzz_seeds", "--", "fuzz/corpus"])
}
