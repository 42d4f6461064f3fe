//! Properties: the same bytes in any chunking give the same events; arbitrary
//! bytes never panic a parser or a machine; encoders and parsers agree.

mod common;

use std::time::Duration;

use common::pki;
use proptest::prelude::*;
use smtp_lab::proto::{
    codec::{dot_stuff, limits, AuthLine, Command, DataReader, EndOfData, EnhancedCode, Param, Reply, ReplyReader},
    AuthPolicy, Client, ClientEvent, Machine, Output, Role, Server, ServerEvent, SessionEvent, TlsInfo, TlsPolicy,
};
use smtp_lab::sim::{world, Direction, Event, Middlebox, Scenario, Segment, Trace};

const T0: Duration = Duration::ZERO;

/// Splits `bytes` at the given cut points (taken modulo the length).
fn chunks<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    at.sort_unstable();
    at.dedup();
    let mut out = Vec::new();
    let mut start = 0;
    for c in at.into_iter().chain([bytes.len()]) {
        out.push(&bytes[start..c]);
        start = c;
    }
    out
}

fn tls_info() -> TlsInfo {
    TlsInfo { version: smtp_lab::proto::TlsVersion::Tls13, cipher: "TEST".into(), server_name: None, peer_subject: None, cert_check: None }
}

/// Feeds a machine its input chunk by chunk. When it asks for TLS, the test
/// stands in for the endpoint: everything sent after STARTTLS is taken
/// back as leftover (as if it all shared STARTTLS's segment) and TLS "starts".
fn drive<M: Machine>(m: &mut M, input: &[&[u8]]) -> Vec<Output<M::Event>> {
    let mut out = Vec::new();
    let mut upgrade = false;
    let pump = |m: &mut M, out: &mut Vec<Output<M::Event>>, upgrade: &mut bool| {
        while let Some(o) = m.poll_output() {
            *upgrade |= matches!(o, Output::StartTls);
            out.push(o);
        }
    };
    m.connected(T0);
    pump(m, &mut out, &mut upgrade);
    for c in input {
        m.handle_input(c, T0);
        pump(m, &mut out, &mut upgrade);
    }
    if upgrade {
        out.push(Output::Send(m.take_buffered_input())); // record what was held back
        m.tls_started(&tls_info(), T0);
        pump(m, &mut out, &mut upgrade);
    }
    out
}

fn submission_server(end_of_data: EndOfData) -> Server {
    let mut cfg = world::server(Role::Submission);
    cfg.auth = AuthPolicy::Always;
    cfg.end_of_data = end_of_data;
    Server::new(cfg)
}

const SERVER_SCRIPTS: &[&[u8]] = &[
    b"EHLO c.test\r\nAUTH PLAIN AGFsaWNlAGNvcnJlY3QgaG9yc2UgYmF0dGVyeSBzdGFwbGU=\r\nMAIL FROM:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\nSubject: x\r\n\r\n..dot\r\nbare\nlf and bare\rcr\r\n.\r\nQUIT\r\n",
    b"HELO c.test\r\nAUTH LOGIN\r\nYWxpY2U=\r\nY29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ==\r\nNOOP\r\nVRFY x\r\nFROB\r\nnoop\nMAIL FROM:<a@b.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\none\r\n.\r\nRSET\r\nMAIL FROM:<>\r\nRCPT TO:<c@example.test>\r\nDATA\r\n.\r\nQUIT\r\n",
    b"EHLO c.test\r\nSTARTTLS\r\nRSET\r\nMAIL FROM:<m@evil.test>\r\nEHLO again.test\r\nQUIT\r\n",
    b"EHLO c.test\r\nAUTH PLAIN AGFsaWNlAGNvcnJlY3QgaG9yc2UgYmF0dGVyeSBzdGFwbGU=\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nhi\n.\r\nMAIL FROM:<spoof@b.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nspoofed\r\n.\r\nQUIT\r\n",
];

/// A middlebox that re-segments every TCP segment at arbitrary points, as a real network may.
struct Resegment {
    sizes: Vec<usize>,
    next: usize,
}

impl Middlebox for Resegment {
    fn on_segment(&mut self, seg: Segment, _now: Duration) -> Vec<Segment> {
        if seg.fin || seg.bytes.len() < 2 {
            return vec![seg];
        }
        let mut out = Vec::new();
        let mut rest = &seg.bytes[..];
        while !rest.is_empty() {
            let n = (self.sizes[self.next % self.sizes.len()] % rest.len()).max(1);
            self.next += 1;
            out.push(Segment { bytes: rest[..n].to_vec(), ..seg.clone() });
            rest = &rest[n..];
        }
        out
    }
}

/// The SMTP-level story of a trace, without anything TLS randomises.
fn smtp_story(t: &Trace) -> (Vec<ClientEvent>, Vec<ServerEvent>) {
    let client =
        t.events().filter_map(|(_, e)| if let Event::Client(SessionEvent::Machine(c)) = e { Some(c.clone()) } else { None }).collect();
    let server =
        t.events().filter_map(|(_, e)| if let Event::Server(SessionEvent::Machine(s)) = e { Some(s.clone()) } else { None }).collect();
    (client, server)
}

const TOKENS: &[&[u8]] = &[
    b"HELO x.test\r\n",
    b"MAIL FROM:<a@b.test>\r\n",
    b"RCPT TO:<b@example.test>\r\n",
    b"DATA\r\n",
    b"BDAT 10\r\n",
    b".\r\n",
    b"\r\n",
    b"\n",
    b"\r",
    b".",
    b"AUTH PLAIN ",
    b"AUTH LOGIN\r\n",
    b"AGFsaWNlAGNvcnJlY3QgaG9yc2UgYmF0dGVyeSBzdGFwbGU=",
    b"*\r\n",
    b"STARTTLS\r\n",
    b"RSET\r\n",
    b"QUIT\r\n",
    b"250-",
    b"250 ",
    b"220 ready\r\n",
    b"354 go\r\n",
    b"334 \r\n",
    b"2.1.0 ",
    b"\x16\x03\x01\x00\x05",
];

/// Tokens that reach deep into the machines more often than random bytes do.
fn smtp_alphabet() -> impl Strategy<Value = Vec<u8>> {
    let token = prop::sample::select(TOKENS.to_vec()).prop_map(|t| t.to_vec());
    let byte = any::<u8>().prop_map(|b| vec![b]);
    prop::collection::vec(prop_oneof![3 => token, 1 => byte], 0..80).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn server_events_do_not_depend_on_chunking(script in 0..SERVER_SCRIPTS.len(), lenient: bool, cuts in prop::collection::vec(any::<usize>(), 0..40)) {
        let input = SERVER_SCRIPTS[script];
        let policy = if lenient { EndOfData::LENIENT } else { EndOfData::STRICT };
        let whole = drive(&mut submission_server(policy), &[input]);
        let split = drive(&mut submission_server(policy), &chunks(input, &cuts));
        prop_assert_eq!(whole, split);
    }

    #[test]
    fn client_events_do_not_depend_on_chunking(pipelining: bool, cuts in prop::collection::vec(any::<usize>(), 0..40)) {
        // What a real server said to this client, recorded from a cleartext session.
        let mut s = Scenario::submission();
        s.client.policy = TlsPolicy::Opportunistic;
        s.client.pipelining = pipelining;
        s.server.starttls = false;
        s.server.auth = AuthPolicy::Always;
        let trace = s.run(&pki());
        prop_assert_eq!(trace.delivered().len(), 1);
        let replies: Vec<u8> = trace.steps.iter()
            .filter(|st| st.direction() == Some(Direction::ServerToClient))
            .filter_map(|st| st.wire()).flat_map(|b| b.0.clone()).collect();
        let whole = drive(&mut Client::new(s.client.clone()), &[&replies]);
        let split = drive(&mut Client::new(s.client.clone()), &chunks(&replies, &cuts));
        prop_assert_eq!(whole, split);
    }

    #[test]
    fn data_reader_does_not_depend_on_chunking(body in prop::collection::vec(prop::sample::select(b"a.\r\n".to_vec()), 0..200), lenient: bool, cuts in prop::collection::vec(any::<usize>(), 0..20)) {
        let policy = if lenient { EndOfData::LENIENT } else { EndOfData::STRICT };
        let mut wire = body.clone();
        wire.extend_from_slice(b"\r\n.\r\nQUIT\r\n");
        let feed = |parts: &[&[u8]]| {
            let mut r = DataReader::new(policy, 1 << 20);
            let mut used = 0;
            for p in parts {
                if r.is_done() { break; }
                used += r.feed(p);
            }
            (used, r.finish())
        };
        prop_assert_eq!(feed(&[&wire]), feed(&chunks(&wire, &cuts)));
    }

    #[test]
    fn dot_stuffing_round_trips(body in prop::collection::vec(prop::sample::select(b"ab.\r\n".to_vec()), 0..300)) {
        let wire = dot_stuff(&body);
        let mut r = DataReader::new(EndOfData::STRICT, 1 << 20);
        prop_assert_eq!(r.feed(&wire), wire.len());
        prop_assert!(r.is_done());
        let mut expected = body.clone();
        if !body.is_empty() && !body.ends_with(b"\r\n") {
            expected.extend_from_slice(b"\r\n");
        }
        prop_assert_eq!(r.finish().0, expected);
    }

    #[test]
    fn parsers_never_panic_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = Command::parse(&bytes);
        let _ = AuthLine::parse(&bytes);
        let mut replies = ReplyReader::default();
        replies.push(&bytes);
        while replies.next_reply().is_some() {}
        for policy in [EndOfData::STRICT, EndOfData::LENIENT] {
            DataReader::new(policy, 100).feed(&bytes);
        }
    }

    #[test]
    fn machines_never_panic_and_stay_bounded(input in smtp_alphabet(), cuts in prop::collection::vec(any::<usize>(), 0..10), role in prop::sample::select(vec![Role::Relay, Role::Submission, Role::Submissions])) {
        let mut cfg = world::server(role);
        cfg.auth = AuthPolicy::Always;
        let mut server = Server::new(cfg);
        let parts = chunks(&input, &cuts);
        let out = drive(&mut server, &parts);
        prop_assert!(server.buffered_input() <= limits::AUTH_LINE);
        let sent: usize = out.iter().map(|o| if let Output::Send(b) = o { b.len() } else { 0 }).sum();
        prop_assert!(sent <= 200 + 120 * (input.len() + 1), "output {} for input {}", sent, input.len());
        server.handle_timeout(Duration::from_secs(3600));
        server.peer_closed(Duration::from_secs(3600));
        while server.poll_output().is_some() {}

        let mut client = Client::new(world::mail_client(TlsPolicy::Opportunistic));
        drive(&mut client, &parts);
        prop_assert!(client.buffered_input() <= limits::REPLY_LINE);
        client.handle_timeout(Duration::from_secs(3600));
        while client.poll_output().is_some() {}
    }

    #[test]
    fn replies_round_trip(code in 200u16..=559, lines in prop::collection::vec("[A-Za-z][A-Za-z0-9 ]{0,40}", 1..5), with_esc: bool, subject in 0u16..8, detail in 0u16..20) {
        let class = (code / 100) as u8;
        let code = if code % 100 >= 60 { code - 50 } else { code };
        let enhanced = (with_esc && class != 3).then_some(EnhancedCode::new(class, subject, detail));
        let reply = Reply::multi(code, enhanced, lines);
        let mut r = ReplyReader::default();
        r.push(&reply.to_bytes());
        prop_assert_eq!(r.next_reply(), Some(Ok(reply)));
    }

    #[test]
    fn commands_round_trip(local in "[a-z][a-z0-9.+-]{0,15}", domain in "[a-z]{1,10}\\.[a-z]{2,5}", size in proptest::option::of(0u64..100_000_000), which in 0usize..6) {
        let addr = format!("{local}@{domain}");
        let params = size.map(|n| vec![Param::new("SIZE", Some(&n.to_string()))]).unwrap_or_default();
        let cmd = match which {
            0 => Command::Mail { from: addr, params },
            1 => Command::Rcpt { to: addr, params },
            2 => Command::Ehlo { domain },
            3 => Command::Helo { domain },
            4 => Command::Vrfy { arg: addr },
            _ => Command::Auth { mechanism: "PLAIN".into(), initial_response: Some("AGEAYg==".into()) },
        };
        let line = cmd.to_line();
        prop_assert_eq!(Command::parse(&line[..line.len() - 2]), Ok(cmd));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Whole sessions with TLS: re-segmenting every segment (splitting TLS
    /// records and SMTP lines anywhere) changes nothing at the SMTP level.
    #[test]
    fn sessions_do_not_depend_on_segmentation(sizes in prop::collection::vec(1usize..64, 1..16), port in prop::sample::select(vec![25u16, 465, 587])) {
        let scenario = Scenario::for_port(port);
        let plain = scenario.run(&pki());
        let resegmented = scenario.link(&pki()).with_middlebox(Box::new(Resegment { sizes, next: 0 })).run();
        prop_assert!(!resegmented.truncated);
        prop_assert_eq!(resegmented.delivered(), plain.delivered());
        prop_assert_eq!(smtp_story(&resegmented), smtp_story(&plain));
    }
}
