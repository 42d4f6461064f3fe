//! What a session amounted to, read from its trace: never declared by the
//! scenario, always found in the bytes and events, each with the step where
//! it happened. [`analyse`] reads one trace; the attack × policy [`matrix`]
//! runs and reads them all; [`tlsrpt`]'s report is what a sender would send
//! its recipient about the TLS it found (RFC 8460).
//!
//! This file is the face; the matrix and the report keep their own namespaces.

pub mod matrix;
pub mod tlsrpt;

use serde::Serialize;

use crate::proto::endpoint::SessionEvent;
use crate::proto::policy::dns::Qtype;
use crate::proto::policy::sender::Refusal;
use crate::proto::policy::sender::SenderEvent;
use crate::proto::policy::spf::SpfResult;
use crate::proto::smtp::client::AbortReason;
use crate::proto::smtp::client::ClientEvent;
use crate::proto::smtp::codec::{sasl, Command, Reply};
use crate::proto::smtp::server::ServerEvent;
use crate::proto::tls_info::TlsError;
use crate::sim::route;
use crate::sim::scenario::Scenario;
use crate::sim::trace::{Event, Trace};
use crate::vocab::{as_optional_text, as_text};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// The username and password, decoded from bytes an attacker could read.
    CredentialsExposed {
        username: String,
        password: String,
    },
    /// The message text crossed where an attacker could read it.
    MessageRead,
    /// The server executed a command the client never sent.
    CommandInjected {
        command: String,
        under_tls: bool,
    },
    /// The client took, as coming through TLS, a reply the server never sent.
    ForgedReplyAccepted {
        reply: String,
    },
    /// The server accepted a message the client never sent.
    SpoofedMessageAccepted {
        from: String,
    },
    /// The server cut one message in two at a non-standard end-of-data
    /// sequence and accepted the second part as a message of its own.
    SmuggledMessageAccepted {
        from: String,
        /// The sequence, escaped (`\n.\r\n`).
        sequence: String,
        /// The receiver's SPF verdict on the smuggled MAIL FROM, if it checked.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        spf: Option<SpfResult>,
    },
    /// The server stored a different body from the one the client sent.
    MessageAltered,
    /// The sender delivered to a server the attacker named in a forged MX answer.
    DeliveredToAttacker {
        host: String,
    },
    /// The client acted inside TLS on capabilities tampered with in cleartext.
    TamperedStateUsed,
    /// The client gave up (or never got through) without exposing anything.
    AbortedSafely {
        #[serde(serialize_with = "as_text")]
        reason: Stop,
    },
    DeliveredSecurely,
    DeliveredInCleartext,
}

impl Outcome {
    /// A short label for tables.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::CredentialsExposed { .. } => "PASSWORD",
            Outcome::SpoofedMessageAccepted { .. } => "SPOOFED",
            Outcome::SmuggledMessageAccepted { .. } => "SMUGGLED",
            Outcome::CommandInjected { .. } => "INJECTED",
            Outcome::ForgedReplyAccepted { .. } => "FORGED",
            Outcome::TamperedStateUsed => "TAMPERED",
            Outcome::MessageRead => "READ",
            Outcome::MessageAltered => "ALTERED",
            Outcome::DeliveredToAttacker { .. } => "MISROUTED",
            Outcome::DeliveredInCleartext => "cleartext",
            Outcome::AbortedSafely { .. } => "aborted",
            Outcome::DeliveredSecurely => "secure",
        }
    }

    /// Did the attacker gain something?
    pub fn is_compromise(&self) -> bool {
        !matches!(self, Outcome::AbortedSafely { .. } | Outcome::DeliveredSecurely | Outcome::DeliveredInCleartext)
    }

    fn rank(&self) -> u8 {
        match self {
            Outcome::CredentialsExposed { .. } => 0,
            Outcome::SpoofedMessageAccepted { .. } | Outcome::SmuggledMessageAccepted { .. } => 1,
            Outcome::DeliveredToAttacker { .. } => 2,
            Outcome::CommandInjected { .. } => 2,
            Outcome::MessageRead => 3,
            Outcome::ForgedReplyAccepted { .. } => 4,
            Outcome::TamperedStateUsed => 5,
            Outcome::MessageAltered => 6,
            Outcome::DeliveredInCleartext => 7,
            Outcome::AbortedSafely { .. } => 8,
            Outcome::DeliveredSecurely => 9,
        }
    }

    /// One sentence for a banner.
    pub fn describe(&self) -> String {
        match self {
            Outcome::CredentialsExposed { username, password } => format!("password exposed: {username} / {password} readable on the wire"),
            Outcome::MessageRead => "the message crossed the wire readable".into(),
            Outcome::CommandInjected { command, under_tls: true } => {
                format!("the server executed {command:?} inside TLS, though the client never sent it")
            }
            Outcome::CommandInjected { command, under_tls: false } => {
                format!("the server executed {command:?}, though the client never sent it")
            }
            Outcome::ForgedReplyAccepted { reply } => format!("the client took a forged reply as protected by TLS: {reply:?}"),
            Outcome::SpoofedMessageAccepted { from } => format!("the server accepted a second, spoofed message from <{from}>"),
            Outcome::SmuggledMessageAccepted { from, sequence, spf } => {
                let spf = spf.as_ref().map(|r| format!("; its SPF check: {r}")).unwrap_or_default();
                format!("the server ended the message at {sequence} and accepted what followed as a second message, from <{from}>{spf}")
            }
            Outcome::MessageAltered => "the server stored a body different from what the client sent".into(),
            Outcome::DeliveredToAttacker { host } => {
                format!("the message went to {host}, Mallory's server, which a forged MX answer named: she reads it in full")
            }
            Outcome::TamperedStateUsed => "the client acted inside TLS on capabilities an attacker rewrote in cleartext".into(),
            Outcome::AbortedSafely { reason } => format!("aborted safely: {reason}"),
            Outcome::DeliveredSecurely => "delivered, with everything sensitive inside TLS".into(),
            Outcome::DeliveredInCleartext => "delivered, in cleartext".into(),
        }
    }
}

/// An outcome and the trace step that shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    #[serde(flatten)]
    pub outcome: Outcome,
    pub step: usize,
    /// In a journey, the hop it happened on: `hop 2 (MTA → MX, port 25)`.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "as_optional_text")]
    pub hop: Option<HopName>,
}

/// Why a session ended without delivering, and without exposing anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stop {
    #[error(transparent)]
    Client(AbortReason),
    #[error("the sender would not deliver: {0}")]
    Sender(Refusal),
    #[error("TLS failed: {0}")]
    Tls(TlsError),
    #[error("the message was not delivered")]
    NotDelivered,
}

/// A hop of a journey as a finding names it: `hop 2 (MTA → MX, port 25)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HopName {
    /// Counted from 0.
    pub index: usize,
    /// Its client and server, and the port, when the trace knows them.
    pub between: Option<(String, String, u16)>,
}

impl std::fmt::Display for HopName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.between {
            Some((client, server, port)) => write!(f, "hop {} ({client} → {server}, port {port})", self.index + 1),
            None => write!(f, "hop {}", self.index + 1),
        }
    }
}

impl Finding {
    fn at(outcome: Outcome, step: usize) -> Finding {
        Finding { outcome, step, hop: None }
    }

    /// One sentence, naming the hop in a journey.
    pub fn describe(&self) -> String {
        match &self.hop {
            Some(hop) => format!("{hop}: {}", self.outcome.describe()),
            None => self.outcome.describe(),
        }
    }
}

/// How a finding names its hop.
fn hop_name(trace: &Trace, hop: usize) -> HopName {
    HopName { index: hop, between: trace.hops.get(hop).map(|h| (h.client.clone(), h.server.clone(), h.server_port)) }
}

/// Reads the outcomes of `trace`, most serious first. `scenario` supplies
/// only what the client meant to do (its message and password), to compare
/// against what happened.
pub fn analyse(scenario: &Scenario, trace: &Trace) -> Vec<Finding> {
    if scenario.relay.is_none() {
        return analyse_hop(scenario, trace);
    }
    // A journey: each hop read as the connection it is, with the scenario it ran.
    let mut out = Vec::new();
    for (i, s) in route::hop_scenarios(scenario, trace).iter().enumerate() {
        let hop = trace.hop(i);
        if hop.steps.is_empty() {
            continue;
        }
        out.extend(analyse_hop(s, &hop).into_iter().map(|f| Finding { hop: Some(hop_name(trace, i)), ..f }));
    }
    out.sort_by_key(|f| (f.outcome.rank(), f.step));
    out
}

fn analyse_hop(scenario: &Scenario, trace: &Trace) -> Vec<Finding> {
    let mut out = Vec::new();
    credentials(trace, &mut out);
    message_read(scenario, trace, &mut out);
    let tampered_before_tls = commands_and_replies(trace, &mut out);
    messages(scenario, trace, &mut out);
    // The commands of a smuggled message are that message's: one finding says it.
    let smuggled: Vec<usize> =
        out.iter().filter(|f| matches!(f.outcome, Outcome::SmuggledMessageAccepted { .. })).map(|f| f.step).collect();
    out.retain(|f| !(matches!(f.outcome, Outcome::CommandInjected { .. }) && smuggled.contains(&f.step)));
    let reused = trace.client_events().find(|(_, e)| matches!(e, ClientEvent::ReusedPreTlsCapabilities));
    if let Some(step) = reused.map(|(s, _)| s.index).filter(|_| tampered_before_tls) {
        out.push(Finding::at(Outcome::TamperedStateUsed, step));
    }
    misrouted(trace, &mut out);
    let delivered = trace.server_events().find_map(|(s, e)| match e {
        ServerEvent::MessageAccepted { under_tls, .. } => Some((s.index, *under_tls)),
        _ => None,
    });
    let compromised = out.iter().any(|f| f.outcome.is_compromise());
    match delivered {
        Some((step, true)) if !compromised => out.push(Finding::at(Outcome::DeliveredSecurely, step)),
        Some((step, false)) => out.push(Finding::at(Outcome::DeliveredInCleartext, step)),
        Some(_) => {}
        None if !compromised => {
            let reason = trace.events().find_map(|(s, e)| match e {
                Event::Sender(SenderEvent::DeliveryRefused { reason, .. } | SenderEvent::Bounced { reason }) => {
                    Some((s.index, Stop::Sender(reason.clone())))
                }
                Event::Client(SessionEvent::Machine(ClientEvent::Aborted { reason })) => Some((s.index, Stop::Client(reason.clone()))),
                Event::Client(SessionEvent::TlsFailed { error }) => Some((s.index, Stop::Tls(error.clone()))),
                _ => None,
            });
            let (step, reason) = reason.unwrap_or((trace.steps.len().saturating_sub(1), Stop::NotDelivered));
            out.push(Finding::at(Outcome::AbortedSafely { reason }, step));
        }
        None => {}
    }
    out.sort_by_key(|f| (f.outcome.rank(), f.step));
    out
}

/// A message accepted by a server that a forged (unsigned) MX answer named.
fn misrouted(trace: &Trace, out: &mut Vec<Finding>) {
    let forged: Vec<&str> = trace.lookups().filter(|l| l.qtype == Qtype::Mx && l.tampered.is_some()).flat_map(|l| l.mx_hosts()).collect();
    if !forged.iter().any(|h| h.eq_ignore_ascii_case(&trace.server_name)) {
        return;
    }
    if let Some((step, _)) = trace.server_events().find(|(_, e)| matches!(e, ServerEvent::MessageAccepted { .. })) {
        out.push(Finding::at(Outcome::DeliveredToAttacker { host: trace.server_name.clone() }, step.index));
    }
}

/// Credentials, decoded from what an attacker could read: AUTH PLAIN carries
/// both in one base64 token; AUTH LOGIN sends them as two lines.
fn credentials(trace: &Trace, out: &mut Vec<Finding>) {
    let mut decoded: Vec<(usize, String)> = Vec::new();
    for (step, bytes) in trace.attacker_view() {
        for line in bytes.split(|&b| b == b'\n') {
            let text = String::from_utf8_lossy(line);
            for token in text.trim_end().split(' ').filter(|t| t.len() >= 4) {
                if let Ok((username, password)) = sasl::parse_plain(token) {
                    out.push(Finding::at(Outcome::CredentialsExposed { username, password: password.expose().to_owned() }, step));
                    return;
                }
                if let Ok(s) = sasl::decode_text(token) {
                    decoded.push((step, s));
                }
            }
        }
    }
    // LOGIN: after the "Username:" prompt come the username and then the password.
    let prompt = |s: &str| s == "Username:";
    if let Some(i) = decoded.iter().position(|(_, s)| prompt(s)) {
        let rest: Vec<&(usize, String)> = decoded[i + 1..].iter().filter(|(_, s)| s != "Password:" && !prompt(s)).collect();
        if let [user, pass, ..] = rest.as_slice() {
            out.push(Finding::at(Outcome::CredentialsExposed { username: user.1.clone(), password: pass.1.clone() }, pass.0));
        }
    }
}

/// The first line of the message body, found in what an attacker could read.
fn message_read(scenario: &Scenario, trace: &Trace, out: &mut Vec<Finding>) {
    let m = &scenario.client.message;
    let body = m.windows(4).position(|w| w == b"\r\n\r\n").map_or(&m[..], |i| &m[i + 4..]);
    let Some(needle) = body.split(|&b| b == b'\r' || b == b'\n').find(|l| l.len() >= 6) else { return };
    if let Some((step, _)) = trace.attacker_view().into_iter().find(|(_, b)| b.windows(needle.len()).any(|w| w == needle)) {
        out.push(Finding::at(Outcome::MessageRead, step));
    }
}

/// Commands the server ran that the client never sent, and replies the
/// client took as protected that the server never sent. Returns whether a
/// cleartext reply was tampered with.
fn commands_and_replies(trace: &Trace, out: &mut Vec<Finding>) -> bool {
    // Match within the same TLS phase, so that a duplicate in cleartext cannot use up
    // what was said inside TLS. The phases line up only when client and server had
    // TLS with each other; a client whose TLS ended at an attacker (mitm-cert) said
    // everything the server heard in one phase.
    let established = |client: bool| {
        trace.events().any(|(_, e)| match e {
            Event::Client(SessionEvent::TlsEstablished { .. }) => client,
            Event::Server(SessionEvent::TlsEstablished { .. }) => !client,
            _ => false,
        })
    };
    let aligned = established(true) && established(false);
    let phase = |under_tls: bool| usize::from(aligned && under_tls);
    let sent: Vec<(String, usize)> = trace
        .client_events()
        .filter_map(|(_, e)| match e {
            ClientEvent::CommandSent { command, under_tls } => Some((command.to_string(), phase(*under_tls))),
            _ => None,
        })
        .collect();
    let mut next = [0usize; 2];
    for (step, e) in trace.server_events() {
        let ServerEvent::CommandReceived { command, under_tls } = e else { continue };
        let (text, p) = (command.to_string(), phase(*under_tls));
        let from = next[p].min(sent.len());
        match sent[from..].iter().position(|(c, q)| *q == p && *c == text) {
            Some(k) => next[p] = from + k + 1,
            None if !matches!(command, Command::Quit) => {
                out.push(Finding::at(Outcome::CommandInjected { command: text, under_tls: *under_tls }, step.index))
            }
            None => {}
        }
    }
    // The server's replies, each with the phase it was sent in.
    let mut server_tls = false;
    let mut replies: Vec<(&Reply, usize)> = Vec::new();
    for (_, e) in trace.events() {
        match e {
            Event::Server(SessionEvent::TlsEstablished { .. }) => server_tls = true,
            Event::Server(SessionEvent::Machine(ServerEvent::ReplySent { reply })) => replies.push((reply, phase(server_tls))),
            _ => {}
        }
    }
    let (mut next, mut tampered) = ([0usize; 2], false);
    for (step, e) in trace.client_events() {
        let ClientEvent::ReplyReceived { reply, under_tls } = e else { continue };
        let p = phase(*under_tls);
        let from = next[p].min(replies.len());
        match replies[from..].iter().position(|(r, q)| *q == p && *r == reply) {
            Some(k) => next[p] = from + k + 1,
            None if *under_tls => out.push(Finding::at(Outcome::ForgedReplyAccepted { reply: reply.to_string() }, step.index)),
            None => tampered = true,
        }
    }
    tampered
}

/// More messages accepted than the client sent, or a different body.
fn messages(scenario: &Scenario, trace: &Trace, out: &mut Vec<Finding>) {
    // What an honest sender's body looks like after DATA: with a final CRLF.
    let mut expected = scenario.client.message.clone();
    if !expected.is_empty() && !expected.ends_with(b"\r\n") {
        expected.extend_from_slice(b"\r\n");
    }
    let accepted: Vec<(usize, &ServerEvent)> =
        trace.server_events().filter(|(_, e)| matches!(e, ServerEvent::MessageAccepted { .. })).map(|(s, e)| (s.index, e)).collect();
    for (i, (step, e)) in accepted.iter().enumerate() {
        let ServerEvent::MessageAccepted { envelope, body, .. } = e else { continue };
        // Where the message before this one ended: a non-standard sequence means one DATA became two.
        let split_at = match i.checked_sub(1).map(|k| accepted[k].1) {
            Some(ServerEvent::MessageAccepted { ended_by: Some(v), .. }) => Some(v),
            _ => None,
        };
        if let Some(variant) = split_at {
            let domain = envelope.from.rsplit_once('@').map_or("", |(_, d)| d);
            let spf = trace
                .server_events()
                .filter(|(s, _)| s.index <= *step)
                .filter_map(|(_, e)| match e {
                    ServerEvent::SpfChecked { check } if check.domain.eq_ignore_ascii_case(domain) => Some(check.result),
                    _ => None,
                })
                .last();
            let sequence = variant.escaped();
            out.push(Finding::at(Outcome::SmuggledMessageAccepted { from: envelope.from.clone(), sequence, spf }, *step));
        } else if i > 0 {
            out.push(Finding::at(Outcome::SpoofedMessageAccepted { from: envelope.from.clone() }, *step));
        } else if scenario.client.stuff_dots && body.as_slice() != expected.as_slice() {
            out.push(Finding::at(Outcome::MessageAltered, *step));
        }
    }
}
