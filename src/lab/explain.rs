//! Plain-language notes for a step, each with the RFC that defines what
//! happened. Read from the step's own bytes and events, like every other
//! verdict, so a note can't describe something the machines did not do.

use serde::Serialize;

use crate::cite::Prose;

use crate::proto::endpoint::SessionEvent;
use crate::proto::policy::sender::{Refusal, SenderEvent};
use crate::proto::smtp::client::{AbortReason, ClientEvent, NoTlsReason};
use crate::proto::smtp::codec::{Capabilities, CommandError, CommandRef, ReplyReader, Verb};
use crate::proto::smtp::server::{ServerEvent, MUST_STARTTLS};
use crate::proto::tls::ContentType;
use crate::proto::tls_info::{CertFailureKind, TlsErrorKind, TlsVersion};
use crate::sim::trace::{Direction, Event, Lane, Step, StepKind};
use crate::sim::wire::Meddling;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub text: String,
    /// Where the rule is written, e.g. "RFC 3207 §4": the page links each section, the CLI adds its heading.
    pub rfc: Prose,
    /// A warning rather than an explanation.
    pub warning: bool,
}

fn note(text: impl Into<String>, rfc: &'static str) -> Note {
    Note { text: text.into(), rfc: Prose::new(rfc), warning: false }
}

fn warn(text: impl Into<String>, rfc: &'static str) -> Note {
    Note { text: text.into(), rfc: Prose::new(rfc), warning: true }
}

/// Notes for one step, most basic first. Each cites what describes that
/// step (a strip, a blocked fetch, a timer), never the lesson's or the
/// attack's list. `tls12` says the session's TLS is 1.2, whose records show
/// more to the path.
pub fn notes(step: &Step, implicit_tls: bool, tls12: bool) -> Vec<Note> {
    let mut out = Vec::new();
    let meddling = step.meddling();
    let source = meddling.map_or("RFC 3207 §6", |m| meddling_source(m, step.tls(), step.encrypted(), tls12));
    match step.kind() {
        StepKind::Connect if implicit_tls => out.push(note(
            "TCP connection opened. This client uses implicit TLS: it starts the TLS handshake before any SMTP is spoken.",
            "RFC 8314 §3.3",
        )),
        StepKind::Connect => {
            out.push(note("TCP connection opened. In SMTP the server speaks first, with a 220 greeting.", "RFC 5321 §3.1"))
        }
        StepKind::Fin => out.push(note("One side closes its half of the TCP connection (a FIN).", "RFC 9293 §3.6")),
        // The HTTPS policy fetch has its own timer; SMTP's are per command.
        StepKind::Timeout if step.lane == Lane::Https => {
            out.push(note("Nothing arrived in time, so the sender's timer on the policy fetch fired.", "RFC 8461 §3.3"))
        }
        StepKind::Timeout => out.push(note("Nothing arrived in time, so a timer fired.", "RFC 5321 §4.5.3.2")),
        StepKind::Dropped => out.push(warn("These bytes were stopped on the wire: they never reached the other side.", source)),
        StepKind::Dns => {
            if let Some(lookup) = &step.dns() {
                out.push(dns_note(lookup));
            }
        }
        StepKind::Decision => {}
        StepKind::Segment => {
            // The same bytes the step's view shows (crate::render::view).
            let bytes = step.shown();
            match bytes {
                Some(b) if step.direction() == Some(Direction::ClientToServer) => command_notes(b, &mut out),
                Some(b) => reply_notes(b, starts_tls(step), refuses_starttls(step), &mut out),
                None => {}
            }
            record_notes(step, tls12, &mut out);
            if step.encrypted() && bytes.is_some() {
                out.push(note(
                    "This SMTP text crossed the wire in encrypted records: an eavesdropper sees only their type and length.",
                    if tls12 { "RFC 5246 §6.2.3" } else { "RFC 8446 §5.2" },
                ));
            }
        }
    }
    match (meddling, step.dns().and_then(|l| l.tampered.as_ref())) {
        (Some(m), _) => out.push(warn(m.to_string(), source)),
        // A forged answer is what DNSSEC's signatures let a validating resolver detect.
        (None, Some(forged)) => out.push(warn(forged.clone(), "RFC 4033 §3.1")),
        (None, None) => {}
    }
    for n in step.events.iter().filter_map(event_note) {
        // Both sides report TLS coming up; one note is enough.
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

/// The section that describes what a middlebox did: `tls` says the segment
/// was TLS records, `encrypted` that some were protected (whose integrity the
/// record layer checks; a cleartext handshake message is checked by Finished),
/// `tls12` which version's rules apply.
fn meddling_source(m: Meddling, tls: bool, encrypted: bool, tls12: bool) -> &'static str {
    match m {
        Meddling::PortBlocked => "RFC 5068 §4",
        // No policy can be fetched: without a cached one, the sender goes on as if the domain had none.
        Meddling::PolicyHostBlocked => "RFC 8461 §3.3, §10.2",
        // Deleting "250 STARTTLS", or altering the request to start TLS and the server's response.
        Meddling::StartTlsStripped | Meddling::StartTlsKept | Meddling::StartTlsRefused => "RFC 3207 §6",
        // A client SHOULD be able to fall back to HELO when EHLO is not recognized.
        Meddling::EhloKept | Meddling::EhloRefused => "RFC 5321 §3.2",
        // What crossed before the handshake MUST be discarded once TLS is up.
        Meddling::CommandsInjected | Meddling::ReplyInjected => "RFC 3207 §6",
        Meddling::AuthAdded => "RFC 3207 §4.2",
        // Each side must check the result of the TLS negotiation; ignoring it invalidates TLS.
        Meddling::MitmTookStartTls
        | Meddling::MitmAnsweredStartTls
        | Meddling::MitmReceived
        | Meddling::MitmHandshake
        | Meddling::MitmRelayed
        | Meddling::MitmReencrypted
        | Meddling::MitmFailed => "RFC 3207 §6",
        // A protected record no longer opens; a changed cleartext handshake message fails the Finished check.
        Meddling::DroppedByHand | Meddling::EditedByHand | Meddling::BitFlipped(_) | Meddling::InjectedByHand => {
            match (tls, encrypted, tls12) {
                (false, _, _) => "RFC 3207 §6",
                (true, true, true) => "RFC 5246 §6.2.3.3",
                (true, true, false) => "RFC 8446 §5.2",
                (true, false, true) => "RFC 5246 §7.4.9",
                (true, false, false) => "RFC 8446 §4.4.4",
            }
        }
    }
}

/// The notes of every step of a session, each read with its hop's setup
/// (its TLS mode), as the page and `smtp-lab run --format notes` show them.
pub fn session_notes(scenario: &crate::sim::scenario::Scenario, trace: &crate::sim::trace::Trace) -> Vec<Vec<Note>> {
    let tls12 = tls12(trace);
    let hops = crate::sim::route::hop_scenarios(scenario, trace);
    trace
        .steps
        .iter()
        .map(|step| {
            let s = hops.get(step.hop).unwrap_or(scenario);
            notes(step, s.client.policy == crate::proto::smtp::client::TlsPolicy::Implicit, tls12)
        })
        .collect()
}

/// Whether the client starts its TLS handshake at this step (after 220 to STARTTLS).
fn starts_tls(step: &Step) -> bool {
    step.events.iter().any(|e| matches!(e, Event::Client(SessionEvent::TlsHandshakeStarted { implicit: false })))
}

/// Whether the session's TLS came up as TLS 1.2 (the notes differ).
pub(crate) fn tls12(trace: &crate::sim::trace::Trace) -> bool {
    trace.events().any(|(_, e)| match e {
        Event::Client(SessionEvent::TlsEstablished { info }) | Event::Server(SessionEvent::TlsEstablished { info }) => {
            info.version == TlsVersion::Tls12
        }
        _ => false,
    })
}

/// What an observer sees of a step's TLS records: the first handshake
/// records in the clear (in TLS 1.2 the certificate too), the rest as
/// records of some type and length.
fn record_notes(step: &Step, tls12: bool, out: &mut Vec<Note>) {
    if step.records().iter().any(|r| !r.encrypted && r.content_type == ContentType::Handshake) {
        out.push(if tls12 {
            note(
                "TLS 1.2 handshake records in cleartext: anyone on the path reads them, the server name the client asks for (SNI) and the server's certificate included. Each side encrypts only after its change_cipher_spec.",
                "RFC 5246 §7.1, §7.3, §7.4.2; RFC 6066 §3",
            )
        } else {
            note(
                "TLS handshake records in cleartext: anyone on the path can read them, including the server name the client asks for (SNI). Encryption starts after the ServerHello.",
                "RFC 8446 §5.1, §2; RFC 6066 §3",
            )
        });
    }
    if step.records().iter().any(|r| !r.encrypted && r.content_type == ContentType::ChangeCipherSpec) {
        out.push(if tls12 {
            note("change_cipher_spec: from here on, this side encrypts everything it sends.", "RFC 5246 §7.1")
        } else {
            note(
                "change_cipher_spec: in TLS 1.3 a dummy record, sent only so that middleboxes that expect TLS 1.2 let the connection through.",
                "RFC 8446 §D.4",
            )
        });
    }
    if step.encrypted() && step.receiver_plaintext().is_none() && step.shown().is_none() {
        out.push(if tls12 {
            note("Encrypted records: an observer sees only their type and length; the contents are inside.", "RFC 5246 §6.2.3")
        } else {
            note(
                "Encrypted records: an observer sees only that they are application_data and how long they are; the real content type and the contents are inside.",
                "RFC 8446 §5.2",
            )
        });
    }
}

/// The verb of a command line, as the codec reads it: also for a known
/// verb with bad arguments, which the server answers 501 (RFC 5321 §4.2.2).
fn verb(line: &[u8]) -> Option<Verb> {
    match CommandRef::parse(line) {
        Ok(command) => Some(command.verb()),
        Err(CommandError::Syntax { verb, .. } | CommandError::BadAddress { verb }) => Some(verb),
        Err(CommandError::Unrecognized(_) | CommandError::NotText) => None,
    }
}

fn command_notes(bytes: &[u8], out: &mut Vec<Note>) {
    let lines =
        bytes.split_inclusive(|&b| b == b'\n').map(|l| l.strip_suffix(b"\n").unwrap_or(l)).map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    for line in lines.take(8) {
        let n = match verb(line) {
            Some(Verb::Ehlo) => note("EHLO: the client names itself and asks which extensions the server supports.", "RFC 5321 §4.1.1.1"),
            Some(Verb::Helo) => note("HELO: the old greeting. The server answers without a list of extensions, so no STARTTLS.", "RFC 5321 §4.1.1.1"),
            Some(Verb::StartTls) => note(
                "STARTTLS: the client asks to turn this same connection into TLS. Once TLS is up, both sides must discard what they learned in cleartext, and the client should start again with EHLO.",
                "RFC 3207 §4.2",
            ),
            Some(Verb::Auth) => note(
                "AUTH: the client logs in. PLAIN and LOGIN carry the password base64-encoded, which anyone who sees the bytes can decode; only TLS protects it.",
                "RFC 4954 §4, RFC 4616",
            ),
            Some(Verb::Mail) => note("MAIL FROM: the envelope sender, which may differ from the From: header.", "RFC 5321 §4.1.1.2"),
            Some(Verb::Rcpt) => note("RCPT TO: one envelope recipient.", "RFC 5321 §4.1.1.3"),
            Some(Verb::Data) => note(
                "DATA: the message follows, ended by a line holding a single dot (CRLF . CRLF).",
                "RFC 5321 §4.1.1.4",
            ),
            Some(Verb::Quit) => note("QUIT: the client says goodbye.", "RFC 5321 §4.1.1.10"),
            Some(Verb::Rset) => note("RSET: forget the mail transaction so far.", "RFC 5321 §4.1.1.5"),
            _ => continue,
        };
        if !out.contains(&n) {
            out.push(n);
        }
    }
}

/// Whether the client took this step's reply as a refusal of its STARTTLS.
fn refuses_starttls(step: &Step) -> bool {
    step.events.iter().any(|e| {
        matches!(
            e,
            Event::Client(SessionEvent::Machine(
                ClientEvent::ContinuedWithoutTls(NoTlsReason::Refused { .. })
                    | ClientEvent::Aborted { reason: AbortReason::StartTlsRefused { .. } }
            ))
        )
    })
}

/// The note on the first reply a step carries, as the codec reads it; `tls_follows` says the
/// client started its TLS handshake on it (the 220 answered STARTTLS), `answers_starttls` that
/// the client took it as the answer to STARTTLS and did not start TLS.
fn reply_notes(bytes: &[u8], tls_follows: bool, answers_starttls: bool, out: &mut Vec<Note>) {
    let mut replies = ReplyReader::default();
    replies.push(bytes);
    let Some(Ok(reply)) = replies.next_reply() else { return };
    let n = match reply.code {
        220 if tls_follows => note("220 to STARTTLS: the TLS handshake starts with the next bytes.", "RFC 3207 §4"),
        220 => note("220: the server's greeting.", "RFC 5321 §4.3.1"),
        250 if reply.lines.len() > 1 => {
            let capabilities = Capabilities::from_reply(&reply).unwrap_or_default();
            let what = match (capabilities.starttls(), !capabilities.auth_mechanisms().is_empty()) {
                (true, true) => "It offers STARTTLS and AUTH.",
                (true, false) => "It offers STARTTLS; AUTH is not offered yet.",
                (false, true) => "It offers AUTH but no STARTTLS.",
                (false, false) => "It offers neither STARTTLS nor AUTH.",
            };
            note(format!("The EHLO reply lists the server's extensions, one per line. {what}"), "RFC 5321 §4.1.1.1, RFC 3207 §4")
        }
        235 => note("235: authentication succeeded.", "RFC 4954 §6"),
        354 => note("354: go ahead with the message.", "RFC 5321 §4.1.1.4"),
        221 => note("221: the server closes the session.", "RFC 5321 §4.1.1.10"),
        454 => warn("454: a temporary failure. In answer to STARTTLS, TLS is not available, and a client that continues in cleartext is downgraded; in answer to AUTH, authentication failed for a temporary reason.", "RFC 3207 §4, §6; RFC 4954 §6"),
        // Two 530s share the code and the enhanced code 5.7.0: RFC 3207 §4 gives this text to the one for STARTTLS.
        530 if reply.text() == MUST_STARTTLS => warn("530: the server wants STARTTLS first.", "RFC 3207 §4"),
        530 => warn("530: the server wants the client to authenticate first.", "RFC 4954 §6"),
        538 => warn("538: this mechanism needs an encrypted connection.", "RFC 4954 §6"),
        535 => note("535: the credentials were not accepted.", "RFC 4954 §6"),
        // 250 is no answer RFC 3207 §4 lists for STARTTLS: the client must not start TLS on it.
        250 if answers_starttls => warn("250 to STARTTLS: not the 220 that starts TLS, so the client does not start TLS.", "RFC 3207 §4"),
        250 => note("250: done.", "RFC 5321 §4.2.2"),
        334 => note("334: the server's SASL challenge, in base64; the client's next line answers it.", "RFC 4954 §4"),
        500 => note("500: syntax error, command unrecognized; this includes a command line that is too long.", "RFC 5321 §4.2.2"),
        501 => note("501: syntax error in the command's parameters or arguments.", "RFC 5321 §4.2.2"),
        502 => note("502: the server does not implement that command.", "RFC 5321 §4.2.2"),
        503 => note("503: bad sequence of commands: this command cannot come yet (for instance RCPT before MAIL).", "RFC 5321 §4.2.2"),
        c @ 500..=599 => note(format!("{c}: a permanent failure."), "RFC 5321 §4.2.1"),
        c @ 400..=499 => note(format!("{c}: a temporary failure."), "RFC 5321 §4.2.1"),
        _ => return,
    };
    out.push(n);
}

fn event_note(e: &Event) -> Option<Note> {
    match e {
        Event::Client(SessionEvent::Machine(c)) => client_note(c),
        Event::Server(SessionEvent::Machine(s)) => server_note(s),
        Event::Client(s) => s.tls_note(),
        Event::Server(s) => s.tls_note(),
        Event::HttpsClient(SessionEvent::TlsEstablished { .. }) => Some(note(
            "The sender reached mta-sts.<domain> over HTTPS and checked its certificate as a browser would: a trusted CA, the right name, in date. The policy is as trustworthy as that certificate.",
            "RFC 8461 §3.3",
        )),
        Event::HttpsClient(SessionEvent::TlsFailed { error }) | Event::HttpsServer(SessionEvent::TlsFailed { error })
            if error.kind == TlsErrorKind::Timeout =>
        {
            Some(warn(format!("The HTTPS handshake with the policy host did not finish in time ({error}), so no policy was fetched."), "RFC 8461 §3.3"))
        }
        Event::HttpsClient(s) | Event::HttpsServer(s) => s.tls_note(),
        Event::Sender(e) => sender_note(e),
    }
}

/// What a DNS answer is worth, by its DNSSEC state.
fn dns_note(lookup: &crate::proto::policy::dns::Lookup) -> Note {
    use crate::proto::policy::dns::Dnssec;
    match lookup.dnssec {
        Dnssec::Secure => note(
            "This answer is DNSSEC-signed and the sender's validating resolver checked its signatures up to a trust anchor: no one between that resolver and the authoritative servers could have forged or removed it. That protects a sender that validates itself or reaches its resolver over a secure channel, as this one does; a resolver's word taken across an open network could be forged, flag and all.",
            "RFC 4035 §4.3, §4.9.3",
        ),
        Dnssec::Insecure => note(
            "This answer is not signed: the resolver cannot tell whether someone on the path wrote it, changed it or removed a record from it.",
            "RFC 4035 §4.3",
        ),
        Dnssec::Bogus => warn(
            "This answer should be signed but does not validate, so the validating resolver returns SERVFAIL instead of it: a forgery becomes a failure, never an answer.",
            "RFC 4035 §5.5",
        ),
    }
}

/// Why the sending MTA decided as it did.
fn sender_note(e: &SenderEvent) -> Option<Note> {
    Some(match e {
        SenderEvent::StsRecord { .. } => note(
            "The _mta-sts TXT record says the domain has an MTA-STS policy and names its version (id). The policy itself comes over HTTPS.",
            "RFC 8461 §3.1",
        ),
        SenderEvent::NoStsRecord => warn(
            "No MTA-STS record, and no policy cached from an earlier delivery: this sender has no policy to apply and delivers as it would without MTA-STS.",
            "RFC 8461 §10.2",
        ),
        SenderEvent::PolicyFetched { .. } => note(
            "The policy file lists the MX hosts the domain uses and a mode. The sender may cache it for max_age seconds.",
            "RFC 8461 §3.2",
        ),
        SenderEvent::PolicyFetchFailed { .. } => warn(
            "No policy could be fetched and none is cached, so the sender goes on as if the domain had no MTA-STS. MTA-STS protects a sender once it holds the policy; an attacker who stops discovery or the fetch when the sender has no unexpired policy cached (on first contact, say) leaves it without one.",
            "RFC 8461 §3.3, §10.2",
        ),
        SenderEvent::PolicyFromCache { .. } => note(
            "A policy cached on an earlier delivery applies until its max_age runs out: a TXT record that has vanished, or a fetch that is blocked, does not remove it.",
            "RFC 8461 §3.1, §3.3",
        ),
        SenderEvent::PolicyApplied { mx_allowed: false, .. } => {
            warn("The MX the DNS gave is not one the policy lists: in enforce mode the sender does not deliver to it.", "RFC 8461 §4.1")
        }
        SenderEvent::PolicyApplied { .. } => note(
            "The MX is one the policy lists. In enforce mode the sender now requires STARTTLS and a certificate valid for that MX name from a trusted CA.",
            "RFC 8461 §4.2",
        ),
        SenderEvent::DaneApplies { .. } => note(
            "Signed TLSA records exist for this MX, so the sender requires STARTTLS and a certificate that matches them; its CA store does not decide.",
            "RFC 7672 §2.2",
        ),
        SenderEvent::TlsaIgnored { .. } => warn(
            "TLSA records that are not DNSSEC-validated could have been written by anyone on the path, so they are not used: DANE without DNSSEC gives nothing.",
            "RFC 7672 §2.2",
        ),
        SenderEvent::WouldHaveFailed { .. } => warn(
            "In testing mode the sender delivers as if there were no policy and reports what would have failed to the domain's TLS-RPT address.",
            "RFC 8461 §5",
        ),
        SenderEvent::NoMx { reason: Refusal::NoMx } => warn(
            "The domain has no MX record and no address to serve as an implicit MX: there is nowhere to deliver, and the sender must report it as an error.",
            "RFC 5321 §5.1",
        ),
        SenderEvent::NoMx { .. } => note(
            "The MX answer did not validate, so the sender cannot tell where to deliver: a temporary failure, and the message waits in its queue to be retried.",
            "RFC 5321 §5.1; RFC 7672 §2.1.2",
        ),
        // The NoMx step before this one has said why.
        SenderEvent::DeliveryRefused { reason: Refusal::NoMx | Refusal::MxBogus, .. } => return None,
        SenderEvent::DeliveryRefused { .. } => {
            note("The sender does not deliver to this MX. The message waits in its queue (or returns to its sender): nothing crosses the wire unprotected.", "RFC 5321 §4.5.4.1")
        }
        SenderEvent::Bounced { .. } => note(
            "The message asked for REQUIRETLS, and this hop cannot honour it, so it is returned to its sender, never sent in cleartext.",
            "RFC 8689 §4.2",
        ),
        SenderEvent::Requirements { .. } => return None,
    })
}

fn client_note(e: &ClientEvent) -> Option<Note> {
    Some(match e {
        ClientEvent::AuthSentBeforeTls { .. } => {
            warn("The client sent its credentials before TLS: they are readable on the wire.", "RFC 4954 §4")
        }
        ClientEvent::ContinuedWithoutTls(NoTlsReason::NotOffered) => {
            warn("The client went on without TLS. An opportunistic client can't tell a missing STARTTLS from a deleted one.", "RFC 3207 §6")
        }
        ClientEvent::ContinuedWithoutTls(NoTlsReason::Refused { .. }) => warn(
            "The client went on without TLS. An opportunistic client can't tell a server's real refusal of STARTTLS from one an attacker forged.",
            "RFC 3207 §6",
        ),
        ClientEvent::CertificateNotValidated { .. } => {
            warn(
                "The client accepted a certificate it did not validate: anyone on the path can pose as the server. Mail clients must validate; between MTAs a sender checks where a policy says so (MTA-STS, DANE, or its own rules for that destination).",
                "RFC 8314 §5; RFC 7672 §1.3",
            )
        }
        ClientEvent::ReusedPreTlsCapabilities => {
            warn("The client kept the capabilities it learned in cleartext instead of asking again over TLS.", "RFC 3207 §4.2")
        }
        _ => return None,
    })
}

fn server_note(e: &ServerEvent) -> Option<Note> {
    Some(match e {
        ServerEvent::SpfChecked { .. } => note(
            "The receiver asked DNS whether the MAIL FROM domain allows the connecting address to send its mail (SPF). The check uses only that domain and the client's address: it says nothing of the From: header a reader sees.",
            "RFC 7208 §2.4, §2.5",
        ),
        ServerEvent::MessageAccepted { ended_by: Some(v), .. } => warn(
            format!(
                "The server ended the message at {}, a sequence with a bare CR or LF. Only CRLF \".\" CRLF ends the data, and a line break is CRLF: what followed is read as new commands.",
                v.escaped()
            ),
            "RFC 5321 §4.1.1.4, §2.3.8",
        ),
        _ => return None,
    })
}

impl<E> SessionEvent<E> {
    /// The note for a TLS-level event, whichever side it happened on.
    fn tls_note(&self) -> Option<Note> {
        match self {
            SessionEvent::TlsHandshakeStarted { .. } => None,
            SessionEvent::TlsEstablished { info } => Some(note(
                format!("TLS is up: {} with {}. From here on, SMTP travels only in encrypted records.", info.version, info.cipher),
                if info.version == TlsVersion::Tls12 { "RFC 5246 §7.3" } else { "RFC 8446 §2" },
            )),
            SessionEvent::TlsFailed { error } => Some(match error.kind {
                TlsErrorKind::Certificate if error.certificate_failure().is_some_and(|f| f.kind == CertFailureKind::Dane) => warn(
                    format!(
                        "The TLS handshake failed: the certificate matches none of the MX's signed TLSA records ({error}). The sender must authenticate the MX this way, so it does not deliver over this connection: it tries the next MX or delivers later."
                    ),
                    "RFC 7672 §2.2, §3.1",
                ),
                TlsErrorKind::Certificate if error.certificate_failure().is_some_and(|f| f.kind == CertFailureKind::NotValidForName) => warn(
                    format!(
                        "The TLS handshake failed because the certificate is not for the name the client asked for ({error}). A client that validates refuses a server it cannot authenticate."
                    ),
                    "RFC 6125 §6",
                ),
                TlsErrorKind::Certificate => warn(
                    format!(
                        "The TLS handshake failed because the certificate did not verify ({error}). A client that validates refuses a server it cannot authenticate."
                    ),
                    "RFC 5280 §6",
                ),
                TlsErrorKind::Timeout => warn(
                    format!("The TLS handshake did not finish before this side's timer fired ({error}). The TLS RFCs set no such timer; the machine's own does."),
                    "RFC 5321 §4.5.3.2",
                ),
                TlsErrorKind::NotTls => warn(
                    format!("The TLS handshake failed: {error}. What arrived does not start like a TLS record (content type, then version), so the peer is not speaking TLS here."),
                    "RFC 8446 §5.1",
                ),
                _ => warn(
                    format!("The TLS handshake failed: {error}."),
                    if error.version == Some(TlsVersion::Tls12) { "RFC 5246 §7.2" } else { "RFC 8446 §6" },
                ),
            }),
            SessionEvent::DiscardedAtUpgrade { .. } => Some(note(
                "Bytes that arrived in cleartext before TLS were thrown away, as they must be: an attacker could have put them there.",
                "CVE-2011-0411 advisory",
            )),
            SessionEvent::KeptAcrossUpgrade { .. } => Some(warn(
                "Bytes that arrived in cleartext before TLS were kept and will be read as if TLS protected them (the CVE-2011-0411 bug).",
                "CVE-2011-0411 advisory",
            )),
            SessionEvent::Machine(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario::Scenario;
    use crate::sim::world::pki::Pki;

    #[test]
    fn a_tls_1_2_session_gets_the_notes_of_tls_1_2() {
        let mut s = Scenario::submission();
        s.client_tls_versions = crate::proto::tls::TlsVersions::Tls12;
        let trace = s.run(&Pki::lab());
        assert!(tls12(&trace));
        let all: Vec<Note> = trace.steps.iter().flat_map(|st| notes(st, false, true)).collect();
        assert!(all.iter().any(|n| n.rfc == "RFC 5246 §7.1, §7.3, §7.4.2; RFC 6066 §3" && n.text.contains("certificate")));
        assert!(
            all.iter().all(|n| !n.text.contains("dummy") && !n.rfc.starts_with("RFC 8446 §5.1")),
            "no TLS 1.3 note in a TLS 1.2 session"
        );
    }

    #[test]
    fn a_587_session_explains_starttls_and_auth_with_their_rfcs() {
        let s = Scenario::submission();
        let trace = s.run(&Pki::lab());
        let all: Vec<Note> = trace.steps.iter().flat_map(|st| notes(st, false, false)).collect();
        assert!(all.iter().any(|n| n.rfc == "RFC 3207 §4.2" && n.text.starts_with("STARTTLS")));
        assert!(all.iter().any(|n| n.text.starts_with("AUTH") && n.rfc.contains("4954")));
        assert!(all.iter().any(|n| n.text.starts_with("TLS is up")));
        assert!(!all.iter().any(|n| n.warning), "a clean session has no warnings: {all:?}");
    }
}
