//! A message's journey: submission on hop 1, relay on hop 2, each a real
//! client/server pair with real TLS; and SMTP smuggling, which exists only
//! across the two.

mod common;

use smtp_lab::lab::Settings;
use smtp_lab::outcome::{analyse, matrix::CellId, Finding, Outcome};
use smtp_lab::proto::{codec::EodVariant, Rejection, ServerEvent, SessionEvent, SpfResult, TlsPolicy};
use smtp_lab::sim::{Event, Outbound, Scenario, Trace};
use smtp_lab::vocab::Named;

fn run(s: &Scenario) -> (Trace, Vec<Finding>) {
    let trace = s.run(&common::pki());
    assert!(!trace.truncated);
    let findings = analyse(s, &trace);
    (trace, findings)
}

fn accepted(trace: &Trace) -> Vec<(String, Vec<u8>, bool)> {
    trace
        .server_events()
        .filter_map(|(_, e)| match e {
            ServerEvent::MessageAccepted { envelope, body, under_tls, .. } => Some((envelope.from.clone(), body.0.clone(), *under_tls)),
            _ => None,
        })
        .collect()
}

fn tls_on_both_sides(trace: &Trace) -> bool {
    let est = |client: bool| {
        trace.events().any(|(_, e)| match e {
            Event::Client(SessionEvent::TlsEstablished { .. }) => client,
            Event::Server(SessionEvent::TlsEstablished { .. }) => !client,
            _ => false,
        })
    };
    est(true) && est(false)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_three_node_chain_delivers_over_tls_on_both_hops_under_the_msas_received_header() {
    for port in [587, 465] {
        for (policy, validate) in [(TlsPolicy::Opportunistic, false), (TlsPolicy::Opportunistic, true), (TlsPolicy::RequireStartTls, true)]
        {
            let mut s = Scenario::journey(port);
            let hop2 = s.hop2_mut().unwrap();
            hop2.client.policy = policy;
            hop2.client.validate_certificate = validate;
            let (trace, f) = run(&s);
            let what = format!("{port} then 25 {policy:?} validate={validate}");
            assert_eq!(trace.hops.iter().map(|h| h.server_port).collect::<Vec<_>>(), [port, 25], "{what}");
            let (one, two) = (trace.hop(0), trace.hop(1));
            assert!(tls_on_both_sides(&one) && tls_on_both_sides(&two), "{what}");
            let at_msa = accepted(&one);
            let at_mx = accepted(&two);
            assert_eq!(at_msa.len(), 1, "{what}");
            assert_eq!(at_mx.len(), 1, "{what}");
            let (from, body, under_tls) = &at_mx[0];
            assert!(under_tls, "{what}: received over TLS at the MX");
            assert_eq!(from, "alice@sender.test");
            let received = String::from_utf8_lossy(&body[..body.iter().position(|&b| b == b'F').unwrap()]).into_owned();
            assert!(received.starts_with("Received: from client.example.test"), "{received}");
            assert!(received.contains("by smtp.sender.test (smtp-lab) with ESMTPSA id "), "{received}");
            assert!(body.ends_with(&at_msa[0].1), "{what}: the MX stores what the MSA accepted, under its Received header");
            assert_eq!(f.iter().filter(|x| x.outcome == Outcome::DeliveredSecurely).count(), 2, "{what}: {f:?}");
            let hops: Vec<String> = f.iter().filter_map(|x| x.hop.as_ref().map(ToString::to_string)).collect();
            assert!(
                hops.contains(&format!("hop 1 (MUA → MSA, port {port})")) && hops.contains(&"hop 2 (MTA → MX, port 25)".to_owned()),
                "{hops:?}"
            );
            // The hop-2 client really checked the certificate when told to.
            let checked = two.events().any(|(_, e)| matches!(e, Event::Client(SessionEvent::TlsEstablished { info }) if info.cert_check.as_ref().is_some_and(|c| c.valid)));
            assert!(checked, "{what}");
        }
    }
}

#[test]
fn a_strip_on_hop_2_exposes_the_message_but_not_the_password() {
    let settings = Settings::from_link("journey=1&hop2-attack=strip").unwrap().settings;
    let s = smtp_lab::lab::assemble::scenario(&settings).unwrap();
    let (trace, f) = run(&s);
    let read: Vec<&Finding> = f.iter().filter(|x| x.outcome == Outcome::MessageRead).collect();
    assert_eq!(read.len(), 1, "{f:?}");
    assert_eq!(read[0].hop.as_ref().map(ToString::to_string).as_deref(), Some("hop 2 (MTA → MX, port 25)"));
    assert!(read[0].describe().starts_with("hop 2 (MTA → MX, port 25): the message crossed the wire readable"));
    assert!(trace.steps[read[0].step].hop == 1);
    assert!(!f.iter().any(|x| matches!(x.outcome, Outcome::CredentialsExposed { .. })), "{f:?}");
    let auth_on_hop2 = trace
        .hop(1)
        .client_events()
        .any(|(_, e)| matches!(e, smtp_lab::proto::ClientEvent::CommandSent { command, .. } if command.verb() == smtp_lab::proto::codec::Verb::Auth));
    assert!(!auth_on_hop2, "the MTA has no password to send, though Mallory advertised AUTH");
    let one = trace.hop(0);
    assert!(tls_on_both_sides(&one));
    assert!(!contains(&one.cleartext_on_wire(), b"Lunch"), "hop 1 carried the message inside TLS");
    assert!(contains(&trace.hop(1).cleartext_on_wire(), b"Subject: Lunch on Friday?"));
    let hop1: Vec<&Finding> = f.iter().filter(|x| x.hop.as_ref().is_some_and(|h| h.index == 0)).collect();
    assert_eq!(hop1.iter().map(|x| &x.outcome).collect::<Vec<_>>(), [&Outcome::DeliveredSecurely], "hop 1 stayed secure");
}

/// How many messages the MX stores for one smuggling cell, and whether the MSA refused it.
fn smuggle(variant: EodVariant, outbound: Outbound, lenient: bool) -> (Trace, Vec<Finding>) {
    let id = format!("smuggle-{}/{}/{}@mta-opportunistic", variant.id(), outbound.id(), if lenient { "lenient" } else { "strict" });
    let s = id.parse::<CellId>().unwrap_or_else(|e| panic!("{id}: {e}")).scenario().unwrap();
    assert!(s.attack.is_some_and(|a| !a.on_the_wire()), "no one on any wire");
    assert!(s.relay.as_ref().unwrap().next.attack.is_none());
    run(&s)
}

#[test]
fn smuggling_needs_a_relay_that_passes_the_sequence_and_an_mx_that_ends_data_there() {
    for variant in EodVariant::SEQUENCES {
        let seq = String::from_utf8_lossy(variant.bytes().unwrap()).replace('\r', "\\r").replace('\n', "\\n");
        for outbound in Outbound::ALL.iter().copied() {
            for lenient in [true, false] {
                let what = format!("{} / {} / {}", variant.id(), outbound.id(), if lenient { "lenient MX" } else { "strict MX" });
                let (trace, f) = smuggle(variant, outbound, lenient);
                let at_mx = accepted(&trace.hop(1));
                let bare_lf = variant != EodVariant::CrDotCrlf;
                // What each combination must do, and why:
                let expected = match (outbound, lenient, variant) {
                    // Postfix's reject refuses bare LF at submission (550): nothing reaches hop 2.
                    (Outbound::Reject, _, _) if bare_lf => 0,
                    // \r\n.\n: the MSA reads a line starting with a dot and deletes the dot (RFC 5321 §4.5.2).
                    (_, true, EodVariant::CrlfDotLf) => 1,
                    (Outbound::Pass | Outbound::Reject, true, _) => 2,
                    _ => 1,
                };
                assert_eq!(at_mx.len(), expected, "{what}: {at_mx:?}");
                let smuggled: Vec<&Finding> = f.iter().filter(|x| matches!(x.outcome, Outcome::SmuggledMessageAccepted { .. })).collect();
                if expected == 2 {
                    assert_eq!(at_mx[1].0, "ceo@bank.test", "{what}");
                    assert_eq!(smuggled.len(), 1, "{what}: {f:?}");
                    let Outcome::SmuggledMessageAccepted { from, sequence, spf } = &smuggled[0].outcome else { unreachable!() };
                    assert_eq!((from.as_str(), sequence.as_str(), *spf), ("ceo@bank.test", seq.as_str(), Some(SpfResult::Pass)), "{what}");
                    assert_eq!(smuggled[0].hop.as_ref().map(ToString::to_string).as_deref(), Some("hop 2 (MTA → MX, port 25)"));
                    let text = smuggled[0].describe();
                    assert!(
                        text.starts_with("hop 2 (MTA → MX, port 25): ") && text.contains(&seq) && text.contains("SPF check: pass"),
                        "{text}"
                    );
                    // The SPF check ran at the MX, from the simulated DNS, for the provider's address.
                    let checks: Vec<(String, SpfResult)> = trace
                        .hop(1)
                        .server_events()
                        .filter_map(|(_, e)| match e {
                            ServerEvent::SpfChecked { check } => Some((check.domain.clone(), check.result)),
                            _ => None,
                        })
                        .collect();
                    assert_eq!(checks, [("sender.test".to_owned(), SpfResult::Pass), ("bank.test".to_owned(), SpfResult::Pass)], "{what}");
                } else {
                    assert!(smuggled.is_empty(), "{what}: {f:?}");
                    assert!(!f.iter().any(|x| x.outcome.is_compromise()), "{what}: {f:?}");
                }
                if expected == 1 {
                    assert!(contains(&at_mx[0].1, b"MAIL FROM:<ceo@bank.test>"), "{what}: the smuggled lines stay inside the one message");
                }
                if expected == 0 {
                    let refused = trace
                        .hop(0)
                        .server_events()
                        .any(|(_, e)| matches!(e, ServerEvent::MessageRejected { reason: Rejection::BareLf, .. }));
                    assert!(refused && trace.hops.len() == 2 && trace.hop(1).steps.is_empty(), "{what}");
                }
            }
        }
    }
}

#[test]
fn hop_1_of_smuggling_is_mallorys_own_authenticated_submission() {
    let (trace, _) = smuggle(EodVariant::LfDotCrlf, Outbound::Pass, true);
    let one = trace.hop(0);
    assert!(one.server_events().any(|(_, e)| matches!(e, ServerEvent::AuthSucceeded { username, .. } if username == "mallory")));
    assert!(smtp_lab::render::verify_dissection(&trace).is_ok(), "every record of both hops opens with the session's secrets");
    assert!(one.steps.iter().all(|s| s.middlebox().is_none()) && trace.hop(1).steps.iter().all(|s| s.middlebox().is_none()));
}

#[test]
fn the_mx_on_587_wants_auth_that_the_mta_does_not_have() {
    let settings = Settings::from_link("preset=journey-587-between-mtas").unwrap().settings;
    let s = smtp_lab::lab::assemble::scenario(&settings).unwrap();
    let (trace, f) = run(&s);
    assert_eq!(trace.hops[1].server_port, 587);
    assert!(accepted(&trace.hop(1)).is_empty());
    assert!(trace
        .hop(1)
        .client_events()
        .any(|(_, e)| matches!(e, smtp_lab::proto::ClientEvent::ReplyReceived { reply, .. } if reply.code == 530)));
    assert!(f.iter().any(|x| matches!(x.outcome, Outcome::AbortedSafely { .. }) && x.hop.as_ref().is_some_and(|h| h.index == 1)), "{f:?}");
}
