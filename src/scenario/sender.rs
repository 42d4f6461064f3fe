//! What a sending MTA does before it connects to an MX: it looks up the
//! recipient domain's MX, and, as its policy says, the domain's MTA-STS
//! record and policy (fetched over real HTTPS) or the MX's TLSA records, and
//! decides how to connect, or not to. Every query and answer, every byte of
//! the fetch and every decision is a step of the trace, so that the outcome
//! of a session can be read from what happened, not from the settings.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use super::Scenario;
use crate::attack::Attack;
use crate::attacker::Attacker;
use crate::client::TlsPolicy;
use crate::dane::{Matching, Selector, Tlsa, Usage};
use crate::dns::{Data, Dnssec, Lookup, Qtype, Rcode, Record, Tamper, Zone};
use crate::entropy::{stream, Entropy};
use crate::https::{HttpEvent, HttpsClient, HttpsServer, POLICY_PATH};
use crate::mta_sts::{Mode, Policy, StsRecord};
use crate::names::{MALLORY_ADDR, MALLORY_MX, RECIPIENT_DOMAIN, SERVER_ADDR, SERVER_NAME, STS_HOST};
use crate::pki::{IdentityKind, Pki};
use crate::policy::{CertRule, DomainSetup, ResultType, SenderEvent, SenderPolicy, SenderSetup};
use crate::session::{Endpoint, SessionEvent, SessionOptions, TlsSide};
use crate::tls::{ClientTls, TlsVersions};
use crate::trace::{Event, Lane, Step, StepKind};
use crate::wire::Link;

/// How long one DNS exchange takes on the simulated clock.
const DNS_RTT: Duration = Duration::from_millis(10);
/// The policy id the domain publishes in its `_mta-sts` record (RFC 8461 §3.1).
pub const STS_ID: &str = "20260601T000000";
/// The policy's `max_age`: a week, in seconds.
const STS_MAX_AGE: u64 = 604_800;

/// The policy file the recipient's domain serves in `mode`.
pub fn published_policy(mode: Mode) -> Policy {
    Policy { mode, mx: vec![SERVER_NAME.to_owned()], max_age: STS_MAX_AGE }
}

/// The record the domain publishes for the certificate its MX presents
/// (`identity`): DANE-EE (3 1 1) of its key, whoever issued it; or, with
/// `trust_anchor`, DANE-TA (2 0 1) of the CA certificate that issued it.
pub fn published_tlsa(pki: &Arc<Pki>, identity: IdentityKind, trust_anchor: bool) -> Option<Tlsa> {
    let mx = pki.at(SERVER_NAME);
    let chain = &mx.identity(identity).chain;
    match trust_anchor {
        false => Tlsa::for_certificate(Usage::DaneEe, Selector::Spki, Matching::Sha256, chain.first()?).ok(),
        true => Tlsa::for_certificate(Usage::DaneTa, Selector::Cert, Matching::Sha256, &pki.ca_cert).ok(),
    }
}

/// Where the TLSA records of an SMTP server are (RFC 7672 §2.2).
pub fn tlsa_name(mx: &str) -> String {
    format!("_25._tcp.{mx}")
}

/// Every record of the simulated world that the sender may query, as the
/// recipient's domain has set it up for an MX presenting `mx_identity`.
pub fn world(domain: &DomainSetup, pki: &Arc<Pki>, mx_identity: IdentityKind) -> Zone {
    let mut zone = Zone::lab();
    zone.add(RECIPIENT_DOMAIN, Data::Mx(SERVER_NAME.to_owned()));
    zone.add(SERVER_NAME, Data::A(Ipv4Addr::from(SERVER_ADDR)));
    zone.add(STS_HOST, Data::A(Ipv4Addr::from(SERVER_ADDR)));
    zone.add(MALLORY_MX, Data::A(Ipv4Addr::from(MALLORY_ADDR)));
    if domain.sts.is_some() {
        zone.add(&format!("_mta-sts.{RECIPIENT_DOMAIN}"), Data::Txt(format!("v=STSv1; id={STS_ID};")));
    }
    if domain.tlsrpt {
        zone.add(&format!("_smtp._tls.{RECIPIENT_DOMAIN}"), Data::Txt(format!("v=TLSRPTv1; rua=mailto:tlsrpt@{RECIPIENT_DOMAIN}")));
    }
    if let Some(tlsa) = published_tlsa(pki, mx_identity, domain.tlsa_trust_anchor).filter(|_| domain.tlsa) {
        zone.add(&tlsa_name(SERVER_NAME), Data::Tlsa(tlsa));
    }
    if domain.dnssec {
        zone.sign(RECIPIENT_DOMAIN, Dnssec::Secure);
    }
    zone
}

/// What the attacker does to the answer to one query, if anything.
fn tamper(attack: Option<Attack>, name: &str, qtype: Qtype) -> Option<Tamper> {
    match (attack?, qtype) {
        (Attack::MxSpoof, Qtype::Mx) if name == RECIPIENT_DOMAIN => {
            Some(Tamper::Replace(vec![Record { name: name.to_owned(), data: Data::Mx(MALLORY_MX.to_owned()) }]))
        }
        (Attack::TlsaStrip, Qtype::Tlsa) => Some(Tamper::Remove),
        (Attack::StsStrip, Qtype::Txt) if name.starts_with("_mta-sts.") => Some(Tamper::Remove),
        _ => None,
    }
}

/// The sender's work before the SMTP connection, as trace steps.
pub struct Prelude {
    /// Steps with times from the prelude's start; the route sets their hop and index.
    pub steps: Vec<Step>,
    /// When the SMTP connection may open, from the prelude's start.
    pub elapsed: Duration,
    /// The connection to open, set up as the sender decided; `None` when it will not deliver.
    pub connect: Option<Scenario>,
    /// The policy fetch's TLS secrets (NSS key log lines), to open its records.
    pub key_log: Vec<String>,
}

struct Run<'a> {
    hop: &'a Scenario,
    setup: &'a SenderSetup,
    pki: &'a Arc<Pki>,
    zone: Zone,
    now: Duration,
    steps: Vec<Step>,
    key_log: Vec<String>,
}

impl Run<'_> {
    fn step(&mut self, kind: StepKind, lane: Lane, dns: Option<Lookup>, events: Vec<Event>) {
        let middlebox = dns.as_ref().and_then(|d| d.tampered.clone());
        self.steps.push(Step {
            index: self.steps.len(),
            hop: 0,
            lane,
            dns,
            at_ms: self.now.as_millis() as u64,
            kind,
            direction: None,
            sent: None,
            wire: None,
            tls: false,
            records: Vec::new(),
            sender_plaintext: None,
            receiver_plaintext: None,
            middlebox,
            attacker_plaintext: None,
            events,
            client_state: "resolving".into(),
            server_state: String::new(),
        });
    }

    /// One query, answered by the validating resolver (through Mallory, if she is there).
    fn lookup(&mut self, name: &str, qtype: Qtype) -> Lookup {
        self.now += DNS_RTT;
        let lookup = self.zone.resolve(name, qtype, tamper(self.hop.attack, name, qtype).as_ref());
        self.step(StepKind::Dns, Lane::Dns, Some(lookup.clone()), Vec::new());
        lookup
    }

    fn decide(&mut self, event: SenderEvent) {
        self.step(StepKind::Decision, Lane::Dns, None, vec![Event::Sender(event)]);
    }

    /// Fetches the policy over HTTPS from `mta-sts.<domain>`, with a WebPKI
    /// check of the host's certificate (RFC 8461 §3.3), and reads it.
    fn fetch_policy(&mut self, mode: Mode) -> Result<Policy, (String, ResultType)> {
        self.lookup(STS_HOST, Qtype::A);
        let host_pki = self.pki.at(STS_HOST);
        let client_tls = ClientTls {
            roots: vec![self.pki.ca_cert.clone()],
            server_name: STS_HOST.to_owned(),
            enforce_validation: true,
            versions: TlsVersions::Both,
            dane: None,
        };
        let options = |s: u64| SessionOptions {
            implicit_tls: true,
            entropy: Entropy::seeded(self.hop.seed, stream::on_hop(s, self.hop.hop)),
            handshake_timeout: crate::https::FETCH_TIMEOUT,
            ..SessionOptions::default()
        };
        let client = Endpoint::new(HttpsClient::get(STS_HOST, POLICY_PATH), TlsSide::Client(client_tls), options(stream::POLICY_CLIENT));
        let server = Endpoint::new(
            HttpsServer::serving(POLICY_PATH, &published_policy(mode).to_text()),
            TlsSide::Server { pki: host_pki, identity: IdentityKind::Valid, versions: TlsVersions::Both },
            options(stream::POLICY_SERVER),
        );
        let mut link = Link::between(client, server, STS_HOST, 443, (Event::HttpsClient, Event::HttpsServer));
        if let Some(attack) = self.hop.attack.filter(|a| *a == Attack::StsBlock) {
            let entropy = Entropy::seeded(self.hop.seed, stream::on_hop(stream::ATTACKER, self.hop.hop));
            let epoch = SessionOptions::default().epoch_unix;
            link = link.with_middlebox(Box::new(Attacker::new(attack, 443, self.pki.clone(), epoch, entropy)));
        }
        while link.step().is_some() {}
        let start = self.now;
        let mut result = Err(("the connection ended without a response".to_owned(), ResultType::StsPolicyFetchError));
        for step in link.steps() {
            let mut step = step.clone();
            step.lane = Lane::Https;
            step.index = self.steps.len();
            step.at_ms += start.as_millis() as u64;
            for e in &step.events {
                match e {
                    Event::HttpsClient(SessionEvent::Smtp(HttpEvent::ResponseReceived { status: 200, body, .. })) => {
                        result = Policy::parse(&String::from_utf8_lossy(&body.0))
                            .map_err(|e| (format!("the policy is invalid: {e}"), ResultType::StsPolicyInvalid));
                    }
                    Event::HttpsClient(SessionEvent::Smtp(HttpEvent::ResponseReceived { status, .. })) => {
                        result = Err((format!("the policy host answered HTTP {status}"), ResultType::StsPolicyFetchError));
                    }
                    Event::HttpsClient(SessionEvent::Smtp(HttpEvent::Failed { reason })) => {
                        result = Err((reason.clone(), ResultType::StsPolicyFetchError));
                    }
                    Event::HttpsClient(SessionEvent::TlsFailed { error }) if error.kind == crate::tls_info::TlsErrorKind::Certificate => {
                        result = Err((format!("the policy host's certificate is not valid: {error}"), ResultType::StsWebpkiInvalid));
                    }
                    _ => {}
                }
            }
            self.steps.push(step);
        }
        self.now = start + link.now();
        self.key_log.extend(link.key_log().iter().cloned());
        result
    }
}

/// Runs the sender's lookups for `hop` and decides how it connects.
pub fn prepare(hop: &Scenario, setup: &SenderSetup, pki: &Arc<Pki>) -> Prelude {
    let mut run = Run {
        hop,
        setup,
        pki,
        zone: world(&setup.domain, pki, hop.server_identity),
        now: Duration::ZERO,
        steps: Vec::new(),
        key_log: Vec::new(),
    };
    let connect = decide(&mut run);
    Prelude { steps: run.steps, elapsed: run.now + DNS_RTT, connect, key_log: run.key_log }
}

fn decide(run: &mut Run<'_>) -> Option<Scenario> {
    let mut next = run.hop.clone();
    next.sender = None;
    // A sender that applies a policy also reports on it: where to, the domain says (RFC 8460 §3).
    if run.setup.policy != SenderPolicy::Opportunistic {
        run.lookup(&format!("_smtp._tls.{RECIPIENT_DOMAIN}"), Qtype::Txt);
    }
    // Where to deliver: the MX (RFC 5321 §5.1).
    let mx_answer = run.lookup(RECIPIENT_DOMAIN, Qtype::Mx);
    let Some(mx) = mx_answer.mx_hosts().next().map(str::to_owned) else {
        let reason = match mx_answer.rcode {
            Rcode::ServFail => "the MX answer failed DNSSEC validation (SERVFAIL): the message waits in the queue".to_owned(),
            Rcode::NoError => "the domain has no MX".to_owned(),
        };
        let result = (mx_answer.dnssec == Dnssec::Bogus).then_some(ResultType::DnssecInvalid);
        run.decide(SenderEvent::NoMx { reason: reason.clone() });
        run.decide(SenderEvent::DeliveryRefused { reason, result });
        return None;
    };
    run.lookup(&mx, Qtype::A);
    next.client.server_name = mx.clone();
    next.server.hostname = mx.clone();
    let mut require_tls = false;
    let mut cert = CertRule::None;
    match run.setup.policy {
        SenderPolicy::Opportunistic => {}
        SenderPolicy::MtaSts => {
            let record = run.lookup(&format!("_mta-sts.{RECIPIENT_DOMAIN}"), Qtype::Txt);
            let id = record.texts().find_map(|t| StsRecord::parse(t).ok());
            let published = run.setup.domain.sts;
            let policy = match (&id, run.setup.sts_cached, published) {
                // A fresh cached policy is used as it is; the record only says whether to refetch (RFC 8461 §5.1).
                (_, true, Some(mode)) => {
                    if let Some(id) = &id {
                        run.decide(SenderEvent::StsRecord { id: id.id.clone() });
                    }
                    let policy = published_policy(mode);
                    run.decide(SenderEvent::PolicyFromCache { policy: policy.clone() });
                    Some(policy)
                }
                (Some(id), _, Some(mode)) => {
                    run.decide(SenderEvent::StsRecord { id: id.id.clone() });
                    match run.fetch_policy(mode) {
                        Ok(policy) => {
                            run.decide(SenderEvent::PolicyFetched { policy: policy.clone() });
                            Some(policy)
                        }
                        Err((reason, result)) => {
                            run.decide(SenderEvent::PolicyFetchFailed { reason, result });
                            None
                        }
                    }
                }
                _ => {
                    run.decide(SenderEvent::NoStsRecord);
                    None
                }
            };
            if let Some(policy) = policy {
                let mx_allowed = policy.allows_mx(&mx);
                run.decide(SenderEvent::PolicyApplied { mode: policy.mode, mx_allowed });
                match policy.mode {
                    Mode::Enforce if !mx_allowed => {
                        let reason = format!("{mx} is not an MX the MTA-STS policy lists (RFC 8461 §4.1)");
                        run.decide(SenderEvent::DeliveryRefused { reason, result: Some(ResultType::ValidationFailure) });
                        return None;
                    }
                    Mode::Enforce => {
                        require_tls = true;
                        cert = CertRule::WebPki;
                    }
                    Mode::Testing => {
                        // Deliver as before, but check, so that failures can be reported (RFC 8461 §5).
                        next.client.validate_certificate = false;
                        if !mx_allowed {
                            let reason = format!("{mx} is not an MX the policy lists");
                            run.decide(SenderEvent::WouldHaveFailed { result: ResultType::ValidationFailure, reason });
                        }
                    }
                    Mode::None => {}
                }
            }
        }
        SenderPolicy::Dane => {
            let tlsa = run.lookup(&tlsa_name(&mx), Qtype::Tlsa);
            let records: Vec<Tlsa> = tlsa.tlsa().cloned().collect();
            match (tlsa.rcode, tlsa.dnssec, records.is_empty()) {
                (Rcode::ServFail, _, _) => {
                    // A TLSA lookup that fails validation makes the MX unusable (RFC 7672 §2.2).
                    let reason = format!("the TLSA answer for {mx} failed DNSSEC validation, so that MX is unusable (RFC 7672 §2.2)");
                    run.decide(SenderEvent::DeliveryRefused { reason, result: Some(ResultType::DnssecInvalid) });
                    return None;
                }
                (_, Dnssec::Secure, false) => {
                    run.decide(SenderEvent::DaneApplies { records: records.clone() });
                    require_tls = true;
                    cert = CertRule::Dane { records };
                }
                (_, _, false) => {
                    let reason = "the answer is not DNSSEC-signed, so anyone on the path could have written it (RFC 7672 §2.2)".to_owned();
                    run.decide(SenderEvent::TlsaIgnored { reason });
                }
                (_, _, true) => {}
            }
        }
    }
    // A message sent with REQUIRETLS goes only to an MX the DNS or MTA-STS vouches for, over TLS
    // with a checked certificate, to a server that offers REQUIRETLS (RFC 8689 §4.2.1), or back to its sender.
    if run.hop.client.require_tls {
        let mx_vouched = mx_answer.dnssec == Dnssec::Secure || (require_tls && cert == CertRule::WebPki);
        if !mx_vouched {
            let reason =
                "the message requires TLS (REQUIRETLS), and neither DNSSEC nor an MTA-STS policy vouches for the MX (RFC 8689 §4.2.1)"
                    .to_owned();
            run.decide(SenderEvent::Bounced { reason });
            return None;
        }
        require_tls = true;
        if cert == CertRule::None {
            cert = CertRule::WebPki;
        }
    }
    run.decide(SenderEvent::Requirements { require_tls, cert: cert.clone() });
    if require_tls {
        next.client.policy = TlsPolicy::RequireStartTls;
    }
    match cert {
        CertRule::None => {}
        CertRule::WebPki => next.client.validate_certificate = true,
        CertRule::Dane { records } => {
            next.client.validate_certificate = true;
            next.tlsa = Some(records);
        }
    }
    if mx == MALLORY_MX {
        // Mallory's own MX, with a certificate valid for its own name: she needs no one on the SMTP wire.
        next.server.local_domains = vec![RECIPIENT_DOMAIN.to_owned()];
    }
    Some(next)
}
