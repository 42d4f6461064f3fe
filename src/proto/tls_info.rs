//! What the TLS layer tells the layers around it: the negotiated session,
//! the certificate verdict, and failures by kind. Plain data, kept below the
//! machines so that they can report TLS facts without depending on rustls.
//! Each fact is typed; its text (the JSON trace's, every view's) is how it
//! is written, never what is read back.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::proto::policy::dane::{DaneError, Tlsa};
use crate::vocab::{as_optional_text, as_text};

/// A protocol version a session came up with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsVersion {
    /// RFC 5246.
    Tls12,
    /// RFC 8446.
    Tls13,
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsVersion::Tls12 => "TLS 1.2",
            TlsVersion::Tls13 => "TLS 1.3",
        })
    }
}

impl Serialize for TlsVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        as_text(self, s)
    }
}

/// Why a certificate did not verify, by the checks of RFC 5280 §6 (and
/// rustls's `CertificateError`), or by the TLSA records of DANE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertFailureKind {
    /// Not issued for the name the client asked for (RFC 6125 §6).
    NotValidForName,
    Expired,
    NotValidYet,
    /// The chain does not lead to a CA the client trusts.
    UnknownIssuer,
    BadSignature,
    /// The client was given no CA to trust at all.
    NoTrustAnchors,
    /// No TLSA record matched (DANE, RFC 7672 §3.1).
    Dane,
    /// Anything else the verifier refused.
    Other,
}

/// A certificate that did not verify: why, and the verifier's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFailure {
    pub kind: CertFailureKind,
    pub detail: String,
}

impl fmt::Display for CertFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

/// How a DANE check (RFC 7672 §3.1) went: the record that matched, or why each did not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaneVerdict {
    Matched(DaneMatch),
    Mismatched(Vec<DaneMiss>),
}

/// A usable TLSA record that matched the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaneMatch {
    /// DANE-EE: the server's own certificate or key (RFC 7672 §3.1.1).
    EndEntity(Tlsa),
    /// DANE-TA: the chain leads to the trust anchor the record names (RFC 7672 §3.1.2).
    TrustAnchor(Tlsa),
}

/// Why one TLSA record did not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaneMiss {
    NoCertificate(Tlsa),
    /// The record names a certificate of the chain that cannot be a trust anchor.
    NotAnAnchor(Tlsa),
    /// It names a trust anchor, but the chain does not verify from it (the verifier's words).
    ChainFailed(Tlsa, String),
    Unreadable(Tlsa, DaneError),
    /// PKIX-TA and PKIX-EE are not used for SMTP (RFC 7672 §3.1.3).
    UsageNotForSmtp(Tlsa),
}

impl fmt::Display for DaneMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DaneMatch::EndEntity(r) => write!(f, "the server's certificate matches TLSA {r}"),
            DaneMatch::TrustAnchor(r) => write!(f, "the chain leads to the trust anchor of TLSA {r}"),
        }
    }
}

impl fmt::Display for DaneMiss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DaneMiss::NoCertificate(r) => write!(f, "TLSA {r} matches no certificate presented"),
            DaneMiss::NotAnAnchor(r) => write!(f, "TLSA {r}: the matched certificate is not a usable trust anchor"),
            DaneMiss::ChainFailed(r, why) => write!(f, "TLSA {r} matched a trust anchor, but {why}"),
            DaneMiss::Unreadable(r, e) => write!(f, "TLSA {r}: {e}"),
            DaneMiss::UsageNotForSmtp(r) => write!(f, "TLSA {r}: usage {} is not used for SMTP (RFC 7672 §3.1.3)", r.usage.mnemonic()),
        }
    }
}

impl fmt::Display for DaneVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DaneVerdict::Matched(m) => m.fmt(f),
            DaneVerdict::Mismatched(misses) => {
                for (i, m) in misses.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    m.fmt(f)?;
                }
                Ok(())
            }
        }
    }
}

/// What the client's certificate check concluded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertCheck {
    pub valid: bool,
    /// Why it failed.
    #[serde(rename = "error", serialize_with = "as_optional_text")]
    pub failure: Option<CertFailure>,
    /// Whether the failure stopped the handshake.
    pub enforced: bool,
    /// When TLSA records decided (DANE, RFC 7672 §3.1): which matched, or why none did.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "as_optional_text")]
    pub dane: Option<DaneVerdict>,
}

/// A negotiated TLS session, as shown in traces and transcripts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsInfo {
    pub version: TlsVersion,
    /// The cipher suite, by its RFC name (RFC 8446 §B.4; RFC 5289 §3.2).
    pub cipher: String,
    /// The SNI the client sent (seen on the server) or used (on the client).
    pub server_name: Option<String>,
    /// Subject of the certificate the server presented (client side).
    pub peer_subject: Option<String>,
    pub cert_check: Option<CertCheck>,
}

/// Why a TLS handshake or record failed: a kind the explanations match on,
/// rustls's own words for the detail, and the certificate check when it was
/// the cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{message}")]
pub struct TlsError {
    pub kind: TlsErrorKind,
    pub message: String,
    /// The client's certificate check, when its refusal ended the handshake.
    #[serde(skip)]
    pub check: Option<CertCheck>,
    /// The version the handshake had agreed on when it failed, if it had got that far
    /// (its alerts are TLS 1.2's or TLS 1.3's).
    #[serde(skip)]
    pub version: Option<TlsVersion>,
}

impl TlsError {
    pub fn new(kind: TlsErrorKind, message: impl Into<String>) -> TlsError {
        TlsError { kind, message: message.into(), check: None, version: None }
    }

    /// Why the certificate was refused, when that ended the handshake.
    pub fn certificate_failure(&self) -> Option<&CertFailure> {
        self.check.as_ref().and_then(|c| c.failure.as_ref())
    }
}

/// The families of TLS failure a learner meets in the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
