//! One step as every renderer shows it. The rules written here (which bytes
//! a step shows, whether they read as text, whether the attacker altered
//! them, one line per event) are the only copy: the transcript, the Mermaid
//! export and the browser page all take them from [`StepView`] and
//! [`describe`], so they cannot disagree about what happened.

use std::fmt::Write;

use serde::Serialize;

use crate::client::{ClientEvent, NoTlsReason};
use crate::https::HttpEvent;
use crate::policy::SenderEvent;
use crate::server::ServerEvent;
use crate::session::SessionEvent;
use crate::tls::{records, RecordInfo};
use crate::vocab::Choice;
use rustls::pki_types::CertificateDer;

use crate::trace::{Direction, Event, Lane, Step, StepKind, Trace};

/// Lines a row's label shows of a segment before "(+N lines)".
const LABEL_CHARS: usize = 72;
/// Bytes a hex dump shows before "… N more bytes".
const HEX_LIMIT: usize = 4096;

/// Text a person can read: UTF-8 without control characters other than
/// CR, LF and tab. Anything else is shown as hex.
pub fn is_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|s| s.chars().all(|c| !c.is_control() || matches!(c, '\r' | '\n' | '\t')))
}

impl Step {
    /// Every TLS record is application data (the SMTP inside is shown by its plaintext).
    fn all_application_data(&self) -> bool {
        self.records.iter().all(|r| r.content_type == "application_data")
    }

    /// The plaintext this step shows: what the receiver read; for cleartext,
    /// what the wire carried; inside TLS, when every record is application
    /// data the receiver did not open, what the sender wrote. `None` when the
    /// step is TLS records without readable content (a handshake), or nothing.
    pub fn shown(&self) -> Option<&[u8]> {
        match (&self.receiver_plaintext, self.tls) {
            (Some(p), _) => Some(p.as_slice()),
            (None, false) => self.wire.as_ref().map(|b| b.as_slice()),
            (None, true) if self.all_application_data() => self.sender_plaintext.as_ref().map(|b| b.as_slice()),
            (None, true) => None,
        }
    }

    /// The TLS records to draw, when the wire bytes are TLS and not all application data
    /// (those are shown by their plaintext instead).
    pub fn handshake_records(&self) -> Option<&[RecordInfo]> {
        (self.tls && !self.all_application_data()).then_some(self.records.as_slice())
    }

    /// Whether an attacker changed, dropped or made up this step's bytes, so
    /// that what the sender wrote is not what the receiver got.
    pub fn altered_on_wire(&self) -> bool {
        self.kind == StepKind::Dropped || (self.kind == StepKind::Segment && self.sent != self.wire)
    }
}

/// Which side an event or a byte block belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    Client,
    Server,
}

/// How much an event line matters: the transcript prints `Info` as `===`
/// and `Warning` as `***`; `Detail` lines (already visible as bytes) only
/// the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Weight {
    Detail,
    Info,
    Warning,
}

/// One line about one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventLine {
    pub side: Side,
    pub weight: Weight,
    pub text: String,
}

/// Bytes as the page shows them: readable text (CR and LF written out) when
/// they are text, and a hex dump always.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ByteBlock {
    pub title: String,
    /// What the block is relative to TLS ("before encryption", "cleartext" …), or "".
    pub note: &'static str,
    pub len: usize,
    pub text: Option<String>,
    /// A hex dump; `None` in a recording, which leaves the dumps to the engine (see `Lab::recording`).
    pub hex: Option<String>,
}

/// One TLS record as a row draws it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordView {
    pub content_type: String,
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
pub fn lanes(journey: bool, sender_lookups: bool) -> Vec<&'static str> {
    match (journey, sender_lookups) {
        (true, false) => vec!["MUA", "hop 1", "MSA/MTA", "hop 2", "MX"],
        (true, true) => vec!["MUA", "hop 1", "MSA/MTA", "hop 2", "MX", SENDER_LANE],
        (false, false) => vec!["Client", "Wire · attacker", "Server"],
        (false, true) => vec!["MTA", "Wire · attacker", "MX", SENDER_LANE],
    }
}

/// The lane of the sending MTA's resolver and of the MTA-STS policy host.
pub const SENDER_LANE: &str = "DNS · HTTPS";

/// Whether a session's lanes include the sender's resolver and policy host.
pub fn has_sender_lane(lanes: &[&str]) -> bool {
    lanes.last() == Some(&SENDER_LANE)
}

/// Who is the client and who the server of a step: in a journey, the nodes of its hop.
pub fn parties(journey: bool, hop: usize) -> (&'static str, &'static str) {
    use crate::scenario::route::HOP_PARTIES;
    match journey {
        false => ("Client", "Server"),
        true => HOP_PARTIES[hop.min(HOP_PARTIES.len() - 1)],
    }
}

/// The parties of a step in its lane: the DNS resolver or the policy host
/// stands in for the server of a sender's lookup.
fn step_parties(journey: bool, step: &Step) -> (&'static str, &'static str) {
    let (client, server) = parties(journey, step.hop);
    let client = if client == "Client" && step.lane != Lane::Smtp { "MTA" } else { client };
    match step.lane {
        Lane::Smtp => (client, server),
        Lane::Dns => (client, "DNS"),
        Lane::Https => (client, "policy host"),
    }
}

impl StepView {
    /// A step of a one-connection session.
    pub fn of(step: &Step) -> StepView {
        StepView::in_session(step, false)
    }

    /// A step, named by the nodes of its hop when the session is a journey.
    pub fn in_session(step: &Step, journey: bool) -> StepView {
        let (client, server) = step_parties(journey, step);
        let (from, to) = match step.direction {
            Some(Direction::ClientToServer) => (client, server),
            Some(Direction::ServerToClient) => (server, client),
            None => ("", ""),
        };
        let altered = step.altered_on_wire();
        let shown = step.shown();
        let tls_text = step.encrypted() && shown.is_some_and(|b| !b.is_empty() && is_text(b));
        let label = match step.kind {
            StepKind::Connect => "TCP connect".to_owned(),
            StepKind::Fin => "FIN: closes the connection".to_owned(),
            StepKind::Timeout => format!("timer fired at {} s", seconds(step.at_ms, 1)),
            StepKind::Dropped => {
                let sent = step.sent.as_ref().map(|b| summary(b.as_slice())).unwrap_or_default();
                format!("dropped by Mallory: {}", if sent.is_empty() { "(nothing)" } else { &sent })
            }
            StepKind::Segment => match shown {
                Some(b) if !b.is_empty() && is_text(b) => summary(b),
                _ if !step.records.is_empty() => "TLS records".to_owned(),
                _ => summary(step.sent.as_ref().or(step.wire.as_ref()).map_or(&[][..], |b| b.as_slice())),
            },
            StepKind::Dns => step.dns.as_ref().map_or_else(String::new, dns_label),
            StepKind::Decision => step.events.iter().map(|e| describe(e).text).collect::<Vec<_>>().join("; "),
        };
        let label = match step.lane {
            Lane::Https if step.kind != StepKind::Connect || !label.is_empty() => format!("HTTPS: {label}"),
            _ => label,
        };
        let mut spoken = if from.is_empty() { format!("{:?}", step.kind).to_lowercase() } else { format!("{from} to {to}") };
        if step.encrypted() {
            spoken.push_str(", encrypted");
        } else if step.tls {
            spoken.push_str(", TLS handshake in cleartext");
        }
        if altered {
            spoken.push_str(", changed by the attacker");
        }
        spoken.push_str(": ");
        let records = step
            .records
            .iter()
            .map(|r| RecordView {
                content_type: r.content_type.clone(),
                encrypted: r.encrypted,
                // What the path can tell: cleartext records it reads, encrypted ones only by type and length.
                label: format!(
                    "{} {} B, {}",
                    r.content_type.replace('_', " "),
                    r.length,
                    if r.encrypted { "encrypted" } else { "cleartext" }
                ),
            })
            .collect();
        StepView {
            index: step.index,
            hop: step.hop,
            lane: step.lane,
            client,
            server,
            kind: step.kind,
            direction: step.direction,
            from,
            to,
            time: format!("{} s", seconds(step.at_ms, 3)),
            label,
            spoken,
            tls: step.tls,
            encrypted: step.encrypted(),
            tls_text,
            altered,
            attacker_acted: altered || step.middlebox.is_some(),
            middlebox: step.middlebox.clone(),
            records,
            blocks: blocks(step, from, to),
            client_state: step.client_state.clone(),
            server_state: step.server_state.clone(),
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
    /// A held segment between `parties` (client, server): see [`parties`].
    pub fn of(seg: &crate::wire::Segment, (client, server): (&'static str, &'static str)) -> HeldView {
        let (from, to) = match seg.direction {
            Direction::ClientToServer => (client, server),
            Direction::ServerToClient => (server, client),
        };
        let records =
            crate::tls::records(&seg.bytes).iter().map(|r| format!("{} {} B", r.content_type.replace('_', " "), r.length)).collect();
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
    if let Some(lookup) = &step.dns {
        // The query and the answer the sender's validating resolver handed back: data, not wire bytes.
        let mut text = format!("query   {} {}\nrcode   {}\nDNSSEC  {}\n", lookup.qtype, lookup.name, lookup.rcode, lookup.dnssec);
        for r in &lookup.records {
            text.push_str(&format!("answer  {} {}\n", r.name, r.data));
        }
        if let Some(t) = &lookup.tampered {
            text.push_str(&format!("Mallory {t}\n"));
        }
        out.push(ByteBlock { title: "DNS query and answer".into(), note: "", len: text.len(), text: Some(text), hex: None });
    }
    let enc = match (step.tls, step.records.iter().filter(|r| r.encrypted).count()) {
        (false, _) => "cleartext",
        (true, 0) => "TLS records, readable",
        (true, n) if n == step.records.len() => "encrypted",
        (true, _) => "TLS records, partly encrypted",
    };
    let before_tls = step.sender_plaintext.is_some() && step.tls;
    let written = step.sender_plaintext.as_ref().or(step.sent.as_ref());
    let sender = if from.is_empty() { "Sender" } else { from };
    if let Some(b) = written {
        out.push(block(format!("{sender} wrote"), if before_tls { "before encryption" } else { "" }, b.as_slice()));
    }
    if before_tls {
        if let Some(b) = &step.sent {
            out.push(block(format!("{from} sent on the wire"), enc, b.as_slice()));
        }
    }
    if let Some(b) = &step.wire {
        out.push(block("The wire carried".into(), if step.kind == StepKind::Dropped { "" } else { enc }, b.as_slice()));
    }
    if let Some(b) = &step.attacker_plaintext {
        out.push(block("Mallory read".into(), "after decrypting", b.as_slice()));
    }
    if let Some(b) = &step.receiver_plaintext {
        let receiver = if to.is_empty() { "Receiver" } else { to };
        out.push(block(format!("{receiver} read"), if step.encrypted() { "after decryption" } else { "" }, b.as_slice()));
    }
    out
}

fn block(title: String, note: &'static str, bytes: &[u8]) -> ByteBlock {
    ByteBlock { title, note, len: bytes.len(), text: is_text(bytes).then(|| text_view(bytes)), hex: Some(hex_view(bytes)) }
}

/// One TLS record in the step panel: the header and cleartext messages on
/// one side ("what anyone on the path sees"), what the receiver opened on the
/// other ("what is inside"). From [`crate::dissect`].
#[derive(Debug, Clone, Serialize)]
pub struct TlsRecordView {
    /// "handshake · version 0x0301 · 219 bytes".
    pub header: String,
    /// The sender's own record, which is not what crossed.
    pub as_sent: bool,
    pub visible: Vec<crate::dissect::Message>,
    /// The hidden content type, once opened.
    pub inside_type: Option<&'static str>,
    pub inside: Vec<crate::dissect::Message>,
    /// Application data as text (`\r`, `\n` written out).
    pub inside_text: Option<String>,
    pub error: Option<String>,
    /// For the certificate the client received: what its check found, in
    /// rustls's words, and what it did about it.
    pub client_check: Option<String>,
    /// The check failed (a warning to show), rather than passed.
    pub check_failed: bool,
    /// When the client received some other chain than the server's own (a man
    /// in the middle's): the server's real chain, for comparison.
    pub real_chain: Option<Vec<crate::dissect::Field>>,
}

/// What a view adds to the certificate that reached the client: the client's
/// verdict on it, and the server's own chain when that is not what it got.
pub struct CertificateContext {
    check: Option<Verdict>,
    real: Vec<crate::dissect::Field>,
}

impl CertificateContext {
    /// `server_chain` is the server's own certificate chain.
    pub fn of(trace: &Trace, server_chain: &[CertificateDer<'_>]) -> CertificateContext {
        CertificateContext { check: client_check(trace), real: crate::dissect::chain_fields(server_chain) }
    }

    /// For a record carrying the certificate the client received (in
    /// cleartext in TLS 1.2, inside in TLS 1.3): the client's verdict, and the
    /// server's own chain if another reached the client. Nothing for other records.
    pub fn annotate(&self, r: &crate::dissect::Record) -> (Option<Verdict>, Option<Vec<crate::dissect::Field>>) {
        let mut messages = r.visible.iter().chain(r.inside.iter().flat_map(|i| i.messages.iter()));
        match messages.find(|m| m.name == "Certificate") {
            Some(cert) if r.direction == Direction::ServerToClient && !r.as_sent => {
                let real = (!self.real.is_empty() && cert.fields != self.real).then(|| self.real.clone());
                (self.check.clone(), real)
            }
            _ => (None, None),
        }
    }
}

/// The client's verdict on the certificate it received.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub text: String,
    /// The check failed, whether or not the client went on.
    pub failed: bool,
}

/// What the client's certificate check found, from its events: refused
/// (a validating client aborts), or noticed and ignored, or valid.
fn client_check(trace: &Trace) -> Option<Verdict> {
    trace.events().find_map(|(_, e)| match e {
        Event::Client(SessionEvent::TlsFailed { error }) if error.kind == crate::tls_info::TlsErrorKind::Certificate => Some(Verdict {
            text: format!("The client checked this certificate and refused it: {error}. It aborts the handshake with an alert (RFC 5280 §6; RFC 8446 §6.2)."),
            failed: true,
        }),
        Event::Client(SessionEvent::TlsEstablished { info }) => info.cert_check.as_ref().map(|c| match &c.error {
            None => Verdict { text: "The client checked this certificate: valid for the name it asked for.".to_owned(), failed: false },
            // The handshake completed, so the failed check was not enforced.
            Some(why) => Verdict {
                text: format!("The client's check failed ({why}), but this client does not enforce it and carries on."),
                failed: true,
            },
        }),
        _ => None,
    })
}

/// The TLS records of every step, dissected (one list per step, empty for a
/// step without TLS). `server_chain` is the server's own certificate chain,
/// shown beside a different chain that reached the client.
pub fn tls_views(trace: &Trace, server_chain: &[CertificateDer<'_>]) -> Vec<Vec<TlsRecordView>> {
    let mut out = vec![Vec::new(); trace.steps.len()];
    // A hop of a journey is a run of steps numbered from its first.
    let first = trace.steps.first().map_or(0, |s| s.index);
    let context = CertificateContext::of(trace, server_chain);
    for r in crate::dissect::dissect(trace) {
        let (client_check, real_chain) = context.annotate(&r);
        let Some(step) = r.step.checked_sub(first).and_then(|i| out.get_mut(i)) else { continue };
        let inside = r.inside.as_ref();
        step.push(TlsRecordView {
            header: format!("{} · version 0x{:04x} · {} bytes", r.content_type, r.version, r.length),
            as_sent: r.as_sent,
            inside_type: inside.map(|i| i.content_type),
            inside: inside.map(|i| i.messages.clone()).unwrap_or_default(),
            inside_text: inside.and_then(|i| i.data.as_ref()).map(|d| text_view(&d.0)),
            visible: r.visible,
            error: r.error,
            check_failed: client_check.as_ref().is_some_and(|v| v.failed),
            client_check: client_check.map(|v| v.text),
            real_chain,
        });
    }
    out
}

/// [`tls_views`] for every hop of a session, each against its own server's
/// chain (`chains[hop]`); one connection is hop 0.
pub fn tls_views_by_hop(trace: &Trace, chains: &[Vec<CertificateDer<'static>>]) -> Vec<Vec<TlsRecordView>> {
    if trace.hops.len() < 2 {
        return tls_views(trace, chains.first().map_or(&[][..], |c| c.as_slice()));
    }
    (0..trace.hops.len()).flat_map(|i| tls_views(&trace.hop(i), chains.get(i).map_or(&[][..], |c| c.as_slice()))).collect()
}

/// Text with CR and LF written out as `\r` and `\n`, so a bare LF stands out.
pub fn text_view(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace('\r', "\\r").replace('\n', "\\n\n")
}

/// A classic hex dump: offset, 16 bytes, ASCII.
pub fn hex_view(bytes: &[u8]) -> String {
    let mut out = String::new();
    let shown = &bytes[..bytes.len().min(HEX_LIMIT)];
    for (i, row) in shown.chunks(16).enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let hex: Vec<String> = row.iter().map(|b| format!("{b:02x}")).collect();
        let ascii: String = row.iter().map(|&b| if (0x20..0x7f).contains(&b) { b as char } else { '.' }).collect();
        let _ = write!(out, "{:06x}  {:<47}  {ascii}", i * 16, hex.join(" "));
    }
    if bytes.len() > HEX_LIMIT {
        let _ = write!(out, "\n… {} more bytes", bytes.len() - HEX_LIMIT);
    }
    out
}

/// A short label for a segment: its first line and how many more, or its size.
pub fn summary(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return String::new();
    }
    if !is_text(bytes) {
        return match records(bytes).len() {
            0 => format!("{} bytes", bytes.len()),
            _ => format!("{} bytes of TLS records", bytes.len()),
        };
    }
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.split_inclusive('\n').map(|l| l.trim_end_matches(['\r', '\n'])).collect();
    let first = lines.first().copied().unwrap_or("");
    let first = if first.chars().count() > LABEL_CHARS {
        format!("{}…", first.chars().take(LABEL_CHARS - 1).collect::<String>())
    } else {
        first.to_owned()
    };
    if lines.len() > 1 {
        format!("{first}  (+{} lines)", lines.len() - 1)
    } else {
        first
    }
}

/// One line for any event. Lines the transcript prints are `Info` or `Warning`.
pub fn describe(event: &Event) -> EventLine {
    let (side, name) = match event {
        Event::Client(_) | Event::HttpsClient(_) | Event::Sender(_) => (Side::Client, "client"),
        Event::Server(_) | Event::HttpsServer(_) => (Side::Server, "server"),
    };
    let notable = match event {
        Event::Client(e) => describe_session(e, name).or_else(|| match e {
            SessionEvent::Smtp(c) => describe_client(c),
            _ => None,
        }),
        Event::Server(e) => describe_session(e, name).or_else(|| match e {
            SessionEvent::Smtp(s) => describe_server(s),
            _ => None,
        }),
        Event::HttpsClient(e) => describe_session(e, "policy fetch").or_else(|| match e {
            SessionEvent::Smtp(h) => describe_http(h, "sender"),
            _ => None,
        }),
        Event::HttpsServer(e) => describe_session(e, "policy host").or_else(|| match e {
            SessionEvent::Smtp(h) => describe_http(h, "policy host"),
            _ => None,
        }),
        Event::Sender(e) => {
            let weight = match e {
                SenderEvent::DeliveryRefused { .. } | SenderEvent::Bounced { .. } | SenderEvent::WouldHaveFailed { .. } => Weight::Warning,
                SenderEvent::PolicyFetchFailed { .. }
                | SenderEvent::NoStsRecord
                | SenderEvent::TlsaIgnored { .. }
                | SenderEvent::NoMx { .. } => Weight::Warning,
                SenderEvent::PolicyApplied { mx_allowed: false, .. } => Weight::Warning,
                _ => Weight::Info,
            };
            Some((weight, format!("sending MTA: {}", e.describe())))
        }
    };
    match notable {
        Some((weight, text)) => EventLine { side, weight, text },
        None => EventLine { side, weight: Weight::Detail, text: detail(event) },
    }
}

fn info(text: String) -> Option<(Weight, String)> {
    Some((Weight::Info, text))
}

fn warning(text: String) -> Option<(Weight, String)> {
    Some((Weight::Warning, text))
}

fn describe_session<E>(e: &SessionEvent<E>, side: &str) -> Option<(Weight, String)> {
    match e {
        SessionEvent::TlsHandshakeStarted { implicit: true } => info(format!("{side}: TLS handshake (implicit TLS)")),
        SessionEvent::TlsHandshakeStarted { implicit: false } => info(format!("{side}: TLS handshake (STARTTLS)")),
        SessionEvent::TlsEstablished { info: i } if side == "client" => {
            let cert = match &i.cert_check {
                Some(c) if c.valid => format!("certificate for {} valid", i.peer_subject.as_deref().unwrap_or("?")),
                Some(c) => format!("certificate NOT valid ({})", c.error.as_deref().unwrap_or("?")),
                None => String::new(),
            };
            info(format!("TLS started with {} {}; {cert}", i.version, i.cipher))
        }
        SessionEvent::TlsEstablished { .. } => None,
        SessionEvent::TlsFailed { error } => warning(format!("{side}: TLS failed: {error}")),
        SessionEvent::DiscardedAtUpgrade { bytes } => {
            info(format!("{side} discarded {} bytes that arrived before TLS: {:?}", bytes.0.len(), String::from_utf8_lossy(&bytes.0)))
        }
        SessionEvent::KeptAcrossUpgrade { bytes } => warning(format!(
            "{side} kept {} bytes from before TLS and will treat them as protected: {:?}",
            bytes.0.len(),
            String::from_utf8_lossy(&bytes.0)
        )),
        SessionEvent::Smtp(_) => None,
    }
}

fn describe_client(e: &ClientEvent) -> Option<(Weight, String)> {
    match e {
        ClientEvent::FellBackToHelo { .. } => info("client: EHLO refused, falling back to HELO (no extensions, so no STARTTLS)".into()),
        ClientEvent::ContinuedWithoutTls(NoTlsReason::NotOffered) => {
            warning("client: STARTTLS not offered; continuing in cleartext".into())
        }
        ClientEvent::ContinuedWithoutTls(NoTlsReason::Refused { reply }) => {
            warning(format!("client: STARTTLS refused ({}); continuing in cleartext", reply.code))
        }
        ClientEvent::CertificateNotValidated { error } => {
            warning(format!("client: certificate not validated ({error}); continuing anyway"))
        }
        ClientEvent::AuthSentBeforeTls { mechanism } => {
            warning(format!("client: sending AUTH {} without TLS: the password crosses the wire readable", mechanism.name()))
        }
        ClientEvent::ReusedPreTlsCapabilities => warning("client: reusing capabilities learned before TLS".into()),
        ClientEvent::MessageAccepted { .. } => info("client: message accepted".into()),
        ClientEvent::MessageRejected { reply } => warning(format!("client: message refused ({})", reply.code)),
        ClientEvent::Aborted { reason } => warning(format!("client aborted: {reason}")),
        ClientEvent::TimedOut { waiting_for } => warning(format!("client timed out waiting for {waiting_for}")),
        ClientEvent::BadReply { error } => warning(format!("client: bad reply: {error}")),
        _ => None,
    }
}

fn describe_server(e: &ServerEvent) -> Option<(Weight, String)> {
    match e {
        ServerEvent::AuthSucceeded { username, under_tls, .. } => {
            info(format!("server: {username} authenticated{}", if *under_tls { " (inside TLS)" } else { " IN CLEARTEXT" }))
        }
        ServerEvent::AuthFailed { reason, .. } => info(format!("server: authentication failed: {reason}")),
        ServerEvent::MessageAccepted { queue_id, envelope, body, under_tls, .. } => info(format!(
            "server: queued {queue_id} from <{}> to {} ({} bytes{})",
            envelope.from,
            envelope.to.iter().map(|t| format!("<{t}>")).collect::<Vec<_>>().join(", "),
            body.0.len(),
            if *under_tls { ", received over TLS" } else { ", received in cleartext" }
        )),
        ServerEvent::MessageRejected { reason, .. } => info(format!("server: message rejected: {reason}")),
        ServerEvent::AbortedMidData { received } => {
            info(format!("server: connection lost during DATA after {received} bytes; message dropped"))
        }
        ServerEvent::SpfChecked { check } => {
            let records: Vec<&str> = check.lookups.iter().map(|r| r.name.as_str()).collect();
            let records =
                if records.is_empty() { "no SPF record found".to_owned() } else { format!("TXT records read: {}", records.join(", ")) };
            let by = check.mechanism.as_ref().map(|m| format!(" by {m}")).unwrap_or_default();
            info(format!("server: SPF check of {} for {}: {}{by} ({records}; RFC 7208 §2.4)", check.domain, check.client_ip, check.result))
        }
        ServerEvent::BadCommand { error } => info(format!("server: bad command: {error}")),
        ServerEvent::TimedOut => info("server: idle timeout".into()),
        _ => None,
    }
}

/// A line for the events the transcript leaves to the bytes.
fn detail(event: &Event) -> String {
    let tls = |under: bool| if under { " inside TLS" } else { "" };
    let reply = |r: &crate::codec::Reply| format!("{} {}", r.code, r.lines.first().map_or("", String::as_str));
    match event {
        Event::Client(SessionEvent::Smtp(e)) => match e {
            ClientEvent::CommandSent { command, under_tls } => format!("sent {}{}", command.verb(), tls(*under_tls)),
            ClientEvent::ReplyReceived { reply: r, under_tls } => format!("read reply {}{}", reply(r), tls(*under_tls)),
            ClientEvent::CapabilitiesLearned { capabilities, under_tls } => {
                let lines = capabilities.to_reply().lines;
                let keywords: Vec<&str> = lines.iter().skip(1).filter_map(|l| l.split(' ').next()).collect();
                let keywords = if keywords.is_empty() { "none".to_owned() } else { keywords.join(", ") };
                format!("learned the extensions{}: {keywords}", tls(*under_tls))
            }
            ClientEvent::AuthDataSent { under_tls } => format!("sent an AUTH line{}", tls(*under_tls)),
            ClientEvent::AuthNotAdvertised => "AUTH is not offered".into(),
            ClientEvent::AuthSucceeded => "authenticated".into(),
            ClientEvent::AuthFailed { reply: r } => format!("authentication failed: {}", reply(r)),
            ClientEvent::RecipientRejected { to, reply: r } => format!("recipient <{to}> refused: {}", reply(r)),
            ClientEvent::MessageSent { bytes } => format!("sent the message ({bytes} bytes)"),
            other => generic(other),
        },
        Event::Server(SessionEvent::Smtp(e)) => match e {
            ServerEvent::CommandReceived { command, under_tls } => format!("received {}{}", command.verb(), tls(*under_tls)),
            ServerEvent::ReplySent { reply: r } => format!("replied {}", reply(r)),
            ServerEvent::AuthLineReceived { .. } => "received an AUTH line".into(),
            ServerEvent::StartTlsAccepted => "accepted STARTTLS: TLS starts with the next bytes".into(),
            ServerEvent::Closed => "closed the connection".into(),
            other => generic(other),
        },
        Event::Client(SessionEvent::TlsEstablished { info }) | Event::Server(SessionEvent::TlsEstablished { info }) => {
            format!("TLS established: {}, {}", info.version, info.cipher)
        }
        Event::Client(other) => generic(other),
        Event::Server(other) => generic(other),
        Event::HttpsClient(other) | Event::HttpsServer(other) => generic(other),
        Event::Sender(e) => e.describe(),
    }
}

/// An HTTP event of the policy fetch in one line.
fn describe_http(e: &HttpEvent, side: &str) -> Option<(Weight, String)> {
    match e {
        HttpEvent::RequestSent { request } => info(format!("{side}: {request}")),
        HttpEvent::RequestReceived { method, path, .. } => info(format!("{side}: received {method} {path}")),
        HttpEvent::ResponseSent { status } => info(format!("{side}: answered HTTP {status}")),
        HttpEvent::ResponseReceived { status, body, .. } => info(format!("{side}: HTTP {status}, {} bytes of policy", body.0.len())),
        HttpEvent::Failed { reason } => warning(format!("{side}: the fetch failed: {reason}")),
    }
}

/// A DNS step in one line: the query and the validated answer.
pub fn dns_label(lookup: &crate::dns::Lookup) -> String {
    format!("DNS {} {}? → {}", lookup.qtype.id(), lookup.name, lookup.summary())
}

/// The event's name and fields, for anything without a sentence of its own.
fn generic<T: Serialize>(event: &T) -> String {
    let value = serde_json::to_value(event).unwrap_or_default();
    let Some(map) = value.as_object() else { return value.to_string() };
    let name = map.get("type").and_then(|t| t.as_str()).unwrap_or("event").replace('_', " ");
    let rest: Vec<String> = map
        .iter()
        .filter(|(k, _)| *k != "type")
        .map(|(k, v)| {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            format!("{k}: {}", v.chars().take(120).collect::<String>())
        })
        .collect();
    if rest.is_empty() {
        name
    } else {
        format!("{name} ({})", rest.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_utf8_without_controls() {
        assert!(is_text(b"EHLO x\r\n\tok"));
        assert!(is_text("Grüße\r\n".as_bytes()));
        assert!(!is_text(b"\x16\x03\x01"));
        assert!(!is_text(b"\xff\xfe"), "invalid UTF-8");
        assert!(!is_text("a\u{85}b".as_bytes()), "C1 control");
        assert!(!is_text(b"a\x7fb"));
    }

    #[test]
    fn labels_hex_and_seconds() {
        assert_eq!(summary(b"250-a\r\n250-b\r\n250 c\r\n"), "250-a  (+2 lines)");
        assert_eq!(summary(&[0x16, 3, 3, 0, 1, 0]), "6 bytes of TLS records");
        assert_eq!(hex_view(b"AB\x00"), format!("000000  {:<47}  AB.", "41 42 00"));
        assert_eq!(text_view(b"a\r\nb\n"), "a\\r\\n\nb\\n\n");
        assert_eq!((seconds(1234, 3), seconds(1250, 1), seconds(40, 1)), ("1.234".into(), "1.3".into(), "0.0".into()));
    }
}
