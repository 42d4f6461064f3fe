//! The SMTP client machine: a mail client (or a sending MTA) with a TLS policy.
//!
//! Every command it sends pushes what it expects back onto a queue, and every
//! reply pops one, so pipelined commands (RFC 2920) are matched to their
//! replies in order. Security-relevant choices are reported as warnings at the
//! moment the client makes them.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::proto::machine::{Machine, Output};
use crate::proto::smtp::codec::{dot_stuff, sasl, Capabilities, Command, Mechanism, Param, Reply, ReplyError, ReplyReader, Secret};
use crate::proto::tls_info::{CertFailure, TlsError, TlsInfo};
use crate::vocab::as_text;
use crate::vocab::named;

named! {
    /// How the client uses TLS.
    pub enum TlsPolicy ("client policy") {
        Plain = "plain",
        Opportunistic = "opportunistic",
        /// QUIT unless the upgrade succeeds (RFC 8314 §5 asks this of mail clients).
        RequireStartTls = "require-starttls",
        Implicit = "implicit",
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
    /// A client for `server_name` with `policy` that has nothing to send yet
    /// ([`ClientConfig::sending`]): no credentials, the certificate check
    /// enforced, pipelining when offered, the reply timeouts of RFC 5321
    /// §4.5.3.2, and `localhost` as its EHLO name.
    pub fn new(policy: TlsPolicy, server_name: impl Into<String>) -> Self {
        ClientConfig {
            policy,
            validate_certificate: true,
            server_name: server_name.into(),
            ehlo_name: "localhost".into(),
            credentials: None,
            from: String::new(),
            to: Vec::new(),
            message: Vec::new(),
            stuff_dots: true,
            pipelining: true,
            reuse_pre_tls_capabilities: false,
            require_tls: false,
            reply_timeout: Duration::from_secs(300),
        }
    }

    /// The same client, sending `message` (headers and body, CRLF line ends) from `from` to `to`.
    pub fn sending(self, from: &str, to: &[&str], message: &[u8]) -> Self {
        ClientConfig { from: from.to_owned(), to: to.iter().map(|t| (*t).to_owned()).collect(), message: message.to_vec(), ..self }
    }
}

/// Why the client chose to carry on without TLS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NoTlsReason {
    NotOffered,
    Refused { reply: Reply },
}

/// What the client did, for traces and lessons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientEvent {
    ReplyReceived {
        reply: Reply,
        under_tls: bool,
    },
    BadReply {
        #[serde(serialize_with = "as_text")]
        error: ReplyProblem,
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
        #[serde(rename = "error", serialize_with = "as_text")]
        failure: CertFailure,
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
        #[serde(serialize_with = "as_text")]
        reason: AbortReason,
    },
    TimedOut {
        #[serde(serialize_with = "as_text")]
        waiting_for: Awaited,
    },
    Closed,
    /// A line the learner typed at the console that is not a command the
    /// client can read; it is sent as typed, for the server to judge.
    LineSent {
        text: String,
        under_tls: bool,
    },
}

/// Why a reply could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyProblem {
    /// A reply came when the client had asked nothing.
    #[error("unexpected reply {code}")]
    Unexpected { code: u16 },
    #[error(transparent)]
    Malformed(#[from] ReplyError),
}

/// Which reply the client waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaited {
    Greeting,
    Ehlo,
    Helo,
    StartTls,
    Auth,
    Mail,
    Rcpt,
    Data,
    EndOfData,
    Quit,
    /// A reply it cannot name (nothing was asked).
    Any,
}

impl Awaited {
    /// As a thing: `EHLO reply`.
    fn thing(self) -> &'static str {
        match self {
            Awaited::Greeting => "greeting",
            Awaited::Ehlo => "EHLO reply",
            Awaited::Helo => "HELO reply",
            Awaited::StartTls => "STARTTLS reply",
            Awaited::Auth => "AUTH reply",
            Awaited::Mail => "MAIL reply",
            Awaited::Rcpt => "RCPT reply",
            Awaited::Data => "DATA reply",
            Awaited::EndOfData => "end-of-data reply",
            Awaited::Quit => "QUIT reply",
            Awaited::Any => "reply",
        }
    }
}

impl fmt::Display for Awaited {
    /// `the EHLO reply`; `a reply` when it cannot name one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Awaited::Any => f.write_str("a reply"),
            a => write!(f, "the {}", a.thing()),
        }
    }
}

/// Why the client gave up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AbortReason {
    #[error("server refused the connection: {0}")]
    GreetingRefused(Reply),
    #[error("HELO refused: {0}")]
    HeloRefused(Reply),
    #[error("STARTTLS refused ({code}) and this client requires TLS")]
    StartTlsRefused { code: u16 },
    #[error("server did not offer STARTTLS and this client requires TLS")]
    StartTlsNotOffered,
    #[error("server did not offer STARTTLS, and the message requires TLS (REQUIRETLS): it goes back to its sender")]
    StartTlsNotOfferedForRequireTls,
    #[error("the server does not offer AUTH {}", .0.name())]
    AuthNotOffered(Mechanism),
    #[error("authentication failed: {0}")]
    AuthFailed(Reply),
    #[error("the message requires TLS (REQUIRETLS) and this connection has none: it goes back to its sender")]
    RequireTlsWithoutTls,
    #[error("the message requires TLS (REQUIRETLS) and this server does not offer REQUIRETLS: it goes back to its sender")]
    RequireTlsNotOffered,
    #[error("MAIL FROM refused: {0}")]
    SenderRefused(Reply),
    #[error("every recipient was refused")]
    NoRecipient,
    #[error("DATA refused: {0}")]
    DataRefused(Reply),
    #[error("the transaction failed")]
    TransactionFailed,
    #[error("message refused: {0}")]
    MessageRefused(Reply),
    #[error("the server sent something that is not an SMTP reply ({0})")]
    NotSmtp(ReplyError),
    #[error("gave up waiting for {0}")]
    GaveUpWaiting(Awaited),
    #[error("the TLS handshake failed, so the connection cannot be used")]
    TlsFailed,
    #[error("the server closed the connection")]
    ServerClosed,
    #[error("server closed the connection while the client waited for {}", .0.map_or("nothing".to_owned(), |a| a.to_string()))]
    ServerClosedWhileWaiting(Option<Awaited>),
}

/// Where a client machine is, for traces (its text is how every view shows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientState {
    pub phase: ClientPhase,
    /// TLS is up (and the connection not closed).
    pub under_tls: bool,
}

/// What the client is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientPhase {
    Connecting,
    Waiting(Awaited),
    /// Talking, with nothing asked (the console, between lines).
    Idle,
    TlsHandshake,
    Closed,
}

impl fmt::Display for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.phase {
            ClientPhase::Connecting => f.write_str("connecting")?,
            ClientPhase::Waiting(a) => write!(f, "waiting for {}", a.thing())?,
            ClientPhase::Idle => f.write_str("idle")?,
            ClientPhase::TlsHandshake => f.write_str("TLS handshake")?,
            ClientPhase::Closed => return f.write_str("closed"),
        }
        if self.under_tls {
            f.write_str(" · TLS")?;
        }
        Ok(())
    }
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
    fn awaited(self) -> Awaited {
        match self {
            Expect::Greeting => Awaited::Greeting,
            Expect::Ehlo => Awaited::Ehlo,
            Expect::Helo => Awaited::Helo,
            Expect::StartTls => Awaited::StartTls,
            Expect::AuthChallenge | Expect::AuthLoginPassword | Expect::AuthDone => Awaited::Auth,
            Expect::Mail => Awaited::Mail,
            Expect::Rcpt(_) => Awaited::Rcpt,
            Expect::Data => Awaited::Data,
            Expect::Body => Awaited::EndOfData,
            Expect::Quit => Awaited::Quit,
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

/// Where a client machine (automatic or console) is in its connection; its
/// [`ClientPhase`] adds what it waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientStage {
    Connecting,
    Talking,
    TlsHandshake,
    Done,
}

/// The client machine. See [`Machine`] for how to drive it.
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    phase: ClientStage,
    replies: ReplyReader,
    out: VecDeque<Output<ClientEvent>>,
    expect: VecDeque<Expect>,
    deadline: Option<Duration>,
    now: Duration,
    tls: Option<TlsInfo>,
    caps: Capabilities,
    rcpt_ok: usize,
    tx_failed: bool,
    /// The refusal of MAIL in a pipelined transaction: what the client reports
    /// when it gives up, rather than the 503s that follow from it.
    sender_refusal: Option<Reply>,
    quitting: bool,
}

impl Client {
    pub fn new(config: ClientConfig) -> Self {
        Client {
            config,
            phase: ClientStage::Connecting,
            replies: ReplyReader::default(),
            out: VecDeque::new(),
            expect: VecDeque::new(),
            deadline: None,
            now: Duration::ZERO,
            tls: None,
            caps: Capabilities::default(),
            rcpt_ok: 0,
            tx_failed: false,
            sender_refusal: None,
            quitting: false,
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
    fn abort(&mut self, reason: AbortReason) {
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
        if self.phase != ClientStage::Done {
            self.phase = ClientStage::Done;
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
        self.event(ClientEvent::ReplyReceived { reply: reply.clone(), under_tls: self.under_tls() });
        let Some(expect) = self.expect.pop_front() else {
            self.event(ClientEvent::BadReply { error: ReplyProblem::Unexpected { code: reply.code } });
            return;
        };
        self.deadline = self.expect.front().map(|e| self.now + e.timeout(self.config.reply_timeout));
        let code = reply.code;
        match expect {
            Expect::Greeting if code == 220 => self.ehlo(),
            Expect::Greeting => self.abort(AbortReason::GreetingRefused(reply)),
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
            Expect::Helo => self.abort(AbortReason::HeloRefused(reply)),
            Expect::StartTls if code == 220 => {
                self.phase = ClientStage::TlsHandshake;
                self.deadline = None;
                self.out.push_back(Output::StartTls);
            }
            Expect::StartTls => match self.config.policy {
                TlsPolicy::Opportunistic => {
                    self.event(ClientEvent::ContinuedWithoutTls(NoTlsReason::Refused { reply }));
                    self.authenticate();
                }
                _ => self.abort(AbortReason::StartTlsRefused { code }),
            },
            Expect::AuthChallenge | Expect::AuthLoginPassword if code == 334 => self.auth_continue(expect),
            Expect::AuthDone if code == 235 => {
                self.event(ClientEvent::AuthSucceeded);
                self.start_transaction();
            }
            Expect::AuthChallenge | Expect::AuthLoginPassword | Expect::AuthDone => {
                self.event(ClientEvent::AuthFailed { reply: reply.clone() });
                self.abort(AbortReason::AuthFailed(reply));
            }
            Expect::Mail => {
                if code != 250 {
                    self.tx_failed = true;
                    self.event(ClientEvent::MessageRejected { reply: reply.clone() });
                    if !self.pipelined() {
                        self.abort(AbortReason::SenderRefused(reply));
                    } else {
                        self.sender_refusal = Some(reply);
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
                        self.abort(AbortReason::NoRecipient);
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
                match self.sender_refusal.take() {
                    Some(first) => self.abort(AbortReason::SenderRefused(first)),
                    None => self.abort(AbortReason::DataRefused(reply)),
                }
            }
            Expect::Body => {
                if self.tx_failed {
                    self.abort(AbortReason::TransactionFailed);
                } else if code == 250 {
                    self.event(ClientEvent::MessageAccepted { reply });
                    self.quit();
                } else {
                    self.event(ClientEvent::MessageRejected { reply: reply.clone() });
                    self.abort(AbortReason::MessageRefused(reply));
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
            _ if self.config.require_tls => self.abort(AbortReason::StartTlsNotOfferedForRequireTls),
            TlsPolicy::Opportunistic => {
                self.event(ClientEvent::ContinuedWithoutTls(NoTlsReason::NotOffered));
                self.authenticate();
            }
            _ => self.abort(AbortReason::StartTlsNotOffered),
        }
    }

    fn authenticate(&mut self) {
        let Some(creds) = self.config.credentials.clone() else {
            return self.start_transaction();
        };
        // Like smtplib or Thunderbird: no AUTH unless the server offers the mechanism.
        if !self.caps.auth_mechanisms().iter().any(|m| m == creds.mechanism.name()) {
            self.event(ClientEvent::AuthNotAdvertised);
            return self.abort(AbortReason::AuthNotOffered(creds.mechanism));
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
            let offered = self
                .caps
                .extensions
                .iter()
                .any(|e| matches!(e, crate::proto::smtp::codec::Extension::Other { name, .. } if name == "REQUIRETLS"));
            if !self.under_tls() {
                return self.abort(AbortReason::RequireTlsWithoutTls);
            }
            if !offered {
                return self.abort(AbortReason::RequireTlsNotOffered);
            }
            params.push(Param::new("REQUIRETLS", None));
        }
        if self.caps.size_limit().is_some() {
            params.push(Param::new("SIZE", Some(&self.config.message.len().to_string())));
        }
        if self.config.message.iter().any(|b| *b >= 0x80) && self.caps.has(&crate::proto::smtp::codec::Extension::EightBitMime) {
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
        while self.phase == ClientStage::Talking {
            match self.replies.next_reply() {
                None => return,
                Some(Ok(reply)) => self.on_reply(reply),
                Some(Err(e)) => {
                    self.event(ClientEvent::BadReply { error: ReplyProblem::Malformed(e.clone()) });
                    self.event(ClientEvent::Aborted { reason: AbortReason::NotSmtp(e) });
                    self.close();
                }
            }
        }
    }
}

impl Machine for Client {
    type Event = ClientEvent;
    type State = ClientState;

    fn connected(&mut self, now: Duration) {
        self.now = now;
        self.phase = ClientStage::Talking;
        self.wait_for(Expect::Greeting);
    }

    fn handle_input(&mut self, bytes: &[u8], now: Duration) {
        self.now = now;
        if self.phase == ClientStage::Done {
            return;
        }
        self.replies.push(bytes);
        self.drain_replies();
    }

    fn handle_timeout(&mut self, now: Duration) {
        self.now = now;
        if self.deadline.is_some_and(|d| now >= d) {
            let waiting_for = self.expect.front().map_or(Awaited::Any, |e| e.awaited());
            self.event(ClientEvent::TimedOut { waiting_for });
            self.event(ClientEvent::Aborted { reason: AbortReason::GaveUpWaiting(waiting_for) });
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
        if let Some(failure) = info.cert_check.as_ref().and_then(|c| c.failure.clone()) {
            self.event(ClientEvent::CertificateNotValidated { failure });
        }
        if self.phase != ClientStage::TlsHandshake {
            return; // implicit TLS: the greeting comes next
        }
        self.phase = ClientStage::Talking;
        if self.config.reuse_pre_tls_capabilities {
            self.event(ClientEvent::ReusedPreTlsCapabilities);
            self.authenticate();
        } else {
            self.caps = Capabilities::default();
            self.ehlo();
        }
        self.drain_replies();
    }

    fn tls_failed(&mut self, _error: &TlsError, now: Duration) {
        // The endpoint reports the error itself, as `TlsFailed`.
        self.now = now;
        self.event(ClientEvent::Aborted { reason: AbortReason::TlsFailed });
        self.close();
    }

    fn peer_closed(&mut self, now: Duration) {
        self.now = now;
        if self.phase != ClientStage::Done && !self.quitting {
            let waiting = self.expect.front().map(|e| e.awaited());
            self.event(ClientEvent::Aborted { reason: AbortReason::ServerClosedWhileWaiting(waiting) });
        }
        self.close();
    }

    fn take_buffered_input(&mut self) -> Vec<u8> {
        self.replies.take_buffered()
    }

    fn state(&self) -> ClientState {
        let phase = match (self.phase, self.expect.front()) {
            (ClientStage::Connecting, _) => ClientPhase::Connecting,
            (ClientStage::TlsHandshake, _) => ClientPhase::TlsHandshake,
            (ClientStage::Done, _) => ClientPhase::Closed,
            (ClientStage::Talking, Some(e)) => ClientPhase::Waiting(e.awaited()),
            (ClientStage::Talking, None) => ClientPhase::Idle,
        };
        ClientState { phase, under_tls: self.under_tls() }
    }

    fn is_closed(&self) -> bool {
        self.phase == ClientStage::Done
    }
}
