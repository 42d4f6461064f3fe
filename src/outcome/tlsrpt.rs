//! SMTP TLS Reporting (RFC 8460): the aggregate report a sending MTA would
//! send to the address in the recipient domain's `_smtp._tls` record, made
//! from a session's trace. Which policy applied, and every failure type,
//! are read from what the sender looked up and what its connection did,
//! never from the settings.

use serde::Serialize;

use crate::proto::endpoint::SessionEvent;
use crate::proto::policy::dns::Qtype;
use crate::proto::policy::mta_sts::StsPolicy;
use crate::proto::policy::sender::{ResultType, SenderEvent};
use crate::proto::smtp::client::ClientEvent;
use crate::proto::tls_info::CertFailureKind;
use crate::sim::relay::rfc3339_date as rfc3339;
use crate::sim::trace::{Event, Lane, Trace};
use crate::sim::world::names::{PROVIDER_DOMAIN, SIM_EPOCH_UNIX};

/// A report (RFC 8460 §4.4), with the field names it defines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Report {
    pub organization_name: String,
    pub date_range: DateRange,
    pub contact_info: String,
    pub report_id: String,
    pub policies: Vec<PolicyReport>,
    /// Where the domain asked for it to be sent (`rua`, RFC 8460 §3); not a report field.
    #[serde(skip)]
    pub rua: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct DateRange {
    pub start_datetime: String,
    pub end_datetime: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PolicyReport {
    pub policy: PolicyDescription,
    pub summary: Summary,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failure_details: Vec<FailureDetail>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PolicyDescription {
    pub policy_type: PolicyType,
    /// The policy as applied: the policy file's lines, or the TLSA records.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policy_string: Vec<String>,
    pub policy_domain: String,
    /// An MTA-STS policy's mx patterns.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mx_host: Vec<String>,
}

/// Which policy the report is about: `tlsa`, `sts` or `no-policy-found` (RFC 8460 §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyType {
    Tlsa,
    Sts,
    NoPolicyFound,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Summary {
    pub total_successful_session_count: u64,
    pub total_failure_session_count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct FailureDetail {
    pub result_type: ResultType,
    pub sending_mta_ip: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiving_mx_hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiving_ip: Option<String>,
    pub failed_session_count: u64,
    /// What went wrong, in the sender's words (RFC 8460 §4.4 suggests it for the vaguer types).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason_code: Option<String>,
}

impl Report {
    /// The report as its JSON file (RFC 8460 §5.3: `application/tlsrpt+json`).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// The report for the delivery attempt in `trace` (the hop whose sender
/// looked up policies), or `None` when the domain publishes no TLS-RPT
/// record, so there is no one to send it to.
pub fn report(trace: &Trace) -> Option<Report> {
    let rpt = trace.lookups().find(|l| l.qtype == Qtype::Txt && l.name.starts_with("_smtp._tls."))?;
    let rua = rpt
        .texts()
        .filter(|t| t.starts_with("v=TLSRPTv1"))
        .find_map(|t| t.split(';').find_map(|f| f.trim().strip_prefix("rua=").map(str::to_owned)))?;
    let domain = rpt.name.trim_start_matches("_smtp._tls.").to_owned();
    let hop = trace.steps.iter().find(|s| s.lane != Lane::Smtp).map_or(0, |s| s.hop);
    let hop_trace = if trace.hops.is_empty() { trace.clone() } else { trace.hop(hop) };
    let senders: Vec<&SenderEvent> = hop_trace.sender_events().map(|(_, e)| e).collect();
    let policy = describe_policy(&senders, &domain);
    let failures = failures(&hop_trace, &senders, policy.policy_type != PolicyType::NoPolicyFound);
    let mx = hop_trace.lookups().find(|l| l.qtype == Qtype::Mx).and_then(|l| l.mx_hosts().next().map(str::to_owned));
    let mx_ip = mx.as_ref().and_then(|mx| {
        hop_trace.lookups().filter(|l| l.qtype == Qtype::A && l.name == *mx).find_map(|l| l.addresses().next().map(|a| a.to_string()))
    });
    // The sender's view, which is all a report can say: its TLS came up and its message was taken.
    let client_tls = hop_trace.events().any(|(_, e)| matches!(e, Event::Client(SessionEvent::TlsEstablished { .. })));
    let accepted = hop_trace.client_events().any(|(_, e)| matches!(e, ClientEvent::MessageAccepted { .. }));
    let delivered_with_tls = client_tls && accepted;
    let failed = !failures.is_empty() || !delivered_with_tls;
    let details = failures
        .into_iter()
        .map(|(result_type, why)| FailureDetail {
            result_type,
            sending_mta_ip: hop_trace.client_addr.to_string(),
            receiving_mx_hostname: mx.clone(),
            receiving_ip: mx_ip.clone(),
            failed_session_count: 1,
            failure_reason_code: Some(why),
        })
        .collect();
    let day = SIM_EPOCH_UNIX - SIM_EPOCH_UNIX % 86_400;
    Some(Report {
        organization_name: PROVIDER_DOMAIN.to_owned(),
        date_range: DateRange { start_datetime: rfc3339(day), end_datetime: rfc3339(day + 86_399) },
        contact_info: format!("tlsrpt-noreply@{PROVIDER_DOMAIN}"),
        report_id: format!("{}_{domain}", rfc3339(day)),
        policies: vec![PolicyReport {
            policy,
            summary: Summary { total_successful_session_count: u64::from(!failed), total_failure_session_count: u64::from(failed) },
            failure_details: details,
        }],
        rua,
    })
}

/// Which policy the sender applied, as RFC 8460 §4.4 describes it.
fn describe_policy(senders: &[&SenderEvent], domain: &str) -> PolicyDescription {
    let sts = senders.iter().find_map(|e| match e {
        SenderEvent::PolicyFetched { policy } | SenderEvent::PolicyFromCache { policy } => Some(policy),
        _ => None,
    });
    let tlsa = senders.iter().find_map(|e| match e {
        SenderEvent::DaneApplies { records } => Some(records),
        _ => None,
    });
    match (sts, tlsa) {
        (_, Some(records)) => PolicyDescription {
            policy_type: PolicyType::Tlsa,
            policy_string: records.iter().map(|r| r.to_string()).collect(),
            policy_domain: domain.to_owned(),
            mx_host: Vec::new(),
        },
        (Some(policy), None) => PolicyDescription {
            policy_type: PolicyType::Sts,
            policy_string: policy_lines(policy),
            policy_domain: domain.to_owned(),
            mx_host: policy.mx.clone(),
        },
        (None, None) => PolicyDescription {
            policy_type: PolicyType::NoPolicyFound,
            policy_string: Vec::new(),
            policy_domain: domain.to_owned(),
            mx_host: Vec::new(),
        },
    }
}

fn policy_lines(policy: &StsPolicy) -> Vec<String> {
    policy.to_text().lines().map(str::to_owned).collect()
}

/// Every failure type the attempt ran into, in order, once each, with why.
fn failures(trace: &Trace, senders: &[&SenderEvent], under_policy: bool) -> Vec<(ResultType, String)> {
    let mut out: Vec<(ResultType, String)> = Vec::new();
    let mut add = |t: ResultType, why: String| {
        if !out.iter().any(|(have, _)| *have == t) {
            out.push((t, why));
        }
    };
    for e in senders {
        match e {
            SenderEvent::PolicyFetchFailed { result, reason } => add(*result, reason.to_string()),
            SenderEvent::DeliveryRefused { result: Some(result), reason } => add(*result, reason.to_string()),
            SenderEvent::WouldHaveFailed { result, reason } => add(*result, reason.to_string()),
            _ => {}
        }
    }
    let smtp = trace.lane(Lane::Smtp);
    let connected = senders.iter().all(|e| !matches!(e, SenderEvent::DeliveryRefused { .. }));
    let tried_tls = smtp.events().any(|(_, e)| matches!(e, Event::Client(SessionEvent::TlsHandshakeStarted { .. })));
    let reached_mx =
        smtp.client_events().any(|(_, e)| matches!(e, ClientEvent::CapabilitiesLearned { .. } | ClientEvent::FellBackToHelo { .. }));
    if connected && reached_mx && !tried_tls {
        add(ResultType::StarttlsNotSupported, "the MX's EHLO reply offered no STARTTLS, or STARTTLS was refused".into());
    }
    if under_policy {
        for (_, e) in smtp.events() {
            let failure = match e {
                Event::Client(SessionEvent::TlsFailed { error }) => error.certificate_failure().map(|f| (error.message.clone(), f.kind)),
                Event::Client(SessionEvent::TlsEstablished { info }) => {
                    info.cert_check.as_ref().and_then(|c| c.failure.as_ref()).map(|f| (f.detail.clone(), f.kind))
                }
                _ => None,
            };
            if let Some((message, kind)) = failure {
                add(certificate_result(kind), message);
            }
        }
    }
    out
}

/// The result type of a certificate failure (RFC 8460 §4.3.1, §4.3.2.1).
fn certificate_result(kind: CertFailureKind) -> ResultType {
    match kind {
        CertFailureKind::Dane => ResultType::TlsaInvalid,
        CertFailureKind::NotValidForName => ResultType::CertificateHostMismatch,
        CertFailureKind::Expired => ResultType::CertificateExpired,
        CertFailureKind::UnknownIssuer | CertFailureKind::BadSignature | CertFailureKind::NoTrustAnchors => {
            ResultType::CertificateNotTrusted
        }
        CertFailureKind::NotValidYet | CertFailureKind::Other => ResultType::ValidationFailure,
    }
}
