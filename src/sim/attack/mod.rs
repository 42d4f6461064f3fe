//! The attack catalogue: every attack (and misconfiguration) the lab can
//! show, with its prose and references. Plain data; the attacker that acts on
//! the wire is [`crate::sim::attack::middlebox`].

pub(crate) mod middlebox;
mod setup;

use serde::Serialize;

use crate::vocab::{choice, Choice, Named};

choice! {
    /// Every attack (and misconfiguration) the lab can show.
    pub enum Attack ("attack") {
        Eavesdrop = "eavesdrop": "Passive sniffing",
        Strip = "strip": "STARTTLS stripping",
        Refuse454 = "refuse-454": "STARTTLS refused (454)",
        Refuse502 = "refuse-502": "STARTTLS refused (502)",
        RefuseBogus = "refuse-bogus": "STARTTLS answered with a bogus code",
        HideEhlo = "hide-ehlo": "ESMTP hiding",
        CmdInject = "cmd-inject": "STARTTLS command injection (CVE-2011-0411)",
        RespInject = "resp-inject": "STARTTLS response injection",
        StateCarry = "state-carry": "State carried over the upgrade",
        MitmCert = "mitm-cert": "Certificate substitution",
        MitmCertTrusted = "mitm-cert-trusted": "Certificate substitution with a misissued, publicly trusted certificate",
        MxSpoof = "mx-spoof": "Forged MX answer",
        TlsaStrip = "tlsa-strip": "TLSA answer removed, STARTTLS stripped",
        StsStrip = "sts-strip": "MTA-STS record removed, STARTTLS stripped",
        StsBlock = "sts-block": "MTA-STS policy fetch blocked, STARTTLS stripped",
        AuthCleartext = "auth-cleartext": "AUTH before TLS",
        SmuggleLfDotCrlf = "smuggle-lf-dot-crlf": "SMTP smuggling with \\n.\\r\\n",
        SmuggleLfDotLf = "smuggle-lf-dot-lf": "SMTP smuggling with \\n.\\n",
        SmuggleCrDotCrlf = "smuggle-cr-dot-crlf": "SMTP smuggling with \\r.\\r\\n",
        SmuggleCrlfDotLf = "smuggle-crlf-dot-lf": "SMTP smuggling with \\r\\n.\\n",
        PortBlock = "port-block": "ISP blocks port 25",
        WrongModeImplicitTo587 = "wrong-mode-implicit-to-587": "Implicit-TLS client pointed at a STARTTLS port",
        WrongModeStarttlsTo465 = "wrong-mode-starttls-to-465": "STARTTLS client pointed at port 465",
    }
}

/// What the catalogue says about an attack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttackInfo {
    pub id: &'static str,
    /// The row of the catalogue this belongs to (variants share one).
    pub family: &'static str,
    pub title: &'static str,
    /// Who the attacker is, where she sits, and what she needs.
    pub threat: &'static str,
    pub explanation: &'static str,
    pub references: &'static [&'static str],
}

impl Attack {
    /// Whether someone hostile plays this: not the ISP's own firewall, nor a
    /// client configured for the wrong port (their texts say so).
    pub fn is_adversary(self) -> bool {
        !matches!(self, Attack::PortBlock | Attack::WrongModeImplicitTo587 | Attack::WrongModeStarttlsTo465)
    }

    /// The bytes a smuggling sender places in its body, if this is a smuggling variant.
    pub fn smuggle_sequence(self) -> Option<&'static [u8]> {
        match self {
            Attack::SmuggleLfDotCrlf => Some(b"\n.\r\n"),
            Attack::SmuggleLfDotLf => Some(b"\n.\n"),
            Attack::SmuggleCrDotCrlf => Some(b"\r.\r\n"),
            Attack::SmuggleCrlfDotLf => Some(b"\r\n.\n"),
            _ => None,
        }
    }

    /// Whether this attack needs a middlebox on the SMTP wire at all.
    pub fn on_the_wire(self) -> bool {
        self.wire_part().is_some()
    }

    /// What the attacker does on the SMTP wire: the attack itself, or for an
    /// attack on the sender's DNS or policy fetch, the strip that follows it.
    pub fn wire_part(self) -> Option<Attack> {
        match self {
            _ if self.smuggle_sequence().is_some() => None,
            Attack::WrongModeImplicitTo587 | Attack::WrongModeStarttlsTo465 | Attack::MxSpoof => None,
            Attack::TlsaStrip | Attack::StsStrip | Attack::StsBlock => Some(Attack::Strip),
            other => Some(other),
        }
    }

    /// Whether the attack is on the sending MTA's lookups (DNS, policy fetch):
    /// it needs a sender that looks things up (hop 2 with a sender policy).
    pub fn on_the_senders_path(self) -> bool {
        matches!(self, Attack::MxSpoof | Attack::TlsaStrip | Attack::StsStrip | Attack::StsBlock)
    }

    pub fn info(self) -> AttackInfo {
        // Sources: RFC 3207 (STARTTLS), RFC 4954 (AUTH), RFC 8314 (TLS for submission), RFC 7672
        // (DANE for SMTP, whose §1.3 describes opportunistic TLS between MTAs), the CVE-2011-0411
        // advisory (Postfix, 2011), Poddebniak et al., "Why TLS is better without STARTTLS",
        // USENIX Security 2021, and SEC Consult's "SMTP Smuggling" (December 2023).
        let (family, threat, explanation, references): (_, _, _, &'static [&'static str]) = match self {
            Attack::Eavesdrop => ("eavesdrop",
                "A passive observer on the path (a shared Wi-Fi, a tapped link): she reads, and changes nothing.",
                "Whatever crosses the wire before TLS starts, or without TLS at all, she reads: the envelope, the message, and an AUTH PLAIN or LOGIN exchange, which is base64 and not encryption. Inside TLS she sees only record types and lengths.",
                &["RFC 8314 §1", "RFC 4954 §4"]),
            Attack::Strip => ("strip",
                "An active attacker on the path between client and server, able to change bytes in flight; she needs no key or certificate.",
                "Mallory deletes the STARTTLS line from the server's EHLO reply (and, since she controls the cleartext, advertises AUTH in its place). A client that only uses TLS when offered carries on in cleartext and sends its password; a client that requires TLS quits.",
                &["RFC 3207 §6", "RFC 8314 §5"]),
            Attack::Refuse454 => ("refuse",
                "An active attacker on the path, answering in the server's name.",
                "Mallory answers the client's STARTTLS herself with 454 4.7.0 TLS not available. The server never sees the STARTTLS. A client that falls back to cleartext after any reply other than 220 is downgraded.",
                &["RFC 3207 §4", "RFC 3207 §6"]),
            Attack::Refuse502 => ("refuse",
                "An active attacker on the path, answering in the server's name.",
                "As refuse-454, with 502 5.5.1 command not implemented: the server seems not to know STARTTLS at all.",
                &["RFC 3207 §4", "RFC 3207 §6"]),
            Attack::RefuseBogus => ("refuse",
                "An active attacker on the path, answering in the server's name.",
                "Mallory answers STARTTLS with 250, a success code that is not the 220 the protocol requires. A client that takes anything but 220 as a refusal does not start TLS, but if it then goes on without TLS it is downgraded, as by refuse-454. Only a client that requires TLS quits and stays safe.",
                &["RFC 3207 §4", "RFC 3207 §6"]),
            Attack::HideEhlo => ("hide-ehlo",
                "An active attacker on the path, answering in the server's name.",
                "Mallory answers EHLO with 502 herself, so the client falls back to HELO. HELO carries no extensions, so there is no STARTTLS to use.",
                &["RFC 5321 §3.2", "RFC 5321 §4.1.4", "RFC 3207 §6"]),
            Attack::CmdInject => ("cmd-inject",
                "An active attacker on the path who can add bytes to the client's cleartext; she cannot read or forge anything inside TLS.",
                "Mallory appends commands to the client's STARTTLS, in the same segment. A server that keeps its input buffer across the upgrade executes them after the handshake, as if the client had sent them through TLS. It matters to clients that validate the certificate: one that does not can be attacked more simply, by certificate substitution.",
                &["CVE-2011-0411 (Postfix advisory, 2011)", "RFC 3207 §4.2", "Poddebniak et al., USENIX Security 2021"]),
            Attack::RespInject => ("resp-inject",
                "An active attacker on the path who can add bytes to the server's cleartext; she cannot read or forge anything inside TLS.",
                "Mallory appends a forged reply to the server's 220 Ready to start TLS. A client that keeps its read buffer across the upgrade takes it as the server's first reply inside TLS.",
                &["Poddebniak et al., USENIX Security 2021", "CVE-2021-38371 (Exim as an SMTP client)", "RFC 3207 §4.2"]),
            Attack::StateCarry => ("state-carry",
                "An active attacker on the path who rewrites the cleartext before STARTTLS.",
                "Mallory rewrites the cleartext EHLO reply. A client that reuses what it learned before TLS, instead of sending EHLO again, acts inside TLS on capabilities the attacker wrote.",
                &["RFC 3207 §4.2"]),
            Attack::MitmCert => ("mitm-cert",
                "An active attacker on the path with a certificate for the server's name from a CA the client does not trust (her own); she needs no key of the real server.",
                "Mallory answers STARTTLS herself and completes the handshake with her own certificate for the server's name. She reads everything and relays it to the server in cleartext. Only a client that validates the certificate notices. Between MTAs, opportunistic STARTTLS usually checks no certificate, so it stops only a passive eavesdropper; a sender checks where a policy says so (MTA-STS, DANE, or its own rules for that destination).",
                &["RFC 8314 §5", "RFC 7672 §1.3", "RFC 8461 §4"]),
            Attack::MitmCertTrusted => ("mitm-cert",
                "An active attacker on the path between the sending MTA and the MX, holding a certificate for the MX's name from a CA the sender trusts: misissued, or obtained by hijacking the domain validation the CA relied on. She needs no key of the real server.",
                "As mitm-cert, but the certificate passes a WebPKI check: a trusted CA, the right name, in date. A sender that checks only that (MTA-STS, RFC 8461 §4.2) accepts it. DANE-EE names the MX's own key in a DNSSEC-signed TLSA record (RFC 7672 §3.1.1), so a certificate for another key does not match, whoever issued it.",
                &["RFC 8461 §4.2", "RFC 8461 §10.1", "RFC 7672 §3.1.1"]),
            Attack::MxSpoof => ("dns",
                "An attacker who can answer the sending MTA's DNS queries: on the path between its validating resolver and the authoritative name servers, or poisoning that resolver's cache. The MTA validates itself or reaches its resolver over a secure channel. She runs an MX of her own with a valid certificate for her own name.",
                "Mallory answers the MX query for the recipient's domain with her own host. A sender that trusts an unsigned MX answer delivers there, over TLS if it likes: the certificate is valid, for her name. MTA-STS refuses an MX its policy does not list (RFC 8461 §4.1). In a DNSSEC-signed zone her answer fails validation, the resolver returns SERVFAIL (RFC 4035 §5.5) and the sender defers (RFC 7672 §2.1.2). That holds only because the sender validates, or trusts a resolver it reaches over a secure channel: on the path between the MTA and a remote resolver, Mallory could forge the answer and the flag that says it was validated (RFC 4035 §4.9.3).",
                &["RFC 7672 §1.3.2", "RFC 8461 §4.1", "RFC 4035 §5.5", "RFC 7672 §2.1.2", "RFC 4035 §4.9.3", "RFC 7672 §2.1.1"]),
            Attack::TlsaStrip => ("dns",
                "An active attacker on the path between the sending MTA's validating resolver and the authoritative name servers, and on the MTA's SMTP connection.",
                "Mallory removes the TLSA answer for the MX, so the sender sees no DANE policy, then strips STARTTLS. In an unsigned zone nothing tells the sender the record existed. In a signed zone the missing record fails validation (RFC 4035 §4.3, §5.5) and the sender does not deliver to that MX (RFC 7672 §2.1.2).",
                &["RFC 7672 §2.2", "RFC 7672 §2.1.2", "RFC 4035 §5.5", "RFC 3207 §6"]),
            Attack::StsStrip => ("sts",
                "An active attacker on the path of the sending MTA's DNS queries and of its SMTP connection.",
                "Mallory removes the _mta-sts TXT answer, so a sender on first contact learns of no policy, then strips STARTTLS. A sender that cached the policy on an earlier delivery keeps applying it until max_age expires: the TXT record only signals a change (RFC 8461 §5.1).",
                &["RFC 8461 §3.1", "RFC 8461 §5.1", "RFC 8461 §10.2"]),
            Attack::StsBlock => ("sts",
                "An active attacker on the sending MTA's path to mta-sts.<domain> and to the MX, as a first-contact sender meets her.",
                "Mallory drops the sender's HTTPS connection to the policy host, then strips STARTTLS. A sender without a cached policy goes on as if the domain had no MTA-STS (RFC 8461 §3.3), and here that means cleartext. The fetch itself is authenticated by HTTPS; what Mallory can do is stop it on first contact, or whenever the sender has no unexpired policy cached (RFC 8461 §10.2). With a policy cached on an earlier delivery, the sender refuses.",
                &["RFC 8461 §3.3", "RFC 8461 §5.1", "RFC 8461 §10.2"]),
            Attack::AuthCleartext => ("auth-cleartext",
                "A passive observer on the path, as for eavesdrop.",
                "Nothing active: Mallory reads an AUTH exchange sent before TLS. A server that hides AUTH until TLS, and a client that never authenticates in cleartext, leave her nothing.",
                &["RFC 4954 §4"]),
            Attack::SmuggleLfDotCrlf => ("smuggle",
                "A sender with an account at an outbound mail provider (not someone on the wire). She needs two lenient servers: an outbound one that passes \\n.\\r\\n through unchanged, and an inbound one that takes it as the end of the data. Her hidden second message then leaves from the provider and passes its SPF and DMARC checks.",
                "The sender ends a line with a bare \\n, a dot and \\r\\n, and follows it with a second MAIL FROM, RCPT and DATA. A receiver that accepts a bare LF before the final dot sees two messages. In a journey (--journey, or the matrix's smuggling rows) Mallory submits through her provider and the MX checks the hidden sender's SPF; on a single connection her own client talks to the MX, where she could write any MAIL FROM without a trick, so that session shows only a receiver splitting one DATA into two.",
                &["SEC Consult, SMTP Smuggling, 2023", "CVE-2023-51764 (Postfix)", "CVE-2023-51765 (Sendmail)", "CVE-2023-51766 (Exim)", "RFC 5321 §2.3.8, §4.1.1.4"]),
            Attack::SmuggleLfDotLf => ("smuggle",
                "As smuggle-lf-dot-crlf: a sender at an outbound provider that passes the sequence on, and a lenient inbound server.",
                "As smuggle-lf-dot-crlf, with bare LF on both sides of the dot.",
                &["SEC Consult, SMTP Smuggling, 2023", "RFC 5321 §2.3.8"]),
            Attack::SmuggleCrDotCrlf => ("smuggle",
                "As smuggle-lf-dot-crlf: a sender at an outbound provider that passes the sequence on, and a lenient inbound server.",
                "As smuggle-lf-dot-crlf, with a bare CR before the dot.",
                &["SEC Consult, SMTP Smuggling, 2023", "RFC 5321 §2.3.8"]),
            Attack::SmuggleCrlfDotLf => ("smuggle",
                "As smuggle-lf-dot-crlf: a sender at an outbound provider that passes the sequence on, and a lenient inbound server.",
                "As smuggle-lf-dot-crlf, with a bare LF after the dot.",
                &["SEC Consult, SMTP Smuggling, 2023", "RFC 5321 §2.3.8"]),
            Attack::PortBlock => ("port-block",
                "Not an attacker: the user's own ISP, filtering outbound traffic from its consumer network.",
                "A consumer ISP drops outgoing connections to port 25 to stop spam from infected machines. A mail client still submits on 587 or 465, which exist to separate submission from relay; but a host on that network cannot deliver to other domains' MX servers itself, since delivery to an MX is on port 25.",
                &["RFC 5068 §4", "RFC 5068 §4.1", "RFC 6409 §1"]),
            Attack::WrongModeImplicitTo587 => ("wrong-mode",
                "Not an attack: a client configured for the wrong port.",
                "The client starts a TLS handshake, the server greets in cleartext. The server reads the ClientHello as a garbled command; the client reads the 220 greeting as a corrupt TLS record and fails at once.",
                &["RFC 8314 §3.3"]),
            Attack::WrongModeStarttlsTo465 => ("wrong-mode",
                "Not an attack: a client configured for the wrong port.",
                "The client waits for a cleartext greeting, the server waits for a ClientHello. Neither speaks until a timeout ends it.",
                &["RFC 8314 §3.3", "RFC 5321 §4.5.3.2"]),
        };
        AttackInfo { id: self.id(), family, title: self.title(), threat, explanation, references }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_round_trip() {
        for &a in Attack::ALL {
            assert_eq!(Attack::from_id(a.info().id), Some(a));
            let json = serde_json::to_string(&a).unwrap();
            assert_eq!(json, format!("\"{}\"", a.info().id));
            assert_eq!(serde_json::from_str::<Attack>(&json).unwrap(), a);
        }
        let mut ids: Vec<_> = Attack::ALL.iter().map(|a| a.info().id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Attack::ALL.len());
    }
}
