//! `probe`: checks a real server the way published STARTTLS and smuggling
//! research tools do, one fresh connection per check, with the exchanged
//! lines kept as evidence for every verdict.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use smtp_lab::codec::{sasl, Capabilities, Reply, ReplyReader, Secret};
use smtp_lab::socket::unix_now;
use smtp_lab::tls::{ClientTls, SimClock, TlsStream};

#[derive(clap::Args)]
pub struct ProbeArgs {
    /// HOST:PORT of the server to check.
    server: String,
    /// The server speaks TLS from the first byte (port 465).
    #[arg(long)]
    implicit_tls: bool,
    /// Name sent as SNI.
    #[arg(long, default_value = smtp_lab::names::SERVER_NAME)]
    server_name: String,
    /// Recipient for the smuggling check's test message.
    #[arg(long, default_value = "postmaster@example.test")]
    rcpt: String,
    /// USER:PASSWORD, for servers that want AUTH before MAIL.
    #[arg(long)]
    user: Option<String>,
}

const WAIT: Duration = Duration::from_secs(10);
/// How long a server that did not execute anything is given to prove it did.
const QUIET: Duration = Duration::from_millis(1500);

/// One SMTP conversation, in cleartext or TLS, with a log of every line.
struct Conv {
    stream: TcpStream,
    tls: Option<TlsStream>,
    clock: SimClock,
    server_name: String,
    replies: ReplyReader,
    log: Vec<String>,
}

impl Conv {
    fn open(a: &ProbeArgs) -> Result<Conv, String> {
        let stream = TcpStream::connect(&a.server).map_err(|e| format!("connect {}: {e}", a.server))?;
        let mut c = Conv {
            stream,
            tls: None,
            clock: SimClock::new(unix_now()),
            server_name: a.server_name.clone(),
            replies: ReplyReader::default(),
            log: vec![],
        };
        if a.implicit_tls {
            c.handshake()?;
        }
        let greeting = c.reply(WAIT)?.ok_or("no greeting")?;
        if greeting.code != 220 {
            return Err(format!("greeting refused: {greeting}"));
        }
        Ok(c)
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        let mark = if self.tls.is_some() { "C~" } else { "C:" };
        for line in String::from_utf8_lossy(bytes).split_inclusive('\n') {
            self.log.push(format!("{mark} {}", line.escape_debug()));
        }
        let wire = match &mut self.tls {
            Some(t) => {
                t.send(bytes).map_err(|e| format!("TLS: {e}"))?;
                t.take_outgoing()
            }
            None => bytes.to_vec(),
        };
        self.stream.write_all(&wire).map_err(|e| format!("write: {e}"))
    }

    /// The next reply, or `None` if nothing arrives within `within`.
    fn reply(&mut self, within: Duration) -> Result<Option<Reply>, String> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(r) = self.replies.next_reply() {
                let r = r.map_err(|e| format!("bad reply: {e}"))?;
                let mark = if self.tls.is_some() { "S~" } else { "S:" };
                self.log.extend(r.to_string().lines().map(|l| format!("{mark} {l}")));
                return Ok(Some(r));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            if !self.read(left)? {
                return Ok(None);
            }
        }
    }

    /// Reads once from the socket (through TLS if on) into the reply reader.
    /// `Ok(false)` on timeout; an error when the server closed.
    fn read(&mut self, within: Duration) -> Result<bool, String> {
        let mut buf = [0u8; 16 * 1024];
        self.stream.set_read_timeout(Some(within.max(Duration::from_millis(1)))).map_err(|e| e.to_string())?;
        match self.stream.read(&mut buf) {
            Ok(0) => {
                self.log.push("-- server closed the connection".into());
                Err("server closed the connection".into())
            }
            Ok(n) => {
                let plain = match &mut self.tls {
                    Some(t) => {
                        let p = t.receive(&buf[..n]).map_err(|e| format!("TLS: {e}"))?;
                        let back = t.take_outgoing();
                        if !back.is_empty() {
                            self.stream.write_all(&back).map_err(|e| e.to_string())?;
                        }
                        p
                    }
                    None => buf[..n].to_vec(),
                };
                self.replies.push(&plain);
                Ok(true)
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }

    /// A command that must be answered.
    fn cmd(&mut self, line: &str) -> Result<Reply, String> {
        self.send(format!("{line}\r\n").as_bytes())?;
        self.reply(WAIT)?.ok_or_else(|| format!("no reply to {line}"))
    }

    /// TLS handshake without enforcing the certificate: a probe wants to see the server's behaviour.
    fn handshake(&mut self) -> Result<(), String> {
        let settings = ClientTls {
            roots: vec![],
            server_name: self.server_name.clone(),
            enforce_validation: false,
            versions: smtp_lab::tls::TlsVersions::Both,
            dane: None,
        };
        let mut t = TlsStream::client(&settings, &self.clock, smtp_lab::entropy::Entropy::System).map_err(|e| e.to_string())?;
        self.stream.write_all(&t.take_outgoing()).map_err(|e| e.to_string())?;
        let deadline = Instant::now() + WAIT;
        let mut buf = [0u8; 16 * 1024];
        while t.is_handshaking() {
            self.stream
                .set_read_timeout(Some(deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1))))
                .map_err(|e| e.to_string())?;
            let n = self.stream.read(&mut buf).map_err(|e| format!("TLS handshake: {e}"))?;
            if n == 0 {
                return Err("server closed during the TLS handshake".into());
            }
            let plain = t.receive(&buf[..n]).map_err(|e| format!("TLS handshake: {e}"))?;
            self.stream.write_all(&t.take_outgoing()).map_err(|e| e.to_string())?;
            self.replies.push(&plain);
        }
        let info = t.info().map(|i| format!("{} {}", i.version, i.cipher)).unwrap_or_default();
        self.log.push(format!("-- TLS established ({info})"));
        self.tls = Some(t);
        Ok(())
    }

    fn ehlo(&mut self) -> Result<Capabilities, String> {
        let r = self.cmd("EHLO probe.smtp-lab.test")?;
        Capabilities::from_reply(&r).ok_or_else(|| format!("EHLO refused: {r}"))
    }

    /// STARTTLS (if offered) and EHLO again.
    fn secure(&mut self, caps: Capabilities) -> Result<Capabilities, String> {
        if self.tls.is_some() || !caps.starttls() {
            return Ok(caps);
        }
        let r = self.cmd("STARTTLS")?;
        if r.code != 220 {
            return Err(format!("STARTTLS refused: {r}"));
        }
        self.handshake()?;
        self.ehlo()
    }
}

struct Verdict {
    check: &'static str,
    verdict: &'static str,
    detail: String,
    evidence: Vec<String>,
}

fn check(a: &ProbeArgs, name: &'static str, f: impl FnOnce(&mut Conv) -> Result<(&'static str, String), String>) -> Verdict {
    match Conv::open(a) {
        Err(e) => Verdict { check: name, verdict: "ERROR", detail: e, evidence: vec![] },
        Ok(mut c) => {
            let (verdict, detail) = f(&mut c).unwrap_or_else(|e| ("ERROR", e));
            let _ = c.send(b"QUIT\r\n");
            Verdict { check: name, verdict, detail, evidence: c.log }
        }
    }
}

pub fn probe(a: &ProbeArgs) -> Result<bool, String> {
    let auth = a.user.as_deref().map(crate::split_user).transpose()?;
    let mut verdicts = vec![];
    verdicts.push(check(a, "starttls", |c| {
        let caps = c.ehlo()?;
        Ok(match (a.implicit_tls, caps.starttls()) {
            (true, _) => ("ok", "implicit TLS: nothing is ever in cleartext".into()),
            (false, true) => ("ok", "STARTTLS offered".into()),
            (false, false) => ("WARN", "STARTTLS not offered: everything crosses in cleartext".into()),
        })
    }));
    if !a.implicit_tls {
        verdicts.push(check(a, "auth-before-tls", |c| {
            let caps = c.ehlo()?;
            let offered = caps.auth_mechanisms().join(" ");
            let r = c.cmd(&format!("AUTH PLAIN {}", sasl::plain_response("smtp-lab-probe", &Secret::new("not-a-password"))))?;
            Ok(match r.code {
                235 | 535 => {
                    ("VULN", format!("AUTH accepted in cleartext and credentials checked ({}); offered before TLS: {offered:?}", r.code))
                }
                _ if !offered.is_empty() => ("WARN", format!("AUTH {offered} advertised before TLS, though refused ({})", r.code)),
                _ => ("ok", format!("AUTH neither offered nor accepted before TLS ({})", r.code)),
            })
        }));
        verdicts.push(check(a, "tls-before-mail", |c| {
            c.ehlo()?;
            let r = c.cmd("MAIL FROM:<probe@smtp-lab.test>")?;
            // 530 means two things: "Must issue a STARTTLS command first" (RFC 3207 §4) and
            // "Authentication required" (RFC 4954 §6); only the first is about TLS.
            let text = r.text();
            Ok(match r.code {
                530 if text.to_ascii_uppercase().contains("STARTTLS") => {
                    ("ok", format!("MAIL refused until STARTTLS ({} {text}), as a submission port should", r.code))
                }
                530 => {
                    ("INFO", format!("MAIL refused for want of AUTH, not TLS ({} {text}); AUTH may still be offered before TLS", r.code))
                }
                _ => ("INFO", format!("MAIL answered {} before TLS: fine for a port-25 MX, wrong for a submission port", r.code)),
            })
        }));
        verdicts.push(check(a, "cmd-inject", |c| {
            let caps = c.ehlo()?;
            if !caps.starttls() {
                return Ok(("n/a", "no STARTTLS to inject after".into()));
            }
            c.send(b"STARTTLS\r\nNOOP smtp-lab-probe\r\n")?;
            let r = c.reply(WAIT)?.ok_or("no reply to STARTTLS")?;
            if r.code != 220 {
                return Ok(("ok", format!("STARTTLS with a command after it was refused: {r}")));
            }
            if let Some(early) = c.reply(Duration::ZERO)? {
                return Ok(("WARN", format!("the server answered the injected NOOP in cleartext: {early}")));
            }
            c.handshake()?;
            Ok(match c.reply(QUIET) {
                Ok(Some(r)) => ("VULN", format!("CVE-2011-0411: the NOOP sent before TLS was answered inside TLS: {r}")),
                Ok(None) => ("ok", "the bytes after STARTTLS were discarded".into()),
                Err(e) => ("ok", format!("the server dropped the connection ({e})")),
            })
        }));
    }
    verdicts.push(check(a, "smuggling", |c| {
        let caps = c.ehlo()?;
        c.secure(caps)?;
        if let Some((user, password)) = &auth {
            let r = c.cmd(&format!("AUTH PLAIN {}", sasl::plain_response(user, password)))?;
            if r.code != 235 {
                return Err(format!("AUTH failed: {r}"));
            }
        }
        for (line, want) in [("MAIL FROM:<probe@smtp-lab.test>", 250), (&*format!("RCPT TO:<{}>", a.rcpt), 250), ("DATA", 354)] {
            let r = c.cmd(line)?;
            if r.code != want {
                return Ok(("n/a", format!("could not reach DATA: {r}")));
            }
        }
        c.send(b"Subject: smtp-lab smuggling probe\r\n\r\nprobe\n.\r\n")?;
        match c.reply(QUIET) {
            Err(e) => Ok(("ok", format!("the server dropped the connection at the bare LF ({e})"))),
            Ok(Some(r)) if r.is_positive() => Ok(("VULN", format!("\\n.\\r\\n was taken as the end of the message: {r}"))),
            Ok(Some(r)) => Ok(("ok", format!("bare LF refused: {r}"))),
            Ok(None) => {
                c.send(b"\r\n.\r\n")?;
                let r = c.reply(WAIT)?.ok_or("no reply to the end of data")?;
                Ok(("ok", format!("\\n.\\r\\n was not the end; only CRLF.CRLF ended the message ({})", r.code)))
            }
        }
    }));

    println!("probe {}{}", a.server, if a.implicit_tls { " (implicit TLS)" } else { "" });
    for v in &verdicts {
        println!("{:6} {:16} {}", v.verdict, v.check, v.detail);
        for line in &v.evidence {
            println!("{:23}{line}", "");
        }
    }
    Ok(!verdicts.iter().any(|v| v.verdict == "ERROR"))
}
