//! A finished session in the formats people take elsewhere: the swaks-style
//! text, the JSON trace, and a Mermaid `sequenceDiagram` for documentation.
//! (The packet capture and key log live in [`crate::render::pcap`].) The CLI and the
//! browser both call these, so their exports are the same bytes.

use std::fmt::Write;

use serde::Serialize;

use crate::outcome::Finding;
use crate::proto::endpoint::SessionEvent;
use crate::sim::scenario::Scenario;
use crate::sim::trace::{Direction, Event, Step, StepKind, Trace};

/// The transcript alone, without the findings [`text`] adds.
pub use crate::render::transcript::transcript;

/// What re-runs a session: its lab link (settings and, in a session the
/// learner drove, their actions in `acts=`) and those actions in words.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SessionLink {
    /// The link's text, as after `#` in the lab's URL; the page opens a file by it.
    pub link: String,
    /// What the learner did, one sentence each, in order (empty when the machines drove).
    pub actions: Vec<String>,
}

/// The JSON document `smtp-lab run --format json` prints, and the page's
/// session file: with `session`, the link that re-runs it byte for byte.
pub fn json(scenario: &Scenario, trace: &Trace, findings: &[Finding], session: Option<&SessionLink>) -> String {
    #[derive(Serialize)]
    struct Doc<'a> {
        #[serde(flatten, skip_serializing_if = "Option::is_none")]
        session: Option<&'a SessionLink>,
        scenario: &'a Scenario,
        outcomes: &'a [Finding],
        trace: &'a Trace,
        /// The TLS report (RFC 8460 §4.4) the sender would send, when the domain asks for one.
        #[serde(skip_serializing_if = "Option::is_none")]
        tlsrpt: Option<crate::outcome::tlsrpt::Report>,
    }
    let tlsrpt = crate::outcome::tlsrpt::report(trace);
    let mut out =
        serde_json::to_string_pretty(&Doc { session, scenario, outcomes: findings, trace, tlsrpt }).expect("a trace always serialises");
    out.push('\n');
    out
}

/// The transcript followed by one line per outcome, as `smtp-lab run` prints it.
pub fn text(trace: &Trace, findings: &[Finding]) -> String {
    let mut out = crate::render::transcript::transcript(trace);
    out.push('\n');
    for f in findings {
        let mark = if f.outcome.is_compromise() { "!!!" } else { "===" };
        // Steps are counted from 1 here, as the page counts them (the JSON keeps each step's index).
        let _ = writeln!(out, "{mark} outcome (step {}): {}", f.step + 1, f.describe());
    }
    if let Some(report) = crate::outcome::tlsrpt::report(trace) {
        let (ok, failed) = report
            .policies
            .iter()
            .fold((0, 0), |(o, f), p| (o + p.summary.total_successful_session_count, f + p.summary.total_failure_session_count));
        let _ = writeln!(
            out,
            "=== TLS report (RFC 8460 §4.4) to {}: {ok} successful, {failed} failed session(s); written whole by --tlsrpt FILE",
            report.rua
        );
    }
    out
}

/// Longest arrow label in a diagram; the rest is cut with an ellipsis.
const MAX_LABEL: usize = 60;
/// Longest note: outcomes and the attacker's actions are worth reading whole.
const MAX_NOTE: usize = 160;
/// Lines of one segment drawn as separate arrows; more are summarised.
const MAX_LINES: usize = 6;

/// A Mermaid `sequenceDiagram`: Client, Mallory when an attacker acts on
/// the wire, and Server; encrypted stretches in a shaded box (and each
/// encrypted arrow marked with a lock, since with an attacker the two legs can
/// differ); the outcomes as a closing note.
pub fn mermaid(trace: &Trace, findings: &[Finding]) -> String {
    let mut out = String::from("sequenceDiagram\n");
    let (first, last) = if trace.hops.len() < 2 {
        let ids = Ids { c: "C", s: "S", m: "M" };
        let _ = writeln!(out, "    participant C as Client");
        if trace.steps.iter().any(Step::altered_on_wire) {
            let _ = writeln!(out, "    participant M as Mallory (on the wire)");
        }
        let _ = writeln!(out, "    participant S as Server :{}", trace.server_port);
        mermaid_hop(&mut out, trace, &ids);
        ("C", "S")
    } else {
        // A journey: one participant per node, Mallory between the two of a hop she altered.
        let hops = [Ids { c: "A", s: "P", m: "M1" }, Ids { c: "P", s: "X", m: "M2" }];
        let one = |i: usize| trace.hop(i);
        let port = |i: usize| trace.hops.get(i).map_or(0, |h| h.server_port);
        let _ = writeln!(out, "    participant A as MUA");
        if one(0).steps.iter().any(Step::altered_on_wire) {
            let _ = writeln!(out, "    participant M1 as Mallory (hop 1)");
        }
        let _ = writeln!(out, "    participant P as MSA/MTA :{}", port(0));
        if one(1).steps.iter().any(Step::altered_on_wire) {
            let _ = writeln!(out, "    participant M2 as Mallory (hop 2)");
        }
        let _ = writeln!(out, "    participant X as MX :{}", port(1));
        for (i, ids) in hops.iter().enumerate() {
            mermaid_hop(&mut out, &one(i), ids);
        }
        ("A", "X")
    };
    if findings.is_empty() {
        let _ = writeln!(out, "    Note over {first},{last}: no outcome recorded");
    }
    for f in findings {
        let mark = if f.outcome.is_compromise() { "ATTACK WORKED" } else { "outcome" };
        let _ = writeln!(out, "    Note over {first},{last}: {mark} (step {}): {}", f.step + 1, note_text(&f.describe()));
    }
    out
}

/// The participants of one connection: its client, its server, and Mallory.
struct Ids {
    c: &'static str,
    s: &'static str,
    m: &'static str,
}

/// One connection's steps, with its TLS part boxed.
fn mermaid_hop(out: &mut String, trace: &Trace, ids: &Ids) {
    let Ids { c, s, .. } = ids;
    let mut in_tls = false;
    for step in &trace.steps {
        let encrypted = step.tls() && step.kind() == StepKind::Segment;
        if encrypted != in_tls && step.kind() != StepKind::Dropped {
            if encrypted {
                let _ = writeln!(out, "    rect rgba(46, 125, 50, 0.12)");
                let _ = writeln!(out, "    Note over {c},{s}: TLS: the wire carries TLS records (🔒 marks encrypted ones)");
            } else {
                let _ = writeln!(out, "    end");
            }
            in_tls = encrypted;
        }
        mermaid_step(out, step, ids);
    }
    if in_tls {
        let _ = writeln!(out, "    end");
    }
}

/// One step's arrows. A step the attacker altered goes through Mallory, who
/// is a participant whenever such a step exists.
fn mermaid_step(out: &mut String, step: &Step, ids: &Ids) {
    let Ids { c, s, m } = ids;
    let c2s = step.direction() == Some(Direction::ClientToServer);
    let (from, to) = if c2s { (c, s) } else { (s, c) };
    match step.kind() {
        StepKind::Connect => {
            let _ = writeln!(out, "    {c}->>{s}: TCP connect");
        }
        StepKind::Timeout => {
            let _ = writeln!(out, "    Note over {c},{s}: a timer fired ({} ms)", step.at_ms);
        }
        StepKind::Dns | StepKind::Decision => {
            let text = crate::render::view::StepView::of(step).label;
            let _ = writeln!(out, "    Note over {c}: {}", label(&text));
        }
        StepKind::Fin => {
            let _ = writeln!(out, "    {from}-){to}: FIN (closes the connection)");
        }
        StepKind::Dropped => {
            let sent = step.sent().map(|b| summary(&b.0)).unwrap_or_default();
            let _ = writeln!(out, "    {from}-x{m}: {}", label(&sent.join(" / ")));
        }
        StepKind::Segment => {
            let lock = if step.encrypted() { "🔒 " } else { "" };
            let wire = summary(step.shown().or(step.wire().map(|b| b.as_slice())).unwrap_or_default());
            if step.altered_on_wire() {
                if let Some(sent) = &step.sent() {
                    let sent = summary(step.sender_plaintext().unwrap_or(sent).as_slice());
                    let _ = writeln!(out, "    {from}->>{m}: {lock}{}", label(&sent.join(" / ")));
                }
                if let Some(note) = &step.middlebox() {
                    let _ = writeln!(out, "    Note over {m}: {}", note_text(note));
                }
                for line in &wire {
                    let _ = writeln!(out, "    {m}->>{to}: {lock}{}", label(line));
                }
            } else {
                for line in &wire {
                    let _ = writeln!(out, "    {from}->>{to}: {lock}{}", label(line));
                }
            }
        }
    }
    for e in &step.events {
        let (side, note) = match e {
            Event::Client(SessionEvent::TlsFailed { error }) => (c, format!("TLS failed: {error}")),
            Event::Server(SessionEvent::TlsFailed { error }) => (s, format!("TLS failed: {error}")),
            Event::Client(SessionEvent::TlsEstablished { info }) => (c, format!("TLS established: {} {}", info.version, info.cipher)),
            _ => continue,
        };
        let _ = writeln!(out, "    Note over {side}: {}", note_text(&note));
    }
}

/// What a segment says, one entry per line, summarised past [`MAX_LINES`]:
/// TLS records by type and size when the bytes are not readable.
fn summary(bytes: &[u8]) -> Vec<String> {
    if !crate::render::text::is_text(bytes) {
        let records = crate::proto::tls::RecordInfo::read(bytes);
        if records.is_empty() {
            return vec![format!("{} bytes of binary data", bytes.len())];
        }
        let records: Vec<String> = records.iter().map(|r| format!("{} {} B", r.content_type, r.length)).collect();
        return vec![format!("TLS records: {}", records.join(", "))];
    }
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.split_inclusive('\n').map(|l| l.trim_end_matches(['\r', '\n'])).collect();
    let mut out: Vec<String> = lines.iter().take(MAX_LINES).map(|l| (*l).to_owned()).collect();
    if lines.len() > MAX_LINES {
        out.truncate(MAX_LINES - 1);
        out.push(format!("... {} more lines", lines.len() - (MAX_LINES - 1)));
    }
    out
}

/// Text made safe for a Mermaid message: entity codes for the characters its
/// grammar gives a meaning (`;` `#` `<` `>` and the like), and a length cap.
fn label(s: &str) -> String {
    escape(s, MAX_LABEL)
}

fn note_text(s: &str) -> String {
    escape(s, MAX_NOTE)
}

fn escape(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push_str("...");
            break;
        }
        match c {
            ';' => out.push_str("#59;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '%' => out.push_str("#37;"),
            '{' => out.push_str("#123;"),
            '}' => out.push_str("#125;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    if out.trim().is_empty() {
        out = "(empty line)".into();
    }
    out
}

/// Every TLS record of the session, dissected: what anyone on the path sees
/// (the header, and cleartext messages field by field) and what the receiver
/// found inside, each field with its note (`smtp-lab run --format tls`).
/// `server_chain` is the server's own chain, shown beside another that
/// reached the client.
pub fn tls(trace: &Trace, server_chain: &[rustls::pki_types::CertificateDer<'_>]) -> String {
    let records = crate::render::dissect::dissect(trace);
    let mut out = String::new();
    if records.is_empty() {
        out.push_str("no TLS in this session\n");
        return out;
    }
    let _ = writeln!(out, "Header fields, visible on every record:");
    for (name, note) in crate::render::dissect::HEADER_NOTES {
        let _ = writeln!(out, "  {name}: {note}");
    }
    let messages = |out: &mut String, ms: &[crate::render::dissect::DissectedMessage]| {
        for m in ms {
            let _ = writeln!(out, "    {} ({})", m.kind, m.section);
            if let Some(note) = m.note {
                let _ = writeln!(out, "      = {note}");
            }
            for f in &m.fields {
                let _ = writeln!(out, "      {}: {}", f.name, f.value);
                if let Some(note) = f.note {
                    let _ = writeln!(out, "        = {note}");
                }
            }
        }
    };
    let context = crate::render::tls_view::CertificateContext::of(trace, server_chain);
    for r in &records {
        let (client_check, real_chain) = context.annotate(r);
        let arrow = match r.direction {
            Direction::ClientToServer => "client -> server",
            Direction::ServerToClient => "server -> client",
        };
        let sent = if r.as_sent { "  (as sent; not what crossed)" } else { "" };
        let _ = writeln!(
            out,
            "\nstep {:>3}  {arrow}  {} record, version 0x{:04x}, {} bytes{sent}",
            r.step, r.content_type, r.version, r.length
        );
        if !r.visible.is_empty() {
            let _ = writeln!(out, "  on the path, in cleartext:");
            messages(&mut out, &r.visible);
        }
        match (&r.inside, &r.error) {
            (Some(inside), _) => {
                let _ = writeln!(
                    out,
                    "  on the path: {} bytes of ciphertext; inside, opened with the session's keys: {}",
                    r.length, inside.content_type
                );
                messages(&mut out, &inside.messages);
                if let Some(data) = &inside.data {
                    for line in String::from_utf8_lossy(&data.0).split_inclusive('\n') {
                        let _ = writeln!(out, "    {}", line.escape_debug());
                    }
                }
            }
            (None, Some(e)) => {
                let _ = writeln!(out, "  on the path: {} bytes of ciphertext; {e}", r.length);
            }
            (None, None) => {}
        }
        if let Some(check) = client_check {
            // The transcript's marks: *** a warning or failure, === what happened.
            let _ = writeln!(out, "  {} {}", if check.failed { "***" } else { "===" }, check.text);
        }
        if let Some(real) = real_chain {
            let _ = writeln!(out, "  The server's own certificate, which the client never received:");
            for f in real {
                let _ = writeln!(out, "      {}: {}", f.name, f.value);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_escape_what_mermaid_reads_as_syntax() {
        assert_eq!(label("MAIL FROM:<a@b>; #1"), "MAIL FROM:#lt;a@b#gt;#59; #35;1");
        assert_eq!(label(""), "(empty line)");
        assert_eq!(label(&"x".repeat(100)).len(), MAX_LABEL + 3);
    }
}
