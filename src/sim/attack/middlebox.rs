//! The attacker: a sans-IO [`Middlebox`] that sees every segment and passes,
//! drops, rewrites or injects bytes, and for `mitm-cert` terminates TLS with a
//! certificate of its own.
//!
//! The attacker only acts on the wire. Whether an attack works is decided by
//! the client's and server's settings, and read afterwards from the trace by
//! [`crate::outcome`].

use std::sync::Arc;
use std::time::Duration;

use crate::proto::tls::entropy::Entropy;
use crate::proto::tls::{SimClock, TlsStream, TlsVersions};
use crate::sim::attack::Attack;
use crate::sim::trace::Direction;
use crate::sim::wire::{Meddling, Middlebox, Segment};
use crate::sim::world::pki::{IdentityKind, Pki};

/// What the strip and mitm attackers put where STARTTLS was, so the client
/// believes it may authenticate.
const FAKE_AUTH: &[u8] = b"AUTH PLAIN LOGIN";
/// Commands appended after STARTTLS by cmd-inject.
pub const INJECTED_COMMANDS: &[u8] = b"RSET\r\nMAIL FROM:<mallory@evil.test>\r\n";
/// A reply appended after "220 Ready to start TLS" by resp-inject.
pub(crate) const FORGED_REPLY: &[u8] = b"250 mail.example.test at your service (forged by Mallory)\r\n";

/// The attacker on the wire.
pub struct Attacker {
    attack: Attack,
    port: u16,
    pki: Arc<Pki>,
    clock: SimClock,
    epoch_unix: u64,
    /// Where Mallory's own TLS endpoint draws its random numbers.
    entropy: Entropy,
    mitm: Option<Box<TlsStream>>,
}

impl Attacker {
    pub fn new(attack: Attack, port: u16, pki: Arc<Pki>, epoch_unix: u64, entropy: Entropy) -> Self {
        Attacker { attack, port, pki, clock: SimClock::new(epoch_unix), epoch_unix, entropy, mitm: None }
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
    // Where the last reply line written so far starts, to move the final mark onto it.
    let mut last_reply_line = None;
    for (i, l) in lines.iter().enumerate() {
        if i != pos {
            if l.len() >= 4 && l[..3].iter().all(u8::is_ascii_digit) {
                last_reply_line = Some(out.len());
            }
            out.extend_from_slice(l);
        } else if !has_auth {
            last_reply_line = Some(out.len());
            out.extend_from_slice(&l[..4]);
            out.extend_from_slice(FAKE_AUTH);
            out.extend_from_slice(b"\r\n");
        } else if l[3] == b' ' {
            // The last line goes: the reply line before it, if any, becomes the last.
            if let Some(start) = last_reply_line {
                out[start + 3] = b' ';
            }
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

fn rewritten(mut seg: Segment, bytes: Vec<u8>, note: Meddling) -> Segment {
    seg.bytes = bytes;
    seg.note = Some(note);
    seg
}

fn dropped(mut seg: Segment, note: Meddling) -> Segment {
    seg.deliver = false;
    seg.note = Some(note);
    seg
}

/// What the learner, as Mallory, does with a segment held on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Let it through as it is.
    Pass,
    /// It never arrives (the sender's TCP would retransmit; here it is simply gone).
    Drop,
    /// It arrives with these bytes instead (an edit of a cleartext segment).
    Replace(Vec<u8>),
    /// It arrives with one bit of byte `n` flipped. A protected record then
    /// fails its integrity check and its receiver answers bad_record_mac
    /// (RFC 8446 §5.2, RFC 5246 §6.2.3.3); a changed cleartext handshake
    /// message fails a later check instead (other keys, or a signature).
    FlipBit(usize),
    /// What a built-in attack would do with it: the presets are this same mechanism.
    Preset(Attack),
}

impl Attacker {
    /// Applies the learner's decision to a held segment; what comes back goes
    /// on the wire (or is recorded as dropped), like a middlebox's answer.
    /// Presets run on `self`, which keeps their state between segments.
    pub fn decide(&mut self, seg: Segment, decision: &Decision, now: Duration) -> Vec<Segment> {
        match decision {
            Decision::Pass => vec![seg],
            Decision::Drop => vec![dropped(seg, Meddling::DroppedByHand)],
            Decision::Replace(bytes) if *bytes == seg.bytes => vec![seg],
            Decision::Replace(bytes) => vec![rewritten(seg, bytes.clone(), Meddling::EditedByHand)],
            Decision::FlipBit(n) if *n < seg.bytes.len() => {
                let mut bytes = seg.bytes.clone();
                bytes[*n] ^= 0x01;
                vec![rewritten(seg, bytes, Meddling::BitFlipped(*n))]
            }
            Decision::FlipBit(_) => vec![seg],
            Decision::Preset(attack) => {
                self.attack = *attack;
                self.on_segment(seg, now)
            }
        }
    }
}

impl Middlebox for Attacker {
    fn on_segment(&mut self, seg: Segment, now: Duration) -> Vec<Segment> {
        self.clock.set(self.epoch_unix + now.as_secs());
        let c2s = seg.direction == Direction::ClientToServer;
        let clear = !seg.tls && !seg.fin;
        match self.attack {
            Attack::PortBlock if self.port == 25 => vec![dropped(seg, Meddling::PortBlocked)],
            // On the sending MTA's HTTPS connection to the MTA-STS policy host.
            Attack::StsBlock if self.port == 443 && c2s => vec![dropped(seg, Meddling::PolicyHostBlocked)],
            Attack::Strip if !c2s && clear => match strip_starttls(&seg.bytes) {
                Some(b) => vec![rewritten(seg, b, Meddling::StartTlsStripped)],
                None => vec![seg],
            },
            Attack::Refuse454 | Attack::Refuse502 | Attack::RefuseBogus if c2s && clear && is_line(&seg.bytes, b"STARTTLS") => {
                let reply: &[u8] = match self.attack {
                    Attack::Refuse454 => b"454 4.7.0 TLS not available due to local problem\r\n",
                    Attack::Refuse502 => b"502 5.5.1 Error: command not implemented\r\n",
                    _ => b"250 2.0.0 Ok\r\n",
                };
                vec![
                    dropped(seg, Meddling::StartTlsKept),
                    Segment::injected(Direction::ServerToClient, reply.to_vec(), Meddling::StartTlsRefused),
                ]
            }
            Attack::HideEhlo if c2s && clear && seg.bytes.len() > 5 && seg.bytes[..5].eq_ignore_ascii_case(b"EHLO ") => vec![
                dropped(seg, Meddling::EhloKept),
                Segment::injected(
                    Direction::ServerToClient,
                    b"502 5.5.1 Error: command not recognized\r\n".to_vec(),
                    Meddling::EhloRefused,
                ),
            ],
            Attack::CmdInject if c2s && clear && seg.bytes.ends_with(b"STARTTLS\r\n") => {
                let mut b = seg.bytes.clone();
                b.extend_from_slice(INJECTED_COMMANDS);
                vec![rewritten(seg, b, Meddling::CommandsInjected)]
            }
            Attack::RespInject
                if !c2s && clear && seg.bytes.starts_with(b"220 ") && is_line(&seg.bytes, b"220 2.0.0 Ready to start TLS") =>
            {
                let mut b = seg.bytes.clone();
                b.extend_from_slice(FORGED_REPLY);
                vec![rewritten(seg, b, Meddling::ReplyInjected)]
            }
            Attack::StateCarry if !c2s && clear => match add_auth(&seg.bytes) {
                Some(b) => vec![rewritten(seg, b, Meddling::AuthAdded)],
                None => vec![seg],
            },
            Attack::MitmCert | Attack::MitmCertTrusted => self.mitm(seg),
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
                let identity = if self.attack == Attack::MitmCertTrusted { IdentityKind::Misissued } else { IdentityKind::UntrustedCa };
                let stream = TlsStream::server(&self.pki.identity(identity).tls, TlsVersions::Both, &self.clock, self.entropy);
                self.mitm = stream.ok().map(Box::new);
                return vec![
                    dropped(seg, Meddling::MitmTookStartTls),
                    Segment::injected(
                        Direction::ServerToClient,
                        b"220 2.0.0 Ready to start TLS\r\n".to_vec(),
                        Meddling::MitmAnsweredStartTls,
                    ),
                ];
            }
            return vec![seg];
        };
        if c2s {
            let plain = tls.receive(&seg.bytes).unwrap_or_default();
            let back = tls.take_outgoing();
            let mut out = vec![dropped(seg, Meddling::MitmReceived)];
            if !back.is_empty() {
                out.push(Segment::injected(Direction::ServerToClient, back, Meddling::MitmHandshake));
            }
            if !plain.is_empty() {
                let mut relay = Segment::injected(Direction::ClientToServer, plain.clone(), Meddling::MitmRelayed);
                relay.attacker_view = Some(plain);
                out.push(relay);
            }
            out
        } else {
            // The server's cleartext replies, doctored like a strip, then encrypted for the client.
            let plain = strip_starttls(&seg.bytes).unwrap_or_else(|| seg.bytes.clone());
            if tls.send(&plain).is_err() {
                return vec![dropped(seg, Meddling::MitmFailed)];
            }
            let mut out = seg;
            out.bytes = tls.take_outgoing();
            out.tls = true;
            out.attacker_view = Some(plain);
            out.note = Some(Meddling::MitmReencrypted);
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

    /// Found by fuzzing: replies our server never sends, but a real one or a learner may.
    #[test]
    fn strip_survives_odd_replies() {
        assert_eq!(strip_starttls(b"250 STARTTLS\r\n250 AUTH PLAIN\r\n").unwrap(), b"250 AUTH PLAIN\r\n");
        assert_eq!(strip_starttls(b"250-AUTH PLAIN\r\n\n250 STARTTLS\r\n").unwrap(), b"250 AUTH PLAIN\r\n\n");
    }
}
