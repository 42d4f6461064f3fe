//! The sender-policy columns of the matrix (hop 2: opportunistic, MTA-STS
//! testing / enforce / cached, DANE signed / unsigned) against the hop-2
//! attacks, each cell's outcome asserted from its trace, and the lookups
//! behind each decision found in the steps.

use std::sync::Arc;

use smtp_lab::outcome::{analyse, matrix::CellId, Finding, Outcome, Stop};
use smtp_lab::proto::{
    AbortReason, CertFailureKind, ClientEvent, DaneMatch, DaneVerdict, Dnssec, HttpEvent, Matching, Qtype, Rcode, Refusal, Selector,
    SenderEvent, SessionEvent, Tlsa, Usage,
};
use smtp_lab::sim::{
    world::{IdentityKind, Pki},
    Event, Lane, Scenario, StepKind, Trace,
};

fn pki() -> Arc<Pki> {
    Pki::lab()
}

fn run(s: &Scenario) -> (Trace, Vec<Finding>) {
    let trace = s.run(&pki());
    assert!(!trace.truncated);
    let findings = analyse(s, &trace);
    (trace, findings)
}

fn cell(row: &str, column: &str) -> (Trace, Vec<Finding>) {
    let id: CellId = format!("{row}@{column}").parse().unwrap_or_else(|e| panic!("{e}"));
    run(&id.scenario().expect("the cell applies"))
}

fn sender_events(trace: &Trace) -> Vec<&SenderEvent> {
    trace.sender_events().map(|(_, e)| e).collect()
}

fn fetched(trace: &Trace) -> bool {
    sender_events(trace).iter().any(|e| matches!(e, SenderEvent::PolicyFetched { .. }))
}

/// The message body's last line reached the wire readable (what READ means).
fn read_on_wire(trace: &Trace) -> bool {
    let seen = trace.attacker_view();
    seen.iter().any(|(_, b)| b.windows(16).any(|w| w == b"See you at noon."))
}

const COLUMNS: [&str; 6] = ["dns-opportunistic", "sts-testing", "sts-enforce", "sts-cached", "dane", "dane-unsigned"];

/// Every cell of the sender-policy columns, as its trace reads.
#[test]
fn every_sender_policy_cell_has_the_outcome_its_mechanism_gives() {
    #[rustfmt::skip]
    let table: [(&str, [&str; 6]); 8] = [
        //                       dns-opp      sts-testing  sts-enforce  sts-cached  dane       dane-unsigned
        ("strip",             ["READ",      "READ",      "aborted",   "aborted",  "aborted", "READ"]),
        ("refuse-454",        ["READ",      "READ",      "aborted",   "aborted",  "aborted", "READ"]),
        ("mitm-cert",         ["READ",      "READ",      "aborted",   "aborted",  "aborted", "READ"]),
        ("mitm-cert-trusted", ["READ",      "READ",      "READ",      "READ",     "aborted", "READ"]),
        ("mx-spoof",          ["MISROUTED", "MISROUTED", "aborted",   "aborted",  "aborted", "MISROUTED"]),
        ("tlsa-strip",        ["READ",      "READ",      "aborted",   "aborted",  "aborted", "READ"]),
        ("sts-strip",         ["READ",      "READ",      "READ",      "aborted",  "aborted", "READ"]),
        ("sts-block",         ["READ",      "READ",      "READ",      "aborted",  "aborted", "READ"]),
    ];
    for (row, expected) in table {
        for (column, want) in COLUMNS.iter().zip(expected) {
            let (trace, f) = cell(row, column);
            let top = f.first().map(|x| x.outcome.label());
            assert_eq!(top, Some(want), "{row}@{column}: {f:?}");
            // The label is the bytes' verdict: READ means the body crossed readable, aborted that it never did.
            match want {
                "READ" => assert!(read_on_wire(&trace), "{row}@{column}"),
                "aborted" => {
                    assert!(!read_on_wire(&trace), "{row}@{column}");
                    assert!(trace.delivered().is_empty(), "{row}@{column}");
                }
                _ => {}
            }
            // Every sender-policy session starts with lookups in the DNS lane, the MX among them.
            let first = &trace.steps[0];
            assert_eq!((first.kind(), first.lane), (StepKind::Dns, Lane::Dns), "{row}@{column}");
            assert!(trace.lookups().any(|d| d.qtype == Qtype::Mx), "{row}@{column}");
        }
    }
}

#[test]
fn first_contact_fetches_the_policy_over_https_and_a_cached_policy_needs_no_fetch() {
    // TOFU, first contact: the fetch is a real TLS handshake with mta-sts.example.test.
    let (trace, f) = cell("strip", "sts-enforce");
    assert!(matches!(f[0].outcome, Outcome::AbortedSafely { .. }), "{f:?}");
    let https: Vec<_> = trace.steps.iter().filter(|s| s.lane == Lane::Https).collect();
    assert!(
        https.iter().any(|s| s.records().iter().any(|r| r.content_type == smtp_lab::proto::ContentType::Handshake && !r.encrypted)),
        "a ClientHello"
    );
    assert!(https.iter().any(|s| s.records().iter().any(|r| r.encrypted)), "then encrypted records");
    let got = trace.events().find_map(|(_, e)| match e {
        Event::HttpsClient(SessionEvent::Machine(HttpEvent::ResponseReceived { status, body, .. })) => Some((*status, body.0.clone())),
        _ => None,
    });
    let (status, body) = got.expect("the policy arrived");
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("mode: enforce"));
    assert!(fetched(&trace));
    let sni = trace.events().find_map(|(_, e)| match e {
        Event::HttpsClient(SessionEvent::TlsEstablished { info }) => info.cert_check.clone(),
        _ => None,
    });
    assert!(sni.is_some_and(|c| c.valid && c.enforced), "the policy host's certificate was checked and enforced");

    // TOFU, blocked: no handshake completes, no policy, and the strip reads the message.
    let (trace, f) = cell("sts-block", "sts-enforce");
    assert_eq!(f[0].outcome, Outcome::MessageRead, "{f:?}");
    assert!(trace.steps.iter().any(|s| s.lane == Lane::Https && s.kind() == StepKind::Dropped), "Mallory dropped the fetch");
    assert!(sender_events(&trace).iter().any(|e| matches!(e, SenderEvent::PolicyFetchFailed { .. })));
    assert!(!fetched(&trace));

    // Cached: the same attack, no fetch at all, the policy from the cache, and the sender refuses.
    let (trace, f) = cell("sts-block", "sts-cached");
    assert!(matches!(f[0].outcome, Outcome::AbortedSafely { .. }), "{f:?}");
    assert!(!trace.steps.iter().any(|s| s.lane == Lane::Https), "no fetch");
    assert!(sender_events(&trace).iter().any(|e| matches!(e, SenderEvent::PolicyFromCache { .. })));
}

#[test]
fn a_removed_sts_record_matters_only_on_first_contact() {
    let (trace, _) = cell("sts-strip", "sts-enforce");
    let txt = trace.lookups().find(|d| d.name.starts_with("_mta-sts.")).unwrap();
    assert!(txt.tampered.is_some() && txt.records.is_empty() && txt.dnssec == Dnssec::Insecure);
    assert!(sender_events(&trace).iter().any(|e| matches!(e, SenderEvent::NoStsRecord)));
    let (_, f) = cell("sts-strip", "sts-cached");
    assert!(matches!(f[0].outcome, Outcome::AbortedSafely { .. }), "{f:?}");
}

#[test]
fn tlsa_counts_only_when_dnssec_validates_it() {
    // Signed: the TLSA record applies, Mallory's misissued certificate matches it not, the handshake fails.
    let (trace, f) = cell("mitm-cert-trusted", "dane");
    assert!(matches!(f[0].outcome, Outcome::AbortedSafely { .. }), "{f:?}");
    let tlsa = trace.lookups().find(|d| d.qtype == Qtype::Tlsa).unwrap();
    assert_eq!((tlsa.dnssec, tlsa.records.len()), (Dnssec::Secure, 1));
    assert!(sender_events(&trace).iter().any(|e| matches!(e, SenderEvent::DaneApplies { .. })));
    let failure = trace.events().find_map(|(_, e)| match e {
        Event::Client(SessionEvent::TlsFailed { error }) => error.certificate_failure().cloned(),
        _ => None,
    });
    assert_eq!(failure.map(|f| f.kind), Some(CertFailureKind::Dane));

    // Unsigned: the same record is ignored, and the same certificate is accepted without a check.
    let (trace, f) = cell("mitm-cert-trusted", "dane-unsigned");
    assert_eq!(f[0].outcome, Outcome::MessageRead, "{f:?}");
    let tlsa = trace.lookups().find(|d| d.qtype == Qtype::Tlsa).unwrap();
    assert_eq!((tlsa.dnssec, tlsa.records.len()), (Dnssec::Insecure, 1));
    assert!(sender_events(&trace).iter().any(|e| matches!(e, SenderEvent::TlsaIgnored { .. })));

    // A forged answer in a signed zone is a failure, never an answer.
    let (trace, _) = cell("tlsa-strip", "dane");
    let tlsa = trace.lookups().find(|d| d.qtype == Qtype::Tlsa).unwrap();
    assert_eq!((tlsa.rcode, tlsa.dnssec), (Rcode::ServFail, Dnssec::Bogus));
    assert!(tlsa.tampered.is_some());
}

#[test]
fn a_forged_mx_sends_the_message_to_mallory_unless_a_policy_or_a_signature_stops_it() {
    let (trace, f) = cell("mx-spoof", "dns-opportunistic");
    assert_eq!(f[0].outcome, Outcome::DeliveredToAttacker { host: "mx.mallory.test".into() }, "{f:?}");
    assert_eq!(trace.server_name, "mx.mallory.test");
    assert_eq!(trace.delivered().len(), 1, "Mallory's MX accepted it");
    let (trace, _) = cell("mx-spoof", "sts-enforce");
    assert!(sender_events(&trace).iter().any(|e| matches!(e, SenderEvent::PolicyApplied { mx_allowed: false, .. })));
    assert!(trace.delivered().is_empty());
    assert!(!trace.steps.iter().any(|s| s.lane == Lane::Smtp), "no connection to Mallory's MX at all");
    let (trace, _) = cell("mx-spoof", "dane");
    let mx = trace.lookups().find(|d| d.qtype == Qtype::Mx).unwrap();
    assert_eq!((mx.rcode, mx.dnssec), (Rcode::ServFail, Dnssec::Bogus));
}

#[test]
fn testing_mode_delivers_and_says_what_would_have_failed() {
    let (trace, f) = cell("mitm-cert", "sts-testing");
    assert_eq!(f[0].outcome, Outcome::MessageRead);
    assert!(sender_events(&trace).iter().any(|e| matches!(e, SenderEvent::PolicyApplied { mode: smtp_lab::proto::StsMode::Testing, .. })));
    // The certificate was checked (and failed) though not enforced: what TLS-RPT reports.
    let check = trace.events().find_map(|(_, e)| match e {
        Event::Client(SessionEvent::TlsEstablished { info }) => info.cert_check.clone(),
        _ => None,
    });
    assert!(check.is_some_and(|c| !c.valid && !c.enforced));
    assert!(trace.client_events().any(|(_, e)| matches!(e, ClientEvent::CertificateNotValidated { .. })));
}

#[test]
fn a_self_signed_mx_is_fine_under_dane_ee_and_not_under_mta_sts() {
    // The domain publishes the TLSA record of the key its MX really uses, here in a self-signed certificate.
    let mut s: Scenario = "strip@dane".parse::<CellId>().unwrap().scenario().unwrap();
    s.attack = None;
    s.server_identity = IdentityKind::SelfSigned;
    let (trace, f) = run(&s);
    assert_eq!(f[0].outcome, Outcome::DeliveredSecurely, "{f:?}");
    // DANE-EE checks neither the issuer nor the name (RFC 7672 §3.1.1): the key matched.
    let check = trace.events().find_map(|(_, e)| match e {
        Event::Client(SessionEvent::TlsEstablished { info }) => info.cert_check.clone(),
        _ => None,
    });
    assert!(check.is_some_and(|c| c.valid
        && c.dane.is_some_and(|d| matches!(
            d,
            DaneVerdict::Matched(DaneMatch::EndEntity(Tlsa {
                usage: Usage::DaneEe,
                selector: Selector::Spki,
                matching: Matching::Sha256,
                ..
            }))
        ))));
    // MTA-STS needs a WebPKI certificate: the same MX is refused.
    let mut s: Scenario = "strip@sts-cached".parse::<CellId>().unwrap().scenario().unwrap();
    s.attack = None;
    s.server_identity = IdentityKind::SelfSigned;
    let (_, f) = run(&s);
    assert!(matches!(f[0].outcome, Outcome::AbortedSafely { .. }), "{f:?}");
}

fn mail_params(trace: &Trace) -> Vec<(String, bool)> {
    trace
        .client_events()
        .filter_map(|(_, e)| match e {
            ClientEvent::CommandSent { command: smtp_lab::proto::codec::Command::Mail { params, .. }, under_tls } => {
                Some((params.iter().map(|p| p.keyword.clone()).collect::<Vec<_>>().join(" "), *under_tls))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_requiretls_message_goes_over_tls_to_a_vouched_mx_or_not_at_all() {
    for row in ["strip", "refuse-454", "mitm-cert", "mx-spoof"] {
        let (trace, f) = cell(row, "requiretls");
        assert_eq!(f[0].outcome.label(), "aborted", "{row}: {f:?}");
        assert!(mail_params(&trace).iter().all(|(_, tls)| *tls), "{row}: no MAIL outside TLS");
        assert!(!read_on_wire(&trace), "{row}");
    }
    // Unattacked: the MAIL carries REQUIRETLS, inside TLS, and the MX records it.
    let mut s: Scenario = "strip@requiretls".parse::<CellId>().unwrap().scenario().unwrap();
    s.attack = None;
    let (trace, f) = run(&s);
    assert_eq!(f[0].outcome, Outcome::DeliveredSecurely, "{f:?}");
    assert!(mail_params(&trace).iter().any(|(p, tls)| p.split(' ').any(|k| k == "REQUIRETLS") && *tls), "{:?}", mail_params(&trace));
    assert!(trace
        .server_events()
        .any(|(_, e)| matches!(e, smtp_lab::proto::ServerEvent::MessageAccepted { envelope, .. } if envelope.require_tls)));
    // An MX that does not offer REQUIRETLS does not get the message.
    s.server.requiretls = false;
    let (trace, f) = run(&s);
    assert!(matches!(&f[0].outcome, Outcome::AbortedSafely { reason: Stop::Client(AbortReason::RequireTlsNotOffered) }), "{f:?}");
    assert!(trace.delivered().is_empty());
}

#[test]
fn the_provider_honours_requiretls_on_the_next_hop() {
    let mut j = Scenario::journey(587);
    j.client.require_tls = true;
    j.server.requiretls = true;
    let hop2 = j.hop2_mut().unwrap();
    hop2.server.requiretls = true;
    hop2.sender = "strip@requiretls".parse::<CellId>().unwrap().column.sender().map(Box::new);
    let (trace, f) = run(&j);
    let at_mx = trace.hop(1);
    assert!(
        at_mx.server_events().any(
            |(_, e)| matches!(e, smtp_lab::proto::ServerEvent::MessageAccepted { envelope, under_tls: true, .. } if envelope.require_tls)
        ),
        "{f:?}"
    );
    // Mallory strips STARTTLS on hop 2: the provider's MTA keeps the message; hop 1 stayed inside TLS.
    j.hop2_mut().unwrap().attack = Some(smtp_lab::sim::Attack::Strip);
    let (trace, f) = run(&j);
    assert!(trace.hop(1).delivered().is_empty());
    assert!(
        f.iter().any(|x| matches!(
            &x.outcome,
            Outcome::AbortedSafely {
                reason: Stop::Client(
                    AbortReason::StartTlsNotOfferedForRequireTls | AbortReason::RequireTlsWithoutTls | AbortReason::RequireTlsNotOffered
                ) | Stop::Sender(Refusal::RequireTlsUnvouched)
            }
        )),
        "{f:?}"
    );
    assert!(!f.iter().any(|x| x.outcome.is_compromise()), "{f:?}");
    // The same journey without REQUIRETLS: the strip reads the message on hop 2.
    j.client.require_tls = false;
    let (_, f) = run(&j);
    assert_eq!(f[0].outcome, Outcome::MessageRead, "{f:?}");
}

#[test]
fn dane_ta_trusts_whatever_its_anchor_issued() {
    let with_ta = |row: &str| {
        let mut s: Scenario = format!("{row}@dane").parse::<CellId>().unwrap().scenario().unwrap();
        if let Some(sender) = s.sender.as_mut() {
            sender.domain.tlsa_trust_anchor = true;
        }
        s
    };
    // The TLSA record names the CA (2 0 1); the MX's chain leads to it, and the name is checked (RFC 7672 §3.1.2).
    let mut s = with_ta("strip");
    s.attack = None;
    let (trace, f) = run(&s);
    assert_eq!(f[0].outcome, Outcome::DeliveredSecurely, "{f:?}");
    let tlsa = trace.lookups().find(|d| d.qtype == Qtype::Tlsa).unwrap();
    assert!(tlsa.records[0].data.to_string().starts_with("TLSA 2 0 1 "));
    let check = trace.events().find_map(|(_, e)| match e {
        Event::Client(SessionEvent::TlsEstablished { info }) => info.cert_check.clone(),
        _ => None,
    });
    assert!(check.is_some_and(|c| c.valid && c.dane.is_some_and(|d| matches!(d, DaneVerdict::Matched(DaneMatch::TrustAnchor(_))))));
    // Mallory's own CA is not that anchor: refused.
    let (_, f) = run(&with_ta("mitm-cert"));
    assert!(matches!(f[0].outcome, Outcome::AbortedSafely { .. }), "{f:?}");
    // A certificate the anchor itself misissued to Mallory passes: DANE-TA is only as strict as the CA it names.
    let (_, f) = run(&with_ta("mitm-cert-trusted"));
    assert_eq!(f[0].outcome, Outcome::MessageRead, "{f:?}");
}
