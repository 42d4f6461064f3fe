//! The live lab: the learner as the client at a console, as Mallory on the
//! wire, and forks of a session with one setting changed. Outcomes come from
//! the trace exactly as for the built-in sessions.

use smtp_lab::lab::{Settings, Simulation};
use smtp_lab::outcome::Outcome;
use smtp_lab::proto::{codec::sasl, ClientEvent, ServerEvent, SessionEvent};
use smtp_lab::sim::{Attack, Decision, Event, Trace};

fn start(link: &str) -> Simulation {
    let mut sim = Simulation::start(&Settings::from_link(link).unwrap().settings).unwrap();
    sim.run_to_end();
    sim
}

fn replies(trace: &Trace) -> Vec<u16> {
    trace
        .client_events()
        .filter_map(|(_, e)| match e {
            ClientEvent::ReplyReceived { reply, .. } => Some(reply.code),
            _ => None,
        })
        .collect()
}

fn kinds(sim: &Simulation) -> Vec<String> {
    sim.outcomes.iter().map(|f| serde_json::to_value(&f.outcome).unwrap()["kind"].as_str().unwrap().to_owned()).collect()
}

const MESSAGE: [&str; 4] = ["From: Alice <alice@example.test>", "Subject: typed by hand", "", "Hello Bob, I typed this."];

#[test]
fn a_whole_587_session_typed_at_the_console_delivers_what_was_typed_inside_tls() {
    let mut sim = start("port=587&drive=client");
    assert_eq!(replies(&sim.trace), [220], "the greeting, then the server waits for the learner");
    assert!(!sim.finished);
    let auth =
        format!("AUTH PLAIN {}", sasl::plain_response("alice", &smtp_lab::proto::codec::Secret::new("correct horse battery staple")));
    let mut lines = vec!["EHLO me.example.test", "STARTTLS", "EHLO me.example.test", &auth, "MAIL FROM:<alice@example.test>"];
    lines.extend(["RCPT TO:<bob@example.test>", "DATA"]);
    lines.extend(MESSAGE);
    lines.extend([".", "QUIT"]);
    for line in &lines {
        sim.type_line(line.as_bytes()).unwrap_or_else(|e| panic!("{line}: {e}"));
    }
    assert_eq!(replies(&sim.trace), [220, 250, 220, 250, 235, 250, 250, 354, 250, 221]);
    assert!(
        sim.trace.events().any(|(_, e)| matches!(e, Event::Client(SessionEvent::TlsEstablished { .. }))),
        "STARTTLS did a real handshake"
    );
    let body = sim.trace.server_events().find_map(|(_, e)| match e {
        ServerEvent::MessageAccepted { body, under_tls, .. } => Some((body.0.clone(), *under_tls)),
        _ => None,
    });
    let typed: Vec<u8> = MESSAGE.iter().flat_map(|l| format!("{l}\r\n").into_bytes()).collect();
    assert_eq!(body, Some((typed, true)), "the server stored exactly what was typed, received inside TLS");
    assert!(sim.finished);
    assert_eq!(kinds(&sim), ["delivered_securely"]);
    // The password never crossed in cleartext.
    assert!(!sim.trace.cleartext_on_wire().windows(5).any(|w| w == b"horse"));
}

#[test]
fn mistakes_at_the_console_get_the_servers_real_replies() {
    let mut sim = start("port=587&drive=client");
    sim.type_line(b"RCPT TO:<bob@example.test>").unwrap();
    sim.type_line(b"EHLO me.example.test").unwrap();
    sim.type_line(b"MAIL FROM:<alice@example.test>").unwrap();
    sim.type_line(b"FLY ME TO THE MOON").unwrap();
    sim.type_line(&[b'X'; 1200]).unwrap();
    // 503 bad sequence, 530 STARTTLS first (RFC 3207 §4), 500 unknown, 500 too long (RFC 5321 §4.5.3.1.4).
    assert_eq!(replies(&sim.trace), [220, 503, 250, 530, 500, 500]);
    assert!(sim.type_line(b"two\r\nlines").is_err());
    assert!(sim.type_line(&[b'X'; 5000]).is_err());
}

#[test]
fn the_console_works_with_an_attacker_on_the_wire() {
    // Mallory strips STARTTLS: the learner sees no STARTTLS in the EHLO reply.
    let mut sim = start("port=587&drive=client&attack=strip&auth=always");
    sim.type_line(b"EHLO me.example.test").unwrap();
    let ehlo = sim.trace.client_events().find_map(|(_, e)| match e {
        ClientEvent::CapabilitiesLearned { capabilities, .. } => Some(capabilities.clone()),
        _ => None,
    });
    assert!(!ehlo.unwrap().starttls());
    sim.type_line(
        format!("AUTH PLAIN {}", sasl::plain_response("alice", &smtp_lab::proto::codec::Secret::new("hunter2hunter2"))).as_bytes(),
    )
    .unwrap();
    assert!(sim
        .outcomes
        .iter()
        .any(|f| f.outcome == Outcome::CredentialsExposed { username: "alice".into(), password: "hunter2hunter2".into() }));
}

/// Plays Mallory: passes every segment, except that `edit` may change one.
fn play_mallory(sim: &mut Simulation, mut edit: impl FnMut(&[u8]) -> Option<Decision>) {
    for _ in 0..200 {
        let Some(held) = sim.held() else { break };
        let decision = edit(&held.bytes).unwrap_or(Decision::Pass);
        sim.decide(decision).unwrap();
    }
    assert!(sim.finished, "the session ended");
}

#[test]
fn stripping_starttls_by_hand_finds_what_the_strip_preset_finds() {
    let setup = "port=587&policy=opportunistic&auth=always";
    let preset = start(&format!("{setup}&attack=strip"));
    let mut by_hand = start(&format!("{setup}&drive=mallory"));
    play_mallory(&mut by_hand, |bytes| {
        let text = String::from_utf8_lossy(bytes);
        text.contains("250-STARTTLS").then(|| Decision::Replace(text.replace("250-STARTTLS\r\n", "").into_bytes()))
    });
    assert_eq!(kinds(&by_hand), kinds(&preset));
    assert_eq!(
        by_hand.outcomes.iter().map(|f| &f.outcome).collect::<Vec<_>>(),
        preset.outcomes.iter().map(|f| &f.outcome).collect::<Vec<_>>()
    );
    assert!(kinds(&by_hand).contains(&"credentials_exposed".to_owned()));
    // The presets are the same mechanism: one click does it.
    let mut clicked = start(&format!("{setup}&drive=mallory"));
    play_mallory(&mut clicked, |_| Some(Decision::Preset(Attack::Strip)));
    assert_eq!(kinds(&clicked), kinds(&preset));
}

#[test]
fn a_flipped_bit_in_an_encrypted_record_ends_the_session_with_the_receivers_alert() {
    let mut sim = start("port=465&drive=mallory");
    let mut flipped = false;
    play_mallory(&mut sim, |bytes| {
        // The first record of application data from the client (its EHLO, inside TLS).
        let hit = !flipped && bytes.first() == Some(&23) && bytes.len() > 30;
        flipped |= hit;
        hit.then(|| Decision::FlipBit(bytes.len() - 1))
    });
    assert!(flipped);
    // The first protected record is the server's encrypted handshake: the client
    // cannot open the flipped one, and says so with a bad_record_mac alert.
    let failures: Vec<(bool, String)> = sim
        .trace
        .events()
        .filter_map(|(_, e)| match e {
            Event::Client(SessionEvent::TlsFailed { error }) => Some((true, error.message.clone())),
            Event::Server(SessionEvent::TlsFailed { error }) => Some((false, error.message.clone())),
            _ => None,
        })
        .collect();
    assert!(failures.iter().any(|(client, m)| *client && m.contains("decrypt")), "{failures:?}");
    assert!(failures.iter().any(|(client, m)| !*client && m.contains("BadRecordMac")), "{failures:?}");
    assert_eq!(kinds(&sim), ["aborted_safely"]);
}

#[test]
fn acting_at_an_earlier_step_re_runs_from_the_seed_and_drops_the_old_future() {
    let mut sim = start("port=587&drive=client");
    sim.type_line(b"EHLO one.example.test").unwrap();
    sim.type_line(b"NOOP").unwrap();
    let after_ehlo = sim.len() - 2;
    let before: Vec<_> = sim.trace.steps[..after_ehlo].to_vec();
    sim.jump_to(after_ehlo);
    sim.type_line(b"HELO two.example.test").unwrap();
    assert_eq!(&sim.trace.steps[..after_ehlo], &before[..], "the past is the same bytes");
    assert_eq!(replies(&sim.trace), [220, 250, 250], "EHLO, then HELO; the NOOP is gone");
}

#[test]
fn an_action_that_cannot_be_taken_changes_nothing() {
    let mut sim = start("port=587&drive=mallory");
    let before = sim.trace.clone();
    sim.jump_to(0);
    assert!(sim.decide(Decision::Pass).is_err(), "at step 0 nothing is on the wire yet");
    assert_eq!(sim.trace, before, "the future was kept");
    assert!(start("port=587").type_line(b"EHLO x").is_err(), "watching, there is no console");
}

#[test]
fn forking_a_strip_session_to_a_client_that_requires_starttls_ends_safely() {
    let mut strip = start("preset=strip-587-opportunistic");
    let ehlo_reply = strip.trace.steps.iter().position(|s| s.middlebox().is_some()).unwrap();
    strip.jump_to(ehlo_reply + 1);
    let (fork, diverges) = strip.fork("policy", "require-starttls").unwrap();
    assert_eq!(kinds(&fork), ["aborted_safely"]);
    // The same bytes up to the stripped EHLO reply; there the two clients decide differently.
    assert_eq!(diverges, Some(ehlo_reply));
    assert_eq!(fork.trace.steps[..ehlo_reply], strip.trace.steps[..ehlo_reply]);
    assert_eq!(fork.trace.steps[ehlo_reply].wire(), strip.trace.steps[ehlo_reply].wire());
    assert!(strip.fork("policy", "sometimes").is_err());
}

#[test]
fn what_the_learner_types_on_hop_1_is_relayed_on_hop_2() {
    let mut sim = start("journey=1&drive=client&hop2-attack=strip");
    assert_eq!(sim.lanes(), ["MUA", "hop 1", "MSA/MTA", "hop 2", "MX"]);
    let auth =
        format!("AUTH PLAIN {}", sasl::plain_response("alice", &smtp_lab::proto::codec::Secret::new("correct horse battery staple")));
    let mut lines = vec!["EHLO me.example.test", "STARTTLS", "EHLO me.example.test", &auth, "MAIL FROM:<alice@sender.test>"];
    lines.extend(["RCPT TO:<bob@example.test>", "DATA"]);
    lines.extend(MESSAGE);
    lines.extend([".", "QUIT"]);
    for line in &lines {
        sim.type_line(line.as_bytes()).unwrap_or_else(|e| panic!("{line}: {e}"));
    }
    assert!(sim.finished, "hop 2 ran by itself once the learner's submission ended");
    let at_mx = sim.trace.hop(1).delivered().first().map(|b| b.to_vec()).expect("delivered at the MX");
    let typed: Vec<u8> = MESSAGE.iter().flat_map(|l| format!("{l}\r\n").into_bytes()).collect();
    let received = b"Received: from me.example.test (unknown [192.0.2.10])\r\n\tby smtp.sender.test (smtp-lab) with ESMTPSA id ";
    assert!(at_mx.starts_with(received), "the EHLO name the learner typed: {}", String::from_utf8_lossy(&at_mx));
    assert!(at_mx.ends_with(&typed), "the MX stores what was typed, under the provider's Received header");
    // Mallory stripped hop 2: the typed message is readable there, the password was never on hop 2.
    let read = sim.outcomes.iter().find(|f| f.outcome == Outcome::MessageRead).expect("read on hop 2");
    assert_eq!(read.hop.as_ref().map(ToString::to_string).as_deref(), Some("hop 2 (MTA → MX, port 25)"));
    assert!(!kinds(&sim).contains(&"credentials_exposed".to_owned()), "{:?}", kinds(&sim));
}

#[test]
fn mallory_by_hand_on_hop_2_reads_the_message_and_never_sees_the_password() {
    let preset = start("journey=1&hop2-attack=strip");
    let mut by_hand = start("journey=1&hop2-mallory=1");
    assert_eq!(by_hand.drive(), smtp_lab::sim::Drive::Mallory);
    assert!(!by_hand.finished && by_hand.trace.hops.len() == 2, "hop 1 ran by itself; hop 2 waits for Mallory");
    assert_eq!(by_hand.trace.steps.last().map(|s| s.hop), Some(1), "it waits on hop 2's wire");
    assert_eq!(by_hand.held_between(), ("MTA", "MX"));
    play_mallory(&mut by_hand, |bytes| {
        let text = String::from_utf8_lossy(bytes);
        text.contains("250-STARTTLS").then(|| Decision::Replace(text.replace("250-STARTTLS\r\n", "").into_bytes()))
    });
    assert!(by_hand.finished);
    assert!(by_hand.trace.hop(0).steps.iter().all(|s| s.middlebox().is_none()), "nothing held or changed on hop 1");
    let read = by_hand.outcomes.iter().find(|f| f.outcome == Outcome::MessageRead).expect("the message read on hop 2");
    assert_eq!(read.hop.as_ref().map(ToString::to_string).as_deref(), Some("hop 2 (MTA → MX, port 25)"));
    assert!(!kinds(&by_hand).contains(&"credentials_exposed".to_owned()));
    // Deleting the line by hand does what the strip preset does, hop for hop.
    let hops =
        |sim: &Simulation| sim.outcomes.iter().map(|f| (f.outcome.label(), f.hop.as_ref().map(ToString::to_string))).collect::<Vec<_>>();
    let (mut a, mut b) = (hops(&by_hand), hops(&preset));
    a.sort();
    b.sort();
    assert_eq!(a, b);
}
