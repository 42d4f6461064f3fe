//! The lessons: named sessions worth teaching, in teaching order. Their ids,
//! titles and descriptions are vocabulary (a lesson is a `--preset` value and
//! a link's `preset=`); what each one runs is in [`crate::preset`].

use crate::vocab::choice;

choice! {
    /// A named lesson.
    pub enum Lesson ("lesson") {
        Submission587 = "submission-587": "587: STARTTLS, then AUTH",
        Submissions465 = "submissions-465": "465: TLS from the first byte",
        Relay25 = "relay-25": "25: server to server",
        Strip587Opportunistic = "strip-587-opportunistic": "587 with an opportunistic client: stripping leaks the password",
        Strip587Required = "strip-587-required": "Same, with a client that requires TLS: aborts safely",
        Strip465 = "strip-465": "465 implicit TLS: nothing to strip",
        Refuse454Opportunistic = "refuse-454-opportunistic": "STARTTLS answered with 454: downgrade",
        HideEhloMta = "hide-ehlo-mta": "EHLO refused: the MTA falls back to HELO",
        MtaStsEnforced = "mta-sts-enforced": "MTA-STS / DANE: the enforced MTA refuses to be stripped",
        MitmNoValidation = "mitm-no-validation": "Certificate substitution against a client that does not check",
        MitmValidating = "mitm-validating": "Certificate substitution against a validating client",
        Cve20110411Unpatched = "cve-2011-0411-unpatched": "CVE-2011-0411 against an unpatched server",
        Cve20110411Patched = "cve-2011-0411-patched": "The same against a patched server",
        RespInjectUnpatched = "resp-inject-unpatched": "STARTTLS response injection against an unpatched client",
        StateCarryUnpatched = "state-carry-unpatched": "Capabilities carried over the upgrade",
        AuthCleartext = "auth-cleartext": "AUTH offered before TLS: a plain client sends its password",
        TooLate530 = "530-after-password": "\"Must issue STARTTLS first\" comes too late",
        SmugglingLenient = "smuggling-lenient": "SMTP smuggling through a lenient receiver",
        SmugglingStrict = "smuggling-strict": "The same against a strict receiver",
        Port25Blocked = "port-25-blocked": "An ISP blocks port 25",
        Port587Open = "port-587-open": "Submission on 587 gets through the same firewall",
        WrongModeImplicit587 = "wrong-mode-implicit-587": "Implicit-TLS client pointed at 587",
        WrongModeStarttls465 = "wrong-mode-starttls-465": "STARTTLS client pointed at 465",
    }
}

impl Lesson {
    /// What the lesson shows, in two sentences at most.
    pub fn description(self) -> &'static str {
        match self {
            Lesson::Submission587 => "The everyday mail client: greets in cleartext, upgrades with STARTTLS, says EHLO again, authenticates inside TLS.",
            Lesson::Submissions465 => "Implicit TLS: the handshake comes before any SMTP, so nothing is ever in cleartext.",
            Lesson::Relay25 => "A sending MTA delivers to an MX with opportunistic STARTTLS and no certificate check.",
            Lesson::Strip587Opportunistic => "Mallory deletes STARTTLS from the EHLO reply. The client carries on in cleartext and sends AUTH PLAIN, which is base64, not encryption.",
            Lesson::Strip587Required => "No STARTTLS, no session: the client says QUIT before sending anything that matters.",
            Lesson::Strip465 => "The same attacker against port 465 finds no cleartext to edit.",
            Lesson::Refuse454Opportunistic => "Mallory answers STARTTLS with 454 herself; an opportunistic client falls back to cleartext and, since this server offers AUTH before TLS, authenticates there.",
            Lesson::HideEhloMta => "With HELO there are no extensions, so no STARTTLS: the message crosses in cleartext.",
            Lesson::MtaStsEnforced => "A sender that requires TLS with a valid certificate for the MX aborts instead of downgrading.",
            Lesson::MitmNoValidation => "Mallory completes TLS with her own certificate; the client goes on and authenticates to her.",
            Lesson::MitmValidating => "The client checks the chain and name, finds Mallory's CA untrusted, and aborts the handshake.",
            Lesson::Cve20110411Unpatched => "Commands appended to STARTTLS run after the handshake, as if they had come through TLS.",
            Lesson::Cve20110411Patched => "The server throws away whatever followed STARTTLS.",
            Lesson::RespInjectUnpatched => "A forged reply appended to 220 is read as the server's first reply inside TLS.",
            Lesson::StateCarryUnpatched => "A client that skips the second EHLO acts inside TLS on what Mallory wrote in cleartext.",
            Lesson::AuthCleartext => "A server that advertises AUTH in cleartext and a client that never upgrades: the password is readable.",
            Lesson::TooLate530 => "The server refuses with 530, but only after the client has sent its credentials.",
            Lesson::SmugglingLenient => "A bare \\n.\\r\\n ends the first message early; the rest is read as a second, spoofed message from the CEO.",
            Lesson::SmugglingStrict => "Only \\r\\n.\\r\\n ends the data: the smuggled commands stay inside the one message.",
            Lesson::Port25Blocked => "The connection never gets a greeting; the client times out.",
            Lesson::Port587Open => "Ports 587 and 465 exist so that authenticated users can send from anywhere.",
            Lesson::WrongModeImplicit587 => "The handshake meets a cleartext greeting and fails at once.",
            Lesson::WrongModeStarttls465 => "Both sides wait for the other; a timeout ends it after five minutes.",
        }
    }
}
