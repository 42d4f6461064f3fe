//! The machines on real sockets against real SMTP software, on loopback only.
//! Each test starts its servers and stops them when it ends.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";
const BIN: &str = env!("CARGO_BIN_EXE_smtp-lab");
/// swaks arguments to log in as the default account.
const SWAKS_ALICE: [&str; 4] = ["--auth-user", "alice", "--auth-password", PASSWORD];

/// Debian puts postfix in /usr/sbin, which a non-login PATH may lack.
fn postfix() -> Command {
    Command::new(if Path::new("/usr/sbin/postfix").exists() { "/usr/sbin/postfix" } else { "postfix" })
}

fn need(tool: &str) {
    if tool == "postfix" && Path::new("/usr/sbin/postfix").exists() {
        return;
    }
    let found = Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success());
    assert!(found, "{tool} is not installed; `cargo xtask test` installs it");
}

/// A running `smtp-lab serve`, killed on drop.
struct Served {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    log: Arc<Mutex<String>>,
}

impl Served {
    fn start(args: &[&str]) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--write-ca"])
            .arg(dir.path().join("ca.pem"))
            .arg("--deliver-dir")
            .arg(dir.path().join("mail"))
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        let port = first.split(':').nth(1).and_then(|p| p.split_whitespace().next()).and_then(|p| p.parse().ok()).expect(&first);
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                sink.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        Served { child, port, dir, log }
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Bodies of accepted messages, oldest first.
    fn delivered(&self) -> Vec<Vec<u8>> {
        read_dir_sorted(&self.dir.path().join("mail"))
    }

    /// Waits until `n` messages are in the log (stdout is written after the file).
    fn wait_for(&self, n: usize) -> Vec<Vec<u8>> {
        let t = Instant::now();
        while self.log.lock().unwrap().matches("accepted ").count() < n && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.delivered()
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_dir_sorted(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else { return vec![] };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> =
        entries.map_while(Result::ok).map(|e| (e.metadata().unwrap().modified().unwrap(), e.path())).collect();
    files.sort();
    files.into_iter().map(|(_, p)| std::fs::read(p).unwrap()).collect()
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    if !out.status.success() {
        panic!("{cmd:?} failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
    out
}

/// A message that is hard to carry intact: dot-leading lines, 8-bit text and a 1 MB attachment.
fn hard_message() -> Vec<u8> {
    // A complete header block, so no server needs to add Date or Message-ID in the middle of it.
    let mut m = b"From: Alice <alice@example.test>\r\nTo: Bob <bob@example.test>\r\nSubject: report\r\n\
Date: Mon, 01 Jun 2026 12:00:00 +0000\r\nMessage-ID: <report-1@example.test>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
.a line with a leading dot\r\n..two dots\r\n.\r\nGr\xc3\xbc\xc3\x9fe aus Z\xc3\xbcrich\r\n\r\n--b1\r\nContent-Type: application/octet-stream\r\n\
Content-Transfer-Encoding: base64\r\n\r\n"
        .to_vec();
    let mut state = 0x1234_5678u32;
    let raw: Vec<u8> = (0..768 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
    for line in b64.as_bytes().chunks(76) {
        m.extend_from_slice(line);
        m.extend_from_slice(b"\r\n");
    }
    m.extend_from_slice(b"--b1--\r\n");
    m
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn swaks(served: &Served, extra: &[&str]) -> Output {
    need("swaks");
    run(Command::new("swaks").args(["--server", &served.addr(), "--from", "alice@example.test", "--to", "bob@example.test"]).args(extra))
}

#[test]
fn swaks_delivers_over_starttls_with_auth_plain_and_login() {
    let traces = tempfile::tempdir().unwrap();
    let served = Served::start(&["--role", "submission", "--trace-dir", traces.path().to_str().unwrap()]);
    let ca = served.ca();
    for mech in ["PLAIN", "LOGIN"] {
        let tls = ["--tls", "--tls-verify", "--tls-ca-path", ca.to_str().unwrap(), "--tls-sni", "mail.example.test"];
        let out = swaks(&served, &[&tls[..], &["--auth", mech][..], &SWAKS_ALICE].concat());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("<~  235 2.7.0") && text.contains("<~  221 2.0.0 Bye"), "{text}");
    }
    assert_eq!(served.wait_for(2).len(), 2);
    // The server wrote each session's trace; it says where AUTH happened.
    let t = Instant::now();
    while !traces.path().join("2.json").exists() && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let trace: serde_json::Value = serde_json::from_slice(&std::fs::read(traces.path().join("1.json")).unwrap()).unwrap();
    let steps = trace["steps"].as_array().unwrap();
    let auth = steps
        .iter()
        .flat_map(|s| s["events"].as_array().unwrap())
        .find(|e| e["side"] == "server" && e["event"]["type"] == "auth_succeeded");
    let auth = auth.map(|e| (e["event"]["username"].as_str().unwrap().to_owned(), e["event"]["under_tls"].as_bool().unwrap()));
    assert_eq!(auth, Some(("alice".to_owned(), true)));
    let encrypted = |s: &serde_json::Value| s["records"].as_array().unwrap().iter().any(|r| r["encrypted"] == true);
    assert!(steps.iter().any(encrypted), "the trace records encrypted TLS records");
}

#[test]
fn swaks_delivers_over_implicit_tls_and_plain_relay() {
    let served = Served::start(&["--role", "submissions"]);
    let ca = served.ca();
    let tls = ["--tls-on-connect", "--tls-verify", "--tls-ca-path", ca.to_str().unwrap(), "--tls-sni", "mail.example.test"];
    swaks(&served, &[&tls[..], &["--auth", "PLAIN"], &SWAKS_ALICE].concat());
    assert_eq!(served.wait_for(1).len(), 1);

    let relay = Served::start(&["--role", "relay"]);
    let out = swaks(&relay, &[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("<-  250 2.0.0 Ok: queued"));
    assert_eq!(relay.wait_for(1).len(), 1);
}

#[test]
fn swaks_carries_a_hard_message_byte_identical() {
    let served = Served::start(&["--role", "submission"]);
    let msg = hard_message();
    let file = served.dir.path().join("msg.eml");
    // swaks sends the file and then CRLF "." CRLF, so it gets the message without its last CRLF.
    std::fs::write(&file, &msg[..msg.len() - 2]).unwrap();
    let data = ["--tls", "--auth", "PLAIN", "--data", file.to_str().unwrap(), "--suppress-data"];
    swaks(&served, &[&data[..], &SWAKS_ALICE].concat());
    assert_eq!(served.wait_for(1), vec![msg]);
}

const SMTPLIB: &str = r#"
import smtplib, ssl, sys
addr, port, ca, mode, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.create_default_context(cafile=ca)
msg = open(path, "rb").read()
if mode == "starttls":
    s = smtplib.SMTP(addr, port, local_hostname="py.example.test")
    s.starttls(context=ctx, server_hostname="mail.example.test") if sys.version_info >= (3, 12) else s.starttls(context=ctx)
else:
    s = smtplib.SMTP_SSL(addr, port, context=ctx, local_hostname="py.example.test")
s.login("alice", "correct horse battery staple")
s.sendmail("alice@example.test", ["bob@example.test"], msg)
s.quit()
"#;

#[test]
fn smtplib_delivers_over_starttls_and_smtp_ssl() {
    need("python3");
    let msg = hard_message();
    for (role, mode) in [("submission", "starttls"), ("submissions", "ssl")] {
        let served = Served::start(&["--role", role, "--hostname", "mail.example.test"]);
        let file = served.dir.path().join("msg.eml");
        std::fs::write(&file, &msg).unwrap();
        // Python checks the certificate against the name it dialled (127.0.0.1), and
        // mail.example.test is not in DNS: keep the chain check, skip only the name check.
        let script = SMTPLIB.replace(
            "ctx = ssl.create_default_context(cafile=ca)",
            "ctx = ssl.create_default_context(cafile=ca)\nctx.check_hostname = False",
        );
        run(Command::new("python3").args([
            "-c",
            &script,
            "127.0.0.1",
            &served.port.to_string(),
            served.ca().to_str().unwrap(),
            mode,
            file.to_str().unwrap(),
        ]));
        assert_eq!(served.wait_for(1), vec![msg.clone()], "{role}");
    }
}

const AIOSMTPD: &str = r#"
import os, ssl, sys, time
from aiosmtpd.controller import Controller
certdir, outdir, mode, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(os.path.join(certdir, "server.pem"), os.path.join(certdir, "server.key"))
class Handler:
    async def handle_DATA(self, server, session, envelope):
        n = len(os.listdir(outdir))
        with open(os.path.join(outdir, "%03d.eml" % n), "wb") as f:
            f.write(envelope.original_content)
        return "250 Message accepted"
if mode == "starttls":
    c = Controller(Handler(), hostname="127.0.0.1", port=port, tls_context=ctx, require_starttls=True)
else:
    c = Controller(Handler(), hostname="127.0.0.1", port=port, ssl_context=ctx)
c.start()
print("ready", flush=True)
time.sleep(600)
"#;

/// aiosmtpd in a child process, killed on drop.
struct Aiosmtpd(Child);

impl Drop for Aiosmtpd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn send_delivers_to_aiosmtpd_over_starttls_and_implicit_tls() {
    need("python3");
    let certs = tempfile::tempdir().unwrap();
    run(Command::new(BIN).args(["cert", "--out"]).arg(certs.path()));
    let msg = hard_message();
    let msg_file = certs.path().join("msg.eml");
    std::fs::write(&msg_file, &msg).unwrap();
    for mode in ["starttls", "implicit"] {
        let out = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut child = Command::new("python3")
            .args(["-c", AIOSMTPD])
            .arg(certs.path())
            .arg(out.path())
            .args([mode, &port.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut ready = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut ready).unwrap();
        let _guard = Aiosmtpd(child);
        assert_eq!(ready.trim(), "ready", "aiosmtpd did not start (is it installed? `pip install aiosmtpd`)");
        let send_mode = if mode == "starttls" { "require-starttls" } else { "implicit" };
        let result = run(Command::new(BIN)
            .args(["send", "--server", &format!("127.0.0.1:{port}"), "--policy", send_mode, "--ca"])
            .arg(certs.path().join("ca.pem"))
            .args(["--from", "alice@example.test", "--to", "bob@example.test"])
            .arg(&msg_file));
        let transcript = String::from_utf8_lossy(&result.stdout);
        assert!(transcript.contains("certificate for mail.example.test valid"), "{transcript}");
        // A real connection says so, and names the host it went to.
        assert!(transcript.starts_with(&format!("=== session to 127.0.0.1:{port}\n")), "{transcript}");
        assert_eq!(read_dir_sorted(out.path()), vec![msg.clone()], "{mode}");
    }
}

#[test]
fn a_hostile_client_cannot_crash_or_bloat_the_server() {
    let served = Served::start(&["--role", "relay"]);
    let baseline = served.rss_kib();

    // Disconnect in the middle of DATA.
    let mut s = TcpStream::connect(served.addr()).unwrap();
    s.write_all(b"EHLO x.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\nSubject: half\r\n\r\nnever fin").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    drop(s);

    // 10 MB without a newline, as a command line.
    let mut s = TcpStream::connect(served.addr()).unwrap();
    let junk = vec![b'A'; 1024 * 1024];
    for _ in 0..10 {
        if s.write_all(&junk).is_err() {
            break;
        }
    }
    let _ = s.write_all(b"\r\nQUIT\r\n");
    let mut reply = Vec::new();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.read_to_end(&mut reply);
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.contains("500 5.5.2 Error: line too long") && reply.contains("221"), "{reply}");

    // 200 connections at once.
    let conns: Vec<TcpStream> = (0..200).map(|_| TcpStream::connect(served.addr()).unwrap()).collect();
    for mut c in conns {
        let mut greeting = [0u8; 4];
        c.read_exact(&mut greeting).unwrap();
        assert_eq!(&greeting, b"220 ");
    }
    std::thread::sleep(Duration::from_millis(200));
    let after = served.rss_kib();
    eprintln!("server RSS: {baseline} KiB at start, {after} KiB after the hostile clients and 200 open connections");
    assert!(after < baseline + 64 * 1024, "RSS grew from {baseline} KiB to {after} KiB");

    // And the server still does its job.
    swaks(&served, &[]);
    assert_eq!(served.wait_for(1).len(), 1);
}

/// Connects and reads what the server says first.
fn greeting(addr: &str) -> (TcpStream, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = [0u8; 512];
    let n = s.read(&mut buf).unwrap();
    (s, String::from_utf8_lossy(&buf[..n]).into_owned())
}

#[test]
fn serve_closes_idle_connections_and_recovers_from_its_connection_limit() {
    let served = Served::start(&["--role", "relay", "--idle-timeout", "1", "--max-connections", "2"]);
    let (mut idle, first) = greeting(&served.addr());
    let (busy, second) = greeting(&served.addr());
    assert!(first.starts_with("220 ") && second.starts_with("220 "), "{first}{second}");

    // The limit: the third connection is refused with 421 and closed.
    let (mut refused, said) = greeting(&served.addr());
    assert_eq!(said, "421 4.3.2 Too many connections, try again later\r\n");
    assert_eq!(refused.read(&mut [0u8; 16]).unwrap(), 0, "closed after the 421");

    // An idle connection hears 421 4.4.2 (RFC 5321 §4.5.3.2.7 lets the server give up) and is closed.
    let mut rest = Vec::new();
    idle.read_to_end(&mut rest).unwrap();
    assert_eq!(String::from_utf8_lossy(&rest), "421 4.4.2 mail.example.test Error: timeout exceeded\r\n");

    // Once connections are gone, new ones are greeted again.
    drop(busy);
    let t = Instant::now();
    let again = loop {
        let (_, said) = greeting(&served.addr());
        if said.starts_with("220 ") || t.elapsed() > Duration::from_secs(10) {
            break said;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(again.starts_with("220 "), "{again}");
}

/// openssl s_client through STARTTLS, restricted to one TLS version: what it printed.
fn s_client(served: &Served, version: &str) -> String {
    need("openssl");
    let mut child = Command::new("openssl")
        .args(["s_client", "-connect", &served.addr(), "-starttls", "smtp", version, "-servername", "mail.example.test", "-CAfile"])
        .arg(served.ca())
        .args(["-verify_return_error", "-verify_hostname", "mail.example.test", "-ign_eof"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"EHLO tls12.example.test\r\nQUIT\r\n").unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn serve_speaks_tls_1_2_to_older_clients_unless_told_to_insist_on_1_3() {
    let served = Served::start(&["--role", "submission"]);
    let out = s_client(&served, "-tls1_2");
    assert!(out.contains("Protocol: TLSv1.2") || out.contains("Protocol  : TLSv1.2"), "{out}");
    assert!(out.contains("Verify return code: 0 (ok)") && out.contains("221 "), "{out}");
    assert!(s_client(&served, "-tls1_3").contains("TLSv1.3"));
    let strict = Served::start(&["--role", "submission", "--server-tls-versions", "1.3"]);
    let out = s_client(&strict, "-tls1_2");
    assert!(!out.contains("221 "), "a 1.3-only server completed a TLS 1.2 session:\n{out}");
}

#[test]
fn testssl_finds_tls_1_2_and_1_3_offered_and_no_certificate_lifetime_problem() {
    need("testssl");
    let served = Served::start(&["--role", "submission"]);
    let out = run(Command::new("testssl")
        .args(["--quiet", "--color", "0", "--warnings", "off", "--starttls", "smtp", "--protocols", "--server-defaults"])
        .arg(served.addr()));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = |start: &str| text.lines().find(|l| l.trim_start().starts_with(start)).unwrap_or_default().to_owned();
    assert!(line("TLS 1.2 ").contains("offered (OK)"), "{text}");
    assert!(line("TLS 1.3 ").contains("offered (OK)"), "{text}");
    let validity = line("Certificate Validity");
    assert!(validity.contains(">= 60 days") && !validity.contains("too long"), "{validity}");
}

#[test]
fn send_repeats_sessions_over_starttls_as_a_load_generator() {
    let served = Served::start(&["--role", "relay"]);
    let out = run(Command::new(BIN)
        .args(["send", "--server", &served.addr(), "--policy", "require-starttls", "--ca"])
        .arg(served.ca())
        .args(["--from", "load@client.test", "--to", "postmaster@example.test", "--sessions", "30", "--concurrency", "4"]));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.starts_with("30 sessions, 30 accepted, 0 failed, concurrency 4,"), "{summary}");
    let delivered = served.wait_for(30);
    assert_eq!(delivered.len(), 30);
    assert!(served.log.lock().unwrap().lines().filter(|l| l.contains("TLS")).count() >= 30);
}

/// A Postfix instance configured and started by the test in a temporary
/// directory, listening on loopback for STARTTLS and implicit TLS, delivering
/// bob@example.test to a maildir. Stopped on drop.
struct Postfix {
    dir: tempfile::TempDir,
    smtp: u16,
    smtps: u16,
}

impl Postfix {
    fn start(forbid_bare_newline: bool) -> Postfix {
        need("postfix");
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        run(Command::new("chmod").arg("755").arg(d));
        run(Command::new(BIN).args(["cert", "--out"]).arg(d));
        for sub in ["etc", "spool", "data", "mail"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        run(Command::new("chown").arg("postfix").arg(d.join("data")));
        run(Command::new("chown").arg("nobody").arg(d.join("mail")));
        let (smtp, smtps) = (free_port(), free_port());
        let p = d.display();
        let main_cf = format!(
            "compatibility_level = 3.6\nmyhostname = mail.example.test\nmydomain = example.test\nmydestination = localhost\n\
inet_interfaces = 127.0.0.1\ninet_protocols = ipv4\nmynetworks = 127.0.0.0/8\nqueue_directory = {p}/spool\ndata_directory = {p}/data\n\
smtpd_tls_cert_file = {p}/server.pem\nsmtpd_tls_key_file = {p}/server.key\nsmtpd_tls_security_level = may\n\
smtpd_forbid_bare_newline = {}\nsmtpd_forbid_bare_newline_exclusions =\nvirtual_mailbox_domains = example.test\n\
virtual_mailbox_base = {p}/mail\nvirtual_mailbox_maps = inline:{{ bob@example.test=bob/ }}\nvirtual_uid_maps = static:65534\n\
virtual_gid_maps = static:65534\nmaillog_file = {p}/maillog\nmaillog_file_prefixes = {p}\nsmtputf8_enable = no\n",
            if forbid_bare_newline { "yes" } else { "no" }
        );
        std::fs::write(d.join("etc/main.cf"), main_cf).unwrap();
        // Debian's master.cf, without chroot, with smtpd on our two loopback ports.
        let master: String = std::fs::read_to_string("/etc/postfix/master.cf")
            .unwrap()
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                if l.starts_with(|c: char| c.is_ascii_alphanumeric()) && f.len() >= 8 {
                    if f[0] == "smtp" && f[1] == "inet" {
                        return format!(
                            "127.0.0.1:{smtp} inet n - n - - smtpd\n127.0.0.1:{smtps} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes\n"
                        );
                    }
                    let mut f = f.clone();
                    f[4] = "n";
                    return f.join(" ") + "\n";
                }
                format!("{l}\n")
            })
            .collect();
        std::fs::write(d.join("etc/master.cf"), master).unwrap();
        run(postfix().arg("-c").arg(d.join("etc")).arg("start"));
        let pf = Postfix { dir, smtp, smtps };
        let t = Instant::now();
        while TcpStream::connect(("127.0.0.1", smtp)).is_err() || TcpStream::connect(("127.0.0.1", smtps)).is_err() {
            assert!(t.elapsed() < Duration::from_secs(20), "postfix did not start:\n{}", pf.log());
            std::thread::sleep(Duration::from_millis(100));
        }
        pf
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("maillog")).unwrap_or_default()
    }

    /// Messages delivered to bob, oldest first, waiting up to 20 s for `n`.
    fn delivered(&self, n: usize) -> Vec<Vec<u8>> {
        let t = Instant::now();
        loop {
            let got = read_dir_sorted(&self.dir.path().join("mail/bob/new"));
            if got.len() >= n || t.elapsed() > Duration::from_secs(20) {
                return got;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = postfix().arg("-c").arg(self.dir.path().join("etc")).arg("abort").output();
    }
}

fn probe(addr: &str) -> String {
    let out = run(Command::new(BIN).args(["probe", addr, "--rcpt", "bob@example.test"]));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The verdict word of one check in probe's output.
fn verdict<'a>(report: &'a str, check: &str) -> &'a str {
    report.lines().find(|l| l.split_whitespace().nth(1) == Some(check)).and_then(|l| l.split_whitespace().next()).unwrap_or("missing")
}

#[test]
fn send_delivers_to_postfix_and_probe_sees_its_bare_newline_setting() {
    let pf = Postfix::start(true);
    let msg = hard_message();
    let file = pf.dir.path().join("msg.eml");
    std::fs::write(&file, &msg).unwrap();
    for (port, mode) in [(pf.smtp, "require-starttls"), (pf.smtps, "implicit")] {
        let out = run(Command::new(BIN)
            .args(["send", "--server", &format!("127.0.0.1:{port}"), "--policy", mode, "--ca"])
            .arg(pf.dir.path().join("ca.pem"))
            .args(["--from", "alice@sender.test", "--to", "bob@example.test"])
            .arg(&file));
        assert!(String::from_utf8_lossy(&out.stdout).contains("certificate for mail.example.test valid"), "{mode}");
    }
    // Postfix stores mail with LF line endings after its own trace headers.
    let stored: Vec<u8> = String::from_utf8_lossy(&msg).replace("\r\n", "\n").into_bytes();
    let delivered = pf.delivered(2);
    assert_eq!(delivered.len(), 2, "{}", pf.log());
    for d in &delivered {
        assert!(d.ends_with(&stored), "the body arrived changed");
        assert!(contains_bytes(d, b"Received: from client.example.test"));
    }

    let strict = probe(&format!("127.0.0.1:{}", pf.smtp));
    assert_eq!(verdict(&strict, "smuggling"), "ok", "{strict}");
    assert_eq!(verdict(&strict, "cmd-inject"), "ok", "{strict}");
    drop(pf);

    let lenient = Postfix::start(false);
    let report = probe(&format!("127.0.0.1:{}", lenient.smtp));
    assert_eq!(verdict(&report, "smuggling"), "VULN", "{report}");
}

#[test]
fn probe_tells_a_patched_smtp_lab_server_from_an_unpatched_one() {
    let unpatched = Served::start(&["--role", "relay", "--server-keeps-buffer", "--lenient-end-of-data", "all"]);
    let report = probe(&unpatched.addr());
    assert_eq!(verdict(&report, "cmd-inject"), "VULN", "{report}");
    assert_eq!(verdict(&report, "smuggling"), "VULN", "{report}");
    assert!(report.contains("S~ 250 2.0.0 Ok"), "the evidence shows the answer inside TLS:\n{report}");

    let patched = Served::start(&["--role", "relay"]);
    let report = probe(&patched.addr());
    assert_eq!(verdict(&report, "cmd-inject"), "ok", "{report}");
    assert_eq!(verdict(&report, "smuggling"), "ok", "{report}");
    assert_eq!(verdict(&report, "starttls"), "ok", "{report}");

    let submission = Served::start(&["--role", "submission", "--require-tls"]);
    let report = probe(&submission.addr());
    assert_eq!(verdict(&report, "tls-before-mail"), "ok", "{report}");
}

fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
