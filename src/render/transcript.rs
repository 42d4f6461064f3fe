//! Renders a trace as a transcript in the style people know from swaks:
//! ` -> ` client to server and `<-  ` back in cleartext, ` ~> ` / `<~  `
//! inside TLS, `===` for what happened around the bytes, `***` for warnings,
//! `!!!` for what a middlebox did.

use std::fmt::Write;

use crate::render::describe::{describe, Weight};
use crate::render::text::{is_text, spaced_hex};
use crate::sim::trace::{Direction, Step, StepKind, Trace};

/// Body lines shown before the rest is summarised.
const MAX_BODY_LINES: usize = 40;

pub fn transcript(trace: &Trace) -> String {
    let what = if trace.simulated { "simulated session" } else { "session" };
    let mut out = match trace.hops.last() {
        Some(last) => {
            format!("=== {what}: a message's journey over {} hops, to {}:{}\n", trace.hops.len(), last.server_name, last.server_port)
        }
        None => format!("=== {what} to {}:{}\n", trace.server_name, trace.server_port),
    };
    let mut hop = usize::MAX;
    for step in &trace.steps {
        if let (Some(h), true) = (trace.hops.get(step.hop), step.hop != hop) {
            hop = step.hop;
            let _ = writeln!(out, "=== hop {}: {} to {} at {}:{}", hop + 1, h.client, h.server, h.server_name, h.server_port);
        }
        render_step(&mut out, step);
    }
    if trace.truncated {
        out.push_str("*** the session hit the step limit and was cut short\n");
    }
    out
}

fn render_step(out: &mut String, step: &Step) {
    // Seconds with three decimals, in integers: float formatting would add
    // kilobytes to the browser build for this one line.
    let t = format!("{:3}.{:03}", step.at_ms / 1000, step.at_ms % 1000);
    match step.kind() {
        StepKind::Connect => {
            let _ = writeln!(out, "=== [{t}s] connected");
        }
        StepKind::Timeout => {
            let _ = writeln!(out, "=== [{t}s] a timer fired");
        }
        StepKind::Fin => {
            let who = match step.direction() {
                Some(Direction::ClientToServer) => "client",
                _ => "server",
            };
            let _ = writeln!(out, "=== [{t}s] {who} closed the connection");
        }
        StepKind::Dropped | StepKind::Segment if step.lane == crate::sim::trace::Lane::Https => {
            let _ = writeln!(out, "--- [{t}s] HTTPS, policy fetch:");
            render_segment(out, step);
        }
        StepKind::Dropped | StepKind::Segment => render_segment(out, step),
        StepKind::Dns => {
            if let Some(lookup) = &step.dns() {
                let _ = writeln!(out, "=== [{t}s] {}", crate::render::describe::dns_label(lookup));
            }
        }
        StepKind::Decision => {}
    }
    if let Some(note) = &step.middlebox() {
        let _ = writeln!(out, "!!! {note}");
        if let (Some(sent), Some(wire)) = (&step.sent(), &step.wire()) {
            if sent != wire && !step.tls() {
                // The change, line by line: what the sender wrote that the wire did not carry, and what it carried instead.
                let (wrote, carried) = (String::from_utf8_lossy(&sent.0), String::from_utf8_lossy(&wire.0));
                let (wrote_lines, carried_lines): (Vec<&str>, Vec<&str>) =
                    (wrote.split_inclusive('\n').collect(), carried.split_inclusive('\n').collect());
                let _ = writeln!(out, "!!! the change (- the sender wrote it, the wire did not carry it; + put in on the wire):");
                for change in crate::render::view::line_changes(&wrote, &carried).into_iter().take(MAX_BODY_LINES) {
                    let (mark, line) = match change {
                        crate::render::view::LineChange::Removed(i) => ('-', wrote_lines[i]),
                        crate::render::view::LineChange::Added(i) => ('+', carried_lines[i]),
                    };
                    let _ = writeln!(out, "!!!   {mark} {}", line.trim_end_matches(['\r', '\n']).escape_debug());
                }
            }
        }
    }
    for line in step.events.iter().map(describe) {
        let mark = match line.weight {
            Weight::Detail => continue,
            Weight::Info => "===",
            Weight::Warning => "***",
        };
        let _ = writeln!(out, "{mark} {}", line.text);
    }
}

fn render_segment(out: &mut String, step: &Step) {
    let c2s = step.direction() == Some(Direction::ClientToServer);
    let marker = match (c2s, step.tls()) {
        (true, false) => " -> ",
        (true, true) => " ~> ",
        (false, false) => "<-  ",
        (false, true) => "<~  ",
    };
    if step.kind() == StepKind::Dropped {
        let n = step.sent().map_or(0, |b| b.0.len());
        let _ = writeln!(out, "!!! {n} bytes from the {} stopped at the middlebox", if c2s { "client" } else { "server" });
        return;
    }
    if let Some(records) = step.handshake_records() {
        let records: Vec<String> = records.iter().map(|r| format!("{} {}B", r.content_type, r.length)).collect();
        let _ = writeln!(out, "{marker}[TLS: {}]", records.join(", "));
    }
    let text = step.shown();
    if let Some(text) = text.filter(|t| !is_text(t)) {
        let more = if text.len() > 16 { " ..." } else { "" };
        let _ = writeln!(out, "{marker}[{} bytes, not text: {}{more}]", text.len(), spaced_hex(&text[..text.len().min(16)]));
    } else if let Some(text) = text {
        let s = String::from_utf8_lossy(text);
        let lines: Vec<&str> = s.split_inclusive('\n').collect();
        for line in lines.iter().take(MAX_BODY_LINES) {
            let shown = line.trim_end_matches(['\r', '\n']).escape_debug().to_string();
            let bare = if line.ends_with('\n') && !line.ends_with("\r\n") { "  (bare LF)" } else { "" };
            let _ = writeln!(out, "{marker}{shown}{bare}");
        }
        if lines.len() > MAX_BODY_LINES {
            let _ = writeln!(out, "{marker}... {} more lines", lines.len() - MAX_BODY_LINES);
        }
    }
}
