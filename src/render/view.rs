//! One step as every renderer shows it. The rules written here (which bytes
//! a step shows, whether they read as text, whether the attacker altered
//! them, one line per event) are the only copy: the transcript, the Mermaid
//! export and the browser page all take them from [`StepView`] and
//! [`describe`], so they cannot disagree about what happened.

use serde::Serialize;

use crate::proto::tls::ContentType;
use crate::render::describe::{describe, dns_label, EventLine};
use crate::render::text::{hex_view, is_text, summary, text_view};
use crate::sim::trace::{Direction, Lane, Step, StepKind};
use crate::sim::wire::Meddling;

/// Bytes as the page shows them: readable text (CR and LF written out) when
/// they are text, and a hex dump always.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ByteBlock {
    pub title: String,
    /// What the block is relative to TLS ("before encryption", "cleartext" …), or "".
    #[serde(serialize_with = "crate::cite::as_prose")]
    pub note: &'static str,
    pub len: usize,
    pub text: Option<String>,
    /// A hex dump; `None` in a recording, which leaves the dumps to the engine (see `Lab::recording`).
    pub hex: Option<String>,
    /// Where the attacker changed the bytes: the lines of `text` (from 0)
    /// that she took out (in what the sender wrote) or put in (in what the
    /// wire carried and the receiver read); empty when nothing changed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<usize>,
    /// What `changed` marks, when it marks anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
}

/// How a line of a byte block differs between what its sender wrote and what arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// In what the sender wrote, not in what the wire carried.
    Removed,
    /// In what the wire carried, not in what the sender wrote.
    Added,
}

/// One TLS record as a row draws it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordView {
    pub content_type: ContentType,
    /// Encrypted, or TLSPlaintext that anyone on the path reads (a ClientHello).
    pub encrypted: bool,
    pub label: String,
}

/// Everything a renderer needs about one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepView {
    pub index: usize,
    /// The hop of a journey (0 for the first, and for one connection).
    pub hop: usize,
    /// SMTP, or the sending MTA's DNS lookups or HTTPS policy fetch.
    pub lane: Lane,
    /// The step's client and server: `Client` and `Server`, or in a journey the hop's nodes (`MTA`, `MX`).
    pub client: &'static str,
    pub server: &'static str,
    pub kind: StepKind,
    pub direction: Option<Direction>,
    /// "Client" and "Server" in the step's direction; empty for connect and timeouts.
    pub from: &'static str,
    pub to: &'static str,
    /// Seconds since the connection opened, as "1.234 s".
    pub time: String,
    /// The row's one line.
    pub label: String,
    /// The row as a screen reader says it before the label.
    pub spoken: String,
    /// The wire bytes are TLS records.
    pub tls: bool,
    /// Some of them are encrypted (the first handshake records are not).
    pub encrypted: bool,
    /// The shown text came through encrypted TLS records (the row's TLS badge).
    pub tls_text: bool,
    /// The attacker changed, dropped or made up these bytes.
    pub altered: bool,
    /// The attacker did something here (altered the bytes, or acted and said so).
    pub attacker_acted: bool,
    /// Who acted on the wire at this step, for its badge (`Mallory`, or the ISP's firewall).
    pub acted_by: Option<&'static str>,
    /// What the attacker did here, in its words.
    pub middlebox: Option<String>,
    pub records: Vec<RecordView>,
    pub blocks: Vec<ByteBlock>,
    pub client_state: String,
    pub server_state: String,
    pub events: Vec<EventLine>,
}

/// The columns a session's rows are drawn between: client, wire, server; or,
/// for a journey, every node with the hop between each pair. A sending MTA
/// that looks up its policies adds one more: its resolver and the policy host.
/// `attacker` names the wire's lane for who is on it.
pub fn lanes(journey: bool, attacker: bool, sender_lookups: bool) -> Vec<&'static str> {
    let wire = if attacker { "Wire · attacker" } else { "Wire" };
    match (journey, sender_lookups) {
        (true, false) => vec!["MUA", "hop 1", "MSA/MTA", "hop 2", "MX"],
        (true, true) => vec!["MUA", "hop 1", "MSA/MTA", "hop 2", "MX", SENDER_LANE],
        (false, false) => vec!["Client", wire, "Server"],
        (false, true) => vec!["MTA", wire, "MX", SENDER_LANE],
    }
}

/// The lane of the sending MTA's resolver and of the MTA-STS policy host.
pub(crate) const SENDER_LANE: &str = "DNS · HTTPS";

/// Whether a session's lanes include the sender's resolver and policy host.
pub fn has_sender_lane(lanes: &[&str]) -> bool {
    lanes.last() == Some(&SENDER_LANE)
}

/// Who is the client and who the server of a step: in a journey, the nodes of its hop.
pub(crate) fn parties(journey: bool, hop: usize) -> (&'static str, &'static str) {
    use crate::sim::route::HOP_PARTIES;
    match journey {
        false => ("Client", "Server"),
        true => HOP_PARTIES[hop.min(HOP_PARTIES.len() - 1)],
    }
}

/// The parties of a step in its lane: the DNS resolver or the policy host
/// stands in for the server of a sender's lookup.
fn step_parties(journey: bool, sender: bool, step: &Step) -> (&'static str, &'static str) {
    let (client, server) = parties(journey, step.hop);
    // A sending MTA's session is drawn between "MTA" and "MX" (see [`lanes`]): its steps say so too.
    let (client, server) = if client == "Client" && (sender || step.lane != Lane::Smtp) { ("MTA", "MX") } else { (client, server) };
    match step.lane {
        Lane::Smtp => (client, server),
        Lane::Dns => (client, "DNS"),
        Lane::Https => (client, "policy host"),
    }
}

impl StepView {
    /// A step of a one-connection session.
    pub fn of(step: &Step) -> StepView {
        StepView::in_session(step, false, false)
    }

    /// A step, named by the nodes of its hop when the session is a journey,
    /// and by "MTA" and "MX" when its client is a sending MTA that looks up
    /// the recipient's domain (`sender`).
    pub fn in_session(step: &Step, journey: bool, sender: bool) -> StepView {
        let (client, server) = step_parties(journey, sender, step);
        let (from, to) = match step.direction() {
            Some(Direction::ClientToServer) => (client, server),
            Some(Direction::ServerToClient) => (server, client),
            None => ("", ""),
        };
        let altered = step.altered_on_wire();
        let shown = step.shown();
        let tls_text = step.encrypted() && shown.is_some_and(|b| !b.is_empty() && is_text(b));
        let label = match step.kind() {
            StepKind::Connect => "TCP connect".to_owned(),
            StepKind::Fin => "FIN: closes the connection".to_owned(),
            StepKind::Timeout => format!("timer fired at {} s", seconds(step.at_ms, 1)),
            StepKind::Dropped => {
                let sent = step.sent().map(|b| summary(b.as_slice())).unwrap_or_default();
                let by = step.meddling().map_or("Mallory", Meddling::by);
                format!("dropped by {by}: {}", if sent.is_empty() { "(nothing)" } else { &sent })
            }
            StepKind::Segment => match shown {
                Some(b) if !b.is_empty() && is_text(b) => summary(b),
                _ if !step.records().is_empty() => "TLS records".to_owned(),
                _ => summary(step.sent().or(step.wire()).map_or(&[][..], |b| b.as_slice())),
            },
            StepKind::Dns => step.dns().map_or_else(String::new, dns_label),
            StepKind::Decision => step.events.iter().map(|e| describe(e).text).collect::<Vec<_>>().join("; "),
        };
        let label = match step.lane {
            Lane::Https if step.kind() != StepKind::Connect || !label.is_empty() => format!("HTTPS: {label}"),
            _ => label,
        };
        let mut spoken = if from.is_empty() { format!("{:?}", step.kind()).to_lowercase() } else { format!("{from} to {to}") };
        if step.encrypted() {
            spoken.push_str(", encrypted");
        } else if step.tls() {
            spoken.push_str(", TLS handshake in cleartext");
        }
        // Who acted on the wire at this step: Mallory, or (no attacker) the ISP's firewall.
        let acted_by = match step.meddling() {
            Some(m) => Some(m.by()),
            None if altered || step.middlebox().is_some() => Some("Mallory"),
            None => None,
        };
        if altered {
            spoken.push_str(if acted_by == Some("Mallory") { ", changed by the attacker" } else { ", stopped on the wire" });
        }
        spoken.push_str(": ");
        let records = step
            .records()
            .iter()
            .map(|r| RecordView {
                content_type: r.content_type,
                encrypted: r.encrypted,
                // What the path can tell: cleartext records it reads, encrypted ones only by type and length.
                label: format!("{} {} B, {}", r.content_type.words(), r.length, if r.encrypted { "encrypted" } else { "cleartext" }),
            })
            .collect();
        StepView {
            index: step.index,
            hop: step.hop,
            lane: step.lane,
            client,
            server,
            kind: step.kind(),
            direction: step.direction(),
            from,
            to,
            time: format!("{} s", seconds(step.at_ms, 3)),
            label,
            spoken,
            tls: step.tls(),
            encrypted: step.encrypted(),
            tls_text,
            altered,
            attacker_acted: acted_by == Some("Mallory"),
            acted_by,
            middlebox: step.middlebox(),
            records,
            blocks: blocks(step, from, to),
            client_state: step.client_state.to_string(),
            server_state: step.server_state.to_string(),
            events: step.events.iter().map(describe).collect(),
        }
    }
}

/// A segment held on the wire for Mallory's decision, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldView {
    pub direction: Direction,
    pub from: &'static str,
    pub to: &'static str,
    /// TLS records: editing as text makes no sense, flipping a bit does.
    pub tls: bool,
    pub fin: bool,
    pub records: Vec<String>,
    pub len: usize,
    /// The bytes as text, when they are text (for the editor).
    pub text: Option<String>,
    pub hex: String,
}

impl HeldView {
    /// A held segment, between the client and the server named as the simulation names them.
    pub fn of(seg: &crate::sim::wire::Segment, (client, server): (&'static str, &'static str)) -> HeldView {
        let (from, to) = match seg.direction {
            Direction::ClientToServer => (client, server),
            Direction::ServerToClient => (server, client),
        };
        let records =
            crate::proto::tls::RecordInfo::read(&seg.bytes).iter().map(|r| format!("{} {} B", r.content_type.words(), r.length)).collect();
        HeldView {
            direction: seg.direction,
            from,
            to,
            tls: seg.tls,
            fin: seg.fin,
            records,
            len: seg.bytes.len(),
            text: (!seg.tls && !seg.bytes.is_empty()).then(|| String::from_utf8_lossy(&seg.bytes).into_owned()),
            hex: hex_view(&seg.bytes),
        }
    }
}

/// Milliseconds as seconds with `decimals` places, in integers (float
/// formatting would add kilobytes to the browser build).
fn seconds(ms: u64, decimals: u32) -> String {
    let scale = 10u64.pow(3 - decimals.min(3));
    let rounded = (ms + scale / 2) / scale;
    let unit = 10u64.pow(decimals.min(3));
    if decimals == 0 {
        rounded.to_string()
    } else {
        format!("{}.{:0width$}", rounded / unit, rounded % unit, width = decimals as usize)
    }
}

/// The byte views of a step: as the sender wrote it, as the wire carried it,
/// what Mallory read, and what the receiver read.
fn blocks(step: &Step, from: &str, to: &str) -> Vec<ByteBlock> {
    let mut out = Vec::new();
    if let Some(lookup) = &step.dns() {
        // The query and the answer the sender's validating resolver handed back: data, not wire bytes.
        let mut text = format!("query   {} {}\nrcode   {}\nDNSSEC  {}\n", lookup.qtype, lookup.name, lookup.rcode, lookup.dnssec);
        for r in &lookup.records {
            text.push_str(&format!("answer  {} {}\n", r.name, r.data));
        }
        if let Some(t) = &lookup.tampered {
            text.push_str(&format!("Mallory {t}\n"));
        }
        out.push(ByteBlock {
            title: "DNS query and answer".into(),
            note: "",
            len: text.len(),
            text: Some(text),
            hex: None,
            changed: Vec::new(),
            change: None,
        });
    }
    let enc = match (step.tls(), step.records().iter().filter(|r| r.encrypted).count()) {
        (false, _) => "cleartext",
        (true, 0) => "TLS records, readable",
        (true, n) if n == step.records().len() => "encrypted",
        (true, _) => "TLS records, partly encrypted",
    };
    let before_tls = step.sender_plaintext().is_some() && step.tls();
    let written = step.sender_plaintext().or(step.sent());
    let sender = if from.is_empty() { "Sender" } else { from };
    if let Some(b) = written {
        out.push(block(format!("{sender} wrote"), if before_tls { "before encryption" } else { "" }, b.as_slice()));
    }
    if before_tls {
        if let Some(b) = &step.sent() {
            out.push(block(format!("{from} sent on the wire"), enc, b.as_slice()));
        }
    }
    if let Some(b) = &step.wire() {
        out.push(block("The wire carried".into(), if step.kind() == StepKind::Dropped { "" } else { enc }, b.as_slice()));
    }
    if let Some(b) = &step.attacker_plaintext() {
        out.push(block("Mallory read".into(), "after decrypting", b.as_slice()));
    }
    if let Some(b) = &step.receiver_plaintext() {
        let receiver = if to.is_empty() { "Receiver" } else { to };
        out.push(block(format!("{receiver} read"), if step.encrypted() { "after decryption" } else { "" }, b.as_slice()));
    }
    if step.altered_on_wire() && written.is_some() && !before_tls {
        mark_changes(&mut out);
    }
    out
}

/// Marks, line by line, what the attacker changed between the first block
/// (what the sender wrote) and the wire's and receiver's blocks.
fn mark_changes(blocks: &mut [ByteBlock]) {
    let Some((sender, rest)) = blocks.split_first_mut() else { return };
    let Some(wrote) = sender.text.clone() else { return };
    for arrived in rest.iter_mut().filter(|b| b.title != "Mallory read") {
        let Some(text) = &arrived.text else { continue };
        for change in line_changes(&wrote, text) {
            match change {
                LineChange::Removed(i) if !sender.changed.contains(&i) => sender.changed.push(i),
                LineChange::Added(i) => arrived.changed.push(i),
                LineChange::Removed(_) => {}
            }
        }
        if !arrived.changed.is_empty() {
            arrived.change = Some(Change::Added);
        }
    }
    if !sender.changed.is_empty() {
        sender.changed.sort_unstable();
        sender.change = Some(Change::Removed);
    }
}

/// One line that differs between what a sender wrote and what arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineChange {
    /// The sender's line at this index (counted from 0) did not arrive.
    Removed(usize),
    /// The arriving line at this index was not written by the sender.
    Added(usize),
}

/// The lines (each with its line ending) that differ between `old` and
/// `new`, in order: Myers' diff alone (similar's algorithm, without its
/// text layer, which the engine does not need).
pub(crate) fn line_changes(old: &str, new: &str) -> Vec<LineChange> {
    let old: Vec<&str> = old.split_inclusive('\n').collect();
    let new: Vec<&str> = new.split_inclusive('\n').collect();
    // Replace pairs a run of removed lines with the run put in its place: removed first, then added.
    let mut capture = similar::algorithms::Replace::new(similar::algorithms::Capture::new());
    let Ok(()) = similar::algorithms::myers::diff(&mut capture, &old, 0..old.len(), &new, 0..new.len());
    let mut out = Vec::new();
    for op in capture.into_inner().into_ops() {
        let (tag, removed, added) = op.as_tag_tuple();
        if tag != similar::DiffTag::Equal {
            out.extend(removed.map(LineChange::Removed));
            out.extend(added.map(LineChange::Added));
        }
    }
    out
}

fn block(title: String, note: &'static str, bytes: &[u8]) -> ByteBlock {
    ByteBlock {
        title,
        note,
        len: bytes.len(),
        text: is_text(bytes).then(|| text_view(bytes)),
        hex: Some(hex_view(bytes)),
        changed: Vec::new(),
        change: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_integers_rounded() {
        assert_eq!((seconds(1234, 3), seconds(1250, 1), seconds(40, 1)), ("1.234".into(), "1.3".into(), "0.0".into()));
    }
}
