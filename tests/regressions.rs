//! Failures found by coverage-guided fuzzing (issue 17), each with its
//! minimised input. Every test here failed before its fix.

mod common;

use std::time::Duration;

use smtp_lab::outcome::{self, Outcome};
use smtp_lab::proto::{
    codec::{limits, DataReader, EndOfData, Reply, ReplyReader},
    Machine, Output, Role, Server, ServerEvent,
};
use smtp_lab::sim::{world, Attack, Attacker, Direction, Meddling, Middlebox, Scenario, Segment};

const T0: Duration = Duration::ZERO;

fn drain(s: &mut Server) -> (Vec<u8>, Vec<ServerEvent>) {
    let (mut bytes, mut events) = (Vec::new(), Vec::new());
    while let Some(o) = s.poll_output() {
        match o {
            Output::Send(b) => bytes.extend(b),
            Output::Event(e) => events.push(e),
            _ => {}
        }
    }
    (bytes, events)
}

/// A relay server that has been greeted and is inside a transaction, ready for DATA.
fn ready_for_data() -> Server {
    let mut s = Server::new(world::server(Role::Relay));
    s.connected(T0);
    s.handle_input(b"EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<postmaster@example.test>\r\n", T0);
    drain(&mut s);
    s
}

fn accepted_bodies(events: &[ServerEvent]) -> Vec<Vec<u8>> {
    events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::MessageAccepted { body, .. } => Some(body.0.clone()),
            _ => None,
        })
        .collect()
}

/// (1) The body must not depend on how the bytes were read.
#[test]
fn a_long_first_body_line_survives_arriving_with_the_data_command() {
    let mut input = b"DATA\r\n".to_vec();
    input.extend(vec![b'x'; 32_768]);
    input.extend_from_slice(b"\r\n.\r\n");
    let verdict = |chunks: &[&[u8]]| {
        let mut s = ready_for_data();
        for c in chunks {
            s.handle_input(c, T0);
        }
        let (replies, events) = drain(&mut s);
        (String::from_utf8_lossy(&replies).into_owned(), accepted_bodies(&events))
    };
    let cut = 6 + 32_768;
    let whole = verdict(&[&input]);
    assert_eq!(whole, verdict(&[&input[..cut], &input[cut..]]), "one read and two reads differ");
    // A 32,770-octet text line is over the 1,000-octet limit (RFC 5321 §4.5.3.1.6): refused, whole.
    assert!(whole.0.contains("500 5.5.2") && whole.1.is_empty(), "{whole:?}");
}

/// A middlebox that sends the client's first EHLO twice and keeps the
/// second answer from the client, so that the client goes on normally.
struct Duplicator {
    duplicated: bool,
    ehlo_replies: usize,
}

impl Middlebox for Duplicator {
    fn on_segment(&mut self, mut seg: Segment, _: Duration) -> Vec<Segment> {
        if !self.duplicated && seg.direction == Direction::ClientToServer && seg.bytes.starts_with(b"EHLO ") {
            self.duplicated = true;
            let copy = Segment::injected(Direction::ClientToServer, seg.bytes.clone(), Meddling::InjectedByHand);
            return vec![seg, copy];
        }
        if seg.direction == Direction::ServerToClient && !seg.tls && seg.bytes.starts_with(b"250-") {
            self.ehlo_replies += 1;
            if self.ehlo_replies == 2 {
                seg.deliver = false;
            }
        }
        vec![seg]
    }
}

/// (2) A duplicated cleartext EHLO is one injected cleartext command, not STARTTLS and an EHLO inside TLS.
#[test]
fn a_duplicated_ehlo_does_not_make_commands_inside_tls_look_injected() {
    let mut s = Scenario::submission();
    s.client.policy = smtp_lab::proto::TlsPolicy::Opportunistic;
    let trace = s.link(&common::pki()).with_middlebox(Box::new(Duplicator { duplicated: false, ehlo_replies: 0 })).run();
    let findings = outcome::analyse(&s, &trace);
    if std::env::var("DEBUG_TRACE").is_ok() {
        eprintln!("{}", smtp_lab::render::export::text(&trace, &findings));
    }
    let injected: Vec<(String, bool)> = findings
        .iter()
        .filter_map(|f| match &f.outcome {
            Outcome::CommandInjected { command, under_tls } => Some((command.clone(), *under_tls)),
            _ => None,
        })
        .collect();
    assert_eq!(injected, [("EHLO client.example.test".to_owned(), false)], "{findings:?}");
}

/// (3) The attacker's TLS endpoint failed; writing to it afterwards must not panic.
#[test]
fn the_mitm_attacker_survives_its_own_tls_failure() {
    let pki = common::pki();
    let mut mallory = Attacker::new(Attack::MitmCert, 587, pki, 0, smtp_lab::proto::Entropy::seeded(1, 3));
    let c2s = |b: &[u8]| Segment::injected(Direction::ClientToServer, b.to_vec(), Meddling::InjectedByHand);
    let s2c = |b: &[u8]| Segment::injected(Direction::ServerToClient, b.to_vec(), Meddling::InjectedByHand);
    mallory.on_segment(c2s(b"STARTTLS\r\n"), T0);
    mallory.on_segment(c2s(b"HELO x\r\n"), T0);
    let out = mallory.on_segment(s2c(b"250 ok\r\n"), T0);
    assert!(out.iter().all(|s| s.bytes != b"250 ok\r\n" || !s.deliver || s.note.is_some()));
}

/// (5) Once over the size limit, nothing more is appended: the body is a prefix.
#[test]
fn an_oversize_body_is_a_prefix_of_the_message() {
    let mut r = DataReader::new(EndOfData::STRICT, 2);
    r.feed(b"a\r\nb\r\n.\r\n");
    assert!(r.is_done());
    let (body, summary) = r.finish();
    assert!(summary.oversize);
    assert!(b"a\r\nb\r\n".starts_with(&body), "{:?} is not a prefix", String::from_utf8_lossy(&body));
}

/// (6) A reply that echoes the client's text still fits in a reply line.
#[test]
fn replies_echoing_long_client_text_fit_in_512_octets() {
    for input in [format!("EHLO {}\r\n", "h".repeat(490)), format!("EHLO c\r\nMAIL FROM:<a@b.test> {}=1\r\n", "X".repeat(494))] {
        let mut s = Server::new(world::server(Role::Relay));
        s.connected(T0);
        drain(&mut s);
        s.handle_input(input.as_bytes(), T0);
        let (bytes, _) = drain(&mut s);
        for line in bytes.split_inclusive(|&b| b == b'\n') {
            assert!(line.len() <= limits::REPLY_LINE, "a {}-octet reply line", line.len());
        }
        let mut reader = ReplyReader::default();
        reader.push(&bytes);
        while let Some(r) = reader.next_reply() {
            assert!(r.is_ok(), "{r:?}");
        }
    }
}

/// (7) A reply parsed from invalid UTF-8 serialises to a line the reader accepts, and the same reply.
#[test]
fn a_reply_with_invalid_utf8_survives_its_round_trip() {
    let mut raw = b"250 ".to_vec();
    raw.extend(vec![0xff; 169]);
    raw.extend_from_slice(b"\r\n");
    let mut reader = ReplyReader::default();
    reader.push(&raw);
    let first: Reply = reader.next_reply().expect("a reply").expect("it parses");
    let mut again = ReplyReader::default();
    again.push(&first.to_bytes());
    let second = again.next_reply().expect("a reply").expect("its own serialisation parses");
    assert_eq!(first, second);
}
