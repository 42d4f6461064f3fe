//! The SMTP client machine: a mail client (or a sending MTA) with a TLS policy.
//!
//! Every command it sends pushes what it expects back onto a queue, and every
//! reply pops one, so pipelined commands (RFC 2920) are matched to their
//! replies in order. Security-relevant choices are reported as warnings at the
//! moment the client makes them.

use std::collections::VecDeque;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::codec::{dot_stuff, sasl, Capabilities, Command, Mechanism, Param, Reply, ReplyReader, Secret};
use crate::machine::{Machine, Output};
use crate::tls_info::TlsInfo;
use crate::vocab::choice;

choice! {
    /// How the client uses TLS.
    pub enum TlsPolicy ("client policy") {
        Plain = "plain": "never uses TLS",
        Opportunistic = "opportunistic": "uses STARTTLS if the server offers it, otherwise carries on in cleartext",
        /// QUIT unless the upgrade succeeds (RFC 8314 §5 asks this of mail clients).
        RequireStartTls = "require-starttls": "STARTTLS or nothing: quits unless the upgrade succeeds",
        Implicit = "implicit": "TLS from the first byte, as on port 465",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub username: String,
    pub password: Secret,
    pub mechanism: Mechanism,
    /// Send the first response with the AUTH command (RFC 4954 §4).
    pub initial_response: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientConfig {
    pub policy: TlsPolicy,
    /// Enforce certificate validation (name and chain). The check runs either way.
    pub validate_certificate: bool,
    /// The name the client expects the server to prove (SNI and certificate).
    pub server_name: String,
    pub ehlo_name: String,
    pub credentials: Option<Credentials>,
    pub from: String,
    pub to: Vec<String>,
    pub message: Vec<u8>,
    /// Dot-stuff the body. Off only for a malicious sender that writes the wire bytes itself.
    pub stuff_dots: bool,
    /// Pipeline MAIL/RCPT/DATA when the server offers PIPELINING.
    pub pipelining: bool,
    /// After STARTTLS, skip the second EHLO and trust what was said in cleartext
    /// (the state-carry bug; off in a correct client).
    pub reuse_pre_tls_capabilities: bool,
    pub reply_timeout: Duration,
    /// The message must travel over TLS on every hop: the client sends it only
    /// inside TLS to a server that offers REQUIRETLS, with that MAIL parameter
    /// (RFC 8689 §4.1), and otherwise does not send it at all.
    #[serde(default)]
    pub require_tls: bool,
}

impl ClientConfig {
    /// A mail client submitting one message as alice.
    pub fn submission(policy: TlsPolicy) -> Self {
        ClientConfig {
            policy,
            validate_certificate: true,
            server_name: crate::names::SERVER_NAME.to_owned(),
            ehlo_name: "client.example.test".into(),
            credentials: Some(Credentials {
                username: "alice".into(),
                password: Secret::new("correct horse battery staple"),
                mechanism: Mechanism::Plain,
                initial_response: true,
            }),
            from: "alice@example.test".into(),
            to: vec!["bob@example.test".into()],
            message: default_message(),
            stuff_dots: true,
            pipelining: true,
            reuse_pre_tls_capabilities: false,
            require_tls: false,
            reply_timeout: Duration::from_secs(300),
        }
    }

    /// A sending MTA relaying to an MX: no credentials, usually no validation.
    pub fn relay(policy: TlsPolicy) -> Self {
        ClientConfig {
            credentials: None,
            validate_certificate: false,
            ehlo_name: "mta.sender.test".into(),
            from: "carol@sender.test".into(),
            ..ClientConfig::submission(policy)
        }
    }
}

/// The message every default session sends: short, and with lines that need dot-stuffing.
pub fn default_message() -> Vec<u8> {
    b"From: Alice <alice@example.test>\r\n\
To: Bob <bob@example.test>\r\n\
Subject: Lunch on Friday?\r\n\
Date: Mon, 01 Jun 2026 12:00:00 +0000\r\n\
Message-ID: <lunch-1@example.test>\r\n\
\r\n\
Hi Bob,\r\n\
.the line above this one starts with a dot.\r\n\
..and this one with two.\r\n\
See you at noon.\r\n"
        .to_vec()
}

/// Why the client chose to carry on without TLS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NoTlsReason {
    NotOffered,
    Refused { reply: Reply },
}

/// What the client did, for traces and lessons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientEvent {
    ReplyReceived {
        reply: Reply,
        under_tls: bool,
    },
    BadReply {
        error: String,
    },
    CommandSent {
        command: Command,
        under_tls: bool,
    },
    /// A base64 line in an AUTH exchange.
    AuthDataSent {
        under_tls: bool,
    },
    CapabilitiesLearned {
        capabilities: Capabilities,
        under_tls: bool,
    },
    /// EHLO was refused; HELO carries no extensions (so no STARTTLS).
    FellBackToHelo {
        reply: Reply,
    },
    /// Warning: carried on in cleartext.
    ContinuedWithoutTls(NoTlsReason),
    /// Warning: the certificate did not validate and the client went on anyway.
    CertificateNotValidated {
        error: String,
    },
    /// Warning: credentials are about to cross the wire unencrypted.
    AuthSentBeforeTls {
        mechanism: Mechanism,
    },
    AuthNotAdvertised,
    /// Warning: the client skipped the second EHLO after STARTTLS.
    ReusedPreTlsCapabilities,
    AuthSucceeded,
    AuthFailed {
        reply: Reply,
    },
    RecipientRejected {
        to: String,
        reply: Reply,
    },
    MessageSent {
        bytes: usize,
    },
    MessageAccepted {
        reply: Reply,
    },
    MessageRejected {
        reply: Reply,
    },
    /// The client gave up; it sends QUIT if the connection still allows it.
    Aborted {
        reason: String,
    },
    TimedOut {
        waiting_for: String,
    },
    Closed,
    /// A line the learner typed at the console that is not a command the
    /// client can read; it is sent as typed, for the server to judge.
    LineSent {
        text: String,
        under_tls: bool,
    },
}

/// The longest line the console sends: longer than SMTP allows (1000 octets
/// with CRLF, RFC 5321 §4.5.3.1.6), so the learner can see a server refuse
/// one, yet bounded.
pub const CONSOLE_MAX_LINE: usize = 4096;

/// Why the console did not send a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsoleError {
    #[error("the connection is closed")]
    Closed,
    #[error("wait for the TLS handshake to finish")]
    Handshaking,
    #[error("a line holds at most {CONSOLE_MAX_LINE} characters")]
    TooLong,
    #[error("a line cannot hold a line break (CR or LF); send each line on its own")]
    LineBreak,
    #[error("this session's client is not driven from the console")]
    NotConsole,
}

/// What a line typed at the console is waiting to hear back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Typed {
    Other,
    Ehlo,
    StartTls,
    Auth,
    Data,
    Body,
    Quit,
}

/// The console's state: the learner types the lines, the machine sends them
/// and reads the replies, and does what a client must on its own: the TLS
/// handshake after 220 to STARTTLS, and closing after the reply to QUIT.
#[derive(Debug, Default)]
struct Console {
    waiting: VecDeque<Typed>,
    /// Between 354 and the lone "." line: lines are message text.
    in_body: bool,
    /// After 334: the next line answers the AUTH challenge.
    in_auth: bool,
    body: Vec<u8>,
}

/// What a command sent is waiting to hear back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Greeting,
    Ehlo,
    Helo,
    StartTls,
    AuthChallenge,
    AuthLoginPassword,
    AuthDone,
    Mail,
    Rcpt(usize),
    Data,
    Body,
    Quit,
}

impl Expect {
    fn name(self) -> &'static str {
        match self {
            Expect::Greeting => "the greeting",
            Expect::Ehlo => "the EHLO reply",
            Expect::Helo => "the HELO reply",
            Expect::StartTls => "the STARTTLS reply",
            Expect::AuthChallenge | Expect::AuthLoginPassword | Expect::AuthDone => "the AUTH reply",
            Expect::Mail => "the MAIL reply",
            Expect::Rcpt(_) => "the RCPT reply",
            Expect::Data => "the DATA reply",
            Expect::Body => "the end-of-data reply",
            Expect::Quit => "the QUIT reply",
        }
    }

    /// RFC 5321 §4.5.3.2 timeouts, capped by the configured reply timeout.
    fn timeout(self, max: Duration) -> Duration {
        let secs = match self {
            Expect::Data => 120,
            Expect::Body => 600,
            _ => 300,
        };
        Duration::from_secs(secs).min(max)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connecting,
    Talking,
    TlsHandshake,
    Done,
}

/// The client machine. See [`Machine`] for how to drive it.
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    phase: Phase,
    replies: ReplyReader,
    out: VecDeque<Output<ClientEvent>>,
    expect: VecDeque<Expect>,
    deadline: Option<Duration>,
    now: Duration,
    tls: Option<TlsInfo>,
    caps: Capabilities,
    rcpt_ok: usize,
    tx_failed: bool,
    quitting: bool,
    /// Set when the learner types the lines.
    console: Option<Console>,
}

impl Client {
    /// A client whose commands the learner types ([`Client::type_line`]);
    /// `config` gives its name for TLS and whether it enforces the certificate check.
    pub fn console(config: ClientConfig) -> Self {
        Client { console: Some(Console::default()), ..Client::new(config) }
    }

    /// Whether the console's next line is message text (after 354), and the text so far.
    pub fn console_body(&self) -> Option<(bool, &[u8])> {
        self.console.as_ref().map(|c| (c.in_body, c.body.as_slice()))
    }

    /// Sends one line the learner typed (without CRLF), as typed.
    pub fn type_line(&mut self, line: &[u8], now: Duration) -> Result<(), ConsoleError> {
        self.now = now;
        let under_tls = self.under_tls();
        let phase = self.phase;
        let Some(console) = self.console.as_mut() else { return Err(ConsoleError::NotConsole) };
        match phase {
            Phase::Done => return Err(ConsoleError::Closed),
            Phase::TlsHandshake => return Err(ConsoleError::Handshaking),
            Phase::Connecting | Phase::Talking => {}
        }
        if line.len() > CONSOLE_MAX_LINE {
            return Err(ConsoleError::TooLong);
        }
        if line.iter().any(|&b| b == b'\r' || b == b'\n') {
            return Err(ConsoleError::LineBreak);
        }
        let mut wire = line.to_vec();
        wire.extend_from_slice(b"\r\n");
        let event = if console.in_body {
            if line == b"." {
                console.in_body = false;
                console.waiting.push_back(Typed::Body);
                Some(ClientEvent::MessageSent { bytes: console.body.len() })
            } else {
                console.body.extend_from_slice(&wire);
                None
            }
        } else if console.in_auth {
            console.in_auth = false;
            console.waiting.push_back(Typed::Auth);
            Some(ClientEvent::AuthDataSent { under_tls })
        } else {
            match Command::parse(line) {
                Ok(command) => {
                    let typed = match command {
                        Command::StartTls => Typed::StartTls,
                        Command::Ehlo { .. } => Typed::Ehlo,
                        Command::Auth { .. } => Typed::Auth,
                        Command::Data => Typed::Data,
                        Command::Quit => Typed::Quit,
                        _ => Typed::Other,
                    };
                    console.waiting.push_back(typed);
                    Some(ClientEvent::CommandSent { command, under_tls })
                }
                Err(_) => {
                    console.waiting.push_back(Typed::Other);
                    Some(ClientEvent::LineSent { text: String::from_utf8_lossy(line).into_owned(), under_tls })
                }
            }
        };
        self.out.push_back(Output::Send(wire));
        if let Some(e) = event {
            self.event(e);
        }
        Ok(())
    }

    /// A reply to what the learner typed: report it, and do only what a
    /// client must do by itself.
    fn console_reply(&mut self, reply: Reply) {
        self.event(ClientEvent::ReplyReceived { reply: reply.clone(), under_tls: self.under_tls() });
        let Some(console) = self.console.as_mut() else { return };
        let code = reply.code;
        // The greeting answers nothing typed.
        match console.waiting.pop_front() {
            Some(Typed::StartTls) if code == 220 => {
                self.phase = Phase::TlsHandshake;
                self.out.push_back(Output::StartTls);
            }
            Some(Typed::Auth) if code == 334 => console.in_auth = true,
            Some(Typed::Auth) if code == 235 => self.event(ClientEvent::AuthSucceeded),
            Some(Typed::Auth) => self.event(ClientEvent::AuthFailed { reply }),
            Some(Typed::Data) if code == 354 => {
                console.in_body = true;
                console.body.clear();
            }
            Some(Typed::Body) if code == 250 => self.event(ClientEvent::MessageAccepted { reply }),
            Some(Typed::Body) => self.event(ClientEvent::MessageRejected { reply }),
            Some(Typed::Quit) => self.close(),
            Some(Typed::Ehlo) => {
                if let Some(caps) = Capabilities::from_reply(&reply) {
                    self.event(ClientEvent::CapabilitiesLearned { capabilities: caps, under_tls: self.under_tls() });
                }
            }
            _ => {}
        }
    }
    pub fn new(config: ClientConfig) -> Self {
        Client {
            config,
            phase: Phase::Connecting,
            replies: ReplyReader::default(),
            out: VecDeque::new(),
            expect: VecDeque::new(),
            deadline: None,
            now: Duration::ZERO,
            tls: None,
            caps: Capabilities::default(),
            rcpt_ok: 0,
            tx_failed: false,
            quitting: false,
            console: None,
        }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Input bytes held but not yet part of a reply; bounded by the line limit.
    pub fn buffered_input(&self) -> usize {
        self.replies.buffered_len()
    }

    fn event(&mut self, e: ClientEvent) {
        self.out.push_back(Output::Event(e));
    }

    fn under_tls(&self) -> bool {
        self.tls.is_some()
    }

    fn send(&mut self, cmd: Command, expect: Expect) {
        self.out.push_back(Output::Send(cmd.to_line()));
        self.event(ClientEvent::CommandSent { command: cmd, under_tls: self.under_tls() });
        self.wait_for(expect);
    }

    fn wait_for(&mut self, expect: Expect) {
        if self.expect.is_empty() {
            self.deadline = Some(self.now + expect.timeout(self.config.reply_timeout));
        }
        self.expect.push_back(expect);
    }

    fn send_auth_data(&mut self, b64: String, expect: Expect) {
        self.out.push_back(Output::Send(format!("{b64}\r\n").into_bytes()));
        self.event(ClientEvent::AuthDataSent { under_tls: self.under_tls() });
        self.wait_for(expect);
    }

    /// Gives up politely: QUIT, then close on the reply.
    fn abort(&mut self, reason: String) {
        self.event(ClientEvent::Aborted { reason });
        self.quit();
    }

    fn quit(&mut self) {
        if !self.quitting {
            self.quitting = true;
            self.expect.clear();
            self.send(Command::Quit, Expect::Quit);
        }
    }

    fn close(&mut self) {
        if self.phase != Phase::Done {
            self.phase = Phase::Done;
            self.replies.take_buffered(); // nothing more will be read
            self.expect.clear();
            self.deadline = None;
            self.event(ClientEvent::Closed);
            self.out.push_back(Output::Close);
        }
    }

    fn ehlo(&mut self) {
        let domain = self.config.ehlo_name.clone();
        self.send(Command::Ehlo { domain }, Expect::Ehlo);
    }

    fn on_reply(&mut self, reply: Reply) {
        if self.console.is_some() {
            return self.console_reply(reply);
        }
        self.event(ClientEvent::ReplyReceived { reply: reply.clone(), under_tls: self.under_tls() });
        let Some(expect) = self.expect.pop_front() else {
            self.event(ClientEvent::BadReply { error: format!("unexpected reply {}", reply.code) });
            return;
        };
        self.deadline = self.expect.front().map(|e| self.now + e.timeout(self.config.reply_timeout));
        let code = reply.code;
        match expect {
            Expect::Greeting if code == 220 => self.ehlo(),
            Expect::Greeting => self.abort(format!("server refused the connection: {reply}")),
            Expect::Ehlo => match Capabilities::from_reply(&reply) {
                Some(caps) => {
                    self.event(ClientEvent::CapabilitiesLearned { capabilities: caps.clone(), under_tls: self.under_tls() });
                    self.caps = caps;
                    self.after_ehlo();
                }
                None => {
                    self.event(ClientEvent::FellBackToHelo { reply });
                    let domain = self.config.ehlo_name.clone();
                    self.send(Command::Helo { domain }, Expect::Helo);
                }
            },
            Expect::Helo if code == 250 => {
                self.caps = Capabilities::default();
                self.after_ehlo();
            }
            Expect::Helo => self.abort(format!("HELO refused: {reply}")),
            Expect::StartTls if code == 220 => {
                self.phase = Phase::TlsHandshake;
                self.deadline = None;
                self.out.push_back(Output::StartTls);
            }
            Expect::StartTls => match self.config.policy {
                TlsPolicy::Opportunistic => {
                    self.event(ClientEvent::ContinuedWithoutTls(NoTlsReason::Refused { reply }));
                    self.authenticate();
                }
                _ => self.abort(format!("STARTTLS refused ({code}) and this client requires TLS")),
            },
            Expect::AuthChallenge | Expect::AuthLoginPassword if code == 334 => self.auth_continue(expect),
            Expect::AuthDone if code == 235 => {
                self.event(ClientEvent::AuthSucceeded);
                self.start_transaction();
            }
            Expect::AuthChallenge | Expect::AuthLoginPassword | Expect::AuthDone => {
                self.event(ClientEvent::AuthFailed { reply: reply.clone() });
                self.abort(format!("authentication failed: {reply}"));
            }
            Expect::Mail => {
                if code != 250 {
                    self.tx_failed = true;
                    self.event(ClientEvent::MessageRejected { reply: reply.clone() });
                    if !self.pipelined() {
                        self.abort(format!("sender refused: {reply}"));
                    }
                } else if !self.pipelined() {
                    self.send_rcpt(0);
                }
            }
            Expect::Rcpt(i) => {
                if reply.is_positive() {
                    self.rcpt_ok += 1;
                } else if !self.tx_failed {
                    let to = self.config.to[i].clone();
                    self.event(ClientEvent::RecipientRejected { to, reply });
                }
                if !self.pipelined() {
                    if i + 1 < self.config.to.len() {
                        self.send_rcpt(i + 1);
                    } else if self.rcpt_ok > 0 {
                        self.send(Command::Data, Expect::Data);
                    } else {
                        self.abort("every recipient was refused".into());
                    }
                }
            }
            Expect::Data if code == 354 => {
                if self.tx_failed || self.rcpt_ok == 0 {
                    // RFC 2920 §3.1: end the unwanted DATA with an empty message.
                    self.out.push_back(Output::Send(b".\r\n".to_vec()));
                    self.wait_for(Expect::Body);
                    self.tx_failed = true;
                } else {
                    let wire = if self.config.stuff_dots {
                        dot_stuff(&self.config.message)
                    } else {
                        [self.config.message.as_slice(), b".\r\n"].concat()
                    };
                    let bytes = wire.len();
                    self.out.push_back(Output::Send(wire));
                    self.event(ClientEvent::MessageSent { bytes });
                    self.wait_for(Expect::Body);
                }
            }
            Expect::Data => {
                if !self.tx_failed {
                    self.event(ClientEvent::MessageRejected { reply: reply.clone() });
                }
                self.abort(format!("DATA refused: {reply}"));
            }
            Expect::Body => {
                if self.tx_failed {
                    self.abort("the transaction failed".into());
                } else if code == 250 {
                    self.event(ClientEvent::MessageAccepted { reply });
                    self.quit();
                } else {
                    self.event(ClientEvent::MessageRejected { reply: reply.clone() });
                    self.abort(format!("message refused: {reply}"));
                }
            }
            Expect::Quit => self.close(),
        }
    }

    fn pipelined(&self) -> bool {
        self.config.pipelining && self.caps.pipelining()
    }

    /// After EHLO/HELO: upgrade, or decide to go on without TLS.
    fn after_ehlo(&mut self) {
        if self.under_tls() || self.config.policy == TlsPolicy::Plain {
            return self.authenticate();
        }
        if self.caps.starttls() {
            return self.send(Command::StartTls, Expect::StartTls);
        }
        match self.config.policy {
            _ if self.config.require_tls => {
                self.abort("server did not offer STARTTLS, and the message requires TLS (REQUIRETLS): it goes back to its sender".into())
            }
            TlsPolicy::Opportunistic => {
                self.event(ClientEvent::ContinuedWithoutTls(NoTlsReason::NotOffered));
                self.authenticate();
            }
            _ => self.abort("server did not offer STARTTLS and this client requires TLS".into()),
        }
    }

    fn authenticate(&mut self) {
        let Some(creds) = self.config.credentials.clone() else {
            return self.start_transaction();
        };
        // Like smtplib or Thunderbird: no AUTH unless the server offers the mechanism.
        if !self.caps.auth_mechanisms().iter().any(|m| m == creds.mechanism.name()) {
            self.event(ClientEvent::AuthNotAdvertised);
            return self.abort(format!("the server does not offer AUTH {}", creds.mechanism.name()));
        }
        if !self.under_tls() {
            self.event(ClientEvent::AuthSentBeforeTls { mechanism: creds.mechanism });
        }
        let (initial, expect) = match (creds.mechanism, creds.initial_response) {
            (Mechanism::Plain, true) => (Some(sasl::plain_response(&creds.username, &creds.password)), Expect::AuthDone),
            (Mechanism::Login, true) => (Some(sasl::encode(creds.username.as_bytes())), Expect::AuthLoginPassword),
            (_, false) => (None, Expect::AuthChallenge),
        };
        let mechanism = creds.mechanism.name().to_owned();
        self.send(Command::Auth { mechanism, initial_response: initial }, expect);
    }

    fn auth_continue(&mut self, expect: Expect) {
        let Some(creds) = self.config.credentials.clone() else { return };
        match (creds.mechanism, expect) {
            (Mechanism::Plain, _) => self.send_auth_data(sasl::plain_response(&creds.username, &creds.password), Expect::AuthDone),
            (Mechanism::Login, Expect::AuthChallenge) => {
                self.send_auth_data(sasl::encode(creds.username.as_bytes()), Expect::AuthLoginPassword)
            }
            (Mechanism::Login, _) => self.send_auth_data(sasl::encode(creds.password.expose().as_bytes()), Expect::AuthDone),
        }
    }

    fn start_transaction(&mut self) {
        let mut params = Vec::new();
        if self.config.require_tls {
            let offered =
                self.caps.extensions.iter().any(|e| matches!(e, crate::codec::Extension::Other { name, .. } if name == "REQUIRETLS"));
            if !self.under_tls() {
                return self.abort("the message requires TLS (REQUIRETLS) and this connection has none: it goes back to its sender".into());
            }
            if !offered {
                return self.abort(
                    "the message requires TLS (REQUIRETLS) and this server does not offer REQUIRETLS: it goes back to its sender".into(),
                );
            }
            params.push(Param::new("REQUIRETLS", None));
        }
        if self.caps.size_limit().is_some() {
            params.push(Param::new("SIZE", Some(&self.config.message.len().to_string())));
        }
        if self.config.message.iter().any(|b| *b >= 0x80) && self.caps.has(&crate::codec::Extension::EightBitMime) {
            params.push(Param::new("BODY", Some("8BITMIME")));
        }
        let from = self.config.from.clone();
        self.send(Command::Mail { from, params }, Expect::Mail);
        if self.pipelined() {
            for i in 0..self.config.to.len() {
                self.send_rcpt(i);
            }
            self.send(Command::Data, Expect::Data);
        }
    }

    fn send_rcpt(&mut self, i: usize) {
        let to = self.config.to[i].clone();
        self.send(Command::Rcpt { to, params: vec![] }, Expect::Rcpt(i));
    }

    fn drain_replies(&mut self) {
        while self.phase == Phase::Talking {
            match self.replies.next_reply() {
                None => return,
                Some(Ok(reply)) => self.on_reply(reply),
                Some(Err(e)) => {
                    self.event(ClientEvent::BadReply { error: e.to_string() });
                    self.event(ClientEvent::Aborted { reason: format!("the server sent something that is not an SMTP reply ({e})") });
                    self.close();
                }
            }
        }
    }
}

impl Machine for Client {
    type Event = ClientEvent;

    fn connected(&mut self, now: Duration) {
        self.now = now;
        self.phase = Phase::Talking;
        // The learner reads the greeting and types at their own pace: no timers.
        if self.console.is_none() {
            self.wait_for(Expect::Greeting);
        }
    }

    fn handle_input(&mut self, bytes: &[u8], now: Duration) {
        self.now = now;
        if self.phase == Phase::Done {
            return;
        }
        self.replies.push(bytes);
        self.drain_replies();
    }

    fn handle_timeout(&mut self, now: Duration) {
        self.now = now;
        if self.deadline.is_some_and(|d| now >= d) {
            let waiting_for = self.expect.front().map_or("a reply", |e| e.name()).to_owned();
            self.event(ClientEvent::TimedOut { waiting_for: waiting_for.clone() });
            self.event(ClientEvent::Aborted { reason: format!("gave up waiting for {waiting_for}") });
            self.close();
        }
    }

    fn poll_timeout(&self) -> Option<Duration> {
        self.deadline
    }

    fn poll_output(&mut self) -> Option<Output<ClientEvent>> {
        self.out.pop_front()
    }

    fn tls_started(&mut self, info: &TlsInfo, now: Duration) {
        self.now = now;
        self.tls = Some(info.clone());
        if let Some(check) = info.cert_check.as_ref().filter(|c| !c.valid) {
            let error = check.error.clone().unwrap_or_default();
            self.event(ClientEvent::CertificateNotValidated { error });
        }
        if self.phase != Phase::TlsHandshake {
            return; // implicit TLS: the greeting comes next
        }
        self.phase = Phase::Talking;
        if self.console.is_some() {
            return; // the learner types the next EHLO
        }
        if self.config.reuse_pre_tls_capabilities {
            self.event(ClientEvent::ReusedPreTlsCapabilities);
            self.authenticate();
        } else {
            self.caps = Capabilities::default();
            self.ehlo();
        }
        self.drain_replies();
    }

    fn tls_failed(&mut self, error: &str, now: Duration) {
        self.now = now;
        let _ = error; // reported by the session layer as `TlsFailed`
        self.event(ClientEvent::Aborted { reason: "the TLS handshake failed, so the connection cannot be used".into() });
        self.close();
    }

    fn peer_closed(&mut self, now: Duration) {
        self.now = now;
        if self.phase != Phase::Done && self.console.is_some() {
            self.event(ClientEvent::Aborted { reason: "the server closed the connection".into() });
        } else if self.phase != Phase::Done && !self.quitting {
            let waiting = self.expect.front().map_or("nothing", |e| e.name());
            self.event(ClientEvent::Aborted { reason: format!("server closed the connection while the client waited for {waiting}") });
        }
        self.close();
    }

    fn take_buffered_input(&mut self) -> Vec<u8> {
        self.replies.take_buffered()
    }

    fn state_name(&self) -> String {
        let mut s = match (self.phase, self.expect.front()) {
            (Phase::Connecting, _) => "connecting".to_owned(),
            (Phase::TlsHandshake, _) => "TLS handshake".to_owned(),
            (Phase::Done, _) => "closed".to_owned(),
            (Phase::Talking, Some(e)) => format!("waiting for {}", e.name().trim_start_matches("the ")),
            (Phase::Talking, None) => "idle".to_owned(),
        };
        if self.under_tls() && self.phase != Phase::Done {
            s.push_str(" · TLS");
        }
        s
    }

    fn is_closed(&self) -> bool {
        self.phase == Phase::Done
    }
}
