//! `cargo xtask load`: `smtp-lab serve` under load from Postfix's own load
//! generator (`smtp-source`), beside Postfix's `smtp-sink` on the same
//! machine in the same run. Prints sessions per second at 1, 20 and 100
//! concurrent connections, the ratio to smtp-sink, and serve's peak RSS.
//! Figures, not assertions: a loaded machine changes them.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use crate::{apt, run, Result};

/// Sessions per concurrency level: enough to last a few seconds each.
const SESSIONS: u32 = 2000;
const LEVELS: [u32; 3] = [1, 20, 100];

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> std::result::Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

fn smtp_source(port: u16, concurrency: u32) -> std::result::Result<f64, String> {
    let started = Instant::now();
    let status = Command::new("/usr/sbin/smtp-source")
        .args(["-s", &concurrency.to_string(), "-m", &SESSIONS.to_string(), "-l", "1024"])
        .args(["-f", "load@client.test", "-t", "postmaster@example.test", &format!("127.0.0.1:{port}")])
        .status()
        .map_err(|e| format!("smtp-source: {e}"))?;
    if !status.success() {
        return Err(format!("smtp-source failed ({status})"));
    }
    Ok(f64::from(SESSIONS) / started.elapsed().as_secs_f64())
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("VmHWM:").and_then(|v| v.split_whitespace().next()?.parse().ok())))
        .unwrap_or(0)
}

pub fn load() -> Result {
    apt(&[("postfix", "postfix")])?;
    run("cargo", &["build", "--release", "--bin", "smtp-lab"])?;
    let mut serve = Command::new("target/release/smtp-lab")
        .args(["serve", "--listen", "127.0.0.1:0", "--role", "relay", "--max-connections", "256"])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("smtp-lab serve: {e}"))?;
    let mut first = String::new();
    let mut lines = BufReader::new(serve.stdout.take().expect("piped"));
    lines.read_line(&mut first).map_err(|e| e.to_string())?;
    // serve prints a line per message; keep reading so that it never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
    let pid = serve.id();
    let serve = Killed(serve);
    let lab_port: u16 = first
        .split_whitespace()
        .nth(2)
        .and_then(|a| a.rsplit(':').next()?.parse().ok())
        .ok_or_else(|| format!("serve printed {first:?}"))?;
    let sink_port = free_port()?;
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let sink = Command::new("/usr/sbin/smtp-sink")
        .args(if root { &["-u", "nobody"][..] } else { &[][..] })
        .args([&format!("127.0.0.1:{sink_port}"), "256"])
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("smtp-sink: {e}"))?;
    let _sink = Killed(sink);
    std::thread::sleep(std::time::Duration::from_millis(300));
    println!("{SESSIONS} sessions per level, each EHLO, MAIL, RCPT, DATA (1 KiB), QUIT, no TLS");
    println!("{:>12} {:>16} {:>16} {:>8}", "concurrency", "smtp-lab serve/s", "smtp-sink/s", "ratio");
    for level in LEVELS {
        let ours = smtp_source(lab_port, level)?;
        let sink = smtp_source(sink_port, level)?;
        println!("{level:>12} {ours:>16.0} {sink:>16.0} {:>8.2}", ours / sink);
    }
    println!("smtp-lab serve peak RSS: {} KiB", peak_rss_kib(pid));
    drop(serve);
    Ok(())
}
