//! `cargo xtask load`: `smtp-lab serve` under load and abuse. Cleartext load
//! comes from Postfix's own generator (`smtp-source`), beside Postfix's
//! `smtp-sink` on the same machine in the same run; STARTTLS load, which
//! smtp-source cannot make, from `smtp-lab send --sessions`, the project's
//! client on real sockets, in cleartext and with STARTTLS against the same
//! serve (and in cleartext against smtp-sink, a second ratio). Then an idle
//! connection is timed until the server's 421, the connection limit is filled
//! and recovered, and serve's peak RSS printed.
//! Figures, not assertions: a loaded machine changes them.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{apt, run, Result};

/// Sessions per concurrency level: enough to last about a second each.
const SESSIONS: u32 = 3000;
const LEVELS: [u32; 3] = [1, 20, 100];
const LAB: &str = "target/release/smtp-lab";
const FROM: &str = "load@client.test";
const TO: &str = "postmaster@example.test";

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

/// Starts `smtp-lab serve` on a free port with `extra` flags: the process, its port and pid.
fn serve(extra: &[&str]) -> std::result::Result<(Killed, u16, u32), String> {
    let mut child = Command::new(LAB)
        .args(["serve", "--listen", "127.0.0.1:0", "--role", "relay"])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("smtp-lab serve: {e}"))?;
    let mut first = String::new();
    let mut lines = BufReader::new(child.stdout.take().expect("piped"));
    lines.read_line(&mut first).map_err(|e| e.to_string())?;
    // serve prints a line per message; keep reading so that it never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
    let pid = child.id();
    let port = first
        .split_whitespace()
        .nth(2)
        .and_then(|a| a.rsplit(':').next()?.parse().ok())
        .ok_or_else(|| format!("serve printed {first:?}"))?;
    Ok((Killed(child), port, pid))
}

fn per_second(started: Instant) -> f64 {
    f64::from(SESSIONS) / started.elapsed().as_secs_f64()
}

/// Postfix's generator: EHLO, MAIL, RCPT, DATA (1 KiB), QUIT, in cleartext.
fn smtp_source(port: u16, concurrency: u32) -> std::result::Result<f64, String> {
    let started = Instant::now();
    let status = Command::new("/usr/sbin/smtp-source")
        .args(["-s", &concurrency.to_string(), "-m", &SESSIONS.to_string(), "-l", "1024"])
        .args(["-f", FROM, "-t", TO, &format!("127.0.0.1:{port}")])
        .status()
        .map_err(|e| format!("smtp-source: {e}"))?;
    if !status.success() {
        return Err(format!("smtp-source failed ({status})"));
    }
    Ok(per_second(started))
}

/// The project's client: EHLO, [STARTTLS, EHLO,] MAIL, RCPT, DATA, QUIT.
fn send(port: u16, concurrency: u32, tls: Option<&str>) -> std::result::Result<f64, String> {
    let mut cmd = Command::new(LAB);
    cmd.args(["send", "--server", &format!("127.0.0.1:{port}"), "--from", FROM, "--to", TO]);
    cmd.args(["--sessions", &SESSIONS.to_string(), "--concurrency", &concurrency.to_string()]);
    match tls {
        Some(ca) => cmd.args(["--policy", "require-starttls", "--ca", ca]),
        None => cmd.args(["--policy", "plain"]),
    };
    let started = Instant::now();
    let out = cmd.stderr(Stdio::inherit()).output().map_err(|e| format!("smtp-lab send: {e}"))?;
    if !out.status.success() {
        return Err(format!("smtp-lab send failed: {}", String::from_utf8_lossy(&out.stdout).trim()));
    }
    Ok(per_second(started))
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("VmHWM:").and_then(|v| v.split_whitespace().next()?.parse().ok())))
        .unwrap_or(0)
}

/// Connects and reads the first reply line (the greeting or the refusal).
fn first_line(port: u16) -> std::result::Result<(TcpStream, String), String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5))).map_err(|e| e.to_string())?;
    let mut buf = [0u8; 512];
    let n = s.read(&mut buf).map_err(|e| e.to_string())?;
    Ok((s, String::from_utf8_lossy(&buf[..n]).trim_end().to_owned()))
}

/// An idle connection: how long until the server speaks and closes, and what it says.
fn idle(port: u16, timeout: u64) -> Result {
    let (mut s, greeting) = first_line(port)?;
    s.set_read_timeout(Some(Duration::from_secs(timeout + 10))).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut said = Vec::new();
    s.read_to_end(&mut said).map_err(|e| format!("waiting for the idle timeout: {e}"))?;
    println!(
        "idle: after {:?}, silent for {:.2} s, then {:?} and close (--idle-timeout {timeout}; default 300 s, RFC 5321 §4.5.3.2.7)",
        greeting.split_whitespace().next().unwrap_or(""),
        started.elapsed().as_secs_f64(),
        String::from_utf8_lossy(&said).trim_end()
    );
    Ok(())
}

/// Fills the connection limit, is refused, lets one go, and is served again.
fn limit(port: u16, max: usize) -> Result {
    let mut held = Vec::new();
    for _ in 0..max {
        let (s, greeting) = first_line(port)?;
        if !greeting.starts_with("220") {
            return Err(format!("connection {} of {max} got {greeting:?}", held.len() + 1));
        }
        held.push(s);
    }
    let (_, refused) = first_line(port)?;
    held.pop();
    let released = Instant::now();
    loop {
        let (_, line) = first_line(port)?;
        if line.starts_with("220") {
            println!(
                "limit: {max} connections held; the next one got {refused:?}; one closed, a new one was greeted after {:.1} ms",
                released.elapsed().as_secs_f64() * 1000.0
            );
            return Ok(());
        }
        if released.elapsed() > Duration::from_secs(5) {
            return Err(format!("no recovery 5 s after a connection closed: still {line:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub fn load() -> Result {
    apt(&[("postfix", "postfix")])?;
    run("cargo", &["build", "--release", "--bin", "smtp-lab"])?;
    let ca = std::env::temp_dir().join(format!("smtp-lab-load-ca-{}.pem", std::process::id()));
    let ca = ca.to_str().ok_or("temp dir is not UTF-8")?.to_owned();
    let (serve_proc, lab_port, pid) = serve(&["--max-connections", "256", "--write-ca", &ca])?;
    let sink_port = free_port()?;
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let sink = Command::new("/usr/sbin/smtp-sink")
        .args(if root { &["-u", "nobody"][..] } else { &[][..] })
        .args([&format!("127.0.0.1:{sink_port}"), "256"])
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("smtp-sink: {e}"))?;
    let _sink = Killed(sink);
    std::thread::sleep(Duration::from_millis(300));

    println!("{SESSIONS} sessions per cell; sessions per second\n");
    println!("smtp-source (Postfix's generator), cleartext: EHLO, MAIL, RCPT, DATA (1 KiB), QUIT");
    println!("{:>12} {:>12} {:>12} {:>8}", "concurrency", "serve", "smtp-sink", "ratio");
    for level in LEVELS {
        let (ours, sink) = (smtp_source(lab_port, level)?, smtp_source(sink_port, level)?);
        println!("{level:>12} {ours:>12.0} {sink:>12.0} {:>8.2}", ours / sink);
    }
    println!("\nsmtp-lab send (the project's client): cleartext, and STARTTLS with a certificate check (TLS 1.3)");
    println!("{:>12} {:>12} {:>12} {:>8} {:>12} {:>10}", "concurrency", "serve", "smtp-sink", "ratio", "serve TLS", "TLS/clear");
    for level in LEVELS {
        let ours = send(lab_port, level, None)?;
        let sink = send(sink_port, level, None)?;
        let tls = send(lab_port, level, Some(&ca))?;
        println!("{level:>12} {ours:>12.0} {sink:>12.0} {:>8.2} {tls:>12.0} {:>10.2}", ours / sink, tls / ours);
    }
    println!("\nsmtp-lab serve peak RSS: {} KiB", peak_rss_kib(pid));
    drop(serve_proc);
    let _ = std::fs::remove_file(&ca);

    println!();
    let (_idle, idle_port, _) = serve(&["--idle-timeout", "2"])?;
    idle(idle_port, 2)?;
    let (_limited, limited_port, _) = serve(&["--max-connections", "4"])?;
    limit(limited_port, 4)
}
