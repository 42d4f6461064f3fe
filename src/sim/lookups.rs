//! What a sending MTA does before it connects to an MX: it looks up the
//! recipient domain's MX, and, as its policy says, the domain's MTA-STS
//! record and policy (fetched over real HTTPS) or the MX's TLSA records, and
//! decides how to connect, or not to. Every query and answer, every byte of
//! the fetch and every decision is a step of the trace, so that the outcome
//! of a session can be read from what happened, not from the settings.

use std::sync::Arc;
use std::time::Duration;

use crate::proto::endpoint::{Endpoint, SessionEvent, SessionOptions, TlsSide};
use crate::proto::http::{HttpClient, HttpEvent, HttpServer, POLICY_PATH};
use crate::proto::policy::dane::{tlsa_name, Tlsa};
use crate::proto::policy::dns::{Dnssec, Lookup, Qtype, Rcode, Zone};
use crate::proto::policy::mta_sts::{StsMode, StsPolicy, StsRecord};
use crate::proto::policy::sender::{
    CertRule, Deviation, FetchFailure, Refusal, ResultType, SenderEvent, SenderPolicy, SenderSetup, TlsaIgnoredWhy,
};
use crate::proto::smtp::client::TlsPolicy;
use crate::proto::tls::entropy::Entropy;
use crate::proto::tls::{ClientTls, TlsVersions};
use crate::sim::attack::middlebox::Attacker;
use crate::sim::attack::Attack;
use crate::sim::scenario::stream;
use crate::sim::scenario::Scenario;
use crate::sim::trace::{Event, Happened, Lane, PartyState, Step};
use crate::sim::wire::Link;
use crate::sim::world::names::SIM_EPOCH_UNIX;
use crate::sim::world::names::{MALLORY_MX, RECIPIENT_DOMAIN, STS_HOST};
use crate::sim::world::pki::{IdentityKind, Pki};
use crate::sim::world::zone::{published_policy, world};

/// How long one DNS exchange takes on the simulated clock.
const DNS_RTT: Duration = Duration::from_millis(10);
/// The sender's work before the SMTP connection, as trace steps.
pub(crate) struct Prelude {
    /// Steps with times from the prelude's start; the route sets their hop and index.
    pub steps: Vec<Step>,
    /// When the SMTP connection may open, from the prelude's start.
    pub elapsed: Duration,
    /// The connection to open, set up as the sender decided; `None` when it will not deliver.
    pub connect: Option<Scenario>,
    /// The policy fetch's TLS secrets (NSS key log lines), to open its records.
    pub key_log: Vec<String>,
}

struct Recorder<'a> {
    hop: &'a Scenario,
    setup: &'a SenderSetup,
    pki: &'a Arc<Pki>,
    zone: Zone,
    now: Duration,
    steps: Vec<Step>,
    key_log: Vec<String>,
}

impl Recorder<'_> {
    /// Records a step of the sender's own lane (its lookups and decisions).
    fn step(&mut self, happened: Happened, events: Vec<Event>) {
        let mut step = Step::new(self.now.as_millis() as u64, happened, events, PartyState::Resolving, PartyState::Absent);
        step.index = self.steps.len();
        step.lane = Lane::Dns;
        self.steps.push(step);
    }

    /// One query, answered by the validating resolver (through Mallory, if she is there).
    fn lookup(&mut self, name: &str, qtype: Qtype) -> Lookup {
        self.now += DNS_RTT;
        let lookup = self.zone.resolve(name, qtype, self.hop.attack.and_then(|a| a.tamper(name, qtype)).as_ref());
        self.step(Happened::Dns(lookup.clone()), Vec::new());
        lookup
    }

    fn decide(&mut self, event: SenderEvent) {
        self.step(Happened::Decision, vec![Event::Sender(event)]);
    }

    /// Fetches the policy over HTTPS from `mta-sts.<domain>`, with a WebPKI
    /// check of the host's certificate (RFC 8461 §3.3), and reads it.
    fn fetch_policy(&mut self, mode: StsMode) -> Result<StsPolicy, (FetchFailure, ResultType)> {
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
            handshake_timeout: crate::proto::http::FETCH_TIMEOUT,
            ..SessionOptions::new(SIM_EPOCH_UNIX, Entropy::seeded(self.hop.seed, stream::on_hop(s, self.hop.hop)))
        };
        let client = Endpoint::new(HttpClient::get(STS_HOST, POLICY_PATH), TlsSide::Client(client_tls), options(stream::POLICY_CLIENT));
        let server = Endpoint::new(
            HttpServer::serving(POLICY_PATH, &published_policy(mode).to_text()),
            TlsSide::Server { identity: host_pki.identity(IdentityKind::Valid).tls.clone(), versions: TlsVersions::Both },
            options(stream::POLICY_SERVER),
        );
        let mut link = Link::between(client, server, STS_HOST, 443, (Event::HttpsClient, Event::HttpsServer));
        if let Some(attack) = self.hop.attack.filter(|a| *a == Attack::StsBlock) {
            let entropy = Entropy::seeded(self.hop.seed, stream::on_hop(stream::ATTACKER, self.hop.hop));
            let epoch = SIM_EPOCH_UNIX;
            link = link.with_middlebox(Box::new(Attacker::new(attack, 443, self.pki.clone(), epoch, entropy)));
        }
        while link.step().is_some() {}
        let start = self.now;
        let mut result = Err((FetchFailure::NoResponse, ResultType::StsPolicyFetchError));
        for step in link.steps() {
            let mut step = step.clone();
            step.lane = Lane::Https;
            step.index = self.steps.len();
            step.at_ms += start.as_millis() as u64;
            for e in &step.events {
                match e {
                    Event::HttpsClient(SessionEvent::Machine(HttpEvent::ResponseReceived { status: 200, body, .. })) => {
                        result = StsPolicy::parse(&String::from_utf8_lossy(&body.0))
                            .map_err(|e| (FetchFailure::Invalid(e), ResultType::StsPolicyInvalid));
                    }
                    Event::HttpsClient(SessionEvent::Machine(HttpEvent::ResponseReceived { status, .. })) => {
                        result = Err((FetchFailure::Status(*status), ResultType::StsPolicyFetchError));
                    }
                    Event::HttpsClient(SessionEvent::Machine(HttpEvent::Failed { reason })) => {
                        result = Err((FetchFailure::Fetch(reason.clone()), ResultType::StsPolicyFetchError));
                    }
                    Event::HttpsClient(SessionEvent::TlsFailed { error })
                        if error.kind == crate::proto::tls_info::TlsErrorKind::Certificate =>
                    {
                        result = Err((FetchFailure::Certificate(Box::new(error.clone())), ResultType::StsWebpkiInvalid));
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
pub(crate) fn prepare(hop: &Scenario, setup: &SenderSetup, pki: &Arc<Pki>) -> Prelude {
    let mut run = Recorder {
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

/// What the sender asks of the connection once its policies have spoken.
#[derive(Default)]
struct Requirements {
    require_tls: bool,
    cert: CertRule,
}

/// The sender's lookups and decisions, in order, each recorded as a step;
/// the connection to open, or `None` when it will not deliver.
fn decide(run: &mut Recorder<'_>) -> Option<Scenario> {
    let mut next = run.hop.clone();
    next.sender = None;
    // A sender that applies a policy also reports on it: where to, the domain says (RFC 8460 §3).
    if run.setup.policy != SenderPolicy::Opportunistic {
        run.lookup(&format!("_smtp._tls.{RECIPIENT_DOMAIN}"), Qtype::Txt);
    }
    // Where to deliver: the MX; with no MX record at all, the domain itself, an implicit MX
    // of preference 0 (RFC 5321 §5.1), whose name is also its TLSA base domain (RFC 7672 §2.2.2).
    let mx_answer = run.lookup(RECIPIENT_DOMAIN, Qtype::Mx);
    let (mx, implicit) = match (mx_answer.rcode, mx_answer.mx_hosts().next()) {
        (_, Some(host)) => (host.to_owned(), false),
        (Rcode::NoError, None) => (RECIPIENT_DOMAIN.to_owned(), true),
        // A temporary failure: the message is queued and retried (RFC 5321 §5.1; RFC 7672 §2.1.2).
        (Rcode::ServFail, None) => {
            let result = (mx_answer.dnssec == Dnssec::Bogus).then_some(ResultType::DnssecInvalid);
            run.decide(SenderEvent::NoMx { reason: Refusal::MxBogus });
            run.decide(SenderEvent::DeliveryRefused { reason: Refusal::MxBogus, result });
            return None;
        }
    };
    // The connection goes where the answer says, forged or not.
    let address = run.lookup(&mx, Qtype::A).addresses().next();
    match address {
        Some(address) => next.server_addr = address,
        // Neither an MX nor an address: nowhere to deliver, an error to report (RFC 5321 §5.1).
        None if implicit => {
            run.decide(SenderEvent::NoMx { reason: Refusal::NoMx });
            run.decide(SenderEvent::DeliveryRefused { reason: Refusal::NoMx, result: None });
            return None;
        }
        None => {}
    }
    next.client.server_name = mx.clone();
    next.server.hostname = mx.clone();
    let mut needs = match run.setup.policy {
        SenderPolicy::Opportunistic => Requirements::default(),
        SenderPolicy::MtaSts => mta_sts(run, &mx, &mut next)?,
        SenderPolicy::Dane => dane(run, &mx)?,
    };
    // A message sent with REQUIRETLS goes only to an MX the DNS or MTA-STS vouches for, over TLS
    // with a checked certificate, to a server that offers REQUIRETLS (RFC 8689 §4.2.1), or back to its sender.
    if run.hop.client.require_tls {
        let mx_vouched = mx_answer.dnssec == Dnssec::Secure || (needs.require_tls && needs.cert == CertRule::WebPki);
        if !mx_vouched {
            run.decide(SenderEvent::Bounced { reason: Refusal::RequireTlsUnvouched });
            return None;
        }
        needs.require_tls = true;
        if needs.cert == CertRule::None {
            needs.cert = CertRule::WebPki;
        }
    }
    run.decide(SenderEvent::Requirements { require_tls: needs.require_tls, cert: needs.cert.clone() });
    if needs.require_tls {
        next.client.policy = TlsPolicy::RequireStartTls;
    }
    match needs.cert {
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

/// MTA-STS (RFC 8461): the record, the policy (cached or fetched), and what
/// its mode asks; `None` when it refuses the MX.
fn mta_sts(run: &mut Recorder<'_>, mx: &str, next: &mut Scenario) -> Option<Requirements> {
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
    let Some(policy) = policy else { return Some(Requirements::default()) };
    let mx_allowed = policy.allows_mx(mx);
    run.decide(SenderEvent::PolicyApplied { mode: policy.mode, mx_allowed });
    match policy.mode {
        StsMode::Enforce if !mx_allowed => {
            let reason = Refusal::MxNotListed { mx: mx.to_owned() };
            run.decide(SenderEvent::DeliveryRefused { reason, result: Some(ResultType::ValidationFailure) });
            None
        }
        StsMode::Enforce => Some(Requirements { require_tls: true, cert: CertRule::WebPki }),
        StsMode::Testing => {
            // Deliver as before, but check, so that failures can be reported (RFC 8461 §5).
            next.client.validate_certificate = false;
            if !mx_allowed {
                let reason = Deviation::MxNotListed { mx: mx.to_owned() };
                run.decide(SenderEvent::WouldHaveFailed { result: ResultType::ValidationFailure, reason });
            }
            Some(Requirements::default())
        }
        StsMode::None => Some(Requirements::default()),
    }
}

/// DANE (RFC 7672): the MX's TLSA records, used when DNSSEC validates them;
/// `None` when a failed validation makes the MX unusable.
fn dane(run: &mut Recorder<'_>, mx: &str) -> Option<Requirements> {
    let tlsa = run.lookup(&tlsa_name(mx), Qtype::Tlsa);
    let records: Vec<Tlsa> = tlsa.tlsa().cloned().collect();
    match (tlsa.rcode, tlsa.dnssec, records.is_empty()) {
        (Rcode::ServFail, _, _) => {
            // A TLSA lookup that fails validation makes the MX unusable (RFC 7672 §2.2).
            let reason = Refusal::TlsaBogus { mx: mx.to_owned() };
            run.decide(SenderEvent::DeliveryRefused { reason, result: Some(ResultType::DnssecInvalid) });
            None
        }
        (_, Dnssec::Secure, false) => {
            run.decide(SenderEvent::DaneApplies { records: records.clone() });
            Some(Requirements { require_tls: true, cert: CertRule::Dane { records } })
        }
        (_, _, false) => {
            run.decide(SenderEvent::TlsaIgnored { reason: TlsaIgnoredWhy::Unsigned });
            Some(Requirements::default())
        }
        (_, _, true) => Some(Requirements::default()),
    }
}
