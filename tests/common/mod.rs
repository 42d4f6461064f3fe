//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::Arc;

use smtp_lab::proto::{ClientEvent, ServerEvent, SessionEvent, TlsError};
use smtp_lab::sim::{world::Pki, Event, Trace};

/// The simulated world's certificates (fixed data, made at build time).
pub fn pki() -> Arc<Pki> {
    Pki::lab()
}

pub fn client_events(t: &Trace) -> Vec<ClientEvent> {
    t.client_events().map(|(_, e)| e.clone()).collect()
}

pub fn server_events(t: &Trace) -> Vec<ServerEvent> {
    t.server_events().map(|(_, e)| e.clone()).collect()
}

pub fn client_tls_failure(t: &Trace) -> Option<TlsError> {
    t.events().find_map(|(_, e)| match e {
        Event::Client(SessionEvent::TlsFailed { error }) => Some(error.clone()),
        _ => None,
    })
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every command the server parsed, with whether it came inside TLS.
pub fn server_commands(t: &Trace) -> Vec<(String, bool)> {
    t.server_events()
        .filter_map(|(_, e)| match e {
            ServerEvent::CommandReceived { command, under_tls } => Some((command.to_string(), *under_tls)),
            _ => None,
        })
        .collect()
}
