//! The lessons: named sessions worth teaching, in teaching order. Each has
//! an id (a `--preset` value and a link's `preset=`), a title, a description
//! of what it shows, and its recipe: the settings it runs, as a matrix cell
//! (named by typed keys, so a typo does not compile) or a port and an
//! attack, plus what the lesson changes.

use serde::Serialize;

use crate::lab::settings::{ClientSettings, Hop2Settings, JourneySettings, ServerSettings, Settings};
use crate::outcome::matrix::{CellId, Column, Row};
use crate::proto::smtp::client::TlsPolicy;
use crate::proto::smtp::server::AuthPolicy;
use crate::proto::tls::TlsVersions;
use crate::sim::attack::Attack;
use crate::vocab::{choice, Choice, Named};

choice! {
    /// A named lesson, in course order: grouped by [`Topic`], each group's
    /// lessons one after the other.
    pub enum Lesson ("lesson") {
        Submission587 = "submission-587": "Submission on 587: STARTTLS, then AUTH",
        Submissions465 = "submissions-465": "Submission on 465: TLS from the first byte",
        Port25Blocked = "port-25-blocked": "An ISP blocks port 25",
        Port587Open = "port-587-open": "Submission on 587 gets through an ISP's port-25 block",
        WrongModeImplicit587 = "wrong-mode-implicit-587": "An implicit-TLS client pointed at port 587",
        WrongModeStarttls465 = "wrong-mode-starttls-465": "A STARTTLS client pointed at port 465",
        Strip587Opportunistic = "strip-587-opportunistic": "Stripping STARTTLS on 587: an opportunistic client leaks its password",
        Strip587Required = "strip-587-required": "Stripping STARTTLS on 587: a client that requires TLS aborts safely",
        Strip465 = "strip-465": "Stripping against 465's implicit TLS: nothing to strip",
        Refuse454Opportunistic = "refuse-454-opportunistic": "STARTTLS answered with 454: an opportunistic client downgrades",
        AuthCleartext = "auth-cleartext": "AUTH offered before TLS: a plain client sends its password",
        TooLate530 = "530-after-password": "\"Must issue STARTTLS first\" after the password has crossed",
        Cve20110411Unpatched = "cve-2011-0411-unpatched": "STARTTLS command injection (CVE-2011-0411) against an unpatched server",
        Cve20110411Patched = "cve-2011-0411-patched": "STARTTLS command injection (CVE-2011-0411) against a patched server",
        RespInjectUnpatched = "resp-inject-unpatched": "STARTTLS response injection against an unpatched client",
        StateCarryUnpatched = "state-carry-unpatched": "Cleartext capabilities carried over STARTTLS by a client that skips the second EHLO",
        Tls12Submission587 = "tls12-587": "TLS 1.2 on 587: the certificate crosses in cleartext",
        MitmNoValidation = "mitm-no-validation": "Certificate substitution against a client that does not check",
        MitmValidating = "mitm-validating": "Certificate substitution against a validating client",
        Relay25 = "relay-25": "Relay on 25: server to server",
        HideEhloMta = "hide-ehlo-mta": "EHLO refused: a sending MTA falls back to HELO",
        Journey587 = "journey-587": "One message, two hops: 587 with a certificate check, then 25 without",
        JourneyStripHop2 = "journey-strip-hop2": "A strip on hop 2 reads the message, though hop 1 was perfect",
        Journey587BetweenMtas = "journey-587-between-mtas": "Why 587 cannot replace 25 between MTAs",
        MtaStsFirstContact = "mta-sts-first-contact": "MTA-STS: the policy comes over HTTPS, and a strip fails",
        MtaStsTofu = "mta-sts-tofu": "MTA-STS on first contact: block the policy fetch, then strip",
        MtaStsCached = "mta-sts-cached": "MTA-STS from the cache: the same block and strip against a sender that holds the policy",
        MtaStsMisissued = "mta-sts-misissued": "MTA-STS against a misissued certificate: the WebPKI says yes",
        DaneMisissued = "dane-misissued": "DANE against a misissued certificate: the key does not match",
        DaneUnsigned = "dane-unsigned": "DANE without DNSSEC: the TLSA record is ignored",
        RequireTlsStrip = "requiretls-strip": "A message sent with REQUIRETLS: stripped, it goes back to its sender",
        Smuggling = "smuggling": "SMTP smuggling: a customer of a provider forges the CEO, with no one on the wire",
        SmugglingNormalised = "smuggling-normalised": "SMTP smuggling through a provider that normalises line endings",
    }
}

choice! {
    /// A part of the course: the lessons are grouped by these, in this order.
    pub enum Topic ("topic") {
        Ports = "ports": "Ports and submission",
        Starttls = "starttls": "STARTTLS and its attacks",
        Certificates = "certificates": "Certificates",
        BetweenMtas = "between-mtas": "Between MTAs",
        Policies = "policies": "Policies: MTA-STS, DANE, REQUIRETLS",
        Smuggling = "smuggling": "Smuggling",
    }
}

impl Lesson {
    /// The part of the course the lesson belongs to.
    pub fn topic(self) -> Topic {
        use Lesson::*;
        match self {
            Submission587 | Submissions465 | Port25Blocked | Port587Open | WrongModeImplicit587 | WrongModeStarttls465 => Topic::Ports,
            Strip587Opportunistic
            | Strip587Required
            | Strip465
            | Refuse454Opportunistic
            | AuthCleartext
            | TooLate530
            | Cve20110411Unpatched
            | Cve20110411Patched
            | RespInjectUnpatched
            | StateCarryUnpatched => Topic::Starttls,
            Tls12Submission587 | MitmNoValidation | MitmValidating => Topic::Certificates,
            Relay25 | HideEhloMta | Journey587 | JourneyStripHop2 | Journey587BetweenMtas => Topic::BetweenMtas,
            MtaStsFirstContact | MtaStsTofu | MtaStsCached | MtaStsMisissued | DaneMisissued | DaneUnsigned | RequireTlsStrip => {
                Topic::Policies
            }
            Smuggling | SmugglingNormalised => Topic::Smuggling,
        }
    }

    /// The lesson's place in the course, from 1.
    pub fn number(self) -> usize {
        Lesson::ALL.iter().position(|&l| l == self).map_or(0, |i| i + 1)
    }

    /// The lesson after this one in the course, if any.
    pub fn next(self) -> Option<Lesson> {
        Lesson::ALL.get(self.number()).copied()
    }
}

impl Lesson {
    /// What the lesson shows, in two sentences at most.
    pub fn description(self) -> &'static str {
        match self {
            Lesson::Submission587 => "A mail client submits to its provider: the server greets in cleartext, the client upgrades with STARTTLS, says EHLO again and authenticates inside TLS.",
            Lesson::Tls12Submission587 => "The 587 session with a client that speaks only TLS 1.2: the server's certificate and key exchange cross in cleartext, so anyone on the path reads which certificate the client got (RFC 5246 §7.4.2), and the client waits a second round trip before it may send (RFC 5246 §7.3). TLS 1.3 encrypts every handshake message after the ServerHello (RFC 8446 §2).",
            Lesson::Submissions465 => "Implicit TLS: the handshake comes before any SMTP, so no SMTP byte is ever in cleartext. The handshake's first records (ClientHello, ServerHello) are readable, as on any TLS connection.",
            Lesson::Relay25 => "A sending MTA delivers to an MX with opportunistic STARTTLS and no certificate check, the usual case between MTAs: it keeps out a passive eavesdropper, not an active attacker (RFC 7672 §1.3).",
            Lesson::Strip587Opportunistic => "Mallory deletes STARTTLS from the EHLO reply. The client carries on in cleartext and sends AUTH PLAIN, which is base64, not encryption.",
            Lesson::Strip587Required => "No STARTTLS, no session: the client says QUIT before sending anything that matters.",
            Lesson::Strip465 => "The same attacker against port 465 finds no cleartext to edit.",
            Lesson::Refuse454Opportunistic => "Mallory answers STARTTLS with 454 herself; an opportunistic client falls back to cleartext and, since this server offers AUTH before TLS, authenticates there.",
            Lesson::HideEhloMta => "With HELO there are no extensions, so no STARTTLS: the message crosses in cleartext.",
            Lesson::MtaStsFirstContact => "The sending MTA finds the domain's _mta-sts record (RFC 8461 §3.1), fetches the policy from mta-sts.example.test over HTTPS with a certificate check (§3.3), and finds the MX listed in enforce mode. Mallory strips STARTTLS; the sender refuses to go on without TLS (§5).",
            Lesson::MtaStsTofu => "The sender has never delivered to this domain. Mallory drops its HTTPS connection to the policy host, so it has no policy, then strips STARTTLS: the message crosses in cleartext. MTA-STS protects a sender once it holds the policy, and an attacker who stops discovery or the fetch while it has none cached leaves it without one (RFC 8461 §3.3, §10.2).",
            Lesson::MtaStsCached => "This sender fetched the policy on an earlier delivery and it has not expired, so it applies without a fetch (RFC 8461 §5.1). Mallory's blocking changes nothing, and the strip makes the sender refuse.",
            Lesson::MtaStsMisissued => "Mallory holds a certificate for the MX's name from a CA the sender trusts (misissued, or obtained by hijacking the CA's domain check). MTA-STS asks for exactly that: a trusted CA and the right name (RFC 8461 §4.2, §10.1), so she reads the message.",
            Lesson::DaneMisissued => "The domain publishes a DANE-EE TLSA record of its MX's own key in a signed zone. Mallory's certificate is from a trusted CA, but for another key: it matches no TLSA record (RFC 7672 §3.1.1), and the sender refuses.",
            Lesson::RequireTlsStrip => "REQUIRETLS is the sender's demand, per message: the MTA sends it only over TLS with a checked certificate, to an MX that DNSSEC or MTA-STS vouches for and that offers REQUIRETLS (RFC 8689 §4.2.1). Mallory strips STARTTLS, so the MTA quits without sending the message and, with no other MX to try, returns it to its sender.",
            Lesson::DaneUnsigned => "The same TLSA record in a zone without DNSSEC: the sender cannot tell whether Mallory wrote it, so it ignores it (RFC 7672 §2.2) and is as opportunistic as before. Mallory strips STARTTLS and reads the message.",
            Lesson::MitmNoValidation => "Mallory completes TLS with her own certificate; the client goes on and authenticates to her.",
            Lesson::MitmValidating => "The client checks the chain and name, finds Mallory's CA untrusted, and aborts the handshake.",
            Lesson::Cve20110411Unpatched => "Commands appended to STARTTLS run after the handshake, as if they had come through TLS. This client validates the certificate: against one that does not, a plain certificate substitution would do.",
            Lesson::Cve20110411Patched => "The server throws away whatever followed STARTTLS.",
            Lesson::RespInjectUnpatched => "A forged reply appended to 220 is read as the server's first reply inside TLS.",
            Lesson::StateCarryUnpatched => "A client that skips the second EHLO acts inside TLS on what Mallory wrote in cleartext.",
            Lesson::AuthCleartext => "A server that advertises AUTH in cleartext and a client that never upgrades: the password is readable.",
            Lesson::TooLate530 => "The server refuses with 530, but only after the client has sent its credentials.",
            Lesson::Journey587 => "Alice's client requires STARTTLS and checks her provider's certificate (RFC 8314 §5). Her provider's MTA then relays to Bob's MX on 25 with opportunistic STARTTLS and no certificate check: on that hop, whether to believe the certificate is a local matter (RFC 3207 §4.1).",
            Lesson::JourneyStripHop2 => "Mallory sits between the provider and the MX and deletes STARTTLS from the EHLO reply. The opportunistic MTA carries on in cleartext: the message is readable on hop 2, while the password stayed inside TLS on hop 1.",
            Lesson::Journey587BetweenMtas => "An MX's 587 is a submission port: it refuses MAIL until the client authenticates (RFC 6409 §4.3), and the provider's MTA has no account at Bob's provider. Servers receive relayed mail on 25 (RFC 5321 §4.5.4.2).",
            Lesson::Smuggling => "Mallory has an account at the provider and submits one message in which \\n.\\r\\n is followed by a second MAIL FROM the CEO of a company that has the provider send its mail. The provider relays the bytes unchanged, the MX ends the first message there, and the second passes SPF because it really came from the provider's address (SEC Consult, SMTP Smuggling, 2023).",
            Lesson::SmugglingNormalised => "The provider turns bare CR and LF into CRLF before relaying (RFC 5321 §2.3.8) and dot-stuffs the line that results, so even a lenient MX stores one message with the smuggled lines inside it.",
            Lesson::Port25Blocked => "The connection never gets a greeting; the client times out.",
            Lesson::Port587Open => "Submission has its own ports, 587 (RFC 6409) and 465 (RFC 8314), apart from relay on 25, so a filter on 25 leaves a mail client's submission alone. What it stops is a host on that network delivering to MX servers itself.",
            Lesson::WrongModeImplicit587 => "The client's TLS reads the cleartext greeting as a corrupt record and fails at once.",
            Lesson::WrongModeStarttls465 => "The client waits for a greeting, the server for a ClientHello: nothing crosses until the client's five-minute timer for the greeting fires (RFC 5321 §4.5.3.2).",
        }
    }
}

fn cell(row: Row, column: Column) -> Settings {
    Settings { cell: Some(CellId::new(row, column)), ..Settings::default() }
}

fn port(port: u16) -> Settings {
    Settings { port: Some(port), ..Settings::default() }
}

/// A journey from a 587 submission, with hop 2 as `hop2` says.
fn journey(hop2: Hop2Settings) -> Settings {
    Settings { journey: JourneySettings { journey: true, hop2, ..JourneySettings::default() }, ..port(587) }
}

impl Lesson {
    /// The settings the lesson starts from.
    pub fn recipe(self) -> Settings {
        use Column::*;
        match self {
            Lesson::Submission587 => port(587),
            Lesson::Submissions465 => port(465),
            Lesson::Tls12Submission587 => Settings {
                client: ClientSettings { client_tls_versions: Some(TlsVersions::Tls12), ..ClientSettings::default() },
                ..port(587)
            },
            Lesson::Relay25 => port(25),
            Lesson::Strip587Opportunistic => cell(Row::Strip, Opportunistic),
            Lesson::Strip587Required => cell(Row::Strip, RequireStarttls),
            Lesson::Strip465 => Settings { attack: Some(Attack::Strip), ..port(465) },
            Lesson::Refuse454Opportunistic => Settings {
                server: ServerSettings { auth: Some(AuthPolicy::Always), ..ServerSettings::default() },
                ..cell(Row::Refuse454, Opportunistic)
            },
            Lesson::HideEhloMta => cell(Row::HideEhlo, MtaOpportunistic),
            Lesson::MtaStsFirstContact => cell(Row::Strip, StsEnforce),
            Lesson::MtaStsTofu => cell(Row::StsBlock, StsEnforce),
            Lesson::MtaStsCached => cell(Row::StsBlock, StsCached),
            Lesson::MtaStsMisissued => cell(Row::MitmCertTrusted, StsCached),
            Lesson::DaneMisissued => cell(Row::MitmCertTrusted, Dane),
            Lesson::DaneUnsigned => cell(Row::Strip, DaneUnsigned),
            Lesson::RequireTlsStrip => cell(Row::Strip, RequireTls),
            Lesson::MitmNoValidation => cell(Row::MitmCert, Opportunistic),
            Lesson::MitmValidating => cell(Row::MitmCert, RequireStarttls),
            Lesson::Cve20110411Unpatched => cell(Row::CmdInjectUnpatched, RequireStarttls),
            Lesson::Cve20110411Patched => cell(Row::CmdInjectPatched, RequireStarttls),
            Lesson::RespInjectUnpatched => cell(Row::RespInjectUnpatched, RequireStarttls),
            Lesson::StateCarryUnpatched => cell(Row::StateCarryUnpatched, RequireStarttls),
            Lesson::AuthCleartext => cell(Row::AuthCleartextOffered, Plain),
            Lesson::TooLate530 => Settings {
                server: ServerSettings { auth: Some(AuthPolicy::Always), require_tls: true, ..ServerSettings::default() },
                client: ClientSettings { policy: Some(TlsPolicy::Plain), ..ClientSettings::default() },
                ..port(587)
            },
            Lesson::Journey587 => journey(Hop2Settings::default()),
            Lesson::JourneyStripHop2 => journey(Hop2Settings { attack: Some(Attack::Strip), ..Hop2Settings::default() }),
            Lesson::Journey587BetweenMtas => journey(Hop2Settings { port: Some(587), ..Hop2Settings::default() }),
            Lesson::Smuggling => cell(Row::SmuggleLfDotCrlfPassLenient, MtaOpportunistic),
            Lesson::SmugglingNormalised => cell(Row::SmuggleLfDotCrlfNormaliseLenient, MtaOpportunistic),
            Lesson::Port25Blocked => cell(Row::PortBlock, MtaOpportunistic),
            Lesson::Port587Open => cell(Row::PortBlockSubmission, MtaOpportunistic),
            Lesson::WrongModeImplicit587 => cell(Row::WrongModeImplicitTo587, ImplicitTls),
            Lesson::WrongModeStarttls465 => cell(Row::WrongModeStarttlsTo465, RequireStarttls),
        }
    }
}

/// A lesson as menus and listings show it.
#[derive(Debug, Clone, Serialize)]
pub struct LessonInfo {
    pub id: &'static str,
    /// Its place in the course, from 1.
    pub number: usize,
    pub title: &'static str,
    pub description: &'static str,
    /// The part of the course it is in (its id), and that part's title.
    pub topic: &'static str,
    pub topic_title: &'static str,
    /// The next lesson's id, if any.
    pub next: Option<&'static str>,
}

impl Lesson {
    /// Every lesson, in course order, as menus list them.
    pub fn catalogue() -> Vec<LessonInfo> {
        Lesson::ALL
            .iter()
            .map(|&l| LessonInfo {
                id: l.id(),
                number: l.number(),
                title: l.title(),
                description: l.description(),
                topic: l.topic().id(),
                topic_title: l.topic().title(),
                next: l.next().map(Lesson::id),
            })
            .collect()
    }
}

#[cfg(test)]
mod course_tests {
    use super::*;

    #[test]
    fn each_topic_is_one_run_of_lessons_in_topic_order() {
        let topics: Vec<Topic> = Lesson::ALL.iter().map(|l| l.topic()).collect();
        let mut runs = topics.clone();
        runs.dedup();
        assert_eq!(runs, Topic::ALL, "every topic once, in order, its lessons together");
        assert_eq!(Lesson::Submission587.number(), 1);
        assert_eq!(Lesson::Submission587.next(), Some(Lesson::Submissions465));
        assert_eq!(Lesson::ALL.last().unwrap().next(), None);
    }

    #[test]
    fn no_title_leans_on_the_one_before() {
        for l in Lesson::ALL {
            let t = l.title().to_ascii_lowercase();
            assert!(!t.starts_with("same") && !t.starts_with("the same"), "{}: {}", l.id(), l.title());
        }
    }
}
