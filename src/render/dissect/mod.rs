//! Every TLS record of a session, twice: as anyone on the path sees it (the
//! record header, and the fields of cleartext handshake messages) and as the
//! receiving endpoint sees it inside, opened with the session's own secrets
//! from its key log. Nothing is re-run: the records are the recorded bytes
//! the receiver got, and a test checks that what opens here is exactly what
//! the receiver read.
//!
//! Each direction is one byte stream of records, reassembled from the steps
//! that carried it; a record belongs to the step in which its last byte
//! arrived, as it does for the receiver. The keys of a direction are those of
//! the receiver's own TLS session: with a man in the middle, the client and the
//! server each have a session with Mallory, and each has its own secrets.

mod keys;
mod messages;

use serde::Serialize;

use crate::bytes::Bytes;
use crate::proto::tls::ContentType;
use crate::sim::trace::{Direction, Lane, Trace};
use crate::vocab::as_optional_text;

pub(crate) use messages::chain_fields;
pub use messages::{DissectedMessage, MessageField, MessageKind};

/// What the record header tells anyone on the path, by field (RFC 8446 §5.1, §5.2).
pub const HEADER_NOTES: [(&str, &str); 3] = [
    (
        "content_type",
        "In TLS 1.3 a protected record always says application_data outside, its real type hidden inside (RFC 8446 §5.2); TLS 1.2 shows the real type (RFC 5246 §6.2.3).",
    ),
    ("version", "legacy_record_version: 0x0303 on every TLS 1.3 record except a first ClientHello, which may say 0x0301 (RFC 8446 §5.1)."),
    ("length", "Encryption hides the bytes but not how many there are: the path sees each record's length (RFC 8446 §1, §5.4)."),
];

/// One TLS record as it crossed the wire, and what was inside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DissectedRecord {
    /// The step in which the receiver had the whole record.
    pub step: usize,
    pub direction: Direction,
    /// The sender's own record, where what it sent differs from what crossed
    /// (a segment dropped or changed on the way, or taken by a man in the
    /// middle); opened with the sender's session.
    pub as_sent: bool,
    /// The record header (RFC 8446 §5.1): visible to anyone on the path.
    pub content_type: RecordType,
    pub version: u16,
    pub length: u16,
    /// Messages anyone on the path can read: cleartext handshake messages,
    /// alerts and change_cipher_spec.
    pub visible: Vec<DissectedMessage>,
    /// What the receiver found inside, for a protected record.
    pub inside: Option<Inside>,
    /// Why a protected record was not opened.
    #[serde(serialize_with = "as_optional_text")]
    pub error: Option<Unopened>,
}

/// A protected record opened (RFC 8446 §5.2: TLSInnerPlaintext).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inside {
    /// The real content type: hidden from the path inside the record in TLS 1.3
    /// (RFC 8446 §5.2), the same as the header's in TLS 1.2 (RFC 5246 §6.2.3).
    pub content_type: RecordType,
    /// Whether the header hid it (TLS 1.3).
    pub type_hidden: bool,
    /// Handshake messages and alerts, dissected.
    pub messages: Vec<DissectedMessage>,
    /// Application data: the SMTP bytes themselves.
    pub data: Option<Bytes>,
}

/// A record's content type as the dissector reads it from any byte: one of
/// the four TLS uses, heartbeat (RFC 6520 §3), which TLS 1.2 peers may send,
/// or a byte it does not know. Written as its name (`application_data`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    Tls(ContentType),
    Heartbeat,
    Unknown(u8),
}

impl RecordType {
    fn of(byte: u8) -> RecordType {
        match ContentType::from_byte(byte) {
            Some(t) => RecordType::Tls(t),
            None if byte == 24 => RecordType::Heartbeat,
            None => RecordType::Unknown(byte),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            RecordType::Tls(t) => t.name(),
            RecordType::Heartbeat => "heartbeat",
            RecordType::Unknown(_) => "unknown",
        }
    }
}

impl std::fmt::Display for RecordType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for RecordType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Why a protected record stayed closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unopened {
    #[error("not opened: an earlier record of this direction did not open")]
    AfterAFailure,
    #[error("not opened: no secret for this session in the key log")]
    NoSecret,
    #[error("did not open: the record was altered, so the receiver answers bad_record_mac (RFC 8446 §5.2, RFC 5246 §7.2.2)")]
    Altered,
}

/// Where a dissection and the session it came from disagree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DissectionMismatch {
    #[error("{dissected} records dissected, {headers} record headers in the trace")]
    RecordCount { dissected: usize, headers: usize },
    #[error("step {step}: a record did not open: {error:?}")]
    NotOpened { step: usize, error: Option<Unopened> },
    #[error("step {step}: opened {opened:?}, the receiver read {read:?}")]
    NotWhatWasRead { step: usize, opened: String, read: Option<String> },
}

/// Every TLS record of `trace`, in the order of the steps that completed
/// them: what crossed, and where a sender's bytes differ from that, what it sent.
pub fn dissect(trace: &Trace) -> Vec<DissectedRecord> {
    // Each hop of a journey is its own connection with its own TLS sessions,
    // and so is a sender's HTTPS fetch of its policy.
    let hops = if trace.hops.len() > 1 { (0..trace.hops.len()).map(|hop| trace.hop(hop)).collect() } else { vec![trace.clone()] };
    let mut out: Vec<DissectedRecord> =
        hops.iter().flat_map(|hop| [Lane::Smtp, Lane::Https].map(|lane| hop.lane(lane))).flat_map(|t| dissect_one(&t)).collect();
    out.sort_by_key(|r| r.step);
    out
}

fn dissect_one(trace: &Trace) -> Vec<DissectedRecord> {
    let streams = Streams::of(trace);
    let mut out = Vec::new();
    for dir in [Direction::ClientToServer, Direction::ServerToClient] {
        out.extend(OneWay { trace, streams: &streams, dir, wire: true }.records());
        if streams.get(dir, false).bytes != streams.get(dir, true).bytes {
            out.extend(OneWay { trace, streams: &streams, dir, wire: false }.records());
        }
    }
    // Stable: within a step, records keep their order.
    out.sort_by_key(|r| r.step);
    out
}

/// Records of one direction, as received (`wire`) with the receiver's TLS
/// session, or as sent with the sender's.
struct OneWay<'a> {
    trace: &'a Trace,
    streams: &'a Streams,
    dir: Direction,
    wire: bool,
}

/// The four streams of a session, each joined once: each direction as its
/// sender wrote it and as its receiver got it.
struct Streams([[Joined; 2]; 2]);

impl Streams {
    fn of(trace: &Trace) -> Streams {
        Streams([Direction::ClientToServer, Direction::ServerToClient].map(|d| [false, true].map(|wire| Joined::of(trace, d, wire))))
    }

    fn get(&self, dir: Direction, wire: bool) -> &Joined {
        &self.0[usize::from(dir == Direction::ServerToClient)][usize::from(wire)]
    }
}

/// The steps' bytes of one direction joined into one stream, remembering
/// where each step's bytes end.
struct Joined {
    bytes: Vec<u8>,
    ends: Vec<(usize, usize)>,
}

impl Joined {
    /// `wire`: what the receiver got; otherwise what the sender wrote.
    fn of(trace: &Trace, dir: Direction, wire: bool) -> Joined {
        let mut s = Joined { bytes: Vec::new(), ends: Vec::new() };
        for step in trace.steps.iter().filter(|s| s.direction() == Some(dir) && s.tls()) {
            if let Some(b) = if wire { step.wire() } else { step.sent() } {
                s.bytes.extend_from_slice(&b.0);
                s.ends.push((s.bytes.len(), step.index));
            }
        }
        s
    }

    /// The step whose bytes include offset `end - 1`.
    fn step_at(&self, end: usize) -> usize {
        self.ends.iter().find(|(e, _)| *e >= end).map_or(0, |(_, i)| *i)
    }

    /// Whole records: (header, body, the offset just past the record).
    fn records(&self) -> impl Iterator<Item = (&[u8], &[u8], usize)> {
        let mut at = 0;
        std::iter::from_fn(move || {
            let header = self.bytes.get(at..at + 5)?;
            let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
            let body = self.bytes.get(at + 5..at + 5 + len)?;
            at += 5 + len;
            Some((header, body, at))
        })
    }
}

/// The first handshake message of `kind` in a stream of records, cleartext only.
fn first_handshake(stream: &Joined, kind: u8) -> Option<Vec<u8>> {
    let mut hs = Vec::new();
    for (header, body, _) in stream.records() {
        if header[0] != 22 {
            break;
        }
        hs.extend_from_slice(body);
        if hs.first() == Some(&kind) {
            if let Some(msg) = messages::whole_message(&hs) {
                return Some(msg.to_vec());
            }
        }
    }
    None
}

/// What decrypting one direction needs: the session's randoms and the
/// suite (and so the version) the server chose.
struct Session {
    client_random: Vec<u8>,
    server_random: Vec<u8>,
    suite: Option<keys::Suite>,
}

/// Where one direction is: which keys open its next record.
enum Keys {
    /// Nothing protected yet (or no keys for this session).
    Clear,
    Open(Box<keys::Opener>),
    /// Protected from here on, but the key log has no secret for this session.
    Missing,
    /// A record did not open; the receiver stopped here.
    Broken,
}

impl OneWay<'_> {
    /// The session of the endpoint whose stream this is (the receiver of what
    /// crossed, the sender of what was sent): the ClientHello and ServerHello
    /// as that endpoint sent or received them. The client sent its hello and
    /// received the server's; the server the other way round.
    fn session(&self) -> Option<Session> {
        let client = (self.dir == Direction::ClientToServer) != self.wire;
        let hello = first_handshake(self.streams.get(Direction::ClientToServer, !client), 1)?;
        let server_hello = first_handshake(self.streams.get(Direction::ServerToClient, client), 2)?;
        let client_random = messages::hello_random(&hello)?;
        let (cipher, tls13, server_random) = messages::server_hello_info(&server_hello)?;
        let suite = if tls13 { keys::Suite::tls13(cipher) } else { keys::Suite::tls12(cipher) };
        Some(Session { client_random, server_random, suite })
    }

    fn records(&self) -> Vec<DissectedRecord> {
        let stream = self.streams.get(self.dir, self.wire);
        let session = self.session();
        let tls13 = session.as_ref().and_then(|s| s.suite).is_some_and(|s| s.is_tls13());
        let client = self.dir == Direction::ClientToServer;
        let sender = if client { "CLIENT" } else { "SERVER" };
        // TLS 1.3: a traffic secret by label (RFC 8446 §7.1).
        let secret = |label: &str| {
            let s = session.as_ref()?;
            Some(keys::Opener::new(s.suite?, keys::secret(&self.trace.key_log, &format!("{sender}_{label}"), &s.client_random)?))
        };
        // TLS 1.2: this side's write keys from the master secret (RFC 5246 §6.3).
        let tls12_keys = || {
            let s = session.as_ref()?;
            let master = keys::secret(&self.trace.key_log, "CLIENT_RANDOM", &s.client_random)?;
            let (c, sv) = s.suite?.tls12_openers(&master, &s.client_random, &s.server_random);
            Some(if client { c } else { sv })
        };
        let mut state = Keys::Clear;
        let mut finished = false;
        let mut handshake = messages::Reassembler::default();
        let mut inner_handshake = messages::Reassembler::default();
        let mut out = Vec::new();
        for (header, body, end) in stream.records() {
            let mut record = DissectedRecord {
                step: stream.step_at(end),
                direction: self.dir,
                as_sent: !self.wire,
                content_type: RecordType::of(header[0]),
                version: u16::from_be_bytes([header[1], header[2]]),
                length: body.len() as u16,
                visible: Vec::new(),
                inside: None,
                error: None,
            };
            // Protected: in TLS 1.3 every application_data record (RFC 8446 §5.2); in
            // TLS 1.2 everything this side sends after its change_cipher_spec (RFC 5246 §7.1).
            let protected = match (tls13, &state) {
                (true, _) => header[0] == 23,
                (false, Keys::Clear) => false,
                (false, _) => true,
            };
            if tls13 && protected && matches!(state, Keys::Clear) {
                state = secret("HANDSHAKE_TRAFFIC_SECRET").map_or(Keys::Clear, |o| Keys::Open(Box::new(o)));
            }
            if protected {
                match &mut state {
                    Keys::Broken => record.error = Some(Unopened::AfterAFailure),
                    Keys::Clear | Keys::Missing => record.error = Some(Unopened::NoSecret),
                    Keys::Open(opener) => match opener.open(header, body) {
                        Err(keys::OpenError) => {
                            state = Keys::Broken;
                            record.error = Some(Unopened::Altered);
                        }
                        Ok((inner_type, content)) => {
                            let mut inside =
                                Inside { content_type: RecordType::of(inner_type), type_hidden: tls13, messages: Vec::new(), data: None };
                            match inner_type {
                                22 => {
                                    inside.messages = inner_handshake.push(&content, tls13);
                                    let fin = inside.messages.iter().any(|m| m.kind == MessageKind::Finished);
                                    let update = inside.messages.iter().any(|m| m.kind == MessageKind::KeyUpdate);
                                    if tls13 && fin && !finished {
                                        // After its Finished, a side sends under its application traffic secret (RFC 8446 §7.1).
                                        finished = true;
                                        state = secret("TRAFFIC_SECRET_0").map_or(Keys::Clear, |o| Keys::Open(Box::new(o)));
                                    } else if update {
                                        opener.update();
                                    }
                                }
                                21 => inside.messages = messages::alert(&content, tls13).into_iter().collect(),
                                23 => inside.data = Some(Bytes(content)),
                                _ => {}
                            }
                            record.inside = Some(inside);
                        }
                    },
                }
            } else {
                match header[0] {
                    22 => record.visible = handshake.push(body, false),
                    21 => record.visible = messages::alert(body, tls13).into_iter().collect(),
                    20 => {
                        record.visible = vec![messages::change_cipher_spec(tls13)];
                        if !tls13 {
                            state = tls12_keys().map_or(Keys::Missing, |o| Keys::Open(Box::new(o)));
                        }
                    }
                    _ => {}
                }
            }
            out.push(record);
        }
        out
    }
}

/// Checks a dissection against the session itself: every record header the
/// trace noted is dissected, no record fails to open, and in every step the
/// application data opened here is exactly what the receiver read. Returns how
/// many application_data records opened. The native and the browser tests run
/// it on every lesson.
pub fn verify_dissection(trace: &Trace) -> Result<usize, DissectionMismatch> {
    use crate::sim::trace::StepKind;
    let all = dissect(trace);
    let crossed: Vec<&DissectedRecord> = all.iter().filter(|r| !r.as_sent).collect();
    let headers: usize = trace.steps.iter().map(|s| s.records().len()).sum();
    if crossed.len() != headers {
        return Err(DissectionMismatch::RecordCount { dissected: crossed.len(), headers });
    }
    let application_data = RecordType::Tls(ContentType::ApplicationData);
    if let Some(r) = all.iter().find(|r| r.error.is_some() || (r.content_type == application_data && r.inside.is_none())) {
        return Err(DissectionMismatch::NotOpened { step: r.step, error: r.error });
    }
    for step in trace.steps.iter().filter(|s| s.tls()) {
        let opened: Vec<u8> = crossed
            .iter()
            .filter(|r| r.step == step.index)
            .filter_map(|r| r.inside.as_ref()?.data.as_ref())
            .flat_map(|d| d.0.iter().copied())
            .collect();
        let read = step.receiver_plaintext().map(|b| &b.0);
        let fine = match read {
            // A receiver not speaking TLS (a client's TLS to a cleartext port) reads the records as text.
            Some(read) if Some(read) == step.wire().map(|w| &w.0) => opened.is_empty(),
            Some(read) => *read == opened,
            // Nothing read: only because the receiver had already closed its side.
            None => {
                opened.is_empty()
                    || trace.steps[..step.index]
                        .iter()
                        .any(|s| s.kind() == StepKind::Fin && s.direction() == step.direction().map(|d| d.reverse()))
            }
        };
        if !fine {
            return Err(DissectionMismatch::NotWhatWasRead {
                step: step.index,
                opened: String::from_utf8_lossy(&opened).into_owned(),
                read: read.map(|r| String::from_utf8_lossy(r).into_owned()),
            });
        }
    }
    Ok(crossed.iter().filter(|r| r.content_type == application_data).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_attributes_a_record_to_the_step_that_completed_it() {
        let s = Joined { bytes: vec![22, 3, 3, 0, 2, 1, 2, 23, 3, 3, 0, 1, 9], ends: vec![(6, 4), (13, 7)] };
        let ends: Vec<usize> = s.records().map(|(_, _, end)| s.step_at(end)).collect();
        assert_eq!(ends, vec![7, 7]);
    }
}
