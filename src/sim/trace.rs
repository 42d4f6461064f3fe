//! The record of a session: every segment that crossed the wire, what each
//! side wrote and read, what each machine did, and the state it was left in.
//! Everything a lesson says is derived from this.

use std::fmt;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::bytes::Bytes;

use crate::proto::endpoint::SessionEvent;
use crate::proto::http::HttpEvent;
use crate::proto::http::{HttpClientState, HttpServerState};
use crate::proto::policy::dns::Lookup;
use crate::proto::policy::sender::SenderEvent;
use crate::proto::smtp::client::{ClientEvent, ClientState};
use crate::proto::smtp::server::{ServerEvent, ServerState};
use crate::proto::tls::{ContentType, RecordInfo};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    ClientToServer,
    ServerToClient,
}

impl Direction {
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ClientToServer => Direction::ServerToClient,
            Direction::ServerToClient => Direction::ClientToServer,
        }
    }
}

/// An event from either side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "side", content = "event", rename_all = "snake_case")]
pub enum Event {
    Client(SessionEvent<ClientEvent>),
    Server(SessionEvent<ServerEvent>),
    /// The sending MTA fetching an MTA-STS policy over HTTPS (RFC 8461 §3.3).
    HttpsClient(SessionEvent<HttpEvent>),
    /// The policy host answering it.
    HttpsServer(SessionEvent<HttpEvent>),
    /// The sending MTA deciding how (and whether) to deliver.
    Sender(SenderEvent),
}

impl From<SessionEvent<ClientEvent>> for Event {
    fn from(e: SessionEvent<ClientEvent>) -> Self {
        Event::Client(e)
    }
}

impl From<SessionEvent<ServerEvent>> for Event {
    fn from(e: SessionEvent<ServerEvent>) -> Self {
        Event::Server(e)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Both sides opened the connection.
    Connect,
    /// Bytes crossed the wire.
    Segment,
    /// A side closed its half of the connection (TCP FIN).
    Fin,
    /// The middlebox dropped what a side sent.
    Dropped,
    /// Nothing arrived and a timer fired.
    Timeout,
    /// The sending MTA asked its resolver, and got an answer (the step's `dns`).
    Dns,
    /// The sending MTA decided something, with nothing on any wire.
    Decision,
}

/// Which conversation a step belongs to: the SMTP connection of its hop, the
/// sender's DNS lookups, or its HTTPS fetch of an MTA-STS policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    #[default]
    Smtp,
    Dns,
    Https,
}

impl Lane {
    fn is_smtp(&self) -> bool {
        *self == Lane::Smtp
    }
}

/// One thing that happened, and what both sides did about it: a common
/// header (which step, hop, lane and time), what happened, and the events and
/// states it left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub index: usize,
    /// Which hop of a journey the step belongs to (0 for the first, and for a one-hop session).
    pub hop: usize,
    /// The conversation: SMTP, unless the sending MTA is resolving or fetching its policy.
    pub lane: Lane,
    /// Milliseconds since the connection opened.
    pub at_ms: u64,
    pub happened: Happened,
    pub events: Vec<Event>,
    pub client_state: PartyState,
    pub server_state: PartyState,
}

/// What a step is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Happened {
    /// Both sides opened the connection.
    Connect,
    /// Bytes crossed the wire.
    Segment(Crossing),
    /// A side closed its half of the connection (TCP FIN).
    Fin(Crossing),
    /// The middlebox dropped what a side sent.
    Dropped(Crossing),
    /// Nothing arrived and a timer fired.
    Timeout,
    /// The sending MTA asked its resolver, and got this answer.
    Dns(Lookup),
    /// The sending MTA decided something, with nothing on any wire.
    Decision,
}

/// What crossed (or was stopped on) the wire in one direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crossing {
    pub direction: Direction,
    /// The bytes as the sender wrote them; absent when the middlebox made them up.
    pub sent: Option<Bytes>,
    /// The bytes as the receiver got them; absent when dropped.
    pub wire: Option<Bytes>,
    /// The wire bytes are TLS records (whether each one is encrypted is in `records`).
    pub tls: bool,
    pub records: Vec<RecordInfo>,
    /// SMTP text the sender put into this segment (before encryption).
    pub sender_plaintext: Option<Bytes>,
    /// SMTP text the receiver got out of it (after decryption).
    pub receiver_plaintext: Option<Bytes>,
    /// What the middlebox did.
    pub middlebox: Option<crate::sim::wire::Meddling>,
    /// Plaintext the middlebox read after decrypting (when it terminates TLS).
    pub attacker_plaintext: Option<Bytes>,
}

impl Crossing {
    /// Nothing yet, in `direction`: a FIN, or the start of a segment's record.
    pub fn new(direction: Direction) -> Crossing {
        Crossing {
            direction,
            sent: None,
            wire: None,
            tls: false,
            records: Vec::new(),
            sender_plaintext: None,
            receiver_plaintext: None,
            middlebox: None,
            attacker_plaintext: None,
        }
    }
}

/// What state a party of a step was left in, as the trace shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartyState {
    Client(ClientState),
    Server(ServerState),
    HttpClient(HttpClientState),
    HttpServer(HttpServerState),
    /// The sending MTA, waiting for its resolver.
    Resolving,
    /// The other end of a real connection, which this process cannot see into.
    Remote,
    /// No party (the policy host during a DNS step).
    Absent,
}

impl From<ClientState> for PartyState {
    fn from(s: ClientState) -> Self {
        PartyState::Client(s)
    }
}

impl From<ServerState> for PartyState {
    fn from(s: ServerState) -> Self {
        PartyState::Server(s)
    }
}

impl From<HttpClientState> for PartyState {
    fn from(s: HttpClientState) -> Self {
        PartyState::HttpClient(s)
    }
}

impl From<HttpServerState> for PartyState {
    fn from(s: HttpServerState) -> Self {
        PartyState::HttpServer(s)
    }
}

impl fmt::Display for PartyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PartyState::Client(s) => s.fmt(f),
            PartyState::Server(s) => s.fmt(f),
            PartyState::HttpClient(s) => s.fmt(f),
            PartyState::HttpServer(s) => s.fmt(f),
            PartyState::Resolving => f.write_str("resolving"),
            PartyState::Remote => f.write_str("(remote)"),
            PartyState::Absent => Ok(()),
        }
    }
}

impl Serialize for PartyState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Step {
    /// A step at `at_ms` (hop 0, the SMTP lane, index 0 until its trace numbers it).
    pub fn new(at_ms: u64, happened: Happened, events: Vec<Event>, client_state: PartyState, server_state: PartyState) -> Step {
        Step { index: 0, hop: 0, lane: Lane::Smtp, at_ms, happened, events, client_state, server_state }
    }

    pub fn kind(&self) -> StepKind {
        match self.happened {
            Happened::Connect => StepKind::Connect,
            Happened::Segment(_) => StepKind::Segment,
            Happened::Fin(_) => StepKind::Fin,
            Happened::Dropped(_) => StepKind::Dropped,
            Happened::Timeout => StepKind::Timeout,
            Happened::Dns(_) => StepKind::Dns,
            Happened::Decision => StepKind::Decision,
        }
    }

    /// What crossed the wire, when something did (a segment, a FIN, a drop).
    pub fn crossing(&self) -> Option<&Crossing> {
        match &self.happened {
            Happened::Segment(c) | Happened::Fin(c) | Happened::Dropped(c) => Some(c),
            _ => None,
        }
    }

    /// A DNS step's query and answer.
    pub fn dns(&self) -> Option<&Lookup> {
        match &self.happened {
            Happened::Dns(l) => Some(l),
            _ => None,
        }
    }

    pub fn direction(&self) -> Option<Direction> {
        self.crossing().map(|c| c.direction)
    }

    pub fn sent(&self) -> Option<&Bytes> {
        self.crossing().and_then(|c| c.sent.as_ref())
    }

    pub fn wire(&self) -> Option<&Bytes> {
        self.crossing().and_then(|c| c.wire.as_ref())
    }

    pub fn tls(&self) -> bool {
        self.crossing().is_some_and(|c| c.tls)
    }

    pub fn records(&self) -> &[RecordInfo] {
        self.crossing().map_or(&[], |c| c.records.as_slice())
    }

    pub fn sender_plaintext(&self) -> Option<&Bytes> {
        self.crossing().and_then(|c| c.sender_plaintext.as_ref())
    }

    pub fn receiver_plaintext(&self) -> Option<&Bytes> {
        self.crossing().and_then(|c| c.receiver_plaintext.as_ref())
    }

    /// What the middlebox did, in its words (Mallory's answer to a DNS query included).
    /// What a middlebox or a forging resolver did at this step, in words.
    pub fn middlebox(&self) -> Option<String> {
        match &self.happened {
            Happened::Dns(l) => l.tampered.clone(),
            _ => self.meddling().map(|m| m.to_string()),
        }
    }

    /// What a middlebox did to this step's segment.
    pub fn meddling(&self) -> Option<crate::sim::wire::Meddling> {
        self.crossing().and_then(|c| c.middlebox)
    }

    pub fn attacker_plaintext(&self) -> Option<&Bytes> {
        self.crossing().and_then(|c| c.attacker_plaintext.as_ref())
    }
}

/// The JSON form of a step: one object with every field, as the trace has always been written.
#[derive(Serialize)]
struct StepJson<'a> {
    index: usize,
    #[serde(skip_serializing_if = "is_zero")]
    hop: usize,
    #[serde(skip_serializing_if = "Lane::is_smtp")]
    lane: Lane,
    #[serde(skip_serializing_if = "Option::is_none")]
    dns: Option<&'a Lookup>,
    at_ms: u64,
    kind: StepKind,
    direction: Option<Direction>,
    sent: Option<&'a Bytes>,
    wire: Option<&'a Bytes>,
    tls: bool,
    records: &'a [RecordInfo],
    sender_plaintext: Option<&'a Bytes>,
    receiver_plaintext: Option<&'a Bytes>,
    middlebox: Option<String>,
    attacker_plaintext: Option<&'a Bytes>,
    events: &'a [Event],
    client_state: &'a PartyState,
    server_state: &'a PartyState,
}

impl Serialize for Step {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        StepJson {
            index: self.index,
            hop: self.hop,
            lane: self.lane,
            dns: self.dns(),
            at_ms: self.at_ms,
            kind: self.kind(),
            direction: self.direction(),
            sent: self.sent(),
            wire: self.wire(),
            tls: self.tls(),
            records: self.records(),
            sender_plaintext: self.sender_plaintext(),
            receiver_plaintext: self.receiver_plaintext(),
            middlebox: self.middlebox(),
            attacker_plaintext: self.attacker_plaintext(),
            events: &self.events,
            client_state: &self.client_state,
            server_state: &self.server_state,
        }
        .serialize(s)
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One connection of a journey: who talks to whom, where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hop {
    /// The node that connects (`MUA`, `MTA`) and the one it connects to (`MSA`, `MX`).
    pub client: String,
    pub server: String,
    /// The server's name and port as the client addressed it.
    pub server_name: String,
    pub server_port: u16,
    /// The addresses of the two hosts of this hop.
    pub client_addr: Ipv4Addr,
    pub server_addr: Ipv4Addr,
}

impl Step {
    /// Some of the step's TLS records are encrypted (a handshake's first records are not).
    pub fn encrypted(&self) -> bool {
        self.records().iter().any(|r| r.encrypted)
    }
}

impl Step {
    /// Every TLS record is application data (the SMTP inside is shown by its plaintext).
    fn all_application_data(&self) -> bool {
        self.records().iter().all(|r| r.content_type == ContentType::ApplicationData)
    }

    /// The plaintext this step shows: what the receiver read; for cleartext,
    /// what the wire carried; inside TLS, when every record is application
    /// data the receiver did not open, what the sender wrote. `None` when the
    /// step is TLS records without readable content (a handshake), or nothing.
    pub fn shown(&self) -> Option<&[u8]> {
        match (self.receiver_plaintext(), self.tls()) {
            (Some(p), _) => Some(p.as_slice()),
            (None, false) => self.wire().map(|b| b.as_slice()),
            (None, true) if self.all_application_data() => self.sender_plaintext().map(|b| b.as_slice()),
            (None, true) => None,
        }
    }

    /// The TLS records to draw, when the wire bytes are TLS and not all application data
    /// (those are shown by their plaintext instead).
    pub fn handshake_records(&self) -> Option<&[RecordInfo]> {
        (self.tls() && !self.all_application_data()).then_some(self.records())
    }

    /// Whether an attacker changed, dropped or made up this step's bytes, so
    /// that what the sender wrote is not what the receiver got.
    pub fn altered_on_wire(&self) -> bool {
        self.kind() == StepKind::Dropped || (self.kind() == StepKind::Segment && self.sent() != self.wire())
    }
}

/// A whole session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trace {
    /// The server's name and port as the client addressed it.
    pub server_name: String,
    pub server_port: u16,
    /// The addresses of the client and of the server it connected to (a
    /// journey's hops have their own).
    pub client_addr: Ipv4Addr,
    pub server_addr: Ipv4Addr,
    /// Both sides ran in memory (not a real connection).
    pub simulated: bool,
    pub steps: Vec<Step>,
    /// The session ran into the step limit (a bug or a livelock, never normal).
    pub truncated: bool,
    /// TLS secrets in the NSS key log format, so Wireshark can decrypt a capture.
    #[serde(default)]
    pub key_log: Vec<String>,
    /// The connections of a journey, in order (each step names its hop);
    /// empty for a one-hop session.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hops: Vec<Hop>,
}

impl Trace {
    /// The steps of one hop, as a trace of their own (step indices kept), so
    /// that what reads one connection reads each hop of a journey.
    pub fn hop(&self, hop: usize) -> Trace {
        let info = self.hops.get(hop);
        Trace {
            server_name: info.map_or(self.server_name.clone(), |h| h.server_name.clone()),
            server_port: info.map_or(self.server_port, |h| h.server_port),
            client_addr: info.map_or(self.client_addr, |h| h.client_addr),
            server_addr: info.map_or(self.server_addr, |h| h.server_addr),
            simulated: self.simulated,
            steps: self.steps.iter().filter(|s| s.hop == hop).cloned().collect(),
            truncated: self.truncated,
            key_log: self.key_log.clone(),
            hops: Vec::new(),
        }
    }

    /// The steps of one lane (the SMTP connection, or the sender's HTTPS
    /// fetch), as a trace of their own: each lane is its own connection.
    pub fn lane(&self, lane: Lane) -> Trace {
        Trace {
            server_name: self.server_name.clone(),
            server_port: self.server_port,
            client_addr: self.client_addr,
            server_addr: self.server_addr,
            simulated: self.simulated,
            steps: self.steps.iter().filter(|s| s.lane == lane).cloned().collect(),
            truncated: self.truncated,
            key_log: self.key_log.clone(),
            hops: Vec::new(),
        }
    }

    pub fn events(&self) -> impl Iterator<Item = (&Step, &Event)> {
        self.steps.iter().flat_map(|s| s.events.iter().map(move |e| (s, e)))
    }

    pub fn client_events(&self) -> impl Iterator<Item = (&Step, &ClientEvent)> {
        self.events().filter_map(|(s, e)| match e {
            Event::Client(SessionEvent::Machine(c)) => Some((s, c)),
            _ => None,
        })
    }

    pub fn server_events(&self) -> impl Iterator<Item = (&Step, &ServerEvent)> {
        self.events().filter_map(|(s, e)| match e {
            Event::Server(SessionEvent::Machine(c)) => Some((s, c)),
            _ => None,
        })
    }

    /// The sending MTA's DNS queries and their answers, in order.
    pub fn lookups(&self) -> impl Iterator<Item = &Lookup> {
        self.steps.iter().filter_map(|s| s.dns())
    }

    /// What the sending MTA decided before and during delivery (its policy lookups).
    pub fn sender_events(&self) -> impl Iterator<Item = (&Step, &SenderEvent)> {
        self.events().filter_map(|(s, e)| match e {
            Event::Sender(d) => Some((s, d)),
            _ => None,
        })
    }

    /// Bodies of the messages the server accepted, in order.
    pub fn delivered(&self) -> Vec<&[u8]> {
        self.server_events()
            .filter_map(|(_, e)| match e {
                ServerEvent::MessageAccepted { body, .. } => Some(body.as_slice()),
                _ => None,
            })
            .collect()
    }

    /// Everything an attacker on the wire could read, step by step: cleartext
    /// segments as sent and as delivered, and whatever it decrypted itself.
    pub fn attacker_view(&self) -> Vec<(usize, &[u8])> {
        let mut out = Vec::new();
        for s in &self.steps {
            if !s.tls() {
                out.extend(s.sent().iter().chain(s.wire().iter()).map(|b| (s.index, b.as_slice())));
            }
            out.extend(s.attacker_plaintext().iter().map(|b| (s.index, b.as_slice())));
        }
        out
    }

    /// Everything that crossed the wire in cleartext, in both directions.
    pub fn cleartext_on_wire(&self) -> Vec<u8> {
        self.steps.iter().filter(|s| !s.tls()).filter_map(|s| s.wire()).flat_map(|b| b.0.iter().copied()).collect()
    }
}
