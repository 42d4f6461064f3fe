//! One line for any event, as every view shows it: the transcript prints
//! the lines that matter, the page shows all of them.

use serde::Serialize;

use crate::proto::endpoint::SessionEvent;
use crate::proto::http::HttpEvent;
use crate::proto::policy::sender::SenderEvent;
use crate::proto::smtp::client::{ClientEvent, NoTlsReason};
use crate::proto::smtp::server::ServerEvent;
use crate::sim::trace::Event;
use crate::vocab::Named;

/// Which side an event or a byte block belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Party {
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
    pub side: Party,
    pub weight: Weight,
    #[serde(serialize_with = "crate::cite::as_prose")]
    pub text: String,
}

/// One line for any event. Lines the transcript prints are `Info` or `Warning`.
pub fn describe(event: &Event) -> EventLine {
    let (side, name) = match event {
        Event::Client(_) | Event::HttpsClient(_) | Event::Sender(_) => (Party::Client, "client"),
        Event::Server(_) | Event::HttpsServer(_) => (Party::Server, "server"),
    };
    let notable = match event {
        Event::Client(e) => describe_session(e, name).or_else(|| match e {
            SessionEvent::Machine(c) => describe_client(c),
            _ => None,
        }),
        Event::Server(e) => describe_session(e, name).or_else(|| match e {
            SessionEvent::Machine(s) => describe_server(s),
            _ => None,
        }),
        Event::HttpsClient(e) => describe_session(e, "policy fetch").or_else(|| match e {
            SessionEvent::Machine(h) => describe_http(h, "sender"),
            _ => None,
        }),
        Event::HttpsServer(e) => describe_session(e, "policy host").or_else(|| match e {
            SessionEvent::Machine(h) => describe_http(h, "policy host"),
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
                Some(c) => format!("certificate NOT valid ({})", c.failure.as_ref().map_or("?", |f| f.detail.as_str())),
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
        SessionEvent::Machine(_) => None,
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
        ClientEvent::CertificateNotValidated { failure: error } => {
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
    let reply = |r: &crate::proto::smtp::codec::Reply| format!("{} {}", r.code, r.lines.first().map_or("", String::as_str));
    match event {
        Event::Client(SessionEvent::Machine(e)) => match e {
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
        Event::Server(SessionEvent::Machine(e)) => match e {
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
pub(crate) fn dns_label(lookup: &crate::proto::policy::dns::Lookup) -> String {
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
