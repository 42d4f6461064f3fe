//! What the TLS layer tells the layers around it: the negotiated session,
//! the certificate verdict, and failures by kind. Plain data, kept below the
//! machines so that they can report TLS facts without depending on rustls.

use serde::{Deserialize, Serialize};

/// What the client's certificate check concluded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertCheck {
    pub valid: bool,
    /// Why it failed, in rustls's words.
    pub error: Option<String>,
    /// Whether the failure stopped the handshake.
    pub enforced: bool,
    /// When TLSA records decided (DANE, RFC 7672 §3.1): which matched, or why none did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dane: Option<String>,
}

/// A negotiated TLS session, as shown in traces and transcripts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsInfo {
    pub version: String,
    pub cipher: String,
    /// The SNI the client sent (seen on the server) or used (on the client).
    pub server_name: Option<String>,
    /// Subject of the certificate the server presented (client side).
    pub peer_subject: Option<String>,
    pub cert_check: Option<CertCheck>,
}

/// Why a TLS handshake or record failed: a kind the explanations match on,
/// and rustls's own words for the detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{message}")]
pub struct TlsError {
    pub kind: TlsErrorKind,
    pub message: String,
}

impl TlsError {
    pub fn new(kind: TlsErrorKind, message: impl Into<String>) -> TlsError {
        TlsError { kind, message: message.into() }
    }
}

/// The families of TLS failure a learner meets in the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsErrorKind {
    /// The peer's certificate did not verify (chain, name or dates).
    Certificate,
    /// The peer sent an alert and ended the handshake.
    AlertReceived,
    /// The peer sent bytes that are not TLS (often cleartext SMTP on an implicit-TLS port).
    NotTls,
    /// The handshake did not finish before the timer fired.
    Timeout,
    /// Anything else rustls refused: a protocol violation, a bad configuration.
    Other,
}
