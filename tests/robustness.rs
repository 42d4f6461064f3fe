//! Hostile and broken input against the machines directly: every case ends in
//! a clear reply or event, never a panic, and no buffer grows without bound.

use std::time::Duration;

use smtp_lab::proto::{
    codec::{limits, sasl, Secret},
    AbortReason, AuthPolicy, Awaited, Client, ClientEvent, Machine, Output, Role, Server, ServerEvent, TlsPolicy,
};
use smtp_lab::sim::world;

const T0: Duration = Duration::ZERO;

/// Drains a machine's output: the bytes it sent, its events, and whether it closed.
fn drain<M: Machine>(m: &mut M) -> (String, Vec<M::Event>, bool) {
    let (mut text, mut events, mut closed) = (String::new(), Vec::new(), false);
    while let Some(o) = m.poll_output() {
        match o {
            Output::Send(b) => text.push_str(&String::from_utf8_lossy(&b)),
            Output::Event(e) => events.push(e),
            Output::Close => closed = true,
            Output::StartTls => text.push_str("<STARTTLS>"),
        }
    }
    (text, events, closed)
}

fn server(role: Role) -> Server {
    let mut s = Server::new(world::server(role));
    s.connected(T0);
    let (greeting, _, _) = drain(&mut s);
    assert!(greeting.starts_with("220 "));
    s
}

fn say(s: &mut Server, input: &[u8]) -> (String, Vec<ServerEvent>, bool) {
    s.handle_input(input, T0);
    drain(s)
}

fn codes(replies: &str) -> Vec<&str> {
    replies.lines().filter(|l| l.as_bytes().get(3) == Some(&b' ')).map(|l| &l[..3]).collect()
}

#[test]
fn over_long_command_line_gets_500_and_the_session_goes_on() {
    let mut s = server(Role::Relay);
    let long = format!("NOOP {}\r\nNOOP\r\n", "x".repeat(600));
    let (out, _, _) = say(&mut s, long.as_bytes());
    assert_eq!(codes(&out), ["500", "250"], "{out}");
    assert!(out.contains("line too long"));
}

#[test]
fn ten_megabytes_without_a_newline_stay_bounded() {
    let mut s = server(Role::Relay);
    let chunk = vec![b'A'; 8192];
    for _ in 0..(10 * 1024 * 1024 / 8192) {
        s.handle_input(&chunk, T0);
        assert!(s.buffered_input() <= limits::AUTH_LINE, "buffer grew to {}", s.buffered_input());
    }
    let (out, _, _) = say(&mut s, b"\r\nNOOP\r\n");
    assert_eq!(codes(&out), ["500", "250"]);
}

#[test]
fn ten_megabytes_in_data_without_a_newline_are_refused_not_stored() {
    let mut cfg = world::server(Role::Relay);
    cfg.max_message_size = 1024 * 1024;
    let mut s = Server::new(cfg);
    s.connected(T0);
    drain(&mut s);
    let (out, _, _) = say(&mut s, b"EHLO a.test\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n");
    assert_eq!(codes(&out), ["250", "250", "250", "354"]);
    let chunk = vec![b'B'; 65536];
    for _ in 0..160 {
        s.handle_input(&chunk, T0);
    }
    let (out, events, _) = say(&mut s, b"\r\n.\r\nQUIT\r\n");
    assert_eq!(codes(&out), ["552", "221"], "{out}");
    let summary = events.iter().find_map(|e| match e {
        ServerEvent::MessageRejected { summary, .. } => Some(summary.clone()),
        _ => None,
    });
    let summary = summary.expect("rejected");
    assert!(summary.oversize && summary.long_line && summary.size > 10_000_000);
}

#[test]
fn garbage_earns_500s_and_then_a_421_close() {
    let mut s = server(Role::Relay);
    let mut garbage = Vec::new();
    for i in 0..30u8 {
        garbage.extend_from_slice(&[0x16, 0x03, i, 0xff, b'\r', b'\n']);
    }
    let (out, events, closed) = say(&mut s, &garbage);
    assert!(closed, "too many errors closes the session");
    assert_eq!(codes(&out).iter().filter(|c| **c == "500").count(), 20);
    assert_eq!(codes(&out).last(), Some(&"421"));
    assert!(events.contains(&ServerEvent::Closed));
    // Nothing more is read after the close.
    assert_eq!(say(&mut s, b"NOOP\r\n").0, "");
}

#[test]
fn peer_vanishing_mid_data_drops_the_message() {
    let mut s = server(Role::Relay);
    say(&mut s, b"EHLO a.test\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n");
    say(&mut s, b"Subject: half\r\n\r\nthis message never ends");
    s.peer_closed(T0);
    let (_, events, closed) = drain(&mut s);
    assert!(closed);
    assert!(events.contains(&ServerEvent::AbortedMidData { received: 40 }), "{events:?}");
    assert!(!events.iter().any(|e| matches!(e, ServerEvent::MessageAccepted { .. })));
}

#[test]
fn idle_client_is_timed_out_with_421() {
    let mut s = server(Role::Relay);
    let deadline = s.poll_timeout().expect("idle timer");
    assert_eq!(deadline, Duration::from_secs(300));
    s.handle_timeout(deadline - Duration::from_secs(1));
    assert_eq!(drain(&mut s).0, "", "not yet");
    s.handle_timeout(deadline);
    let (out, events, closed) = drain(&mut s);
    assert!(out.starts_with("421 4.4.2") && closed && events.contains(&ServerEvent::TimedOut));
}

#[test]
fn bare_lf_command_is_refused() {
    let mut s = server(Role::Relay);
    let (out, _, _) = say(&mut s, b"EHLO a.test\nNOOP\r\n");
    assert_eq!(codes(&out), ["500", "250"]);
    assert!(out.contains("bare <LF>"));
}

#[test]
fn command_sequencing_errors() {
    let mut s = server(Role::Relay);
    let script = b"MAIL FROM:<a@a.test>\r\n\
EHLO a.test\r\n\
RCPT TO:<b@example.test>\r\n\
DATA\r\n\
MAIL FROM:<a@a.test> SIZE=99999999999\r\n\
MAIL FROM:<a@a.test> FOO=1\r\n\
MAIL FROM:<a@a.test>\r\n\
MAIL FROM:<a@a.test>\r\n\
RCPT TO:<x@elsewhere.test>\r\n\
RCPT TO:<nobody>\r\n\
DATA\r\n\
AUTH PLAIN\r\n\
VRFY bob\r\n\
FROB\r\n\
RSET\r\n";
    let (out, _, _) = say(&mut s, script);
    assert_eq!(
        codes(&out),
        ["503", "250", "503", "503", "552", "555", "250", "503", "554", "501", "554", "503", "252", "500", "250"],
        "{out}"
    );
    assert!(out.contains("Relay access denied"));
}

#[test]
fn auth_exchanges_and_their_failures() {
    let mut cfg = world::server(Role::Submission);
    cfg.auth = AuthPolicy::Always;
    let fresh = || {
        let mut s = Server::new(cfg.clone());
        s.connected(T0);
        drain(&mut s);
        say(&mut s, b"EHLO a.test\r\n");
        s
    };
    let good = sasl::plain_response("alice", &Secret::new("correct horse battery staple"));
    let bad = sasl::plain_response("alice", &Secret::new("guess"));
    let cases: Vec<(Vec<u8>, Vec<&str>)> = vec![
        (format!("AUTH PLAIN {good}\r\n").into_bytes(), vec!["235"]),
        (format!("AUTH PLAIN\r\n{good}\r\n").into_bytes(), vec!["334", "235"]),
        (format!("AUTH PLAIN {bad}\r\n").into_bytes(), vec!["535"]),
        (b"AUTH PLAIN\r\n*\r\n".to_vec(), vec!["334", "501"]),
        (b"AUTH PLAIN\r\n!!!\r\n".to_vec(), vec!["334", "501"]),
        (b"AUTH CRAM-MD5\r\n".to_vec(), vec!["504"]),
        (
            format!("AUTH LOGIN\r\n{}\r\n{}\r\n", sasl::encode(b"alice"), sasl::encode(b"correct horse battery staple")).into_bytes(),
            vec!["334", "334", "235"],
        ),
        (format!("AUTH LOGIN {}\r\n{}\r\n", sasl::encode(b"alice"), sasl::encode(b"nope")).into_bytes(), vec!["334", "535"]),
        (format!("AUTH PLAIN {good}\r\nAUTH PLAIN {good}\r\n").into_bytes(), vec!["235", "503"]),
        (format!("AUTH PLAIN {}\r\n", "A".repeat(13_000)).into_bytes(), vec!["500"]),
    ];
    for (input, want) in cases {
        let mut s = fresh();
        let (out, _, _) = say(&mut s, &input);
        assert_eq!(codes(&out), want, "{}", String::from_utf8_lossy(&input[..input.len().min(60)]));
    }
    // Before TLS, the default submission server hides AUTH and refuses it with 538.
    let mut s = server(Role::Submission);
    let (out, _, _) = say(&mut s, format!("EHLO a.test\r\nAUTH PLAIN {good}\r\n").as_bytes());
    assert!(!out.contains("AUTH PLAIN LOGIN"));
    assert_eq!(codes(&out), ["250", "538"]);
    let mut s = server(Role::Relay);
    assert_eq!(codes(&say(&mut s, format!("EHLO a.test\r\nAUTH PLAIN {good}\r\n").as_bytes()).0), ["250", "503"]);
}

#[test]
fn starttls_stops_reading_at_the_boundary() {
    let mut s = server(Role::Submission);
    let (out, events, _) = say(&mut s, b"EHLO a.test\r\nSTARTTLS\r\nRSET\r\nMAIL FROM:<m@evil.test>\r\n");
    assert_eq!(out.matches("<STARTTLS>").count(), 1);
    assert!(out.ends_with("220 2.0.0 Ready to start TLS\r\n<STARTTLS>"), "{out}");
    assert!(!events
        .iter()
        .any(|e| matches!(e, ServerEvent::CommandReceived { command, .. } if command.verb() == smtp_lab::proto::codec::Verb::Rset)));
    assert_eq!(s.take_buffered_input(), b"RSET\r\nMAIL FROM:<m@evil.test>\r\n");
}

fn client() -> Client {
    let mut c = Client::new(world::mail_client(TlsPolicy::Plain));
    c.connected(T0);
    c
}

#[test]
fn client_rejects_garbage_replies_with_a_clear_error() {
    for garbage in [&b"HTTP/1.1 400 Bad Request\r\n"[..], b"\x15\x03\x03\x00\x02\x02\x46", b"250-x\r\n251 y\r\n"] {
        let mut c = client();
        c.handle_input(garbage, T0);
        c.handle_input(b"\r\n", T0);
        let (_, events, closed) = drain(&mut c);
        assert!(closed, "{garbage:?}");
        assert!(events.iter().any(|e| matches!(e, ClientEvent::BadReply { .. })), "{garbage:?}: {events:?}");
    }
}

#[test]
fn client_survives_an_endless_reply_line() {
    let mut c = client();
    for _ in 0..1000 {
        c.handle_input(&[b'2'; 10_000], T0);
        assert!(c.buffered_input() <= limits::REPLY_LINE);
    }
    c.handle_input(b"\r\n", T0);
    let (_, events, closed) = drain(&mut c);
    assert!(closed && events.iter().any(|e| matches!(e, ClientEvent::BadReply { .. })));
}

#[test]
fn client_notices_the_server_hanging_up() {
    let mut c = client();
    c.handle_input(b"220 hi\r\n", T0);
    drain(&mut c);
    c.peer_closed(T0);
    let (_, events, closed) = drain(&mut c);
    assert!(closed);
    assert!(
        events.iter().any(|e| matches!(e, ClientEvent::Aborted { reason: AbortReason::ServerClosedWhileWaiting(Some(Awaited::Ehlo)) })),
        "{events:?}"
    );
}

#[test]
fn client_times_out_per_rfc_5321() {
    let mut c = client();
    assert_eq!(c.poll_timeout(), Some(Duration::from_secs(300)));
    c.handle_timeout(Duration::from_secs(300));
    let (_, events, closed) = drain(&mut c);
    assert!(closed && events.contains(&ClientEvent::TimedOut { waiting_for: Awaited::Greeting }));
}
