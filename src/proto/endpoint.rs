//! One end of a connection: an SMTP machine plus, when in use, a TLS stream.
//!
//! This layer owns the protocol switch. When the machine asks for TLS, the
//! bytes it had buffered but not read are taken away from it: a correct
//! endpoint discards them (RFC 3207 §4.2; the CVE-2011-0411 fix), a vulnerable
//! one carries them into the TLS session. Either way the trace says so.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::bytes::Bytes;
use crate::proto::machine::{Machine, Output};
use crate::proto::tls::entropy::Entropy;
use crate::proto::tls::{ClientTls, ServerIdentity, SimClock, TlsStream, TlsVersions};
use crate::proto::tls_info::{TlsError, TlsErrorKind, TlsInfo};

/// An event from the endpoint (its TLS), or from the machine inside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SessionEvent<E> {
    TlsHandshakeStarted {
        implicit: bool,
    },
    TlsEstablished {
        info: TlsInfo,
    },
    TlsFailed {
        error: TlsError,
    },
    /// Bytes that arrived before the TLS upgrade and were thrown away.
    DiscardedAtUpgrade {
        bytes: Bytes,
    },
    /// Bytes that arrived before the TLS upgrade and will be read as if they came through TLS.
    KeptAcrossUpgrade {
        bytes: Bytes,
    },
    /// What the machine inside reported (SMTP's events, or HTTP's for a policy fetch).
    #[serde(untagged)]
    Machine(E),
}

/// Which side of TLS this endpoint plays, and with what.
#[derive(Debug, Clone)]
pub enum TlsSide {
    Client(ClientTls),
    Server { identity: Arc<ServerIdentity>, versions: TlsVersions },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionOptions {
    /// TLS from the first byte (port 465).
    pub implicit_tls: bool,
    /// Read bytes buffered before STARTTLS as if they came through TLS (the bug).
    pub keep_buffer_across_tls: bool,
    pub handshake_timeout: Duration,
    /// Unix time at which the session starts, for certificate checks.
    pub epoch_unix: u64,
    /// Where this endpoint's TLS draws its random numbers.
    pub entropy: Entropy,
}

impl SessionOptions {
    /// A session starting at `epoch_unix` (seconds since 1970, for certificate
    /// checks) whose TLS draws from `entropy`: STARTTLS unless told otherwise,
    /// the buffer discarded at the upgrade (RFC 3207 §4.2), and five minutes
    /// for a handshake.
    pub fn new(epoch_unix: u64, entropy: Entropy) -> SessionOptions {
        SessionOptions {
            implicit_tls: false,
            keep_buffer_across_tls: false,
            handshake_timeout: Duration::from_secs(300),
            epoch_unix,
            entropy,
        }
    }
}

/// Bytes for the wire, with what the sender meant by them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub bytes: Vec<u8>,
    /// The SMTP text inside (equal to `bytes` when not encrypted).
    pub plaintext: Vec<u8>,
    pub tls: bool,
    /// TCP FIN: nothing more will come from this side.
    pub fin: bool,
}

enum Transport {
    Off,
    On(Box<TlsStream>),
}

/// A machine and its transport. Feed it wire bytes, poll wire bytes out.
pub struct Endpoint<M: Machine> {
    machine: M,
    side: TlsSide,
    clock: SimClock,
    options: SessionOptions,
    tls: Transport,
    started: bool,
    handshake_deadline: Option<Duration>,
    carry: Option<Vec<u8>>,
    wire_out: Vec<u8>,
    /// SMTP bytes written since the last flush (for the trace).
    plain_out: Vec<u8>,
    /// SMTP bytes to encrypt at the next flush: one write, as a real client makes.
    to_encrypt: Vec<u8>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<SessionEvent<M::Event>>,
    fin_sent: bool,
    /// TLS connections started so far (each draws from its own stream).
    tls_connections: u64,
}

impl<M: Machine> Endpoint<M> {
    pub fn new(machine: M, side: TlsSide, options: SessionOptions) -> Self {
        let clock = SimClock::new(options.epoch_unix);
        Endpoint {
            machine,
            side,
            clock,
            options,
            tls: Transport::Off,
            started: false,
            handshake_deadline: None,
            carry: None,
            wire_out: Vec::new(),
            plain_out: Vec::new(),
            to_encrypt: Vec::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            fin_sent: false,
            tls_connections: 0,
        }
    }

    pub fn machine(&self) -> &M {
        &self.machine
    }

    /// Acts on the machine (as a learner typing at it does), then moves its
    /// output onto the wire.
    pub fn act<R>(&mut self, now: Duration, f: impl FnOnce(&mut M, Duration) -> R) -> R {
        self.tick(now);
        let r = f(&mut self.machine, now);
        self.pump(now);
        r
    }

    /// The TCP connection is up.
    pub fn open(&mut self, now: Duration) {
        self.tick(now);
        if self.options.implicit_tls {
            self.start_tls(now);
        } else {
            self.started = true;
            self.machine.connected(now);
        }
        self.pump(now);
    }

    /// Bytes from the peer. Returns the plaintext they carried, if any.
    pub fn handle_wire(&mut self, bytes: &[u8], now: Duration) -> Vec<u8> {
        self.tick(now);
        if self.fin_sent {
            return Vec::new();
        }
        let plain = match &mut self.tls {
            Transport::Off => {
                self.machine.handle_input(bytes, now);
                bytes.to_vec()
            }
            Transport::On(stream) => {
                let was_handshaking = stream.is_handshaking();
                match stream.receive(bytes) {
                    Ok(plain) => {
                        if was_handshaking && !stream.is_handshaking() {
                            self.established(now);
                        }
                        if !plain.is_empty() {
                            self.machine.handle_input(&plain, now);
                        }
                        plain
                    }
                    Err(e) => {
                        let error = explain(e, bytes);
                        self.machine.tls_failed(&error, now);
                        self.events.push_back(SessionEvent::TlsFailed { error });
                        Vec::new()
                    }
                }
            }
        };
        self.pump(now);
        plain
    }

    /// The peer closed its side.
    pub fn handle_fin(&mut self, now: Duration) {
        self.tick(now);
        self.machine.peer_closed(now);
        self.pump(now);
    }

    pub fn handle_timeout(&mut self, now: Duration) {
        self.tick(now);
        if self.handshake_deadline.is_some_and(|d| now >= d) {
            self.handshake_deadline = None;
            let error = TlsError::new(TlsErrorKind::Timeout, "TLS handshake timed out");
            self.machine.tls_failed(&error, now);
            self.events.push_back(SessionEvent::TlsFailed { error });
        } else {
            self.machine.handle_timeout(now);
        }
        self.pump(now);
    }

    pub fn poll_timeout(&self) -> Option<Duration> {
        if self.fin_sent {
            return None;
        }
        match (self.machine.poll_timeout(), self.handshake_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<SessionEvent<M::Event>> {
        self.events.pop_front()
    }

    pub fn is_closed(&self) -> bool {
        self.fin_sent
    }

    /// TLS secrets (NSS key log lines) logged since the last call.
    pub fn take_key_log(&self) -> Vec<String> {
        match &self.tls {
            Transport::On(stream) => stream.take_key_log(),
            Transport::Off => vec![],
        }
    }

    pub fn state(&self) -> M::State {
        self.machine.state()
    }

    fn tick(&self, now: Duration) {
        self.clock.set(self.options.epoch_unix + now.as_secs());
    }

    fn start_tls(&mut self, now: Duration) {
        let entropy = self.options.entropy.nth(self.tls_connections);
        self.tls_connections += 1;
        let stream = match &self.side {
            TlsSide::Client(settings) => TlsStream::client(settings, &self.clock, entropy),
            TlsSide::Server { identity, versions } => TlsStream::server(identity, *versions, &self.clock, entropy),
        };
        match stream {
            Ok(s) => {
                self.tls = Transport::On(Box::new(s));
                self.handshake_deadline = Some(now + self.options.handshake_timeout);
                self.events.push_back(SessionEvent::TlsHandshakeStarted { implicit: !self.started });
            }
            Err(error) => {
                self.machine.tls_failed(&error, now);
                self.events.push_back(SessionEvent::TlsFailed { error });
            }
        }
    }

    fn established(&mut self, now: Duration) {
        let Transport::On(stream) = &self.tls else { return };
        let Some(info) = stream.info() else { return };
        self.handshake_deadline = None;
        self.events.push_back(SessionEvent::TlsEstablished { info: info.clone() });
        self.machine.tls_started(&info, now);
        if !self.started {
            self.started = true;
            self.machine.connected(now);
        }
        if let Some(carry) = self.carry.take() {
            self.machine.handle_input(&carry, now);
        }
    }

    /// Moves the machine's output onto the wire.
    fn pump(&mut self, now: Duration) {
        while let Some(out) = self.machine.poll_output() {
            match out {
                Output::Send(bytes) => {
                    if matches!(self.tls, Transport::On(_)) {
                        self.to_encrypt.extend_from_slice(&bytes);
                    } else {
                        self.wire_out.extend_from_slice(&bytes);
                    }
                    self.plain_out.extend_from_slice(&bytes);
                }
                Output::Event(e) => self.events.push_back(SessionEvent::Machine(e)),
                Output::StartTls => {
                    self.flush();
                    let leftover = self.machine.take_buffered_input();
                    if !leftover.is_empty() {
                        if self.options.keep_buffer_across_tls {
                            self.events.push_back(SessionEvent::KeptAcrossUpgrade { bytes: Bytes(leftover.clone()) });
                            self.carry = Some(leftover);
                        } else {
                            self.events.push_back(SessionEvent::DiscardedAtUpgrade { bytes: Bytes(leftover) });
                        }
                    }
                    self.start_tls(now);
                }
                Output::Close => {
                    self.encrypt_pending();
                    match &mut self.tls {
                        Transport::On(stream) if !stream.is_handshaking() => stream.close(),
                        _ => {}
                    }
                    self.flush();
                    if !self.fin_sent {
                        self.fin_sent = true;
                        self.handshake_deadline = None;
                        self.transmits.push_back(Transmit { bytes: vec![], plaintext: vec![], tls: false, fin: true });
                    }
                    return;
                }
            }
        }
        self.flush();
    }

    /// Hands the SMTP bytes written so far to TLS, in one write.
    fn encrypt_pending(&mut self) {
        if let Transport::On(stream) = &mut self.tls {
            if !self.to_encrypt.is_empty() {
                // After a TLS failure (already reported to the machine and in the
                // events) nothing more can be encrypted; what is left has nowhere to go.
                let _ = stream.send(&std::mem::take(&mut self.to_encrypt));
            }
        }
    }

    fn flush(&mut self) {
        let tls = matches!(self.tls, Transport::On(_));
        self.encrypt_pending();
        if let Transport::On(stream) = &mut self.tls {
            let records = stream.take_outgoing();
            self.wire_out.extend_from_slice(&records);
        }
        if self.fin_sent || (self.wire_out.is_empty() && self.plain_out.is_empty()) {
            return;
        }
        if self.wire_out.is_empty() {
            return; // plaintext waiting for the handshake to finish
        }
        self.transmits.push_back(Transmit {
            bytes: std::mem::take(&mut self.wire_out),
            plaintext: std::mem::take(&mut self.plain_out),
            tls,
            fin: false,
        });
    }
}

/// Adds the likely cause to a TLS error when the peer spoke cleartext SMTP.
fn explain(e: TlsError, received: &[u8]) -> TlsError {
    let looks_like_smtp =
        received.len() >= 4 && received[..3].iter().all(u8::is_ascii_digit) || received.iter().take(4).all(u8::is_ascii_alphabetic);
    if !looks_like_smtp {
        return e;
    }
    let line: String = String::from_utf8_lossy(received).lines().next().unwrap_or("").chars().take(60).collect();
    TlsError {
        check: e.check,
        version: e.version,
        kind: TlsErrorKind::NotTls,
        message: format!(
            "{}: the peer sent cleartext SMTP ({line:?}) where a TLS record was expected; it speaks plain SMTP/STARTTLS on this port, not implicit TLS",
            e.message
        ),
    }
}
