//! The record of a session: every segment that crossed the wire, what each
//! side wrote and read, what each machine did, and the state it was left in.
//! Everything a lesson says is derived from this.

use serde::{Deserialize, Serialize};

use crate::bytes::Bytes;

use crate::client::ClientEvent;
use crate::dns::Lookup;
use crate::https::HttpEvent;
use crate::policy::SenderEvent;
use crate::server::ServerEvent;
use crate::session::SessionEvent;
use crate::tls::RecordInfo;

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// One thing that happened on the wire, and what both sides did about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub index: usize,
    /// Which hop of a journey the step belongs to (0 for the first, and for a one-hop session).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hop: usize,
    /// The conversation: SMTP, unless the sending MTA is resolving or fetching its policy.
    #[serde(default, skip_serializing_if = "Lane::is_smtp")]
    pub lane: Lane,
    /// A DNS step's query and answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<Lookup>,
    /// Milliseconds since the connection opened.
    pub at_ms: u64,
    pub kind: StepKind,
    pub direction: Option<Direction>,
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
    /// What the middlebox did, in its words.
    pub middlebox: Option<String>,
    /// Plaintext the middlebox read after decrypting (when it terminates TLS).
    pub attacker_plaintext: Option<Bytes>,
    pub events: Vec<Event>,
    pub client_state: String,
    pub server_state: String,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One connection of a journey: who talks to whom, where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hop {
    /// The node that connects (`MUA`, `MTA`) and the one it connects to (`MSA`, `MX`).
    pub client: String,
    pub server: String,
    /// The server's name and port as the client addressed it.
    pub server_name: String,
    pub server_port: u16,
}

impl Step {
    /// Some of the step's TLS records are encrypted (a handshake's first records are not).
    pub fn encrypted(&self) -> bool {
        self.records.iter().any(|r| r.encrypted)
    }
}

/// A whole session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    /// The server's name and port as the client addressed it.
    pub server_name: String,
    pub server_port: u16,
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
            simulated: self.simulated,
            steps: self.steps.iter().filter(|s| s.lane == lane).cloned().collect(),
            truncated: self.truncated,
            key_log: self.key_log.clone(),
            hops: Vec::new(),
        }
    }

    /// How many connections the session has: one, or the hops of a journey.
    pub fn hop_count(&self) -> usize {
        self.hops.len().max(1)
    }

    pub fn events(&self) -> impl Iterator<Item = (&Step, &Event)> {
        self.steps.iter().flat_map(|s| s.events.iter().map(move |e| (s, e)))
    }

    pub fn client_events(&self) -> impl Iterator<Item = (&Step, &ClientEvent)> {
        self.events().filter_map(|(s, e)| match e {
            Event::Client(SessionEvent::Smtp(c)) => Some((s, c)),
            _ => None,
        })
    }

    pub fn server_events(&self) -> impl Iterator<Item = (&Step, &ServerEvent)> {
        self.events().filter_map(|(s, e)| match e {
            Event::Server(SessionEvent::Smtp(c)) => Some((s, c)),
            _ => None,
        })
    }

    /// The sending MTA's DNS queries and their answers, in order.
    pub fn lookups(&self) -> impl Iterator<Item = &Lookup> {
        self.steps.iter().filter_map(|s| s.dns.as_ref())
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
            if !s.tls {
                out.extend(s.sent.iter().chain(s.wire.iter()).map(|b| (s.index, b.as_slice())));
            }
            out.extend(s.attacker_plaintext.iter().map(|b| (s.index, b.as_slice())));
        }
        out
    }

    /// Everything that crossed the wire in cleartext, in both directions.
    pub fn cleartext_on_wire(&self) -> Vec<u8> {
        self.steps.iter().filter(|s| !s.tls).filter_map(|s| s.wire.as_ref()).flat_map(|b| b.0.iter().copied()).collect()
    }
}
