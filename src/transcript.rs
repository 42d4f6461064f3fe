//! Renders a trace as a transcript in the style people know from swaks:
//! ` -> ` client to server and `<-  ` back in cleartext, ` ~> ` / `<~  `
//! inside TLS, `===` for what happened around the bytes, `***` for warnings,
//! `!!!` for what a middlebox did.

use std::fmt::Write;

use crate::client::{ClientEvent, NoTlsReason};
use crate::server::ServerEvent;
use crate::session::SessionEvent;
use crate::trace::{Direction, Event, Step, StepKind, Trace};

/// Body lines shown before the rest is summarised.
const MAX_BODY_LINES: usize = 40;

pub fn render(trace: &Trace) -> String {
    let what = if trace.simulated { "simulated session" } else { "session" };
    let mut out = format!("=== {what} to {}:{}\n", trace.server_name, trace.server_port);
    for step in &trace.steps {
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
    match step.kind {
        StepKind::Connect => {
            let _ = writeln!(out, "=== [{t}s] connected");
        }
        StepKind::Timeout => {
            let _ = writeln!(out, "=== [{t}s] a timer fired");
        }
        StepKind::Fin => {
            let who = match step.direction {
                Some(Direction::ClientToServer) => "client",
                _ => "server",
            };
            let _ = writeln!(out, "=== [{t}s] {who} closed the connection");
        }
        StepKind::Dropped | StepKind::Segment => render_segment(out, step),
    }
    if let Some(note) = &step.middlebox {
        let _ = writeln!(out, "!!! {note}");
        if let (Some(sent), Some(wire)) = (&step.sent, &step.wire) {
            if sent != wire && !step.encrypted {
                let _ = writeln!(out, "!!! what the sender had written:");
                for line in String::from_utf8_lossy(&sent.0).lines().take(MAX_BODY_LINES) {
                    let _ = writeln!(out, "!!!   {}", line.escape_debug());
                }
            }
        }
    }
    for event in &step.events {
        if let Some(line) = describe(event) {
            let _ = writeln!(out, "{line}");
        }
    }
}

fn render_segment(out: &mut String, step: &Step) {
    let c2s = step.direction == Some(Direction::ClientToServer);
    let marker = match (c2s, step.encrypted) {
        (true, false) => " -> ",
        (true, true) => " ~> ",
        (false, false) => "<-  ",
        (false, true) => "<~  ",
    };
    if step.kind == StepKind::Dropped {
        let n = step.sent.as_ref().map_or(0, |b| b.0.len());
        let _ = writeln!(out, "!!! {n} bytes from the {} stopped at the middlebox", if c2s { "client" } else { "server" });
        return;
    }
    let text = match (&step.receiver_plaintext, &step.sender_plaintext, step.encrypted) {
        (Some(p), _, _) => Some(p),
        (None, _, false) => step.wire.as_ref(),
        (None, Some(p), true) if step.records.iter().all(|r| r.content_type == "application_data") => Some(p),
        _ => None,
    };
    if step.encrypted && !step.records.iter().all(|r| r.content_type == "application_data") {
        let records: Vec<String> = step.records.iter().map(|r| format!("{} {}B", r.content_type, r.length)).collect();
        let _ = writeln!(out, "{marker}[TLS: {}]", records.join(", "));
    }
    if let Some(text) = text.filter(|t| !is_text(&t.0)) {
        let hex: Vec<String> = text.0.iter().take(16).map(|b| format!("{b:02x}")).collect();
        let more = if text.0.len() > 16 { " ..." } else { "" };
        let _ = writeln!(out, "{marker}[{} bytes, not text: {}{more}]", text.0.len(), hex.join(" "));
    } else if let Some(text) = text {
        let s = String::from_utf8_lossy(&text.0);
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

/// Printable ASCII, line endings, tabs, or UTF-8 text.
pub(crate) fn is_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|s| s.chars().all(|c| !c.is_control() || matches!(c, '\r' | '\n' | '\t')))
}

/// One line for the events worth a line; `None` for the rest (already visible as bytes).
fn describe(event: &Event) -> Option<String> {
    match event {
        Event::Client(e) => describe_session(e, "client").or_else(|| match e {
            SessionEvent::Smtp(c) => describe_client(c),
            _ => None,
        }),
        Event::Server(e) => describe_session(e, "server").or_else(|| match e {
            SessionEvent::Smtp(s) => describe_server(s),
            _ => None,
        }),
    }
}

fn describe_session<E>(e: &SessionEvent<E>, side: &str) -> Option<String> {
    Some(match e {
        SessionEvent::TlsHandshakeStarted { implicit: true } => format!("=== {side}: TLS handshake (implicit TLS)"),
        SessionEvent::TlsHandshakeStarted { implicit: false } => format!("=== {side}: TLS handshake (STARTTLS)"),
        SessionEvent::TlsEstablished { info } if side == "client" => {
            let cert = match &info.cert_check {
                Some(c) if c.valid => format!("certificate for {} valid", info.peer_subject.as_deref().unwrap_or("?")),
                Some(c) => format!("certificate NOT valid ({})", c.error.as_deref().unwrap_or("?")),
                None => String::new(),
            };
            format!("=== TLS started with {} {}; {cert}", info.version, info.cipher)
        }
        SessionEvent::TlsEstablished { .. } => return None,
        SessionEvent::TlsFailed { error } => format!("*** {side}: TLS failed: {error}"),
        SessionEvent::DiscardedAtUpgrade { bytes } => {
            format!("=== {side} discarded {} bytes that arrived before TLS: {:?}", bytes.0.len(), String::from_utf8_lossy(&bytes.0))
        }
        SessionEvent::KeptAcrossUpgrade { bytes } => format!(
            "*** {side} kept {} bytes from before TLS and will treat them as protected: {:?}",
            bytes.0.len(),
            String::from_utf8_lossy(&bytes.0)
        ),
        SessionEvent::Smtp(_) => return None,
    })
}

fn describe_client(e: &ClientEvent) -> Option<String> {
    Some(match e {
        ClientEvent::FellBackToHelo { .. } => "=== client: EHLO refused, falling back to HELO (no extensions, so no STARTTLS)".into(),
        ClientEvent::ContinuedWithoutTls(NoTlsReason::NotOffered) => "*** client: STARTTLS not offered; continuing in cleartext".into(),
        ClientEvent::ContinuedWithoutTls(NoTlsReason::Refused { reply }) => {
            format!("*** client: STARTTLS refused ({}); continuing in cleartext", reply.code)
        }
        ClientEvent::CertificateNotValidated { error } => format!("*** client: certificate not validated ({error}); continuing anyway"),
        ClientEvent::AuthSentBeforeTls { mechanism } => {
            format!("*** client: sending AUTH {} without TLS: the password crosses the wire readable", mechanism.name())
        }
        ClientEvent::ReusedPreTlsCapabilities => "*** client: reusing capabilities learned before TLS".into(),
        ClientEvent::MessageAccepted { .. } => "=== client: message accepted".into(),
        ClientEvent::MessageRejected { reply } => format!("*** client: message refused ({})", reply.code),
        ClientEvent::Aborted { reason } => format!("*** client aborted: {reason}"),
        ClientEvent::TimedOut { waiting_for } => format!("*** client timed out waiting for {waiting_for}"),
        ClientEvent::BadReply { error } => format!("*** client: bad reply: {error}"),
        _ => return None,
    })
}

fn describe_server(e: &ServerEvent) -> Option<String> {
    Some(match e {
        ServerEvent::AuthSucceeded { username, under_tls, .. } => {
            format!("=== server: {username} authenticated{}", if *under_tls { " (inside TLS)" } else { " IN CLEARTEXT" })
        }
        ServerEvent::AuthFailed { reason, .. } => format!("=== server: authentication failed: {reason}"),
        ServerEvent::MessageAccepted { queue_id, envelope, body, under_tls, .. } => format!(
            "=== server: queued {queue_id} from <{}> to {} ({} bytes{})",
            envelope.from,
            envelope.to.iter().map(|t| format!("<{t}>")).collect::<Vec<_>>().join(", "),
            body.0.len(),
            if *under_tls { ", received over TLS" } else { ", received in cleartext" }
        ),
        ServerEvent::MessageRejected { reason, .. } => format!("=== server: message rejected: {reason}"),
        ServerEvent::AbortedMidData { received } => {
            format!("=== server: connection lost during DATA after {received} bytes; message dropped")
        }
        ServerEvent::BadCommand { error } => format!("=== server: bad command: {error}"),
        ServerEvent::TimedOut => "=== server: idle timeout".into(),
        _ => return None,
    })
}
