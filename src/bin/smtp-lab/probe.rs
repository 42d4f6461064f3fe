//! `probe`: checks a real server the way published STARTTLS and smuggling
//! research tools do, one fresh connection per check, with the exchanged
//! lines kept as evidence for every verdict.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::error::{CliError, ProbeError};
use crate::socket::unix_now;
use smtp_lab::proto::{
    codec::{sasl, Capabilities, Reply, ReplyReader, Secret},
    ClientTls, SimClock, TlsStream,
};

#[derive(clap::Args)]
pub struct ProbeArgs {
    /// HOST:PORT of the server to check.
    server: String,
    /// The server speaks TLS from the first byte (port 465).
    #[arg(long)]
    implicit_tls: bool,
    /// Name sent as SNI.
    #[arg(long, default_value = smtp_lab::sim::world::SERVER_NAME)]
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
    fn open(a: &ProbeArgs) -> Result<Conv, ProbeError> {
        let stream = TcpStream::connect(&a.server).map_err(|source| ProbeError::Connect { server: a.server.clone(), source })?;
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
        let greeting = c.reply(WAIT)?.ok_or(ProbeError::NoGreeting)?;
        if greeting.code != 220 {
            return Err(ProbeError::GreetingRefused(greeting));
        }
        Ok(c)
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), ProbeError> {
        let mark = if self.tls.is_some() { "C~" } else { "C:" };
        for line in String::from_utf8_lossy(bytes).split_inclusive('\n') {
            self.log.push(format!("{mark} {}", line.escape_debug()));
        }
        let wire = match &mut self.tls {
            Some(t) => {
                t.send(bytes)?;
                t.take_outgoing()
            }
            None => bytes.to_vec(),
        };
        Ok(self.stream.write_all(&wire)?)
    }

    /// The next reply, or `None` if nothing arrives within `within`.
    fn reply(&mut self, within: Duration) -> Result<Option<Reply>, ProbeError> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(r) = self.replies.next_reply() {
                let r = r.map_err(ProbeError::BadReply)?;
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
    fn read(&mut self, within: Duration) -> Result<bool, ProbeError> {
        let mut buf = [0u8; 16 * 1024];
        self.stream.set_read_timeout(Some(within.max(Duration::from_millis(1))))?;
        match self.stream.read(&mut buf) {
            Ok(0) => {
                self.log.push("-- server closed the connection".into());
                Err(ProbeError::Closed)
            }
            Ok(n) => {
                let plain = match &mut self.tls {
                    Some(t) => {
                        let p = t.receive(&buf[..n])?;
                        let back = t.take_outgoing();
                        if !back.is_empty() {
                            self.stream.write_all(&back)?;
                        }
                        p
                    }
                    None => buf[..n].to_vec(),
                };
                self.replies.push(&plain);
                Ok(true)
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// A command that must be answered.
    fn cmd(&mut self, line: &str) -> Result<Reply, ProbeError> {
        self.send(format!("{line}\r\n").as_bytes())?;
        self.reply(WAIT)?.ok_or_else(|| ProbeError::NoReply(line.to_owned()))
    }

    /// TLS handshake without enforcing the certificate: a probe wants to see the server's behaviour.
    fn handshake(&mut self) -> Result<(), ProbeError> {
        let settings = ClientTls {
            roots: vec![],
            server_name: self.server_name.clone(),
            enforce_validation: false,
            versions: smtp_lab::proto::TlsVersions::Both,
            dane: None,
        };
        let mut t = TlsStream::client(&settings, &self.clock, smtp_lab::proto::Entropy::System)?;
        self.stream.write_all(&t.take_outgoing())?;
        let deadline = Instant::now() + WAIT;
        let mut buf = [0u8; 16 * 1024];
        while t.is_handshaking() {
            self.stream.set_read_timeout(Some(deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1))))?;
            let n = self.stream.read(&mut buf)?;
            if n == 0 {
                return Err(ProbeError::ClosedInHandshake);
            }
            let plain = t.receive(&buf[..n])?;
            self.stream.write_all(&t.take_outgoing())?;
            self.replies.push(&plain);
        }
        let info = t.info().map(|i| format!("{} {}", i.version, i.cipher)).unwrap_or_default();
        self.log.push(format!("-- TLS established ({info})"));
        self.tls = Some(t);
        Ok(())
    }

    fn ehlo(&mut self) -> Result<Capabilities, ProbeError> {
        let r = self.cmd("EHLO probe.smtp-lab.test")?;
        Capabilities::from_reply(&r).ok_or(ProbeError::EhloRefused(r))
    }

    /// STARTTLS (if offered) and EHLO again.
    fn secure(&mut self, caps: Capabilities) -> Result<Capabilities, ProbeError> {
        if self.tls.is_some() || !caps.starttls() {
            return Ok(caps);
        }
        let r = self.cmd("STARTTLS")?;
        if r.code != 220 {
            return Err(ProbeError::StarttlsRefused(r));
        }
        self.handshake()?;
        self.ehlo()
    }
}

struct ProbeResult {
    check: &'static str,
    verdict: &'static str,
    detail: String,
    evidence: Vec<String>,
}

fn check(a: &ProbeArgs, name: &'static str, f: impl FnOnce(&mut Conv) -> Result<(&'static str, String), ProbeError>) -> ProbeResult {
    match Conv::open(a) {
        Err(e) => ProbeResult { check: name, verdict: "ERROR", detail: e.to_string(), evidence: vec![] },
        Ok(mut c) => {
            let (verdict, detail) = f(&mut c).unwrap_or_else(|e| ("ERROR", e.to_string()));
            let _ = c.send(b"QUIT\r\n");
            ProbeResult { check: name, verdict, detail, evidence: c.log }
        }
    }
}

pub fn probe(a: &ProbeArgs) -> Result<bool, CliError> {
    let auth = a.user.as_deref().map(crate::split_user).transpose()?;
    let mut verdicts = vec![check(a, "starttls", |c| starttls_offered(c, a.implicit_tls))];
    if !a.implicit_tls {
        verdicts.push(check(a, "auth-before-tls", auth_before_tls));
        verdicts.push(check(a, "tls-before-mail", tls_before_mail));
        verdicts.push(check(a, "cmd-inject", command_injection));
    }
    verdicts.push(check(a, "smuggling", |c| smuggling(c, auth.as_ref(), &a.rcpt)));

    println!("probe {}{}", a.server, if a.implicit_tls { " (implicit TLS)" } else { "" });
    for v in &verdicts {
        println!("{:6} {:16} {}", v.verdict, v.check, v.detail);
        for line in &v.evidence {
            println!("{:23}{line}", "");
        }
    }
    Ok(!verdicts.iter().any(|v| v.verdict == "ERROR"))
}

/// A verdict and what it rests on.
type Found = Result<(&'static str, String), ProbeError>;

fn starttls_offered(c: &mut Conv, implicit_tls: bool) -> Found {
    let caps = c.ehlo()?;
    Ok(match (implicit_tls, caps.starttls()) {
        (true, _) => ("ok", "implicit TLS: no SMTP crosses in cleartext; only TLS handshake messages do".into()),
        (false, true) => ("ok", "STARTTLS offered".into()),
        (false, false) => ("WARN", "STARTTLS not offered: everything crosses in cleartext".into()),
    })
}

fn auth_before_tls(c: &mut Conv) -> Found {
    let caps = c.ehlo()?;
    let offered = caps.auth_mechanisms().join(" ");
    let r = c.cmd(&format!("AUTH PLAIN {}", sasl::plain_response("smtp-lab-probe", &Secret::new("not-a-password"))))?;
    Ok(match r.code {
        235 | 535 => ("VULN", format!("AUTH accepted in cleartext and credentials checked ({}); offered before TLS: {offered:?}", r.code)),
        _ if !offered.is_empty() => ("WARN", format!("AUTH {offered} advertised before TLS, though refused ({})", r.code)),
        _ => ("ok", format!("AUTH neither offered nor accepted before TLS ({})", r.code)),
    })
}

fn tls_before_mail(c: &mut Conv) -> Found {
    c.ehlo()?;
    let r = c.cmd("MAIL FROM:<probe@smtp-lab.test>")?;
    // 530 means two things: "Must issue a STARTTLS command first" (RFC 3207 §4) and
    // "Authentication required" (RFC 4954 §6): only the server's own words tell them apart.
    let text = r.text();
    // Only a server on port 25 can be a publicly referenced MX, which must not require
    // STARTTLS (RFC 3207 §4); whether a domain's MX record names this one, the probe cannot tell.
    let port_25 = c.stream.peer_addr().is_ok_and(|a| a.port() == 25);
    Ok(match r.code {
        530 if text.to_ascii_uppercase().contains("STARTTLS") && port_25 => (
            "WARN",
            format!("MAIL refused until STARTTLS ({} {text}) on port 25: fine for a server no domain's MX record (or, lacking an MX, A record) names, but such a publicly referenced server must not require STARTTLS for mail it delivers locally (RFC 3207 §4)", r.code),
        ),
        530 if text.to_ascii_uppercase().contains("STARTTLS") => {
            ("ok", format!("MAIL refused until STARTTLS ({} {text}), as a submission server may (RFC 3207 §4, §4.3)", r.code))
        }
        530 => ("INFO", format!("MAIL refused for want of AUTH, not TLS ({} {text}); AUTH may still be offered before TLS", r.code)),
        _ => ("INFO", format!("MAIL answered {} before TLS: fine for a port-25 MX, wrong for a submission port", r.code)),
    })
}

/// CVE-2011-0411: a command pipelined after STARTTLS, in cleartext, answered inside TLS.
fn command_injection(c: &mut Conv) -> Found {
    let caps = c.ehlo()?;
    if !caps.starttls() {
        return Ok(("n/a", "no STARTTLS to inject after".into()));
    }
    c.send(b"STARTTLS\r\nNOOP smtp-lab-probe\r\n")?;
    let r = c.reply(WAIT)?.ok_or_else(|| ProbeError::NoReply("STARTTLS".into()))?;
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
}

/// SMTP smuggling: does `\n.\r\n` end the message?
fn smuggling(c: &mut Conv, auth: Option<&(String, Secret)>, rcpt: &str) -> Found {
    let caps = c.ehlo()?;
    c.secure(caps)?;
    if let Some((user, password)) = auth {
        let r = c.cmd(&format!("AUTH PLAIN {}", sasl::plain_response(user, password)))?;
        if r.code != 235 {
            return Err(ProbeError::AuthFailed(r));
        }
    }
    for (line, want) in [("MAIL FROM:<probe@smtp-lab.test>", 250), (&*format!("RCPT TO:<{rcpt}>"), 250), ("DATA", 354)] {
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
            let r = c.reply(WAIT)?.ok_or_else(|| ProbeError::NoReply("the end of data".into()))?;
            Ok(("ok", format!("\\n.\\r\\n was not the end; only CRLF.CRLF ended the message ({})", r.code)))
        }
    }
}
