//! Named scenarios, one per lesson worth teaching.

use serde::Serialize;

use crate::attack::Attack;
use crate::client::TlsPolicy;
use crate::matrix::cell_scenario;
use crate::scenario::Scenario;
use crate::server::AuthPolicy;

#[derive(Debug, Clone, Serialize)]
pub struct Preset {
    pub id: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub scenario: Scenario,
}

fn cell(row: &str, column: &str) -> Scenario {
    cell_scenario(row, column).expect("preset cells exist in the matrix")
}

/// Every preset, in teaching order.
pub fn all() -> Vec<Preset> {
    let p = |id, title, description, scenario| Preset { id, title, description, scenario };
    let mut plain_auth = Scenario::submission();
    plain_auth.client.policy = TlsPolicy::Plain;
    plain_auth.server.auth = AuthPolicy::Always;
    plain_auth.server.require_tls = true;
    let strip_465 = Scenario::submissions().with_attack(Attack::Strip);
    let mut refuse = cell("refuse-454", "opportunistic");
    refuse.server.auth = AuthPolicy::Always;
    vec![
        p("submission-587", "587: STARTTLS, then AUTH", "The everyday mail client: greets in cleartext, upgrades with STARTTLS, says EHLO again, authenticates inside TLS.", Scenario::submission()),
        p("submissions-465", "465: TLS from the first byte", "Implicit TLS: the handshake comes before any SMTP, so nothing is ever in cleartext.", Scenario::submissions()),
        p("relay-25", "25: server to server", "A sending MTA delivers to an MX with opportunistic STARTTLS and no certificate check.", Scenario::relay()),
        p("strip-587-opportunistic", "587 with an opportunistic client: stripping leaks the password", "Mallory deletes STARTTLS from the EHLO reply. The client carries on in cleartext and sends AUTH PLAIN, which is base64, not encryption.", cell("strip", "opportunistic")),
        p("strip-587-required", "Same, with a client that requires TLS: aborts safely", "No STARTTLS, no session: the client says QUIT before sending anything that matters.", cell("strip", "required-starttls")),
        p("strip-465", "465 implicit TLS: nothing to strip", "The same attacker against port 465 finds no cleartext to edit.", strip_465),
        p("refuse-454-opportunistic", "STARTTLS answered with 454: downgrade", "Mallory answers STARTTLS with 454 herself; an opportunistic client falls back to cleartext and, since this server offers AUTH before TLS, authenticates there.", refuse),
        p("hide-ehlo-mta", "EHLO refused: the MTA falls back to HELO", "With HELO there are no extensions, so no STARTTLS: the message crosses in cleartext.", cell("hide-ehlo", "mta-opportunistic")),
        p("mta-sts-enforced", "MTA-STS / DANE: the enforced MTA refuses to be stripped", "A sender that requires TLS with a valid certificate for the MX aborts instead of downgrading.", cell("strip", "mta-enforced")),
        p("mitm-no-validation", "Certificate substitution against a client that does not check", "Mallory completes TLS with her own certificate; the client goes on and authenticates to her.", cell("mitm-cert", "opportunistic")),
        p("mitm-validating", "Certificate substitution against a validating client", "The client checks the chain and name, finds Mallory's CA untrusted, and aborts the handshake.", cell("mitm-cert", "required-starttls")),
        p("cve-2011-0411-unpatched", "CVE-2011-0411 against an unpatched server", "Commands appended to STARTTLS run after the handshake, as if they had come through TLS.", cell("cmd-inject/unpatched", "required-starttls")),
        p("cve-2011-0411-patched", "The same against a patched server", "The server throws away whatever followed STARTTLS.", cell("cmd-inject/patched", "required-starttls")),
        p("resp-inject-unpatched", "STARTTLS response injection against an unpatched client", "A forged reply appended to 220 is read as the server's first reply inside TLS.", cell("resp-inject/unpatched", "required-starttls")),
        p("state-carry-unpatched", "Capabilities carried over the upgrade", "A client that skips the second EHLO acts inside TLS on what Mallory wrote in cleartext.", cell("state-carry/unpatched", "required-starttls")),
        p("auth-cleartext", "AUTH offered before TLS: a plain client sends its password", "A server that advertises AUTH in cleartext and a client that never upgrades: the password is readable.", cell("auth-cleartext/offered", "plain")),
        p("530-after-password", "\"Must issue STARTTLS first\" comes too late", "The server refuses with 530, but only after the client has sent its credentials.", plain_auth),
        p("smuggling-lenient", "SMTP smuggling through a lenient receiver", "A bare \\n.\\r\\n ends the first message early; the rest is read as a second, spoofed message from the CEO.", cell("smuggle-lf-dot-crlf/lenient", "mta-opportunistic")),
        p("smuggling-strict", "The same against a strict receiver", "Only \\r\\n.\\r\\n ends the data: the smuggled commands stay inside the one message.", cell("smuggle/strict", "mta-opportunistic")),
        p("port-25-blocked", "An ISP blocks port 25", "The connection never gets a greeting; the client times out.", cell("port-block", "mta-opportunistic")),
        p("port-587-open", "Submission on 587 gets through the same firewall", "Ports 587 and 465 exist so that authenticated users can send from anywhere.", cell("port-block/submission", "mta-opportunistic")),
        p("wrong-mode-implicit-587", "Implicit-TLS client pointed at 587", "The handshake meets a cleartext greeting and fails at once.", cell("wrong-mode-implicit-to-587", "implicit-tls")),
        p("wrong-mode-starttls-465", "STARTTLS client pointed at 465", "Both sides wait for the other; a timeout ends it after five minutes.", cell("wrong-mode-starttls-to-465", "required-starttls")),
    ]
}

pub fn find(id: &str) -> Option<Preset> {
    all().into_iter().find(|p| p.id == id)
}
