//! The explainer's content and its proofs: the ports, the claims readers
//! bring from articles about them, and for each claim that a session can
//! settle, the session and a check over its bytes and outcomes that says what
//! it demonstrates. Every lesson has such a check too. A claim no session can
//! show (history, registries, other protocols) says so.
//!
//! Sources are cited per sentence in `rfc`; the ones relied on beyond the
//! RFCs: Poddebniak et al., "Why TLS is better without STARTTLS", USENIX
//! Security 2021 (over 40 STARTTLS flaws in clients and servers).

use serde::Serialize;

use crate::lab::assemble;
use crate::lab::lessons::Lesson;
use crate::lab::settings::{ClientSettings, ServerSettings, Settings, Validation};
use crate::outcome::matrix::{CellId, Column, Row};
use crate::outcome::{self, Finding, Outcome};
use crate::proto::endpoint::SessionEvent;
use crate::proto::policy::sender::SenderEvent;
use crate::proto::policy::spf::SpfResult;
use crate::proto::smtp::client::{ClientEvent, TlsPolicy};
use crate::proto::smtp::codec::Command;
use crate::proto::smtp::server::ServerEvent;
use crate::proto::tls::ContentType;
use crate::proto::tls_info::TlsErrorKind;
use crate::sim::scenario::Scenario;
use crate::sim::trace::{Event, Lane, StepKind, Trace};
use crate::sim::world::pki::Pki;

/// One port as the explainer's card shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Port {
    pub port: u16,
    pub role: &'static str,
    pub tls: &'static str,
    pub who: &'static str,
    pub auth: &'static str,
    #[serde(serialize_with = "crate::cite::as_prose")]
    pub sources: &'static str,
    /// The lab link that runs this port's usual session.
    pub link: String,
}

/// What a claim says is: true, false, or true only with conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClaimVerdict {
    True,
    False,
    Misleading,
}

/// Why no session can show a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoSession {
    /// It is about history (who assigned what, when).
    History,
    /// It is about port numbers and registries.
    Registry,
    /// It is about a protocol the lab does not run (IMAP, POP3).
    OtherProtocol,
}

impl NoSession {
    pub fn sentence(self) -> &'static str {
        match self {
            NoSession::History => "No session can show this: it is about history.",
            NoSession::Registry => "No session can show this: it is about port numbers and registries.",
            NoSession::OtherProtocol => "No session can show this: it is about IMAP and POP3, which the lab does not run.",
        }
    }
}

/// What a finished session offers a check.
pub struct Evidence<'a> {
    pub scenario: &'a Scenario,
    pub trace: &'a Trace,
    pub findings: &'a [Finding],
}

/// A session and what it demonstrates, checked over its trace.
pub struct Demo {
    pub settings: Settings,
    /// What the session demonstrates, as a sentence the check makes true.
    pub shows: &'static str,
    pub check: fn(&Evidence) -> bool,
    /// Which way the session points: the claim's words holding, failing, or neither.
    pub side: Side,
}

/// What a claim's session shows of the claim itself, so that a verdict and
/// its sessions cannot disagree: a true claim's sessions show it holding, a
/// false one's show it failing, a misleading one's show both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    /// The session shows what the claim says.
    Holds,
    /// The session shows the claim wrong.
    Fails,
    /// Context: a comparison that bears on neither.
    Aside,
}

/// One claim, its verdict, the truth and its sources, and its demonstrations.
pub struct Claim {
    pub id: &'static str,
    pub claim: &'static str,
    pub verdict: ClaimVerdict,
    pub truth: &'static str,
    pub sources: &'static str,
    pub demos: Vec<Demo>,
    /// Set when no session can show it (then `demos` is empty).
    pub no_session: Option<NoSession>,
}

/// The result of running one demonstration.
#[derive(Debug, Clone, Serialize)]
pub struct Proof {
    pub link: String,
    pub shows: &'static str,
    /// Which way the session points (the claim holding, failing, or neither).
    pub side: Side,
    pub proved: bool,
}

impl Demo {
    /// Runs the session and checks it.
    pub fn run(&self, pki: &std::sync::Arc<Pki>) -> Proof {
        let link = self.settings.to_link(Some(0));
        let proved = assemble::scenario(&self.settings).is_ok_and(|scenario| {
            let trace = scenario.run(pki);
            let findings = outcome::analyse(&scenario, &trace);
            (self.check)(&Evidence { scenario: &scenario, trace: &trace, findings: &findings })
        });
        Proof { link, shows: self.shows, side: self.side, proved }
    }
}

// ---- checks over a session ------------------------------------------------

fn top(e: &Evidence) -> Option<&'static str> {
    e.findings.first().map(|f| f.outcome.label())
}

fn found(e: &Evidence, want: impl Fn(&Outcome) -> bool) -> bool {
    e.findings.iter().any(|f| want(&f.outcome))
}

fn password_exposed(e: &Evidence) -> bool {
    found(e, |o| matches!(o, Outcome::CredentialsExposed { .. }))
}

fn delivered_securely(e: &Evidence) -> bool {
    found(e, |o| *o == Outcome::DeliveredSecurely)
}

fn aborted_with_nothing_exposed(e: &Evidence) -> bool {
    found(e, |o| matches!(o, Outcome::AbortedSafely { .. })) && !found(e, Outcome::is_compromise)
}

/// The sending MTA decided something (a step of its lookups).
fn sender_did(e: &Evidence, want: impl Fn(&SenderEvent) -> bool) -> bool {
    e.trace.sender_events().any(|(_, s)| want(s))
}

/// The policy arrived over HTTPS: a TLS handshake with the policy host, then a 200 with the policy.
fn policy_fetched(e: &Evidence) -> bool {
    let handshake =
        e.trace.steps.iter().any(|s| s.lane == Lane::Https && s.records().iter().any(|r| r.content_type == ContentType::Handshake));
    handshake && sender_did(e, |s| matches!(s, SenderEvent::PolicyFetched { .. }))
}

fn sent(e: &Evidence, want: impl Fn(&Command, bool) -> bool) -> bool {
    e.trace.client_events().any(|(_, ev)| matches!(ev, ClientEvent::CommandSent { command, under_tls } if want(command, *under_tls)))
}

fn server_replied(e: &Evidence, code: u16) -> bool {
    e.trace.server_events().any(|(_, ev)| matches!(ev, ServerEvent::ReplySent { reply } if reply.code == code))
}

fn no_smtp_outside_encrypted_records(e: &Evidence) -> bool {
    let segments: Vec<_> = e.trace.steps.iter().filter(|s| s.kind() == StepKind::Segment).collect();
    e.trace.cleartext_on_wire().is_empty()
        && segments.iter().all(|s| s.tls())
        && segments.iter().filter(|s| s.receiver_plaintext().is_some()).all(|s| s.records().iter().all(|r| r.encrypted))
}

fn starttls_then_ehlo_inside(e: &Evidence) -> bool {
    sent(e, |c, tls| matches!(c, Command::StartTls) && !tls) && sent(e, |c, tls| matches!(c, Command::Ehlo { .. }) && tls)
}

fn greeting_is_esmtp(e: &Evidence) -> bool {
    e.trace.server_events().find_map(|(_, ev)| match ev {
        // The greeting says ESMTP, as a word of its own.
        ServerEvent::ReplySent { reply } => Some(reply.code == 220 && reply.lines[0].split_ascii_whitespace().any(|w| w == "ESMTP")),
        _ => None,
    }) == Some(true)
}

fn smtp_inside_tls_on_465(e: &Evidence) -> bool {
    e.scenario.port == 465
        && e.trace
            .server_events()
            .any(|(_, ev)| matches!(ev, ServerEvent::CommandReceived { command: Command::Ehlo { .. }, under_tls: true }))
}

/// Nothing crossed from either side, and a timer ended it after `secs` of simulated time or more.
fn silent_until_timeout(e: &Evidence, secs: u64) -> bool {
    let carried = e.trace.steps.iter().any(|s| s.kind() == StepKind::Segment && s.wire().is_some_and(|b| !b.0.is_empty()));
    let timed_out = e.trace.steps.iter().any(|s| s.kind() == StepKind::Timeout && s.at_ms >= secs * 1000);
    !carried && timed_out
}

fn tls_fails_at_the_greeting(e: &Evidence) -> bool {
    let failed = e.trace.events().find_map(|(s, ev)| match ev {
        Event::Client(SessionEvent::TlsFailed { error }) => Some((s.index, error.kind)),
        _ => None,
    });
    let first_timer = e.trace.steps.iter().position(|s| s.kind() == StepKind::Timeout).unwrap_or(usize::MAX);
    matches!(failed, Some((step, TlsErrorKind::NotTls)) if step < first_timer)
}

fn no_greeting_and_a_timeout(e: &Evidence) -> bool {
    e.scenario.port == 25 && !e.trace.client_events().any(|(_, ev)| matches!(ev, ClientEvent::ReplyReceived { .. }))
}

fn tcp_from_start_to_end(e: &Evidence) -> bool {
    e.trace.steps.first().is_some_and(|s| s.kind() == StepKind::Connect) && e.trace.steps.iter().any(|s| s.kind() == StepKind::Fin)
}

fn relay_on_25_without_auth(e: &Evidence) -> bool {
    e.scenario.port == 25 && delivered_securely(e) && !sent(e, |c, _| matches!(c, Command::Auth { .. }))
}

fn clear_then_encrypted(e: &Evidence) -> bool {
    let first = e.trace.steps.iter().find(|s| s.kind() == StepKind::Segment);
    first.is_some_and(|s| !s.tls()) && starttls_then_ehlo_inside(e) && delivered_securely(e)
}

fn password_then_530(e: &Evidence) -> bool {
    let auth = e.trace.client_events().position(|(_, ev)| matches!(ev, ClientEvent::CommandSent { command: Command::Auth { .. }, .. }));
    let refusal = e.trace.client_events().position(|(_, ev)| matches!(ev, ClientEvent::ReplyReceived { reply, .. } if reply.code == 530));
    password_exposed(e) && matches!((auth, refusal), (Some(a), Some(r)) if a < r)
}

fn mx_requiring_tls_refuses_a_plain_sender(e: &Evidence) -> bool {
    e.scenario.port == 25 && e.trace.delivered().is_empty() && server_replied(e, 530)
}

fn starttls_on_25(e: &Evidence) -> bool {
    e.scenario.port == 25 && sent(e, |c, tls| matches!(c, Command::StartTls) && !tls) && delivered_securely(e)
}

fn nothing_to_strip(e: &Evidence) -> bool {
    delivered_securely(e) && !e.trace.steps.iter().any(|s| s.altered_on_wire())
}

// ---- settings ---------------------------------------------------------------

fn lesson(l: Lesson) -> Settings {
    Settings { preset: Some(l), ..Settings::default() }
}

fn cell(row: Row, column: Column) -> Settings {
    Settings { cell: Some(CellId::new(row, column)), ..Settings::default() }
}

/// A client that requires STARTTLS but accepts any certificate, against certificate substitution.
fn required_without_validation() -> Settings {
    Settings {
        cell: Some(CellId::new(Row::MitmCert, Column::RequireStarttls)),
        client: ClientSettings { validate: Some(Validation::Report), ..ClientSettings::default() },
        ..Settings::default()
    }
}

/// An MX that requires STARTTLS, and a sender without TLS.
fn mx_requiring_tls() -> Settings {
    Settings {
        port: Some(25),
        server: ServerSettings { require_tls: true, ..ServerSettings::default() },
        client: ClientSettings { policy: Some(TlsPolicy::Plain), ..ClientSettings::default() },
        ..Settings::default()
    }
}

fn holds(settings: Settings, shows: &'static str, check: fn(&Evidence) -> bool) -> Demo {
    Demo { settings, shows, check, side: Side::Holds }
}

fn fails(settings: Settings, shows: &'static str, check: fn(&Evidence) -> bool) -> Demo {
    Demo { settings, shows, check, side: Side::Fails }
}

fn aside(settings: Settings, shows: &'static str, check: fn(&Evidence) -> bool) -> Demo {
    Demo { settings, shows, check, side: Side::Aside }
}

// ---- content ----------------------------------------------------------------

/// The four ports that carry SMTP.
pub fn ports() -> Vec<Port> {
    let p = |port, role, tls, who, auth, sources, l: Settings| Port { port, role, tls, who, auth, sources, link: l.to_link(Some(0)) };
    vec![
        p(25,
          "Relay: one mail server delivering to another, the recipient's MX. Submission is allowed here too (RFC 6409 §3.1), but most networks keep it on 587.",
          "Opportunistic STARTTLS, usually with no certificate check, which stops a passive eavesdropper but not an active attacker (RFC 7672 §1.3). Mandatory only where the sender's policy says so: MTA-STS, DANE, REQUIRETLS (RFC 8689), or its own per-destination rules.",
          "A sending mail server, connecting to the MX of the recipient's domain",
          "None: the MX accepts mail for its own domains from anyone",
          "RFC 5321 §5.1; RFC 3207; RFC 7672 §1.3",
          lesson(Lesson::Relay25)),
        p(587,
          "Submission: a mail client handing a message to its provider (RFC 6409). MTAs may also relay through a smarthost here, with AUTH.",
          "Starts in cleartext and upgrades with STARTTLS. Safe against an active attacker only if the client requires TLS and validates the certificate (RFC 8314 §5).",
          "A mail client (MUA) to its provider's submission server (MSA)",
          "Required, and only after TLS",
          "RFC 6409; RFC 3207 §4; RFC 8314 §5",
          lesson(Lesson::Submission587)),
        p(465,
          "Submissions: the same job as 587, over implicit TLS (RFC 8314 §3.3). An \"alternate usage\" assignment (RFC 8314 §7.3): 465 is still also used for urd, one vendor's protocol (RFC 8314 §A).",
          "TLS from the first byte, so no SMTP crosses in cleartext. With correct implementations and both sides requiring TLS, as secure as 587; RFC 8314 prefers it because there is less to get wrong.",
          "A mail client (MUA) to its provider's submission server (MSA)",
          "Required, inside TLS from the start",
          "RFC 8314 §3.3, §7.3, §A",
          lesson(Lesson::Submissions465)),
        p(2525,
          "Not a mail port in any RFC: some providers offer it as an extra submission port for networks that block 25 and 587.",
          "Whatever the provider set up, usually STARTTLS as on 587",
          "A mail client or application to a provider that offers it",
          "Required",
          "No RFC assigns it",
          Settings { port: Some(2525), ..Settings::default() }),
    ]
}

/// A port on a message's path, and the lab link that opens that hop.
#[derive(Debug, Clone, Serialize)]
pub struct PathPort {
    pub port: u16,
    pub title: &'static str,
    /// The lab link to this hop (at its first step); `None` where the lab does not run it.
    pub link: Option<String>,
}

/// A node on a message's path: who it is, and its role (`MUA`, `MX`).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PathNode {
    pub name: &'static str,
    pub role: &'static str,
}

/// One hop of the path: who connects to whom, and on which ports.
#[derive(Debug, Clone, Serialize)]
pub struct PathHop {
    pub from: PathNode,
    pub to: PathNode,
    pub what: &'static str,
    #[serde(serialize_with = "crate::cite::as_prose")]
    pub sources: &'static str,
    pub ports: Vec<PathPort>,
}

/// The whole path of one message, hop by hop: each SMTP port opens its hop
/// of a journey in the lab (`pki` runs the journey to find where hop 2 starts).
pub fn path(pki: &std::sync::Arc<Pki>) -> Vec<PathHop> {
    let journey = |port: u16| Settings {
        port: Some(port),
        journey: crate::lab::settings::JourneySettings { journey: true, ..Default::default() },
        ..Settings::default()
    };
    let hop2_start = assemble::scenario(&journey(587))
        .map(|s| s.run(pki))
        .ok()
        .and_then(|t| t.steps.iter().find(|s| s.hop == 1).map(|s| s.index + 1))
        .unwrap_or(0);
    let at = |port: u16, step: usize| Some(journey(port).to_link(Some(step)));
    let alice = PathNode { name: "Alice's mail client", role: "MUA" };
    let provider = PathNode { name: "Her provider", role: "MSA, then MTA" };
    let mx = PathNode { name: "Bob's provider", role: "MX" };
    let bob = PathNode { name: "Bob's mail client", role: "MUA" };
    vec![
        PathHop {
            from: alice,
            to: provider,
            what: "Submission: authenticated, with TLS the client should require",
            sources: "RFC 6409 §3.1; RFC 8314 §3.3, §5",
            ports: vec![
                PathPort { port: 587, title: "587: STARTTLS", link: at(587, 1) },
                PathPort { port: 465, title: "465: implicit TLS", link: at(465, 1) },
            ],
        },
        PathHop {
            from: provider,
            to: mx,
            what: "Relay: no login, opportunistic STARTTLS unless a policy says otherwise",
            sources: "RFC 5321 §4.5.4.2, §5.1; RFC 3207 §4.1",
            ports: vec![PathPort { port: 25, title: "25: relay", link: at(587, hop2_start) }],
        },
        PathHop {
            from: mx,
            to: bob,
            what: "Reading: the client fetches from the mailbox with another protocol, which this lab does not run",
            sources: "RFC 9051; RFC 1939; RFC 8314 §3",
            ports: vec![
                PathPort { port: 143, title: "143: IMAP, STARTTLS", link: None },
                PathPort { port: 993, title: "993: IMAP, implicit TLS", link: None },
                PathPort { port: 110, title: "110: POP3, STLS", link: None },
                PathPort { port: 995, title: "995: POP3, implicit TLS", link: None },
            ],
        },
    ]
}

/// The ports for reading mail, which the lab does not run.
pub const READING_PORTS: &str = "Reading mail is a different protocol: IMAP on 143 (STARTTLS) and 993 (implicit TLS), POP3 on 110 (STLS) and 995 (implicit TLS). None of them sends mail, and RFC 8314 §3 recommends the implicit-TLS ports for them.";

/// Every claim, in the explainer's order.
pub fn claims() -> Vec<Claim> {
    use ClaimVerdict::*;
    let c = |id, claim, verdict, truth, sources, demos: Vec<Demo>| Claim { id, claim, verdict, truth, sources, demos, no_session: None };
    let none = |id, claim, verdict, truth, sources, why| Claim { id, claim, verdict, truth, sources, demos: vec![], no_session: Some(why) };
    vec![
        c("A1", "Port 465 encrypts the whole session from the first byte.", Misleading,
          "465 is the submissions port: the TLS handshake comes before any SMTP, so no SMTP byte, not even the greeting, crosses in cleartext. The handshake itself is not all encrypted: the ClientHello, with the server name the client asks for, and the ServerHello are readable on any TLS connection, and with TLS 1.2 so is the server's certificate.",
          "RFC 8314 §3.3, §7.3; RFC 8446 §1.2, §2; RFC 5246 §7.1, §7.3; RFC 6066 §3",
          vec![
              holds(lesson(Lesson::Submissions465), "Every byte on the wire is a TLS record, and every SMTP byte travels in an encrypted one.", no_smtp_outside_encrypted_records),
              fails(
                  Settings {
                      client: ClientSettings { client_tls_versions: Some(crate::proto::tls::TlsVersions::Tls12), ..ClientSettings::default() },
                      ..Settings { port: Some(465), ..Settings::default() }
                  },
                  "The same session with a TLS 1.2 client: the server's Certificate message is readable on the path.",
                  |e| {
                      crate::render::dissect::dissect(e.trace)
                          .iter()
                          .any(|r| r.visible.iter().any(|m| m.kind == crate::render::dissect::MessageKind::Certificate))
                  },
              ),
          ]),
        c("A2", "Port 587 upgrades a cleartext session with STARTTLS.", True,
          "587 is message submission: the session begins in cleartext, and the client upgrades it by sending STARTTLS after EHLO. After the handshake both sides must discard what they learned in cleartext, and the client should send a fresh EHLO.",
          "RFC 6409; RFC 3207 §4, §4.2",
          vec![holds(lesson(Lesson::Submission587), "STARTTLS is sent in cleartext, and the client says EHLO again inside TLS.", starttls_then_ehlo_inside)]),
        c("A3", "Port 587 is commonly used for server-to-server mail.", False,
          "Servers deliver to each other's MX on port 25: an MX record names a host, not a port. 587 is where a mail client submits to its own provider, with authentication. An MTA may relay through a smarthost on 587 with AUTH, but that is submission, not delivery to an MX.",
          "RFC 5321 §1.1, §5.1; RFC 6409 §1",
          vec![fails(lesson(Lesson::Relay25), "An MTA delivers to an MX on port 25 without authenticating.", relay_on_25_without_auth)]),
        c("A4", "On 587 your password is safe because AUTH only comes after STARTTLS.", Misleading,
          "Only if the client insists on TLS and validates the certificate. An opportunistic client whose STARTTLS offer is deleted (or answered with 454) carries on in cleartext and sends its password; a client that requires TLS but accepts any certificate hands it to whoever substitutes hers; and a 530 \"must issue STARTTLS first\" arrives after the password has already crossed.",
          "RFC 3207 §6; RFC 4954 §4; RFC 8314 §5",
          vec![
              fails(lesson(Lesson::Strip587Opportunistic), "With STARTTLS deleted, the password is decoded from bytes Mallory read.", password_exposed),
              fails(required_without_validation(), "A client that requires STARTTLS but does not validate gives its password to Mallory's certificate.", password_exposed),
              fails(lesson(Lesson::TooLate530), "The password crosses in cleartext before the server's 530 refusal.", password_then_530),
              holds(lesson(Lesson::Submission587), "A client that requires TLS and validates the certificate: the password crosses only inside TLS.", |e| {
                  delivered_securely(e) && !password_exposed(e)
              }),
          ]),
        c("A5", "ISPs block port 465 because spammers abused it.", False,
          "What ISPs block is outbound port 25 from consumer networks, to stop infected machines delivering spam directly. 587 and 465 exist to keep message submission apart from relay (RFC 6409 for 587, RFC 8314 for 465); that is why a filter on 25 leaves a mail client alone, though it is not why they were made.",
          "RFC 5068 §4, §4.1; RFC 6409 §1; RFC 8314 §3.3",
          vec![
              fails(lesson(Lesson::Port25Blocked), "The connection to port 25 never gets a greeting.", no_greeting_and_a_timeout),
              fails(lesson(Lesson::Port587Open), "The same client submits on 587 and the message is delivered inside TLS.", delivered_securely),
          ]),
        c("A6", "465 needs less configuration; 587 needs more because of the STARTTLS negotiation.", Misleading,
          "Either is a single setting in a mail client. With correct implementations and a client and server that both require TLS, their security is the same. RFC 8314 prefers implicit TLS because STARTTLS has more to get wrong; its example is the command injection flaw of 2011, made independently by several implementers. A 2021 study later found over 40 STARTTLS flaws across mail clients and servers.",
          "RFC 8314 §3.3, §A; CERT VU#555316 (2011); Poddebniak et al., USENIX Security 2021",
          vec![
              aside(lesson(Lesson::Strip465), "Against 465 the stripping attacker finds nothing to change, and the message is delivered inside TLS.", nothing_to_strip),
              fails(lesson(Lesson::Strip587Required), "Against 587 with a client that requires TLS, the same attacker gets nothing either: the client aborts.", aborted_with_nothing_exposed),
              holds(lesson(Lesson::Cve20110411Unpatched), "STARTTLS has more to get wrong: a buggy STARTTLS server (CVE-2011-0411) runs commands injected in cleartext as if they came through TLS.", |e| top(e) == Some("INJECTED")),
          ]),
        c("A7", "Ports 465 and 587 are used to send and receive email.", False,
          "Both are for submission, that is, sending. Servers receive from other servers on 25, and people read their mail over IMAP (143/993) or POP3 (110/995).",
          "RFC 6409 §1; RFC 8314 §3",
          vec![fails(lesson(Lesson::Submission587), "The session on 587 hands one message from client to server; nothing is fetched.", |e| {
              delivered_securely(e) && !sent(e, |c, _| !matches!(c, Command::Ehlo { .. } | Command::StartTls | Command::Auth { .. } | Command::Mail { .. } | Command::Rcpt { .. } | Command::Data | Command::Quit))
          })]),
        c("B1", "Port 587 is used for IMAP4 and POP3.", False,
          "587 is SMTP submission. IMAP uses 143 and 993, POP3 uses 110 and 995.",
          "RFC 6409; RFC 8314 §7",
          vec![fails(lesson(Lesson::Submission587), "The server on 587 greets with an ESMTP 220, as SMTP does.", greeting_is_esmtp)]),
        c("B2", "Port 587 isn't related to SMTP at all.", False,
          "587 speaks ordinary ESMTP, in the submission role. Step through a 587 session and every line is SMTP.",
          "RFC 6409 §1",
          vec![fails(lesson(Lesson::Submission587), "Greeting, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA: an SMTP session, delivered.", |e| greeting_is_esmtp(e) && delivered_securely(e))]),
        c("B3", "Port 465 is meant for non-standard applications such as remote desktop.", False,
          "465 is registered to submissions, SMTP over implicit TLS (an alternate usage of a port still also used for urd). Remote desktop is 3389.",
          "RFC 8314 §7.3, §A",
          vec![fails(lesson(Lesson::Submissions465), "On 465 the server receives SMTP commands, inside TLS.", smtp_inside_tls_on_465)]),
        none("B4", "Port 25 was originally called port 110.", False,
          "SMTP has used port 25 since before RFC 821 (1982): RFC 788 (1981) already assigned it. Port 110 is POP3.",
          "RFC 788; RFC 821; RFC 1939", NoSession::History),
        c("B5", "Port 465 gives secure connections via STARTTLS.", False,
          "465 is implicit TLS; STARTTLS never appears there. An implicit-TLS client at 587 fails at once: it reads the 220 greeting as a TLS record. A STARTTLS client at 465 waits for a greeting while the server waits for a ClientHello, until a timeout ends it.",
          "RFC 8314 §3.3; RFC 3207 §4; RFC 5321 §4.5.3.2",
          vec![
              fails(lesson(Lesson::WrongModeStarttls465), "A STARTTLS client at 465: no byte crosses, and a timer ends it after five minutes of simulated time.", |e| silent_until_timeout(e, 300)),
              fails(lesson(Lesson::WrongModeImplicit587), "An implicit-TLS client at 587: its TLS fails on the cleartext greeting, before any timer.", tls_fails_at_the_greeting),
          ]),
        none("B6", "Ports 465 and 587 were historically the same thing.", False,
          "465 was briefly registered as \"smtps\"; the registration was revoked and the port given to another service. RFC 8314 (2018) gave 465 to \"submissions\" as an alternate usage. 587 was reserved for submission by RFC 2476 (1998).",
          "RFC 8314 §7.3; RFC 2476 §3.1", NoSession::History),
        none("B7", "995 is a legacy port, and 143 is for telnet between cabled devices.", False,
          "995 is POP3 over implicit TLS and 143 is IMAP. Telnet is port 23.",
          "RFC 8314 §7; RFC 9051", NoSession::OtherProtocol),
        none("B8", "Port 587 is above 1024.", False,
          "587 is below 1024, in the system (well-known) port range; on Unix-like systems, binding it needs the same privileges as 25.",
          "RFC 6335 §6", NoSession::Registry),
        c("B9", "Port 587 is always encrypted (or: never encrypted).", Misleading,
          "587 starts in cleartext and is encrypted only after a successful STARTTLS. It is protected from an active attacker only if the client refuses to go on without TLS and validates the certificate.",
          "RFC 3207 §4, §6; RFC 8314 §5",
          vec![
              fails(lesson(Lesson::Submission587), "The greeting and EHLO cross in cleartext; after STARTTLS everything is encrypted.", clear_then_encrypted),
              holds(lesson(Lesson::Strip587Opportunistic), "A client that goes on without TLS sends its password readable.", password_exposed),
              aside(required_without_validation(), "A client that requires TLS but does not validate the certificate loses it to Mallory.", password_exposed),
          ]),
        c("B10", "SMTP might run over UDP.", False,
          "SMTP needs a reliable, ordered byte stream; RFC 5321 describes it over TCP.",
          "RFC 5321 §1.1",
          vec![fails(lesson(Lesson::Relay25), "The session opens with a TCP connection and ends with its FIN.", tcp_from_start_to_end)]),
        none("B11", "IMAP needs ports 993 and 1109.", False,
          "IMAP uses 143 and 993. Port 1109 has nothing to do with it.",
          "RFC 8314 §7", NoSession::OtherProtocol),
        c("X1", "465 is deprecated \"SMTPS\".", False,
          "RFC 8314 (2018) registers 465 for submission over implicit TLS and recommends implicit TLS. It is current advice, not a relic.",
          "RFC 8314 §3.3, §7.3",
          vec![fails(lesson(Lesson::Submissions465), "Submission over implicit TLS on 465 delivers with everything inside TLS.", delivered_securely)]),
        c("X2", "A receiving MX on port 25 should require STARTTLS.", False,
          "A publicly referenced MX must not require STARTTLS, or it would refuse mail from every sender without TLS. A sender that wants TLS enforces it on its side: MTA-STS, DANE, REQUIRETLS or its own rules.",
          "RFC 3207 §4; RFC 8461 §5; RFC 7672 §2.2; RFC 8689 §4.2.1",
          vec![
              fails(mx_requiring_tls(), "An MX that requires STARTTLS refuses a sender without TLS (530), and the message is not delivered.", mx_requiring_tls_refuses_a_plain_sender),
              fails(lesson(Lesson::MtaStsFirstContact), "A sender whose MTA-STS policy enforces TLS aborts when STARTTLS is stripped, with nothing exposed.", aborted_with_nothing_exposed),
          ]),
        c("X3", "\"ESMTPS\" in a Received header means the mail came in on port 465.", False,
          "ESMTPS says the hop used ESMTP over TLS. RFC 3848 defined it for STARTTLS; RFC 8314 treats it as trace information that TLS was used, and servers commonly record implicit TLS on 465 the same way (ESMTPSA when the client also authenticated), as this lab does. Either way it says the hop was encrypted, not which port it used: a relay to an MX on 25 is ESMTPS when STARTTLS succeeds.",
          "RFC 3848 §1; RFC 8314 §4.3",
          vec![
              fails(lesson(Lesson::Relay25), "On port 25 the MTA upgrades with STARTTLS and delivers inside TLS.", starttls_on_25),
              fails(
                  Settings {
                      port: Some(465),
                      journey: crate::lab::settings::JourneySettings { journey: true, ..Default::default() },
                      ..Settings::default()
                  },
                  "A message submitted on 465 reaches the MX under a Received header that says \"with ESMTPSA\".",
                  |e| e.trace.hop(1).delivered().first().is_some_and(|b| String::from_utf8_lossy(b).contains(" with ESMTPSA ")),
              ),
          ]),
        c("S1", "MTA-STS protects the first message a server sends to a domain.", Misleading,
          "It can: a sender with no policy cached looks up the _mta-sts TXT record, fetches the policy over HTTPS with a certificate check, and applies it to that first message. It does not if an attacker on the sender's path blocks the TXT answer or the fetch on that first contact: with nothing cached, the sender delivers as though the domain had no policy. Nor if the sender fetches in the background, so as not to delay delivery, and sends the first message before the policy arrives. Once cached, the policy holds until max_age runs out, even if the TXT record later vanishes or the fetch is blocked.",
          "RFC 8461 §3.1, §3.3, §5.1, §10.2",
          vec![
              holds(lesson(Lesson::MtaStsFirstContact), "First contact, nothing blocked: the policy arrives over HTTPS and the sender refuses the stripped MX.", |e| {
                  aborted_with_nothing_exposed(e) && policy_fetched(e)
              }),
              fails(lesson(Lesson::MtaStsTofu), "First contact, fetch blocked, STARTTLS stripped: the message crosses readable.", |e| top(e) == Some("READ") && !policy_fetched(e)),
              aside(lesson(Lesson::MtaStsCached), "The same attack against a sender with the policy cached: it refuses.", aborted_with_nothing_exposed),
          ]),
        c("S2", "MTA-STS stops any man in the middle between mail servers.", Misleading,
          "MTA-STS asks for what a browser asks for: a certificate for the MX name from a CA the sender trusts. A certificate misissued to an attacker passes. DANE-EE instead pins the MX's own key in a DNSSEC-signed TLSA record, which a certificate for another key does not match, whoever issued it.",
          "RFC 8461 §4.2, §10.1; RFC 7672 §3.1.1",
          vec![
              fails(lesson(Lesson::MtaStsMisissued), "MTA-STS against a misissued certificate: the message is read.", |e| top(e) == Some("READ")),
              aside(lesson(Lesson::DaneMisissued), "DANE against the same certificate: the sender refuses.", aborted_with_nothing_exposed),
              holds(lesson(Lesson::MtaStsFirstContact), "MTA-STS against a man in the middle who strips STARTTLS: the sender refuses, with nothing exposed.", aborted_with_nothing_exposed),
          ]),
        c("S3", "Publishing a TLSA record is enough to turn on DANE for your mail.", False,
          "A sender uses TLSA records only when DNSSEC validates them; in an unsigned zone anyone on the path could have written or removed them, so they are ignored and delivery stays opportunistic.",
          "RFC 7672 §2.2; RFC 4035 §4.3",
          vec![
              fails(lesson(Lesson::DaneUnsigned), "The TLSA record in an unsigned zone is ignored, and a strip reads the message.", |e| {
                  top(e) == Some("READ") && sender_did(e, |s| matches!(s, SenderEvent::TlsaIgnored { .. }))
              }),
              aside(cell(Row::Strip, Column::Dane), "The same record in a signed zone: the sender requires TLS and refuses.", |e| {
                  aborted_with_nothing_exposed(e) && sender_did(e, |s| matches!(s, SenderEvent::DaneApplies { .. }))
              }),
          ]),
        c("S4", "An attacker who controls DNS answers can send a domain's mail anywhere.", Misleading,
          "Only if the sender cannot tell a forged answer. A sender that validates DNSSEC itself, or asks a trusted validating resolver over a secure channel, sees a forged MX in a signed zone fail validation: the resolver answers SERVFAIL and the sender waits rather than deliver. An attacker between the sender and a remote resolver can forge the answer and the flag that says it was validated, signed zone or not. An MTA-STS policy the sender holds refuses an MX it does not list.",
          "RFC 4035 §4.9.3, §5.5; RFC 7672 §2.1.1, §2.1.2; RFC 8461 §4.1",
          vec![
              holds(cell(Row::MxSpoof, Column::DnsOpportunistic), "A forged MX in an unsigned zone: the message goes to Mallory's server.", |e| top(e) == Some("MISROUTED")),
              fails(cell(Row::MxSpoof, Column::Dane), "The same forgery in a signed zone: SERVFAIL, and nothing is sent.", aborted_with_nothing_exposed),
              fails(cell(Row::MxSpoof, Column::StsEnforce), "An MTA-STS policy refuses the MX it does not list.", aborted_with_nothing_exposed),
          ]),
        c("S5", "REQUIRETLS is a setting of the receiving server.", False,
          "REQUIRETLS is asked for by the sender, per message, with a MAIL FROM parameter; every server that relays the message must then send it on only over TLS, with the next server's certificate checked, to a server that offers REQUIRETLS, or return it to its sender. A server that advertises REQUIRETLS promises that: it must tag each message that asks for it, and honour the requirement when it sends the message on.",
          "RFC 8689 §1, §2, §4.1, §4.2.1",
          vec![fails(lesson(Lesson::RequireTlsStrip), "A REQUIRETLS message meets a stripped EHLO: the MTA does not send it.", aborted_with_nothing_exposed)]),
        none("X4", "2525 is a standard SMTP port.", False,
          "No RFC assigns port 2525 to mail. Some providers offer it as an extra submission port for networks that block 25 and 587.",
          "IANA service name and port number registry", NoSession::Registry),
    ]
}

/// What each lesson demonstrates, checked over its session.
pub fn lesson_demo(l: Lesson) -> Demo {
    let settings = lesson(l);
    let (shows, check): (&'static str, fn(&Evidence) -> bool) = match l {
        Lesson::Submission587 => ("Cleartext greeting, STARTTLS, then everything inside TLS.", clear_then_encrypted),
        Lesson::Submissions465 => ("No SMTP byte outside an encrypted record.", no_smtp_outside_encrypted_records),
        Lesson::Tls12Submission587 => ("The Certificate message is readable on the path; the mail is still delivered inside TLS.", |e| {
            delivered_securely(e)
                && crate::render::dissect::dissect(e.trace)
                    .iter()
                    .any(|r| r.visible.iter().any(|m| m.kind == crate::render::dissect::MessageKind::Certificate))
        }),
        Lesson::Relay25 => ("Delivered inside TLS on 25, without AUTH.", relay_on_25_without_auth),
        Lesson::Strip587Opportunistic => ("The password is decoded from bytes Mallory read.", password_exposed),
        Lesson::Strip587Required => ("The client aborts and nothing is exposed.", aborted_with_nothing_exposed),
        Lesson::Strip465 => ("Nothing on the wire is changed, and the message is delivered inside TLS.", nothing_to_strip),
        Lesson::Refuse454Opportunistic => ("After a 454 the client authenticates in cleartext.", |e| {
            password_exposed(e) && sent(e, |c, tls| matches!(c, Command::StartTls) && !tls)
        }),
        Lesson::HideEhloMta => ("After EHLO fails the message crosses readable.", |e| top(e) == Some("READ")),
        Lesson::MtaStsFirstContact => ("The policy arrives over HTTPS; the enforcing sender aborts and nothing is exposed.", |e| {
            aborted_with_nothing_exposed(e) && policy_fetched(e)
        }),
        Lesson::MtaStsTofu => {
            ("The fetch is dropped, no policy applies, and the message is read.", |e| top(e) == Some("READ") && !policy_fetched(e))
        }
        Lesson::MtaStsCached => ("The cached policy applies and the sender aborts.", |e| {
            aborted_with_nothing_exposed(e) && sender_did(e, |s| matches!(s, SenderEvent::PolicyFromCache { .. }))
        }),
        Lesson::MtaStsMisissued => ("The sender's WebPKI check passes and Mallory reads the message.", |e| top(e) == Some("READ")),
        Lesson::DaneMisissued => ("No TLSA record matches Mallory's certificate; the sender aborts.", aborted_with_nothing_exposed),
        Lesson::RequireTlsStrip => ("The MTA sends nothing after the stripped EHLO, and says why.", |e| {
            aborted_with_nothing_exposed(e) && !sent(e, |c, _| matches!(c, Command::Mail { .. }))
        }),
        Lesson::DaneUnsigned => ("The unsigned TLSA record is ignored and the message is read.", |e| {
            top(e) == Some("READ") && sender_did(e, |s| matches!(s, SenderEvent::TlsaIgnored { .. }))
        }),
        Lesson::MitmNoValidation => ("The client authenticates to Mallory.", password_exposed),
        Lesson::MitmValidating => ("The client's certificate check fails and it aborts.", |e| {
            aborted_with_nothing_exposed(e)
                && e.trace.events().any(
                    |(_, ev)| matches!(ev, Event::Client(SessionEvent::TlsFailed { error }) if error.kind == TlsErrorKind::Certificate),
                )
        }),
        Lesson::Cve20110411Unpatched => ("The server runs a command the client never sent, inside TLS.", |e| {
            found(e, |o| matches!(o, Outcome::CommandInjected { under_tls: true, .. }))
        }),
        Lesson::Cve20110411Patched => ("The server discards the injected bytes; delivered inside TLS.", delivered_securely),
        Lesson::RespInjectUnpatched => ("The client takes a forged reply as protected by TLS.", |e| top(e) == Some("FORGED")),
        Lesson::StateCarryUnpatched => ("The client acts inside TLS on capabilities Mallory wrote.", |e| top(e) == Some("TAMPERED")),
        Lesson::AuthCleartext => ("The password crosses readable.", password_exposed),
        Lesson::TooLate530 => ("The password crosses before the 530.", password_then_530),
        Lesson::Journey587 => ("Delivered at the MX inside TLS on both hops, under the provider's Received header.", |e| {
            let at_mx = e.trace.hop(1);
            at_mx.delivered().first().is_some_and(|b| b.starts_with(b"Received: from "))
                && e.findings.iter().filter(|f| f.outcome == Outcome::DeliveredSecurely).count() == 2
        }),
        Lesson::JourneyStripHop2 => ("Hop 2 exposes the message and hop 1 exposes nothing.", |e| {
            found(e, |o| *o == Outcome::MessageRead)
                && e.findings.iter().all(|f| !f.outcome.is_compromise() || f.hop.as_ref().is_some_and(|h| h.index == 1))
                && !password_exposed(e)
        }),
        Lesson::Journey587BetweenMtas => ("The MX's 587 refuses the provider's MAIL with 530; nothing is delivered to it.", |e| {
            let hop2 = e.trace.hop(1);
            hop2.delivered().is_empty()
                && hop2.client_events().any(|(_, ev)| matches!(ev, ClientEvent::ReplyReceived { reply, .. } if reply.code == 530))
        }),
        Lesson::Smuggling => ("The MX stores two messages from one, the second passing SPF for the CEO's domain.", |e| {
            e.trace.hop(1).delivered().len() == 2
                && found(e, |o| matches!(o, Outcome::SmuggledMessageAccepted { spf: Some(SpfResult::Pass), .. }))
        }),
        Lesson::SmugglingNormalised => ("The MX stores one message, with the smuggled lines inside it.", |e| {
            e.trace.hop(1).delivered().len() == 1 && !found(e, Outcome::is_compromise)
        }),
        Lesson::Port25Blocked => ("No greeting ever arrives.", no_greeting_and_a_timeout),
        Lesson::Port587Open => ("Delivered inside TLS on 587.", |e| e.scenario.port == 587 && delivered_securely(e)),
        Lesson::WrongModeImplicit587 => ("TLS fails on the cleartext greeting, before any timer.", tls_fails_at_the_greeting),
        Lesson::WrongModeStarttls465 => ("No byte crosses; a timer ends it after five minutes.", |e| silent_until_timeout(e, 300)),
    };
    Demo { settings, shows, check, side: Side::Aside }
}

/// A claim as the explainer shows it, with its proofs run.
#[derive(Debug, Clone, Serialize)]
pub struct ProvedClaim {
    pub id: &'static str,
    #[serde(serialize_with = "crate::cite::as_prose")]
    pub claim: &'static str,
    pub verdict: ClaimVerdict,
    #[serde(serialize_with = "crate::cite::as_prose")]
    pub truth: &'static str,
    #[serde(serialize_with = "crate::cite::as_prose")]
    pub sources: &'static str,
    pub proofs: Vec<Proof>,
    /// Why no session can show it, as a sentence.
    pub no_session: Option<&'static str>,
}

/// Every claim with its demonstrations run.
pub fn prove_all(pki: &std::sync::Arc<Pki>) -> Vec<ProvedClaim> {
    claims()
        .into_iter()
        .map(|c| ProvedClaim {
            id: c.id,
            claim: c.claim,
            verdict: c.verdict,
            truth: c.truth,
            sources: c.sources,
            proofs: c.demos.iter().map(|d| d.run(pki)).collect(),
            no_session: c.no_session.map(NoSession::sentence),
        })
        .collect()
}
