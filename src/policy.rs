//! The sending MTA's transport policies, as data: what the recipient's
//! domain publishes (an MTA-STS policy, TLSA records, a DNSSEC-signed zone, a
//! TLS-RPT address), what the sender applies (opportunistic STARTTLS,
//! MTA-STS, DANE), and the decisions it makes before and during delivery,
//! as events the trace records. Running them is `scenario::sender`'s job.

use serde::{Deserialize, Serialize};

use crate::attack::Attack;
use crate::dane::Tlsa;
use crate::mta_sts::{Mode, Policy};
use crate::vocab::{choice, Choice};

choice! {
    /// Which transport policy the sending MTA applies on hop 2.
    #[derive(Default)]
    pub enum SenderPolicy ("sender policy") {
        #[default]
        Opportunistic = "opportunistic": "STARTTLS when offered, no certificate check, cleartext otherwise (RFC 7435 §1, RFC 3207 §4)",
        MtaSts = "mta-sts": "looks up and applies the domain's MTA-STS policy (RFC 8461 §5)",
        Dane = "dane": "looks up TLSA records and applies them when DNSSEC validates them (RFC 7672 §2)",
    }
}

/// What the recipient's domain publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainSetup {
    /// The MTA-STS policy mode it publishes, if any.
    pub sts: Option<Mode>,
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
        DomainSetup { sts: Some(Mode::Enforce), tlsa: true, tlsa_trust_anchor: false, dnssec: true, tlsrpt: true }
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

impl SenderSetup {
    /// The sender an attack on the sender's lookups meets when nothing else
    /// is set: the one it defeats (an MTA-STS sender on first contact, DANE
    /// in an unsigned zone, an opportunistic sender trusting unsigned DNS).
    pub fn against(attack: Attack) -> Option<SenderSetup> {
        let unsigned = |sts| DomainSetup { sts, tlsa: true, tlsa_trust_anchor: false, dnssec: false, tlsrpt: true };
        let (policy, domain) = match attack {
            Attack::MxSpoof => (SenderPolicy::Opportunistic, unsigned(None)),
            Attack::StsStrip | Attack::StsBlock => (SenderPolicy::MtaSts, unsigned(Some(Mode::Enforce))),
            Attack::TlsaStrip => (SenderPolicy::Dane, unsigned(None)),
            _ => return None,
        };
        Some(SenderSetup { policy, sts_cached: false, domain })
    }
}

/// How the sender will check the MX's certificate on this delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CertRule {
    /// No check (opportunistic).
    None,
    /// The WebPKI: a trusted CA, the MX's name, not expired (RFC 8461 §4.2).
    WebPki,
    /// TLSA records, usable because DNSSEC validated them (RFC 7672 §3.1).
    Dane { records: Vec<Tlsa> },
}

choice! {
    /// The failure types of a TLS-RPT report (RFC 8460 §4.3; the IANA registry of STARTTLS validation result types).
    pub enum ResultType ("TLS-RPT result type") {
        StarttlsNotSupported = "starttls-not-supported": "the MX did not support STARTTLS",
        CertificateHostMismatch = "certificate-host-mismatch": "the certificate does not name the MX host",
        CertificateExpired = "certificate-expired": "the certificate has expired",
        CertificateNotTrusted = "certificate-not-trusted": "the certificate does not chain to a trusted CA, or its chain is broken",
        ValidationFailure = "validation-failure": "a failure of no other type",
        TlsaInvalid = "tlsa-invalid": "no TLSA record of the RRset matched",
        DnssecInvalid = "dnssec-invalid": "the resolver returned no valid records",
        DaneRequired = "dane-required": "the sender requires DANE, and no DNSSEC-validated TLSA records were found",
        StsPolicyFetchError = "sts-policy-fetch-error": "the MTA-STS policy could not be fetched",
        StsPolicyInvalid = "sts-policy-invalid": "the MTA-STS policy did not validate",
        StsWebpkiInvalid = "sts-webpki-invalid": "the MTA-STS policy could not be authenticated with PKIX validation",
    }
}

/// What the sending MTA decided, step by step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SenderEvent {
    /// The MX lookup gave no usable host: nowhere to deliver now (RFC 5321 §5.1).
    NoMx { reason: String },
    /// The `_mta-sts` record says a policy exists, with this id (RFC 8461 §3.1).
    StsRecord { id: String },
    /// No usable `_mta-sts` record: without a cached policy, no MTA-STS (RFC 8461 §5.1).
    NoStsRecord,
    /// The policy came over HTTPS and parsed (RFC 8461 §3.2, §3.3).
    PolicyFetched { policy: Policy },
    /// The policy could not be fetched or read.
    PolicyFetchFailed { reason: String, result: ResultType },
    /// A policy cached on an earlier delivery is still fresh and is used (RFC 8461 §5.1).
    PolicyFromCache { policy: Policy },
    /// The sender applies this policy mode to the delivery.
    PolicyApplied { mode: Mode, mx_allowed: bool },
    /// TLSA records were found and DNSSEC validated them: DANE applies (RFC 7672 §2.2).
    DaneApplies { records: Vec<Tlsa> },
    /// TLSA records were found in an unsigned zone and are ignored (RFC 7672 §2.2).
    TlsaIgnored { reason: String },
    /// What the sender requires of the connection it is about to open.
    Requirements { require_tls: bool, cert: CertRule },
    /// The sender will not deliver to this MX (it defers or bounces the message).
    DeliveryRefused { reason: String, result: Option<ResultType> },
    /// A message that carried REQUIRETLS could not be sent with TLS, so it
    /// is returned to its sender, never sent in cleartext (RFC 8689 §4.2).
    Bounced { reason: String },
    /// A policy in testing mode would have failed this delivery; it goes ahead and is reported (RFC 8461 §5).
    WouldHaveFailed { result: ResultType, reason: String },
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
