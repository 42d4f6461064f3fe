//! What the client and server machines have in common: the output they hand
//! back and the interface the endpoint ([`crate::proto::Endpoint`]) drives them through.
//!
//! A machine speaks SMTP only. It never sees TLS records: the endpoint
//! tells it when TLS has started (or failed) and asks it for any bytes it had
//! buffered when it asked for the upgrade.

use std::time::Duration;

use crate::proto::tls_info::{TlsError, TlsInfo};

/// Something a machine wants done, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output<E> {
    /// SMTP bytes for the peer.
    Send(Vec<u8>),
    /// Something worth reporting.
    Event(E),
    /// Switch to TLS after sending what came before.
    StartTls,
    /// Close the connection after sending what came before.
    Close,
}

/// The interface the endpoint uses. Time is always an argument: `now` is
/// the time since the connection opened.
pub trait Machine {
    type Event;
    /// Where the machine is, for traces; its text is how they show it.
    type State;

    /// The connection is open (or, with implicit TLS, the handshake is done).
    fn connected(&mut self, now: Duration);
    /// SMTP bytes from the peer (already decrypted when under TLS).
    fn handle_input(&mut self, bytes: &[u8], now: Duration);
    fn handle_timeout(&mut self, now: Duration);
    /// When [`Machine::handle_timeout`] should next be called, if ever.
    fn poll_timeout(&self) -> Option<Duration>;
    fn poll_output(&mut self) -> Option<Output<Self::Event>>;
    /// The TLS handshake that [`Output::StartTls`] asked for (or implicit TLS) is done.
    fn tls_started(&mut self, info: &TlsInfo, now: Duration);
    /// TLS failed; the connection is unusable.
    fn tls_failed(&mut self, error: &TlsError, now: Duration);
    /// The peer closed the connection.
    fn peer_closed(&mut self, now: Duration);
    /// Bytes received but not yet processed when the machine asked for TLS.
    fn take_buffered_input(&mut self) -> Vec<u8>;
    fn state(&self) -> Self::State;
    fn is_closed(&self) -> bool;
}
