//! The `run` command turns flags into a scenario: later, narrower flags must
//! adjust what broader ones (a preset, a role) set up, never be undone by them.

use std::process::Command;

fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_smtp-lab")).arg("run").args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_role_does_not_undo_the_hardening_switches() {
    let out = run(&["--port", "25", "--role", "relay", "--lenient-end-of-data", "lf-dot-crlf", "--attack", "smuggle-lf-dot-crlf"]);
    assert!(out.contains("accepted what followed as a second message, from <ceo@example.test>"), "{out}");
}

#[test]
fn unset_flags_leave_the_preset_alone_and_set_ones_apply() {
    // The preset's client sends AUTH PLAIN; no flag given, none changed.
    let out = run(&["--preset", "strip-587-opportunistic"]);
    assert!(out.contains(" -> AUTH PLAIN "), "{out}");
    let out = run(&["--preset", "strip-587-opportunistic", "--mechanism", "login"]);
    assert!(out.contains(" -> AUTH LOGIN "), "{out}");
    let out = run(&["--preset", "submission-587", "--cert", "self-signed"]);
    assert!(out.contains("TLS failed") && out.contains("aborted safely"), "{out}");
}

#[test]
fn format_tls_shows_the_path_and_the_inside_of_each_record() {
    let out = run(&["--preset", "submission-587", "--format", "tls"]);
    // The ClientHello is cleartext: its SNI is on the path.
    let hello = out.split("\nstep").find(|s| s.contains("ClientHello (RFC 8446 §4.1.2)")).expect("a ClientHello");
    assert!(hello.contains("on the path, in cleartext:"), "{hello}");
    assert!(hello.contains("server_name (RFC 6066 §3): mail.example.test"), "{hello}");
    // The certificate is inside a protected record, opened with the session's keys.
    let cert = out.split("\nstep").find(|s| s.contains("Certificate (RFC 8446 §4.4.2)")).expect("a Certificate");
    assert!(cert.contains("application_data record") && cert.contains("inside, opened with the session's keys: handshake"), "{cert}");
    assert!(cert.contains("subject: #0: CN=mail.example.test"), "{cert}");
    // And so are the SMTP lines, password included.
    assert!(out.contains("AUTH PLAIN "), "the AUTH line opened");
    assert!(run(&["--preset", "relay-25", "--policy", "plain", "--format", "tls"]).starts_with("no TLS in this session"));
}

#[test]
fn the_matrix_runs_every_cell_on_its_hop_of_a_journey() {
    let out = Command::new(env!("CARGO_BIN_EXE_smtp-lab")).args(["matrix", "--journey", "--format", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cell = |row: &str, column: &str| {
        let r = m["rows"].as_array().unwrap().iter().find(|r| r["id"] == row).unwrap();
        r["cells"].as_array().unwrap().iter().find(|c| c["column"] == column).unwrap().clone()
    };
    let kinds = |c: &serde_json::Value| -> Vec<(String, String)> {
        c["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["kind"].as_str().unwrap().to_owned(), f["hop"].as_str().unwrap_or("").to_owned()))
            .collect()
    };
    // Stripping on 25 is hop 2: the message is read there, and hop 1 delivered securely.
    let strip = kinds(&cell("strip", "mta-opportunistic"));
    assert!(strip.contains(&("message_read".into(), "hop 2 (MTA → MX, port 25)".into())), "{strip:?}");
    assert!(strip.contains(&("delivered_securely".into(), "hop 1 (MUA → MSA, port 587)".into())), "{strip:?}");
    assert!(!strip.iter().any(|(k, _)| k == "credentials_exposed"), "{strip:?}");
    // Stripping an opportunistic mail client is hop 1: the password.
    let strip = kinds(&cell("strip", "opportunistic"));
    assert!(strip.contains(&("credentials_exposed".into(), "hop 1 (MUA → MSA, port 587)".into())), "{strip:?}");
    let bad = Command::new(env!("CARGO_BIN_EXE_smtp-lab")).args(["matrix", "--hop2-attack", "strip"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("each row puts its own attack on its hop"));
}

#[test]
fn serve_refuses_what_is_not_a_server_setting_and_says_whose_it_is() {
    for (command, flag, whose) in [("serve", "--unsigned-zone", "not a server setting"), ("send", "--cert", "not a client setting")] {
        let out = Command::new(env!("CARGO_BIN_EXE_smtp-lab")).args([command, flag]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{command} {flag}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("{flag} is not")) && err.contains(whose), "{command} {flag}: {err}");
    }
}

#[test]
fn the_certificate_check_is_one_knob_and_its_bare_flag_enforces() {
    let refused = run(&["--preset", "submission-587", "--cert", "self-signed", "--validate"]);
    assert!(refused.contains("aborted safely"), "{refused}");
    let carried_on = run(&["--preset", "submission-587", "--cert", "self-signed", "--validate", "report"]);
    assert!(carried_on.contains("certificate not validated"), "{carried_on}");
}
