//! The in-memory wire: runs a client and a server against each other one
//! delivery at a time and records the [`Trace`].
//!
//! Ordering is deterministic: segments arrive in the order they were sent,
//! each after a fixed latency; when nothing is in flight the clock jumps to
//! the next timer. Between sender and receiver sits an optional
//! [`Middlebox`], which sees every segment and decides what arrives.

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::time::Duration;

use crate::bytes::Bytes;
use crate::proto::endpoint::{Endpoint, SessionEvent, Transmit};
use crate::proto::machine::Machine;
use crate::proto::smtp::client::{Client, ClientEvent, ClientState};
use crate::proto::smtp::console::{Console, ConsoleError};
use crate::proto::smtp::server::Server;
use crate::proto::tls::RecordInfo;
use crate::proto::tls_info::{TlsError, TlsInfo};
use crate::sim::trace::{Crossing, Direction, Event, Happened, PartyState, Step, StepKind, Trace};

/// A segment on its way across the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub direction: Direction,
    /// What will arrive.
    pub bytes: Vec<u8>,
    pub fin: bool,
    /// What the sender wrote; `None` for a segment the middlebox made up.
    pub sent: Option<Vec<u8>>,
    pub sender_plaintext: Option<Vec<u8>>,
    /// The sender wrote TLS records.
    pub tls: bool,
    /// Set to false to drop the segment (it is still recorded).
    pub deliver: bool,
    /// What the middlebox did to it, for the trace.
    pub note: Option<Meddling>,
    /// Plaintext a TLS-terminating middlebox read out of (or put into) this segment.
    pub attacker_view: Option<Vec<u8>>,
}

/// What a middlebox did to a segment: each a kind of its own, so that what
/// the page says of it, and the section it cites, follow from what was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meddling {
    /// The access network's firewall dropped a segment to port 25.
    PortBlocked,
    /// Mallory dropped the sender's connection to the MTA-STS policy host.
    PolicyHostBlocked,
    /// Mallory deleted STARTTLS from the EHLO reply (and offered AUTH).
    StartTlsStripped,
    /// Mallory kept the client's STARTTLS from the server.
    StartTlsKept,
    /// Mallory answered STARTTLS herself, refusing it (454, 502, or a bogus 250).
    StartTlsRefused,
    /// Mallory kept the client's EHLO from the server.
    EhloKept,
    /// Mallory answered EHLO with "command not recognized".
    EhloRefused,
    /// Mallory appended commands after STARTTLS in the same segment.
    CommandsInjected,
    /// Mallory appended a forged reply after 220 Ready to start TLS.
    ReplyInjected,
    /// Mallory added AUTH to the cleartext EHLO reply.
    AuthAdded,
    /// Mallory kept STARTTLS from the server and will do TLS herself.
    MitmTookStartTls,
    /// Mallory answered STARTTLS with 220, as the server would.
    MitmAnsweredStartTls,
    /// Mallory's TLS endpoint took this segment.
    MitmReceived,
    /// Mallory's side of the TLS handshake, with her certificate.
    MitmHandshake,
    /// Mallory decrypted what the client sent and relays it in cleartext.
    MitmRelayed,
    /// Mallory read the server's reply and re-encrypted it for the client.
    MitmReencrypted,
    /// Mallory's TLS with the client failed, so she relays nothing more.
    MitmFailed,
    /// Mallory dropped the segment by hand.
    DroppedByHand,
    /// Mallory edited the segment by hand.
    EditedByHand,
    /// Mallory flipped one bit of byte `n` by hand.
    BitFlipped(usize),
    /// Mallory put these bytes on the wire by hand.
    InjectedByHand,
}

impl Meddling {
    /// Who did it: the ISP's firewall is no attacker; everything else is Mallory.
    pub fn by(self) -> &'static str {
        match self {
            Meddling::PortBlocked => "the ISP's firewall",
            _ => "Mallory",
        }
    }
}

impl std::fmt::Display for Meddling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Meddling::PortBlocked => "the ISP's firewall drops traffic to port 25",
            Meddling::PolicyHostBlocked => "Mallory drops the sender's connection to the policy host",
            Meddling::StartTlsStripped => "Mallory deleted STARTTLS from the EHLO reply and advertised AUTH instead",
            Meddling::StartTlsKept => "Mallory kept the STARTTLS from the server",
            Meddling::StartTlsRefused => "Mallory answered STARTTLS herself",
            Meddling::EhloKept => "Mallory kept the EHLO from the server",
            Meddling::EhloRefused => "Mallory refused EHLO herself",
            Meddling::CommandsInjected => "Mallory appended commands after STARTTLS in the same segment",
            Meddling::ReplyInjected => "Mallory appended a forged reply after 220 Ready to start TLS",
            Meddling::AuthAdded => "Mallory added AUTH to the cleartext EHLO reply",
            Meddling::MitmTookStartTls => "Mallory kept the STARTTLS from the server and will do TLS herself",
            Meddling::MitmAnsweredStartTls => "Mallory answered STARTTLS",
            Meddling::MitmReceived => "Mallory's TLS endpoint took this segment",
            Meddling::MitmHandshake => "Mallory's TLS handshake, with her certificate",
            Meddling::MitmRelayed => "Mallory decrypted this and relays it in cleartext",
            Meddling::MitmReencrypted => "Mallory read the server's reply and re-encrypted it for the client",
            Meddling::MitmFailed => "Mallory's TLS with the client has failed, so she relays nothing more",
            Meddling::DroppedByHand => "Mallory dropped this segment by hand",
            Meddling::EditedByHand => "Mallory edited this segment by hand",
            Meddling::BitFlipped(n) => return write!(f, "Mallory flipped one bit of byte {n} by hand"),
            Meddling::InjectedByHand => "Mallory injected this by hand",
        })
    }
}

impl Segment {
    fn from_transmit(direction: Direction, t: Transmit) -> Segment {
        Segment {
            direction,
            sent: Some(t.bytes.clone()),
            sender_plaintext: (!t.plaintext.is_empty()).then_some(t.plaintext),
            bytes: t.bytes,
            fin: t.fin,
            tls: t.tls,
            deliver: true,
            note: None,
            attacker_view: None,
        }
    }

    /// A segment the middlebox makes up.
    pub fn injected(direction: Direction, bytes: Vec<u8>, note: Meddling) -> Segment {
        Segment {
            direction,
            tls: !RecordInfo::read(&bytes).is_empty(),
            bytes,
            fin: false,
            sent: None,
            sender_plaintext: None,
            deliver: true,
            note: Some(note),
            attacker_view: None,
        }
    }
}

/// Something sitting on the wire between client and server: a passive
/// observer, a firewall, or an attacker.
pub trait Middlebox {
    /// A segment has left its sender. Return what goes on towards the receivers
    /// (in either direction): the segment as it is, changed, marked as dropped,
    /// and any segments made up.
    fn on_segment(&mut self, segment: Segment, now: Duration) -> Vec<Segment>;
}

/// Who plays the SMTP client: the automatic client, or the console a learner types at.
#[derive(Debug)]
pub enum ClientMachine {
    Auto(Client),
    Console(Console),
}

impl ClientMachine {
    /// The console, when a learner types the lines.
    pub fn console(&self) -> Option<&Console> {
        match self {
            ClientMachine::Console(c) => Some(c),
            ClientMachine::Auto(_) => None,
        }
    }

    /// Sends a line typed at the console; `None` when the client is not the console.
    pub fn type_line(&mut self, line: &[u8], now: Duration) -> Option<Result<(), ConsoleError>> {
        match self {
            ClientMachine::Console(c) => Some(c.type_line(line, now)),
            ClientMachine::Auto(_) => None,
        }
    }
}

/// Every call goes to whichever machine plays.
macro_rules! both {
    ($self:ident, $m:ident => $e:expr) => {
        match $self {
            ClientMachine::Auto($m) => $e,
            ClientMachine::Console($m) => $e,
        }
    };
}

impl Machine for ClientMachine {
    type Event = ClientEvent;
    type State = ClientState;

    fn connected(&mut self, now: Duration) {
        both!(self, m => m.connected(now))
    }
    fn handle_input(&mut self, bytes: &[u8], now: Duration) {
        both!(self, m => m.handle_input(bytes, now))
    }
    fn handle_timeout(&mut self, now: Duration) {
        both!(self, m => m.handle_timeout(now))
    }
    fn poll_timeout(&self) -> Option<Duration> {
        both!(self, m => m.poll_timeout())
    }
    fn poll_output(&mut self) -> Option<crate::proto::machine::Output<ClientEvent>> {
        both!(self, m => m.poll_output())
    }
    fn tls_started(&mut self, info: &TlsInfo, now: Duration) {
        both!(self, m => m.tls_started(info, now))
    }
    fn tls_failed(&mut self, error: &TlsError, now: Duration) {
        both!(self, m => m.tls_failed(error, now))
    }
    fn peer_closed(&mut self, now: Duration) {
        both!(self, m => m.peer_closed(now))
    }
    fn take_buffered_input(&mut self) -> Vec<u8> {
        both!(self, m => m.take_buffered_input())
    }
    fn state(&self) -> ClientState {
        both!(self, m => m.state())
    }
    fn is_closed(&self) -> bool {
        both!(self, m => m.is_closed())
    }
}

/// The upper bound on steps in one session; a correct session needs far fewer.
pub const MAX_STEPS: usize = 10_000;

/// How one side's session events become trace events.
pub type Wrap<E> = fn(SessionEvent<E>) -> Event;

/// A client and a server connected by the wire: SMTP's by default, or any
/// other pair of machines (the HTTPS fetch of an MTA-STS policy).
pub struct Link<C: Machine = ClientMachine, S: Machine = Server> {
    client: Endpoint<C>,
    server: Endpoint<S>,
    /// How each side's events enter the trace.
    wrap: (Wrap<C::Event>, Wrap<S::Event>),
    middlebox: Option<Box<dyn Middlebox>>,
    server_name: String,
    server_port: u16,
    /// The client's and the server's addresses, for the trace.
    addresses: (Ipv4Addr, Ipv4Addr),
    latency: Duration,
    now: Duration,
    in_flight: VecDeque<(Duration, Segment)>,
    steps: Vec<Step>,
    pending_events: Vec<Event>,
    truncated: bool,
    key_log: Vec<String>,
    /// Whether each side (client, server) has sent its change_cipher_spec.
    after_ccs: [bool; 2],
    /// Hold every segment for a decision made by hand ([`Link::take_held`]).
    intercept: bool,
    held: VecDeque<Segment>,
}

impl<C: Machine<Event = ClientEvent>> Link<C, Server>
where
    C::State: Into<PartyState>,
{
    /// An SMTP client and server.
    pub fn new(client: Endpoint<C>, server: Endpoint<Server>, server_name: &str, server_port: u16) -> Self {
        Link::between(client, server, server_name, server_port, (Event::Client, Event::Server))
    }
}

impl<C: Machine, S: Machine> Link<C, S>
where
    C::State: Into<PartyState>,
    S::State: Into<PartyState>,
{
    /// Two endpoints of any protocol, with the trace events each side's become.
    pub fn between(
        client: Endpoint<C>,
        server: Endpoint<S>,
        server_name: &str,
        server_port: u16,
        wrap: (Wrap<C::Event>, Wrap<S::Event>),
    ) -> Self {
        Link {
            client,
            server,
            wrap,
            middlebox: None,
            server_name: server_name.to_owned(),
            addresses: (Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED),
            server_port,
            latency: Duration::from_millis(20),
            now: Duration::ZERO,
            in_flight: VecDeque::new(),
            steps: Vec::new(),
            pending_events: Vec::new(),
            truncated: false,
            key_log: Vec::new(),
            after_ccs: [false; 2],
            intercept: false,
            held: VecDeque::new(),
        }
    }

    /// Where the two hosts are, as the trace and its capture give them.
    pub fn with_addresses(mut self, client: Ipv4Addr, server: Ipv4Addr) -> Self {
        self.addresses = (client, server);
        self
    }

    pub fn with_middlebox(mut self, middlebox: Box<dyn Middlebox>) -> Self {
        self.middlebox = Some(middlebox);
        self
    }

    /// Holds every segment at the wire until it is released by hand
    /// ([`Link::take_held`], [`Link::release`]): the learner as Mallory.
    pub fn with_interception(mut self) -> Self {
        self.intercept = true;
        self
    }

    /// The oldest segment waiting for a decision.
    pub fn held(&self) -> Option<&Segment> {
        self.held.front()
    }

    pub fn take_held(&mut self) -> Option<Segment> {
        self.held.pop_front()
    }

    /// Puts decided segments on the wire (or records them as dropped), as a
    /// middlebox's answer would be.
    pub fn release(&mut self, segments: Vec<Segment>) {
        for seg in segments {
            if seg.deliver {
                self.in_flight.push_back((self.now + self.latency, seg));
            } else {
                self.record(StepKind::Dropped, Some(&seg), None);
            }
        }
    }

    /// The client machine, to act on it (the console types through this),
    /// then what it wants to send goes on the wire.
    pub fn client_act<R>(&mut self, f: impl FnOnce(&mut C, Duration) -> R) -> R {
        let r = self.client.act(self.now, f);
        self.collect();
        r
    }

    /// Whether a delivery is due: something is in flight, or the connection
    /// has not opened yet. (Timers are not deliveries: a lab waiting for the
    /// learner does not let the server's idle timer run out meanwhile.)
    pub fn has_delivery(&self) -> bool {
        self.steps.is_empty() || !self.in_flight.is_empty()
    }

    /// The trace so far.
    pub fn trace(&self) -> Trace {
        self.trace_of(self.steps.clone(), self.key_log.clone())
    }

    /// The trace's fields other than its steps and secrets.
    pub fn trace_head(&self) -> Trace {
        self.trace_of(Vec::new(), Vec::new())
    }

    /// TLS secrets logged so far (NSS key log lines).
    pub fn key_log(&self) -> &[String] {
        &self.key_log
    }

    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// The time on the wire's clock: when the last step happened.
    pub fn now(&self) -> Duration {
        self.now
    }

    /// One-way delay of every segment.
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    pub fn client(&self) -> &Endpoint<C> {
        &self.client
    }

    pub fn server(&self) -> &Endpoint<S> {
        &self.server
    }

    /// Segments sent but not yet delivered, oldest first. Tests may edit them.
    pub fn in_flight_mut(&mut self) -> &mut VecDeque<(Duration, Segment)> {
        &mut self.in_flight
    }

    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    pub fn is_finished(&self) -> bool {
        self.truncated || (!self.steps.is_empty() && self.in_flight.is_empty() && self.held.is_empty() && self.next_timer().is_none())
    }

    /// Advances by one delivery (or one timer). Returns the new step, or `None`
    /// once nothing more can happen.
    pub fn step(&mut self) -> Option<&Step> {
        if self.steps.is_empty() {
            self.client.open(self.now);
            self.server.open(self.now);
            self.record(StepKind::Connect, None, None);
            self.collect();
            return self.steps.last();
        }
        if self.steps.len() >= MAX_STEPS {
            self.truncated = true;
            return None;
        }
        if let Some((arrival, seg)) = self.in_flight.pop_front() {
            self.now = self.now.max(arrival);
            let plain = match (seg.direction, seg.fin) {
                (Direction::ClientToServer, false) => self.server.handle_wire(&seg.bytes, self.now),
                (Direction::ServerToClient, false) => self.client.handle_wire(&seg.bytes, self.now),
                (Direction::ClientToServer, true) => {
                    self.server.handle_fin(self.now);
                    vec![]
                }
                (Direction::ServerToClient, true) => {
                    self.client.handle_fin(self.now);
                    vec![]
                }
            };
            let kind = if seg.fin { StepKind::Fin } else { StepKind::Segment };
            self.record(kind, Some(&seg), (!plain.is_empty()).then_some(plain));
        } else if !self.held.is_empty() {
            return None; // waiting for Mallory's decision
        } else if let Some(at) = self.next_timer() {
            self.now = self.now.max(at);
            // The client's timers first, so that a tie resolves the same way every run.
            if self.client.poll_timeout().is_some_and(|t| t <= self.now) {
                self.client.handle_timeout(self.now);
            } else {
                self.server.handle_timeout(self.now);
            }
            self.record(StepKind::Timeout, None, None);
        } else {
            return None;
        }
        self.collect();
        self.steps.last()
    }

    /// Runs to the end and returns the trace.
    pub fn run(mut self) -> Trace {
        while self.step().is_some() {}
        self.into_trace()
    }

    pub fn into_trace(mut self) -> Trace {
        let (steps, key_log) = (std::mem::take(&mut self.steps), std::mem::take(&mut self.key_log));
        self.trace_of(steps, key_log)
    }

    fn trace_of(&self, steps: Vec<Step>, key_log: Vec<String>) -> Trace {
        Trace {
            server_name: self.server_name.clone(),
            server_port: self.server_port,
            client_addr: self.addresses.0,
            server_addr: self.addresses.1,
            simulated: true,
            steps,
            truncated: self.truncated,
            key_log,
            hops: Vec::new(),
        }
    }

    fn next_timer(&self) -> Option<Duration> {
        match (self.client.poll_timeout(), self.server.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Moves what both endpoints want to send onto the wire, through the middlebox.
    fn collect(&mut self) {
        let mut sent = Vec::new();
        while let Some(t) = self.client.poll_transmit() {
            sent.push(Segment::from_transmit(Direction::ClientToServer, t));
        }
        while let Some(t) = self.server.poll_transmit() {
            sent.push(Segment::from_transmit(Direction::ServerToClient, t));
        }
        for seg in sent {
            if self.intercept {
                self.held.push_back(seg);
                continue;
            }
            let out = match &mut self.middlebox {
                Some(m) => m.on_segment(seg, self.now),
                None => vec![seg],
            };
            self.release(out);
        }
    }

    fn record(&mut self, kind: StepKind, seg: Option<&Segment>, receiver_plaintext: Option<Vec<u8>>) {
        for line in self.client.take_key_log().into_iter().chain(self.server.take_key_log()) {
            if !self.key_log.contains(&line) {
                self.key_log.push(line);
            }
        }
        let mut events = std::mem::take(&mut self.pending_events);
        while let Some(e) = self.client.poll_event() {
            events.push((self.wrap.0)(e));
        }
        while let Some(e) = self.server.poll_event() {
            events.push((self.wrap.1)(e));
        }
        let crossing = seg.map(|s| {
            let delivered = (s.deliver && !s.fin).then_some(s);
            let records = match delivered.filter(|s| s.tls) {
                Some(s) => RecordInfo::read_after(&s.bytes, &mut self.after_ccs[usize::from(s.direction == Direction::ServerToClient)]),
                None => Vec::new(),
            };
            Crossing {
                direction: s.direction,
                sent: s.sent.clone().filter(|b| !b.is_empty()).map(Bytes),
                wire: delivered.map(|s| Bytes(s.bytes.clone())),
                tls: s.tls,
                records,
                sender_plaintext: s.sender_plaintext.clone().map(Bytes),
                receiver_plaintext: receiver_plaintext.map(Bytes),
                middlebox: s.note,
                attacker_plaintext: s.attacker_view.clone().map(Bytes),
            }
        });
        let happened = match (kind, crossing) {
            (StepKind::Segment, Some(c)) => Happened::Segment(c),
            (StepKind::Fin, Some(c)) => Happened::Fin(c),
            (StepKind::Dropped, Some(c)) => Happened::Dropped(c),
            (StepKind::Timeout, _) => Happened::Timeout,
            _ => Happened::Connect,
        };
        let mut step = Step::new(self.now.as_millis() as u64, happened, events, self.client.state().into(), self.server.state().into());
        step.index = self.steps.len();
        self.steps.push(step);
    }
}
