//! The sending MTA's transport policies, as data: what the recipient's
//! domain publishes (an MTA-STS policy, TLSA records, a DNSSEC-signed zone, a
//! TLS-RPT address), what the sender applies (opportunistic STARTTLS,
//! MTA-STS, DANE), and the decisions it makes before and during delivery,
//! as events the trace records. The simulation's lookups (`sim/lookups.rs`) run them.

use serde::{Deserialize, Serialize};

use crate::proto::http::FetchError;
use crate::proto::policy::dane::Tlsa;
use crate::proto::policy::mta_sts::{StsError, StsMode, StsPolicy};
use crate::proto::tls_info::TlsError;
use crate::vocab::as_text;
use crate::vocab::{named, Named};

named! {
    /// Which transport policy the sending MTA applies on hop 2.
    #[derive(Default)]
    pub enum SenderPolicy ("sender policy") {
        #[default]
        Opportunistic = "opportunistic",
        MtaSts = "mta-sts",
        Dane = "dane",
    }
}

/// What the recipient's domain publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainSetup {
    /// The MTA-STS policy mode it publishes, if any.
    pub sts: Option<StsMode>,
    /// TLSA records (3 1 1, DANE-EE of the MX's key) at `_25._tcp.<mx>`.
    pub tlsa: bool,
    /// The TLSA record is DANE-TA instead (2 0 1): the CA certificate that
    /// issued the MX's, as the trust anchor its chain must lead to.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tlsa_trust_anchor: bool,
    /// Its zone is DNSSEC-signed.
    pub dnssec: bool,
    /// It asks for TLS reports (a `_smtp._tls` record, RFC 8460 §3).
    pub tlsrpt: bool,
}

impl Default for DomainSetup {
    /// A domain that publishes everything: enforce, TLSA, signed, reports.
    fn default() -> Self {
        DomainSetup { sts: Some(StsMode::Enforce), tlsa: true, tlsa_trust_anchor: false, dnssec: true, tlsrpt: true }
    }
}

/// The sending MTA's side of hop 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SenderSetup {
    pub policy: SenderPolicy,
    /// The sender fetched the domain's policy on an earlier delivery and it
    /// has not expired (RFC 8461 §5.1): first contact when false.
    #[serde(default)]
    pub sts_cached: bool,
    pub domain: DomainSetup,
}

/// How the sender will check the MX's certificate on this delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CertRule {
    /// No check (opportunistic).
    #[default]
    None,
    /// The WebPKI: a trusted CA, the MX's name, not expired (RFC 8461 §4.2).
    WebPki,
    /// TLSA records, usable because DNSSEC validated them (RFC 7672 §3.1).
    Dane { records: Vec<Tlsa> },
}

named! {
    /// The failure types of a TLS-RPT report (RFC 8460 §4.3; the IANA registry of STARTTLS validation result types).
    pub enum ResultType ("TLS-RPT result type") {
        StarttlsNotSupported = "starttls-not-supported",
        CertificateHostMismatch = "certificate-host-mismatch",
        CertificateExpired = "certificate-expired",
        CertificateNotTrusted = "certificate-not-trusted",
        ValidationFailure = "validation-failure",
        TlsaInvalid = "tlsa-invalid",
        DnssecInvalid = "dnssec-invalid",
        DaneRequired = "dane-required",
        StsPolicyFetchError = "sts-policy-fetch-error",
        StsPolicyInvalid = "sts-policy-invalid",
        StsWebpkiInvalid = "sts-webpki-invalid",
    }
}

/// What the sending MTA decided, step by step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SenderEvent {
    /// The MX lookup gave no usable host: nowhere to deliver now (RFC 5321 §5.1).
    NoMx {
        #[serde(serialize_with = "as_text")]
        reason: Refusal,
    },
    /// The `_mta-sts` record says a policy exists, with this id (RFC 8461 §3.1).
    StsRecord { id: String },
    /// No usable `_mta-sts` record: without a cached policy, no MTA-STS (RFC 8461 §5.1).
    NoStsRecord,
    /// The policy came over HTTPS and parsed (RFC 8461 §3.2, §3.3).
    PolicyFetched { policy: StsPolicy },
    /// The policy could not be fetched or read.
    PolicyFetchFailed {
        #[serde(serialize_with = "as_text")]
        reason: FetchFailure,
        result: ResultType,
    },
    /// A policy cached on an earlier delivery is still fresh and is used (RFC 8461 §5.1).
    PolicyFromCache { policy: StsPolicy },
    /// The sender applies this policy mode to the delivery.
    PolicyApplied { mode: StsMode, mx_allowed: bool },
    /// TLSA records were found and DNSSEC validated them: DANE applies (RFC 7672 §2.2).
    DaneApplies { records: Vec<Tlsa> },
    /// TLSA records were found in an unsigned zone and are ignored (RFC 7672 §2.2).
    TlsaIgnored {
        #[serde(serialize_with = "as_text")]
        reason: TlsaIgnoredWhy,
    },
    /// What the sender requires of the connection it is about to open.
    Requirements { require_tls: bool, cert: CertRule },
    /// The sender will not deliver to this MX (it defers or bounces the message).
    DeliveryRefused {
        #[serde(serialize_with = "as_text")]
        reason: Refusal,
        result: Option<ResultType>,
    },
    /// A message that carried REQUIRETLS could not be sent with TLS, so it
    /// is returned to its sender, never sent in cleartext (RFC 8689 §4.2).
    Bounced {
        #[serde(serialize_with = "as_text")]
        reason: Refusal,
    },
    /// A policy in testing mode would have failed this delivery; it goes ahead and is reported (RFC 8461 §5).
    WouldHaveFailed {
        result: ResultType,
        #[serde(serialize_with = "as_text")]
        reason: Deviation,
    },
}

/// Why the sender will not deliver to an MX, or will not send the message at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the MX answer failed DNSSEC validation (SERVFAIL): the message waits in the queue")]
    MxBogus,
    #[error("the domain has neither an MX nor an address record: there is nowhere to deliver")]
    NoMx,
    #[error("{mx} is not an MX the MTA-STS policy lists (RFC 8461 §4.1)")]
    MxNotListed { mx: String },
    #[error("the TLSA answer for {mx} failed DNSSEC validation, so that MX is unusable (RFC 7672 §2.2)")]
    TlsaBogus { mx: String },
    #[error("the message requires TLS (REQUIRETLS), and neither DNSSEC nor an MTA-STS policy vouches for the MX (RFC 8689 §4.2.1)")]
    RequireTlsUnvouched,
}

/// Why the sender does not use the TLSA records it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TlsaIgnoredWhy {
    #[error("the answer is not DNSSEC-signed, so anyone on the path could have written it (RFC 7672 §2.2)")]
    Unsigned,
}

/// What a policy in testing mode would have refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Deviation {
    #[error("{mx} is not an MX the policy lists")]
    MxNotListed { mx: String },
}

/// Why the sender has no MTA-STS policy from its fetch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchFailure {
    #[error("the connection ended without a response")]
    NoResponse,
    #[error("the policy is invalid: {0}")]
    Invalid(StsError),
    #[error("the policy host answered HTTP {0}")]
    Status(u16),
    #[error(transparent)]
    Fetch(FetchError),
    #[error("the policy host's certificate is not valid: {0}")]
    Certificate(Box<TlsError>),
}

impl SenderEvent {
    /// The event in one line, for every view.
    pub fn describe(&self) -> String {
        match self {
            SenderEvent::NoMx { reason } => format!("no MX to deliver to: {reason}"),
            SenderEvent::StsRecord { id } => format!("MTA-STS record found (id {id}): a policy exists"),
            SenderEvent::NoStsRecord => "no MTA-STS record: no policy unless one is cached".into(),
            SenderEvent::PolicyFetched { policy } => {
                format!("policy fetched over HTTPS: mode {}, mx {}, max_age {} s", policy.mode.id(), policy.mx.join(" "), policy.max_age)
            }
            SenderEvent::PolicyFetchFailed { reason, .. } => format!("policy fetch failed: {reason}"),
            SenderEvent::PolicyFromCache { policy } => {
                format!("policy from the cache of an earlier delivery: mode {}, mx {}", policy.mode.id(), policy.mx.join(" "))
            }
            SenderEvent::PolicyApplied { mode, mx_allowed } => {
                format!("MTA-STS {} applies; the MX {} the policy", mode.id(), if *mx_allowed { "matches" } else { "does NOT match" })
            }
            SenderEvent::DaneApplies { records } => {
                format!(
                    "DANE applies: {} TLSA record(s), DNSSEC-validated: {}",
                    records.len(),
                    records.iter().map(|r| r.to_string()).collect::<Vec<_>>().join("; ")
                )
            }
            SenderEvent::TlsaIgnored { reason } => format!("TLSA ignored: {reason}"),
            SenderEvent::Requirements { require_tls, cert } => {
                let cert = match cert {
                    CertRule::None => "no certificate check",
                    CertRule::WebPki => "a certificate valid for the MX name from a trusted CA",
                    CertRule::Dane { .. } => "a certificate matching the TLSA records",
                };
                format!("{}; {cert}", if *require_tls { "STARTTLS required" } else { "STARTTLS if offered" })
            }
            SenderEvent::DeliveryRefused { reason, .. } => format!("delivery refused: {reason}"),
            SenderEvent::Bounced { reason } => format!("message bounced to its sender: {reason}"),
            SenderEvent::WouldHaveFailed { result, reason } => {
                format!("testing mode: would have failed ({}): {reason}; delivered anyway and reported", result.id())
            }
        }
    }
}
