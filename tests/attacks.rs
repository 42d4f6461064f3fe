//! Every row of the attack catalogue: the attack succeeds against the
//! vulnerable setting and fails against the defence, judged only by the
//! outcomes read from the trace.

mod common;

use common::*;
use smtp_lab::lab::{Lesson, Settings};
use smtp_lab::outcome::{
    analyse,
    matrix::{self, CellId},
    Finding, Outcome,
};
use smtp_lab::proto::{AuthPolicy, CertFailureKind, SessionEvent};
use smtp_lab::sim::{Attack, Event, Scenario, Trace, INJECTED_COMMANDS};
use smtp_lab::vocab::Named;

fn run(s: &Scenario) -> (Trace, Vec<Finding>) {
    let trace = s.run(&pki());
    assert!(!trace.truncated);
    let findings = analyse(s, &trace);
    (trace, findings)
}

fn cell_scenario(row: &str, column: &str) -> Option<Scenario> {
    format!("{row}@{column}").parse::<CellId>().ok()?.scenario()
}

fn cell(row: &str, column: &str) -> (Trace, Vec<Finding>) {
    run(&cell_scenario(row, column).unwrap_or_else(|| panic!("no cell {row} × {column}")))
}

fn has(f: &[Finding], pred: impl Fn(&Outcome) -> bool) -> bool {
    f.iter().any(|x| pred(&x.outcome))
}

fn password_exposed(f: &[Finding]) -> bool {
    has(
        f,
        |o| matches!(o, Outcome::CredentialsExposed { username, password } if username == "alice" && password == "correct horse battery staple"),
    )
}

fn compromised(f: &[Finding]) -> bool {
    f.iter().any(|x| x.outcome.is_compromise())
}

fn aborted(f: &[Finding]) -> bool {
    has(f, |o| matches!(o, Outcome::AbortedSafely { .. })) && !compromised(f)
}

fn secure(f: &[Finding]) -> bool {
    f.iter().map(|x| &x.outcome).eq([&Outcome::DeliveredSecurely])
}

#[test]
fn eavesdrop_reads_plain_smtp_but_not_tls() {
    let mut s = Scenario::relay().with_attack(Attack::Eavesdrop);
    s.server.starttls = false;
    let (trace, f) = run(&s);
    assert!(has(&f, |o| *o == Outcome::MessageRead), "{f:?}");
    assert!(contains(&trace.cleartext_on_wire(), b"See you at noon."));
    for column in ["mta-opportunistic", "require-starttls", "implicit-tls"] {
        let (trace, f) = cell("eavesdrop", column);
        assert!(secure(&f), "{column}: {f:?}");
        assert!(!contains(&trace.cleartext_on_wire(), b"See you at noon."));
    }
}

#[test]
fn strip_leaks_the_password_of_an_opportunistic_client_only() {
    let (trace, f) = cell("strip", "opportunistic");
    assert!(password_exposed(&f), "{f:?}");
    let step = f.iter().find(|x| matches!(x.outcome, Outcome::CredentialsExposed { .. })).unwrap().step;
    assert!(trace.steps[step].middlebox().is_none() || trace.steps[step].wire().is_some());
    assert!(aborted(&cell("strip", "require-starttls").1));
    assert!(aborted(&cell("strip", "sts-cached").1));
    assert!(secure(&cell("strip", "implicit-tls").1));
    assert!(has(&cell("strip", "mta-opportunistic").1, |o| *o == Outcome::MessageRead));
}

#[test]
fn refusing_starttls_downgrades_only_clients_that_accept_any_reply() {
    for row in ["refuse-454", "refuse-502", "refuse-bogus"] {
        assert!(has(&cell(row, "mta-opportunistic").1, |o| *o == Outcome::MessageRead), "{row}");
        let mut s = cell_scenario(row, "opportunistic").unwrap();
        s.server.auth = AuthPolicy::Always;
        assert!(password_exposed(&run(&s).1), "{row}");
        assert!(aborted(&cell(row, "require-starttls").1), "{row}");
    }
    assert!(aborted(&cell("refuse-454", "sts-cached").1));
}

#[test]
fn hiding_ehlo_downgrades_an_opportunistic_mta() {
    assert!(has(&cell("hide-ehlo", "mta-opportunistic").1, |o| *o == Outcome::MessageRead));
    assert!(aborted(&cell("hide-ehlo", "require-starttls").1));
}

#[test]
fn cmd_inject_runs_inside_tls_on_an_unpatched_server_only() {
    let (trace, f) = cell("cmd-inject/unpatched", "require-starttls");
    let injected: Vec<(String, bool)> = f
        .iter()
        .filter_map(|x| match &x.outcome {
            Outcome::CommandInjected { command, under_tls } => Some((command.clone(), *under_tls)),
            _ => None,
        })
        .collect();
    assert_eq!(injected, [("RSET".to_owned(), true), ("MAIL FROM:<mallory@evil.test>".to_owned(), true)], "{f:?}");
    // The server itself records them as commands received under TLS.
    assert!(server_commands(&trace).contains(&("MAIL FROM:<mallory@evil.test>".to_owned(), true)));

    let (trace, f) = cell("cmd-inject/patched", "require-starttls");
    assert!(secure(&f), "{f:?}");
    let discarded =
        trace.events().any(|(_, e)| matches!(e, Event::Server(SessionEvent::DiscardedAtUpgrade { bytes }) if bytes.0 == INJECTED_COMMANDS));
    assert!(discarded);
    assert!(!server_commands(&trace).iter().any(|(c, _)| c.contains("mallory")));
}

#[test]
fn resp_inject_fools_a_client_that_keeps_its_buffer() {
    let (_, f) = cell("resp-inject/unpatched", "require-starttls");
    assert!(has(&f, |o| matches!(o, Outcome::ForgedReplyAccepted { reply } if reply.contains("forged by Mallory"))), "{f:?}");
    assert!(secure(&cell("resp-inject/patched", "require-starttls").1));
}

#[test]
fn state_carry_needs_a_client_that_skips_the_second_ehlo() {
    assert!(has(&cell("state-carry/unpatched", "require-starttls").1, |o| *o == Outcome::TamperedStateUsed));
    assert!(secure(&cell("state-carry/patched", "require-starttls").1));
}

#[test]
fn mitm_cert_reads_everything_unless_the_client_validates() {
    let (trace, f) = cell("mitm-cert", "opportunistic");
    assert!(password_exposed(&f), "{f:?}");
    assert!(trace.steps.iter().any(|s| s.attacker_plaintext().is_some()), "the exposure is in what Mallory decrypted");
    assert!(has(&cell("mitm-cert", "mta-opportunistic").1, |o| *o == Outcome::MessageRead));
    for column in ["require-starttls", "sts-cached"] {
        let (trace, f) = cell("mitm-cert", column);
        assert!(aborted(&f), "{column}: {f:?}");
        let err = client_tls_failure(&trace).expect("handshake refused");
        assert_eq!(err.certificate_failure().map(|f| f.kind), Some(CertFailureKind::UnknownIssuer), "{err}");
    }
}

#[test]
fn auth_cleartext_depends_on_the_server_hiding_auth() {
    assert!(password_exposed(&cell("auth-cleartext/offered", "plain").1));
    let (trace, f) = cell("auth-cleartext/hidden", "plain");
    assert!(!compromised(&f), "{f:?}");
    assert!(!contains(&trace.cleartext_on_wire(), b"AUTH PLAIN"));
}

#[test]
fn port_25_is_blocked_but_submission_gets_through() {
    let (trace, f) = cell("port-block", "mta-opportunistic");
    assert!(aborted(&f) && trace.delivered().is_empty());
    assert!(trace.steps.iter().any(|s| s.middlebox().is_some_and(|n| n.contains("port 25"))));
    assert!(secure(&cell("port-block/submission", "mta-opportunistic").1));
}

#[test]
fn wrong_mode_fails_and_the_matching_mode_works() {
    assert!(aborted(&cell("wrong-mode-implicit-to-587", "implicit-tls").1));
    assert!(aborted(&cell("wrong-mode-starttls-to-465", "require-starttls").1));
    assert!(secure(&run(&Scenario::submissions()).1));
    assert!(secure(&run(&Scenario::submission()).1));
}

#[test]
fn matrix_has_a_compromise_and_a_defence_in_every_attack_family() {
    let m = matrix::run(&pki());
    for family in
        ["eavesdrop", "strip", "refuse", "hide-ehlo", "cmd-inject", "resp-inject", "state-carry", "mitm-cert", "auth-cleartext", "smuggle"]
    {
        let cells: Vec<_> = m.rows.iter().filter(|r| r.attack.info().family == family).flat_map(|r| r.cells.iter()).collect();
        let bad = cells.iter().filter(|c| c.findings.iter().any(|f| f.outcome.is_compromise())).count();
        let good = cells.iter().filter(|c| !c.findings.is_empty() && !c.findings.iter().any(|f| f.outcome.is_compromise())).count();
        assert!(bad > 0 && good > 0, "{family}: {bad} compromised, {good} defended");
    }
    assert!(m.to_text().lines().count() > matrix::Row::ALL.len());
}

#[test]
fn presets_teach_what_they_say() {
    let expect = [
        ("submission-587", "secure"),
        ("submissions-465", "secure"),
        ("tls12-587", "secure"),
        ("relay-25", "secure"),
        ("strip-587-opportunistic", "PASSWORD"),
        ("strip-587-required", "aborted"),
        ("strip-465", "secure"),
        ("refuse-454-opportunistic", "PASSWORD"),
        ("hide-ehlo-mta", "READ"),
        ("mta-sts-first-contact", "aborted"),
        ("mta-sts-tofu", "READ"),
        ("mta-sts-cached", "aborted"),
        ("mta-sts-misissued", "READ"),
        ("dane-misissued", "aborted"),
        ("dane-unsigned", "READ"),
        ("requiretls-strip", "aborted"),
        ("mitm-no-validation", "PASSWORD"),
        ("mitm-validating", "aborted"),
        ("cve-2011-0411-unpatched", "INJECTED"),
        ("cve-2011-0411-patched", "secure"),
        ("resp-inject-unpatched", "FORGED"),
        ("state-carry-unpatched", "TAMPERED"),
        ("auth-cleartext", "PASSWORD"),
        ("530-after-password", "PASSWORD"),
        ("journey-587", "secure"),
        ("journey-strip-hop2", "READ"),
        ("journey-587-between-mtas", "aborted"),
        ("smuggling", "SMUGGLED"),
        ("smuggling-normalised", "secure"),
        ("port-25-blocked", "aborted"),
        ("port-587-open", "secure"),
        ("wrong-mode-implicit-587", "aborted"),
        ("wrong-mode-starttls-465", "aborted"),
    ];
    let all = Lesson::catalogue();
    assert_eq!(all.len(), expect.len(), "every preset has an expectation here");
    for (id, label) in expect {
        let settings = Settings::from_link(&format!("preset={id}")).unwrap().settings;
        let (_, f) = run(&smtp_lab::lab::assemble::scenario(&settings).unwrap());
        assert_eq!(f.first().map(|x| x.outcome.label()), Some(label), "{id}: {f:?}");
    }
}
