//! `cargo xtask fuzz`: coverage-guided fuzzing with cargo-fuzz (libFuzzer), no
//! sanitizer. It runs on the machine's own toolchain with `RUSTC_BOOTSTRAP=1`
//! (cargo-fuzz passes `-Z` flags), because a fresh machine of this kind can
//! fetch no other toolchain. `--smoke` builds every target and runs each on its
//! committed seeds for a fixed number of inputs from a fixed random seed, so
//! that CI is repeatable (about 30 s a target); `fuzz TARGET --minutes N`
//! runs one target for a time, with a fresh random seed. Each run prints its
//! executions, executions per second and coverage.

use std::path::Path;
use std::process::Command;

use crate::{have, run, Result};

/// The targets in `fuzz/fuzz_targets/`, parsers first, with the number of
/// inputs a smoke run tries (about 30 s each on this machine).
pub const TARGETS: [(&str, u64); 11] = [
    ("command", 3_000_000),
    ("reply", 600_000),
    ("data", 1_000_000),
    ("policy", 600_000),
    ("link", 5_000_000),
    ("server", 700_000),
    ("client", 1_200_000),
    ("attacker", 1_500_000),
    ("tls_pair", 50_000),
    ("honest", 80_000),
    ("dissect", 100_000),
];

fn ensure_cargo_fuzz() -> Result {
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

/// How long a run goes: a fixed number of inputs from a fixed seed, or a time.
enum Budget {
    Runs(u64),
    Seconds(u64),
}

/// Runs one target on a scratch corpus seeded from the committed one.
fn fuzz_one(target: &str, budget: Budget) -> Result {
    let scratch = Path::new("target/fuzz-corpus").join(target);
    if matches!(budget, Budget::Runs(_)) {
        // A repeatable run starts from the committed seeds alone.
        let _ = std::fs::remove_dir_all(&scratch);
    }
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let mut args: Vec<String> = ["fuzz", "run", "-s", "none", target].iter().map(|s| (*s).to_owned()).collect();
    args.push(scratch.display().to_string());
    for dir in [format!("fuzz/corpus/{target}"), format!("fuzz/regressions/{target}")] {
        if Path::new(&dir).exists() {
            args.push(dir);
        }
    }
    args.extend(
        ["--", "-dict=fuzz/smtp.dict", "-print_final_stats=1", "-timeout=20", "-rss_limit_mb=2048", "-max_len=16384"].map(str::to_owned),
    );
    let what = match budget {
        Budget::Runs(n) => {
            args.extend([format!("-runs={n}"), "-seed=1".to_owned()]);
            format!("{n} inputs, seed 1")
        }
        Budget::Seconds(s) => {
            args.push(format!("-max_total_time={s}"));
            format!("{s} s")
        }
    };
    eprintln!("+ cargo {}", args.join(" "));
    let out = Command::new("cargo").args(&args).env("RUSTC_BOOTSTRAP", "1").output().map_err(|e| format!("cargo fuzz: {e}"))?;
    let log = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let s = stats(&log);
    println!("fuzz {target:10} {:>12} executions  {:>8} exec/s  cov {}  ({what})", s.runs, s.per_sec, s.cov);
    if out.status.success() {
        Ok(())
    } else {
        let tail: Vec<&str> = log.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect();
        Err(format!("fuzz target {target} failed (the input is under fuzz/artifacts/{target}/):\n{}", tail.join("\n")))
    }
}

/// `cargo xtask fuzz --smoke` (no target) or `cargo xtask fuzz TARGET [--minutes N]`.
pub fn fuzz(target: Option<&str>, minutes: u64) -> Result {
    ensure_cargo_fuzz()?;
    let status = Command::new("cargo")
        .args(["fuzz", "build", "-s", "none"])
        .env("RUSTC_BOOTSTRAP", "1")
        .status()
        .map_err(|e| format!("cargo fuzz: {e}"))?;
    if !status.success() {
        return Err("`cargo fuzz build` failed".into());
    }
    match target {
        None => {
            for (target, runs) in TARGETS {
                fuzz_one(target, Budget::Runs(runs))?;
            }
            Ok(())
        }
        Some(target) if TARGETS.iter().any(|(t, _)| *t == target) => fuzz_one(target, Budget::Seconds(minutes * 60)),
        Some(other) => {
            let names: Vec<&str> = TARGETS.iter().map(|(t, _)| *t).collect();
            Err(format!("no fuzz target {other}; one of: {}", names.join(", ")))
        }
    }
}

/// Rewrites `fuzz/corpus/` from the lessons' traces (`cargo xtask fuzz-seeds`).
pub fn seeds() -> Result {
    let _ = std::fs::remove_dir_all("fuzz/corpus");
    run("cargo", &["run", "--quiet", "--release", "--example", "fuzz_seeds", "--", "fuzz/corpus"])
}
