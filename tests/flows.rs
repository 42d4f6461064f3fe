//! End-to-end sessions through the in-memory wire, with real TLS.

mod common;

use common::*;
use smtp_lab::proto::{
    codec::{sasl, Mechanism},
    AuthPolicy, ClientEvent, NoTlsReason, ServerEvent, SessionEvent, TlsErrorKind, TlsPolicy,
};
use smtp_lab::sim::{world::IdentityKind, Direction, Event, Scenario, StepKind};

const PASSWORD: &str = "correct horse battery staple";

/// A body that exercises dot-stuffing, 8-bit text and long-ish lines.
fn tricky_body() -> Vec<u8> {
    let mut b = b"Subject: dots\r\n\r\n.\r\n..\r\n.leading\r\n...three\r\nmiddle . dot\r\n.\r\n".to_vec();
    b.extend_from_slice("Grüße aus Zürich — 8-bit text\r\n".as_bytes());
    b.extend_from_slice(&[b'x'; 998]);
    b.extend_from_slice(b"\r\n.\r\n");
    b
}

fn assert_delivered(s: &Scenario) -> smtp_lab::sim::Trace {
    let trace = s.run(&pki());
    assert!(!trace.truncated);
    assert_eq!(trace.delivered(), vec![s.client.message.as_slice()], "the server must receive exactly what the client sent");
    assert!(client_events(&trace).iter().any(|e| matches!(e, ClientEvent::MessageAccepted { .. })));
    // The session ends properly: the client hears the 221 before the connection closes.
    let mut last_reply = client_events(&trace).into_iter().filter_map(|e| match e {
        ClientEvent::ReplyReceived { reply, .. } => Some(reply.code),
        _ => None,
    });
    assert_eq!(last_reply.next_back(), Some(221));
    trace
}

#[test]
fn relay_25_with_opportunistic_starttls() {
    let mut s = Scenario::relay();
    s.client.message = tricky_body();
    let trace = assert_delivered(&s);
    assert_eq!(trace.server_port, 25);
    let accepted = server_events(&trace).into_iter().find_map(|e| match e {
        ServerEvent::MessageAccepted { under_tls, authenticated_as, envelope, .. } => Some((under_tls, authenticated_as, envelope)),
        _ => None,
    });
    let (under_tls, user, envelope) = accepted.unwrap();
    assert!(under_tls && user.is_none());
    assert_eq!(envelope.to, ["bob@example.test"]);
    // The envelope travelled inside TLS: it is nowhere in the cleartext.
    assert!(!contains(&trace.cleartext_on_wire(), b"bob@example.test"));
    assert!(contains(&trace.cleartext_on_wire(), b"STARTTLS"));
}

#[test]
fn submission_587_starttls_then_auth() {
    for mechanism in [Mechanism::Plain, Mechanism::Login] {
        for initial_response in [true, false] {
            let mut s = Scenario::submission();
            s.client.message = tricky_body();
            let creds = s.client.credentials.as_mut().unwrap();
            creds.mechanism = mechanism;
            creds.initial_response = initial_response;
            let trace = assert_delivered(&s);
            let auth = server_events(&trace).into_iter().find_map(|e| match e {
                ServerEvent::AuthSucceeded { username, mechanism, under_tls } => Some((username, mechanism, under_tls)),
                _ => None,
            });
            assert_eq!(auth, Some(("alice".into(), mechanism, true)));
            // Neither the password nor its base64 forms ever crossed in cleartext.
            let clear = trace.cleartext_on_wire();
            assert!(!contains(&clear, PASSWORD.as_bytes()));
            assert!(!contains(&clear, sasl::encode(PASSWORD.as_bytes()).as_bytes()));
            assert!(!contains(&clear, b"AUTH"), "{mechanism:?}: no AUTH before TLS");
            // The server forgot the cleartext EHLO: the client had to say it again inside TLS.
            let ehlos: Vec<bool> = server_commands(&trace).into_iter().filter(|(c, _)| c.starts_with("EHLO")).map(|(_, tls)| tls).collect();
            assert_eq!(ehlos, [false, true]);
        }
    }
}

#[test]
fn submissions_465_implicit_tls_then_auth() {
    let mut s = Scenario::submissions();
    s.client.message = tricky_body();
    let trace = assert_delivered(&s);
    let segments: Vec<_> = trace.steps.iter().filter(|s| s.kind() == StepKind::Segment).collect();
    assert!(segments.iter().all(|s| s.tls()), "every byte on 465 is a TLS record");
    assert_eq!(segments[0].direction(), Some(Direction::ClientToServer), "the client speaks first: ClientHello");
    assert_eq!(segments[0].records()[0].content_type.name(), "handshake");
    // The ClientHello and ServerHello are readable TLSPlaintext (RFC 8446 §5.1); everything
    // after the ServerHello is encrypted, and every SMTP byte travels in an encrypted record.
    assert!(!segments[0].encrypted(), "the ClientHello is not encrypted");
    let server_hello = &segments[1].records()[0];
    assert_eq!((server_hello.content_type.name(), server_hello.encrypted), ("handshake", false));
    assert!(segments[1].records().iter().any(|r| r.encrypted), "the server's first flight ends encrypted");
    let smtp: Vec<_> = segments.iter().filter(|s| s.receiver_plaintext().is_some()).collect();
    assert!(!smtp.is_empty() && smtp.iter().all(|s| s.records().iter().all(|r| r.encrypted)));
    assert!(trace.cleartext_on_wire().is_empty());
    assert!(server_commands(&trace).iter().all(|(_, tls)| *tls));
}

#[test]
fn a_one_megabyte_message_arrives_whole_over_tls() {
    let mut s = Scenario::submission();
    let mut body = b"Subject: big\r\n\r\n".to_vec();
    for i in 0..16_000 {
        body.extend_from_slice(format!("{i:06} .{}\r\n", "x".repeat(57)).as_bytes());
    }
    assert!(body.len() > 1_000_000);
    s.client.message = body;
    assert_delivered(&s);
}

#[test]
fn pipelined_commands_share_one_segment_each_way() {
    let trace = Scenario::submission().run(&pki());
    let mail = trace.steps.iter().find(|s| s.sender_plaintext().is_some_and(|p| p.0.starts_with(b"MAIL FROM"))).expect("a MAIL segment");
    let text = String::from_utf8_lossy(&mail.sender_plaintext().unwrap().0).into_owned();
    assert_eq!(text.lines().count(), 3, "MAIL, RCPT and DATA pipelined: {text:?}");
    let replies = &trace.steps[mail.index + 1];
    let text = String::from_utf8_lossy(&replies.receiver_plaintext().unwrap().0).into_owned();
    assert!(text.starts_with("250 2.1.0") && text.contains("250 2.1.5") && text.contains("354 "), "{text:?}");
}

#[test]
fn without_pipelining_the_client_waits_for_each_reply() {
    let mut s = Scenario::submission();
    s.client.pipelining = false;
    s.client.to = vec!["bob@example.test".into(), "carol@example.test".into()];
    let trace = assert_delivered(&s);
    let mail = trace.steps.iter().find(|s| s.sender_plaintext().is_some_and(|p| p.0.starts_with(b"MAIL"))).unwrap();
    assert!(!contains(&mail.sender_plaintext().unwrap().0, b"RCPT"));
}

#[test]
fn implicit_tls_client_against_starttls_server() {
    let mut s = Scenario::submission();
    s.client.policy = TlsPolicy::Implicit;
    let trace = s.run(&pki());
    assert!(!trace.truncated && trace.delivered().is_empty());
    let err = client_tls_failure(&trace).expect("the client's handshake fails");
    assert_eq!(err.kind, TlsErrorKind::NotTls, "{err}");
    // Its words quote what came instead: the server's cleartext greeting.
    assert!(err.message.contains("220 mail.example.test"), "{err}");
    // The server saw the ClientHello as a garbage command line.
    assert!(server_events(&trace).iter().any(|e| matches!(e, ServerEvent::BadCommand { .. })));
    assert!(trace.steps.last().unwrap().at_ms < 1000, "fails at once");
}

#[test]
fn starttls_client_against_implicit_tls_server() {
    let mut s = Scenario::submissions();
    s.client.policy = TlsPolicy::RequireStartTls;
    let trace = s.run(&pki());
    assert!(!trace.truncated && trace.delivered().is_empty());
    let timed_out = client_events(&trace).into_iter().find_map(|e| match e {
        ClientEvent::TimedOut { waiting_for } => Some(waiting_for),
        _ => None,
    });
    assert_eq!(timed_out.map(|w| w.to_string()).as_deref(), Some("the greeting"));
    assert!(trace.steps.iter().all(|s| s.wire().is_none()), "neither side ever sends a byte of SMTP");
    assert!(trace.steps.last().unwrap().at_ms >= 300_000);
}

#[test]
fn required_starttls_quits_when_it_is_not_offered() {
    let mut s = Scenario::submission();
    s.server.starttls = false;
    let trace = s.run(&pki());
    assert!(trace.delivered().is_empty());
    let events = client_events(&trace);
    assert!(events.iter().any(|e| matches!(e, ClientEvent::Aborted { .. })));
    let commands: Vec<String> = server_commands(&trace).into_iter().map(|(c, _)| c).collect();
    assert_eq!(commands, ["EHLO client.example.test", "QUIT"], "no AUTH, no MAIL: QUIT at once");
}

#[test]
fn opportunistic_client_sends_the_password_in_cleartext_when_starttls_is_missing() {
    let mut s = Scenario::submission();
    s.client.policy = TlsPolicy::Opportunistic;
    s.server.starttls = false;
    s.server.auth = AuthPolicy::Always;
    let trace = s.run(&pki());
    let events = client_events(&trace);
    assert!(events.contains(&ClientEvent::ContinuedWithoutTls(NoTlsReason::NotOffered)));
    assert!(events.contains(&ClientEvent::AuthSentBeforeTls { mechanism: Mechanism::Plain }));
    // The password is really there, in base64, in the cleartext bytes.
    let clear = trace.cleartext_on_wire();
    let line = clear.split(|&b| b == b'\n').find(|l| l.starts_with(b"AUTH PLAIN ")).expect("AUTH on the wire");
    let b64 = std::str::from_utf8(&line[11..]).unwrap().trim_end();
    let (user, password) = sasl::parse_plain(b64).unwrap();
    assert_eq!((user.as_str(), password.expose()), ("alice", PASSWORD));
}

#[test]
fn require_tls_server_answers_530_after_the_password_is_already_out() {
    let mut s = Scenario::submission();
    s.client.policy = TlsPolicy::Plain;
    s.server.auth = AuthPolicy::Always;
    s.server.require_tls = true;
    let trace = s.run(&pki());
    assert!(trace.delivered().is_empty());
    let clear = trace.cleartext_on_wire();
    let auth_at = clear.windows(10).position(|w| w == b"AUTH PLAIN").expect("AUTH was sent");
    let refusal_at = clear.windows(3).position(|w| w == b"530").expect("530 came back");
    assert!(auth_at < refusal_at, "the refusal comes after the credentials");
}

#[test]
fn a_server_that_hides_auth_before_tls_keeps_a_plain_client_from_sending_it() {
    let mut s = Scenario::submission();
    s.client.policy = TlsPolicy::Plain;
    let trace = s.run(&pki());
    assert!(client_events(&trace).contains(&ClientEvent::AuthNotAdvertised));
    assert!(!contains(&trace.cleartext_on_wire(), b"AUTH"));
    assert!(!contains(&trace.cleartext_on_wire(), sasl::encode(PASSWORD.as_bytes()).as_bytes()));
    // And if the client sends it anyway, the server refuses it with 538.
    let mut server = smtp_lab::proto::Server::new(s.server.clone());
    use smtp_lab::proto::Machine;
    server.connected(std::time::Duration::ZERO);
    server.handle_input(b"EHLO a.test\r\nAUTH PLAIN AGEAYg==\r\n", std::time::Duration::ZERO);
    let mut replies = String::new();
    while let Some(o) = server.poll_output() {
        if let smtp_lab::proto::Output::Send(b) = o {
            replies.push_str(&String::from_utf8_lossy(&b));
        }
    }
    assert!(replies.contains("538 5.7.11"), "{replies}");
}

#[test]
fn certificate_problems() {
    for kind in [IdentityKind::SelfSigned, IdentityKind::WrongName, IdentityKind::UntrustedCa, IdentityKind::Expired] {
        // A validating client stops at the handshake: nothing of the session leaks.
        let mut s = Scenario::submission();
        s.server_identity = kind;
        let trace = s.run(&pki());
        assert!(trace.delivered().is_empty(), "{kind:?}");
        assert!(client_tls_failure(&trace).is_some(), "{kind:?}");
        assert!(!server_commands(&trace).iter().any(|(c, _)| c.starts_with("AUTH")), "{kind:?}");
        // A client that does not validate notices, says so, and carries on.
        s.client.validate_certificate = false;
        let trace = s.run(&pki());
        assert_eq!(trace.delivered().len(), 1, "{kind:?}");
        assert!(client_events(&trace).iter().any(|e| matches!(e, ClientEvent::CertificateNotValidated { .. })), "{kind:?}");
    }
}

/// Runs `link` until a segment matching `pick` is in flight, then lets `edit` change it.
fn edit_in_flight(link: &mut smtp_lab::sim::Link, pick: impl Fn(&[u8]) -> bool, edit: impl FnOnce(&mut Vec<u8>)) {
    loop {
        link.step().expect("session ended before the segment appeared");
        if let Some((_, seg)) = link.in_flight_mut().iter_mut().find(|(_, s)| pick(&s.bytes)) {
            edit(&mut seg.bytes);
            return;
        }
    }
}

#[test]
fn ehlo_refused_falls_back_to_helo_without_extensions() {
    let mut link = Scenario::relay().link(&pki());
    edit_in_flight(&mut link, |b| b.starts_with(b"250-"), |b| *b = b"502 5.5.1 Error: command not recognized\r\n".to_vec());
    let trace = link.run();
    let events = client_events(&trace);
    assert!(events.iter().any(|e| matches!(e, ClientEvent::FellBackToHelo { .. })));
    assert!(events.contains(&ClientEvent::ContinuedWithoutTls(NoTlsReason::NotOffered)));
    assert_eq!(trace.delivered().len(), 1, "delivered, but in cleartext");
    assert!(contains(&trace.cleartext_on_wire(), b"See you at noon."));
}

#[test]
fn bytes_smuggled_after_starttls_are_discarded_by_the_session_layer() {
    let mut link = Scenario::submission().link(&pki());
    edit_in_flight(&mut link, |b| b == b"STARTTLS\r\n", |b| b.extend_from_slice(b"MAIL FROM:<mallory@evil.test>\r\n"));
    let trace = link.run();
    let discarded = trace.events().find_map(|(_, e)| match e {
        Event::Server(SessionEvent::DiscardedAtUpgrade { bytes }) => Some(bytes.0.clone()),
        _ => None,
    });
    assert_eq!(discarded.as_deref(), Some(&b"MAIL FROM:<mallory@evil.test>\r\n"[..]));
    assert!(!server_commands(&trace).iter().any(|(c, _)| c.contains("mallory")));
    assert_eq!(trace.delivered().len(), 1, "the real session still works");
}

#[test]
fn the_json_trace_names_every_event_and_is_the_same_for_the_same_session() {
    let trace = Scenario::submission().run(&pki());
    let json = serde_json::to_string(&trace).unwrap();
    assert_eq!(json, serde_json::to_string(&Scenario::submission().run(&pki())).unwrap());
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["steps"].as_array().unwrap().len(), trace.steps.len());
    assert!(json.contains("\"type\":\"auth_succeeded\"") && json.contains("\"type\":\"tls_established\""));
}

#[test]
fn a_scenario_and_its_seed_decide_every_byte() {
    let a = Scenario::relay().run(&pki());
    assert_eq!(a, Scenario::relay().run(&pki()), "the same seed, the same trace, TLS bytes included");
    let other = Scenario { seed: 2, ..Scenario::relay() }.run(&pki());
    assert_ne!(a, other, "another seed, other TLS bytes");
    // The SMTP conversation inside does not depend on the seed.
    let said = |t: &smtp_lab::sim::Trace| t.steps.iter().map(|s| s.sender_plaintext().cloned()).collect::<Vec<_>>();
    assert_eq!(said(&a), said(&other));
}
