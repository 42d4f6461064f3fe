//! The console: an SMTP client whose lines a person types. The machine sends
//! each line as typed and reads the replies; it does by itself only what a
//! client must (the TLS handshake after 220 to STARTTLS, closing after the
//! reply to QUIT) and reports what happened, as the automatic client does.
//! It waits for its typist, so it sets no timers.

use std::collections::VecDeque;
use std::time::Duration;

use crate::proto::machine::{Machine, Output};
use crate::proto::smtp::client::{AbortReason, ClientConfig, ClientEvent, ClientPhase, ClientStage, ClientState, ReplyProblem};
use crate::proto::smtp::codec::{Capabilities, Command, Reply, ReplyReader};
use crate::proto::tls_info::{TlsError, TlsInfo};

/// The longest line the console sends: longer than SMTP allows (1000 octets
/// with CRLF, RFC 5321 §4.5.3.1.6), so the learner can see a server refuse
/// one, yet bounded.
pub(crate) const CONSOLE_MAX_LINE: usize = 4096;

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

/// The console machine. See [`Machine`] for how to drive it, and
/// [`Console::type_line`] for the learner's part.
#[derive(Debug)]
pub struct Console {
    /// The client it stands in for: its name for TLS and whether it enforces the certificate check.
    config: ClientConfig,
    phase: ClientStage,
    replies: ReplyReader,
    out: VecDeque<Output<ClientEvent>>,
    tls: Option<TlsInfo>,
    waiting: VecDeque<Typed>,
    /// Between 354 and the lone "." line: lines are message text.
    in_body: bool,
    /// After 334: the next line answers the AUTH challenge.
    in_auth: bool,
    body: Vec<u8>,
}

impl Console {
    pub fn new(config: ClientConfig) -> Self {
        Console {
            config,
            phase: ClientStage::Connecting,
            replies: ReplyReader::default(),
            out: VecDeque::new(),
            tls: None,
            waiting: VecDeque::new(),
            in_body: false,
            in_auth: false,
            body: Vec::new(),
        }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Whether the next line is message text (after 354).
    pub fn in_body(&self) -> bool {
        self.in_body
    }

    /// The message text typed so far, as typed (the last one, once sent).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    fn under_tls(&self) -> bool {
        self.tls.is_some()
    }

    fn event(&mut self, e: ClientEvent) {
        self.out.push_back(Output::Event(e));
    }

    /// Sends one line the learner typed (without CRLF), as typed.
    pub fn type_line(&mut self, line: &[u8], _now: Duration) -> Result<(), ConsoleError> {
        match self.phase {
            ClientStage::Done => return Err(ConsoleError::Closed),
            ClientStage::TlsHandshake => return Err(ConsoleError::Handshaking),
            ClientStage::Connecting | ClientStage::Talking => {}
        }
        if line.len() > CONSOLE_MAX_LINE {
            return Err(ConsoleError::TooLong);
        }
        if line.iter().any(|&b| b == b'\r' || b == b'\n') {
            return Err(ConsoleError::LineBreak);
        }
        let under_tls = self.under_tls();
        let mut wire = line.to_vec();
        wire.extend_from_slice(b"\r\n");
        let event = if self.in_body {
            if line == b"." {
                self.in_body = false;
                self.waiting.push_back(Typed::Body);
                Some(ClientEvent::MessageSent { bytes: self.body.len() })
            } else {
                self.body.extend_from_slice(&wire);
                None
            }
        } else if self.in_auth {
            self.in_auth = false;
            self.waiting.push_back(Typed::Auth);
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
                    self.waiting.push_back(typed);
                    Some(ClientEvent::CommandSent { command, under_tls })
                }
                Err(_) => {
                    self.waiting.push_back(Typed::Other);
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
    fn on_reply(&mut self, reply: Reply) {
        self.event(ClientEvent::ReplyReceived { reply: reply.clone(), under_tls: self.under_tls() });
        let code = reply.code;
        // The greeting answers nothing typed.
        match self.waiting.pop_front() {
            Some(Typed::StartTls) if code == 220 => {
                self.phase = ClientStage::TlsHandshake;
                self.out.push_back(Output::StartTls);
            }
            Some(Typed::Auth) if code == 334 => self.in_auth = true,
            Some(Typed::Auth) if code == 235 => self.event(ClientEvent::AuthSucceeded),
            Some(Typed::Auth) => self.event(ClientEvent::AuthFailed { reply }),
            Some(Typed::Data) if code == 354 => {
                self.in_body = true;
                self.body.clear();
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

    fn close(&mut self) {
        if self.phase != ClientStage::Done {
            self.phase = ClientStage::Done;
            self.replies.take_buffered(); // nothing more will be read
            self.event(ClientEvent::Closed);
            self.out.push_back(Output::Close);
        }
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

impl Machine for Console {
    type Event = ClientEvent;
    type State = ClientState;

    fn connected(&mut self, _now: Duration) {
        // The learner reads the greeting and types at their own pace: no timers.
        self.phase = ClientStage::Talking;
    }

    fn handle_input(&mut self, bytes: &[u8], _now: Duration) {
        if self.phase == ClientStage::Done {
            return;
        }
        self.replies.push(bytes);
        self.drain_replies();
    }

    fn handle_timeout(&mut self, _now: Duration) {}

    fn poll_timeout(&self) -> Option<Duration> {
        None
    }

    fn poll_output(&mut self) -> Option<Output<ClientEvent>> {
        self.out.pop_front()
    }

    fn tls_started(&mut self, info: &TlsInfo, _now: Duration) {
        self.tls = Some(info.clone());
        if let Some(failure) = info.cert_check.as_ref().and_then(|c| c.failure.clone()) {
            self.event(ClientEvent::CertificateNotValidated { failure });
        }
        if self.phase == ClientStage::TlsHandshake {
            // The learner types the next EHLO.
            self.phase = ClientStage::Talking;
        }
    }

    fn tls_failed(&mut self, _error: &TlsError, _now: Duration) {
        // The endpoint reports the error itself, as `TlsFailed`.
        self.event(ClientEvent::Aborted { reason: AbortReason::TlsFailed });
        self.close();
    }

    fn peer_closed(&mut self, _now: Duration) {
        if self.phase != ClientStage::Done {
            self.event(ClientEvent::Aborted { reason: AbortReason::ServerClosed });
        }
        self.close();
    }

    fn take_buffered_input(&mut self) -> Vec<u8> {
        self.replies.take_buffered()
    }

    fn state(&self) -> ClientState {
        let phase = match self.phase {
            ClientStage::Connecting => ClientPhase::Connecting,
            ClientStage::TlsHandshake => ClientPhase::TlsHandshake,
            ClientStage::Done => ClientPhase::Closed,
            ClientStage::Talking => ClientPhase::Idle,
        };
        ClientState { phase, under_tls: self.under_tls() }
    }

    fn is_closed(&self) -> bool {
        self.phase == ClientStage::Done
    }
}
