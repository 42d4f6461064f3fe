//! Captures and key logs that the tools people already use can open: tshark
//! decodes the cleartext part, finds no malformed packets or TCP errors, and
//! with the key log shows what was inside TLS.

mod common;

use std::path::Path;
use std::process::Command;

use common::pki;
use smtp_lab::lab::{assemble, Lesson};
use smtp_lab::proto::TlsPolicy;
use smtp_lab::render::{dissect, pcap, DissectedMessage, DissectedRecord};
use smtp_lab::sim::{Direction, Scenario, Trace};

struct Capture {
    dir: tempfile::TempDir,
    trace: Trace,
}

impl Capture {
    fn of(scenario: &Scenario) -> Capture {
        let trace = scenario.run(&pki());
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s.pcap"), pcap::capture(&trace)).unwrap();
        std::fs::write(dir.path().join("s.keys"), pcap::key_log_file(&trace)).unwrap();
        Capture { dir, trace }
    }

    /// One field of every packet matching `filter`, optionally decrypting with the key log.
    fn tshark(&self, keys: bool, filter: &str, field: &str) -> Vec<String> {
        let tshark = if Path::new("/usr/bin/tshark").exists() { "/usr/bin/tshark" } else { "tshark" };
        let mut cmd = Command::new(tshark);
        cmd.arg("-r").arg(self.dir.path().join("s.pcap")).args(["-Y", filter, "-T", "fields", "-e", field]);
        if keys {
            cmd.arg("-o").arg(format!("tls.keylog_file:{}", self.dir.path().join("s.keys").display()));
        }
        let out = cmd.output().expect("tshark is not installed; `cargo xtask test` installs it");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.is_empty()).map(str::to_owned).collect()
    }

    fn commands(&self, keys: bool) -> Vec<String> {
        self.tshark(keys, "smtp.req", "smtp.req.command")
    }

    fn assert_clean(&self) {
        let problems = self.tshark(true, "_ws.malformed || tcp.analysis.flags", "frame.number");
        assert!(problems.is_empty(), "malformed or TCP analysis problems in frames {problems:?}");
    }
}

#[test]
fn plain_session_is_readable_by_anyone() {
    let mut s = Scenario::relay();
    s.client.policy = TlsPolicy::Plain;
    let c = Capture::of(&s);
    c.assert_clean();
    assert_eq!(c.commands(false), ["EHLO", "MAIL,RCPT,DATA", "QUIT"]);
    assert_eq!(c.tshark(false, "imf", "imf.subject"), ["Lunch on Friday?"]);
}

#[test]
fn starttls_session_needs_the_key_log_for_what_follows_starttls() {
    let c = Capture::of(&Scenario::submission());
    c.assert_clean();
    // Wireshark's SMTP dissector takes four characters as the command: STARTTLS is "STAR" + "TLS".
    assert_eq!(c.commands(false), ["EHLO", "STAR"]);
    assert_eq!(c.tshark(false, "smtp.req.command == \"STAR\"", "smtp.req.parameter"), ["TLS"]);
    assert_eq!(c.commands(true), ["EHLO", "STAR", "EHLO", "AUTH", "MAIL,RCPT,DATA", "QUIT"]);
    assert!(c.tshark(false, "imf", "imf.subject").is_empty());
    assert_eq!(c.tshark(true, "imf", "imf.subject"), ["Lunch on Friday?"]);
}

#[test]
fn a_tls_1_2_session_shows_its_certificate_to_anyone_and_the_rest_with_the_key_log() {
    let mut s = Scenario::submission();
    s.client_tls_versions = smtp_lab::proto::TlsVersions::Tls12;
    let c = Capture::of(&s);
    c.assert_clean();
    assert_eq!(c.tshark(false, "tls.handshake.type == 2", "tls.handshake.version"), ["0x0303"]);
    // The certificate is readable without any key (RFC 5246 §7.4.2).
    assert_eq!(c.tshark(false, "tls.handshake.type == 11", "x509sat.uTF8String").len(), 1);
    assert_eq!(c.commands(false), ["EHLO", "STAR"]);
    assert_eq!(c.commands(true), ["EHLO", "STAR", "EHLO", "AUTH", "MAIL,RCPT,DATA", "QUIT"]);
}

#[test]
fn implicit_tls_session_shows_nothing_without_the_key_log() {
    let c = Capture::of(&Scenario::submissions());
    c.assert_clean();
    assert!(c.commands(false).is_empty());
    assert_eq!(c.commands(true), ["EHLO", "AUTH", "MAIL,RCPT,DATA", "QUIT"]);
    assert_eq!(c.tshark(false, "tls.handshake.type == 1", "tls.handshake.extensions_server_name"), ["mail.example.test"]);
}

/// The TCP connections in a capture, by the address that opened each.
fn streams(c: &Capture) -> Vec<String> {
    c.tshark(false, "tcp.flags.syn == 1 && tcp.flags.ack == 0", "ip.src")
}

#[test]
fn stripping_shows_the_clients_auth_in_cleartext_on_the_clients_leg() {
    let c = Capture::of(&assemble::lesson(Lesson::Strip587Opportunistic).unwrap());
    c.assert_clean();
    // Two legs: the client's connection and Mallory's own to the server.
    assert_eq!(streams(&c), ["192.0.2.10", "203.0.113.66"]);
    let auth = c.tshark(false, "ip.src == 192.0.2.10 && smtp.req.command == \"AUTH\"", "smtp.req.parameter");
    assert_eq!(auth, ["PLAIN AGFsaWNlAGNvcnJlY3QgaG9yc2UgYmF0dGVyeSBzdGFwbGU="]);
    // The client's leg lacks STARTTLS in the EHLO reply; the server's leg still has it.
    let offered = |dst: &str| c.tshark(false, &format!("ip.dst == {dst} && smtp.rsp.parameter contains \"STARTTLS\""), "frame.number");
    assert!(offered("192.0.2.10").is_empty());
    assert_eq!(offered("203.0.113.66").len(), 1);
}

#[test]
fn an_untouched_session_is_one_stream_and_a_terminating_attacker_makes_two() {
    assert_eq!(streams(&Capture::of(&Scenario::submission())), ["192.0.2.10"]);
    let c = Capture::of(&assemble::lesson(Lesson::MitmNoValidation).unwrap());
    c.assert_clean();
    assert_eq!(streams(&c), ["192.0.2.10", "203.0.113.66"]);
    // The client's TLS is with Mallory; the server's leg carries what she relays.
    let handshakes = c.tshark(false, "tls.handshake.type == 1", "ip.src");
    assert!(handshakes.contains(&"192.0.2.10".to_owned()), "{handshakes:?}");
}

/// The client's TLS as the capture's client leg holds it: what the client sent
/// (its own records where a man in the middle took them) and what it received.
fn client_leg(trace: &Trace) -> Vec<DissectedRecord> {
    let all = dissect(trace);
    let sent = all.iter().any(|r| r.as_sent && r.direction == Direction::ClientToServer);
    all.into_iter().filter(|r| if r.direction == Direction::ClientToServer { r.as_sent == sent } else { !r.as_sent }).collect()
}

fn messages(records: &[DissectedRecord]) -> Vec<&DissectedMessage> {
    records.iter().flat_map(|r| r.visible.iter().chain(r.inside.iter().flat_map(|i| i.messages.iter()))).collect()
}

fn values<'a>(ms: &[&'a DissectedMessage], message: &str, field: &str) -> Vec<&'a str> {
    ms.iter()
        .filter(|m| m.kind.name() == message)
        .flat_map(|m| m.fields.iter().filter(|f| f.name == field).map(|f| f.value.as_str()))
        .collect()
}

#[test]
fn the_dissector_agrees_with_tshark_on_every_handshake() {
    let tls12 = |lesson| {
        let mut s = assemble::lesson(lesson).unwrap();
        s.client_tls_versions = smtp_lab::proto::TlsVersions::Tls12;
        s
    };
    let scenarios = [Lesson::Submission587, Lesson::Submissions465, Lesson::MitmNoValidation]
        .into_iter()
        .flat_map(|l| [(format!("{l:?}"), assemble::lesson(l).unwrap()), (format!("{l:?} over TLS 1.2"), tls12(l))]);
    for (lesson, scenario) in scenarios {
        let c = Capture::of(&scenario);
        let records = client_leg(&c.trace);
        let ours = messages(&records);
        // The handshake message types, in order (tshark lists them per packet).
        let theirs: Vec<u8> = c
            .tshark(true, "tls.handshake", "tls.handshake.type")
            .iter()
            .flat_map(|l| l.split(',').map(|t| t.parse::<u8>().unwrap()))
            .collect();
        assert!(theirs.len() >= 6, "{lesson}: tshark saw {theirs:?}");
        assert_eq!(ours.iter().filter_map(|m| m.handshake_type).collect::<Vec<_>>(), theirs, "{lesson}: handshake types");
        // The server name the client asked for, which anyone reads.
        let sni = c.tshark(false, "tls.handshake.type == 1", "tls.handshake.extensions_server_name");
        assert_eq!(values(&ours, "ClientHello", "server_name (RFC 6066 §3)"), sni, "{lesson}: SNI");
        // The suite the server chose.
        let suite = c.tshark(false, "tls.handshake.type == 2", "tls.handshake.ciphersuite");
        let named: Vec<&str> = suite
            .iter()
            .map(|s| match s.as_str() {
                "0x1301" => "TLS_AES_128_GCM_SHA256",
                "0x1302" => "TLS_AES_256_GCM_SHA384",
                "0x1303" => "TLS_CHACHA20_POLY1305_SHA256",
                "0xc02b" => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                "0xc02c" => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                "0xcca9" => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                other => panic!("suite {other}"),
            })
            .collect();
        assert_eq!(values(&ours, "ServerHello", "cipher_suite"), named, "{lesson}: suite");
        // Each certificate's issuer and subject, as tshark lists them (issuer first, as DER has them).
        let names = c.tshark(true, "tls.handshake.type == 11", "x509sat.uTF8String").join(",");
        let mut pairs = Vec::new();
        for m in ours.iter().filter(|m| m.kind == smtp_lab::render::MessageKind::Certificate) {
            let subjects = m.fields.iter().filter(|f| f.name == "subject").map(|f| f.value.split_once("CN=").unwrap().1);
            let issuers = m.fields.iter().filter(|f| f.name == "issuer").map(|f| f.value.trim_start_matches("CN="));
            for (subject, issuer) in subjects.zip(issuers) {
                pairs.extend([issuer, subject]);
            }
        }
        assert!(!pairs.is_empty(), "{lesson}: no certificate");
        assert_eq!(pairs.join(","), names, "{lesson}: certificate names");
    }
}

#[test]
fn a_journey_is_two_tcp_streams_with_their_own_hosts_and_ports() {
    for port in [587u16, 465] {
        let c = Capture::of(&Scenario::journey(port));
        c.assert_clean();
        let syn = "tcp.flags.syn == 1 && tcp.flags.ack == 0";
        assert_eq!(c.tshark(false, syn, "tcp.stream"), ["0", "1"], "{port}");
        assert_eq!(streams(&c), ["192.0.2.10", "198.51.100.10"], "the mail client, then the provider's MTA");
        assert_eq!(c.tshark(false, syn, "ip.dst"), ["198.51.100.10", "198.51.100.25"], "the provider, then the MX");
        assert_eq!(c.tshark(false, syn, "tcp.dstport"), [port.to_string(), "25".to_owned()]);
        // With the key log, each hop's SMTP inside TLS; the message crosses both hops.
        let subjects = c.tshark(true, "imf", "tcp.stream");
        assert_eq!(subjects, ["0", "1"], "{port}: the message, once per hop");
        assert_eq!(c.tshark(true, "imf", "imf.subject"), ["Lunch on Friday?", "Lunch on Friday?"]);
        let auth = c.tshark(true, "smtp.req.command == \"AUTH\"", "tcp.stream");
        assert_eq!(auth, ["0"], "only the mail client authenticates");
        assert!(c.tshark(false, "imf", "frame.number").is_empty(), "{port}: nothing readable without the keys");
    }
}

/// A capture says where the bytes went: the hosts come from the trace, the
/// sending MTA at its own address (as its TLS report says), and a forged MX
/// answer sends the connection to the address it named.
#[test]
fn a_capture_puts_each_host_where_the_session_put_it() {
    let at = |preset: &str| {
        let settings = smtp_lab::Settings::from_link(preset).unwrap().settings;
        let scenario = assemble::scenario(&settings).unwrap();
        Capture::of(&scenario)
    };
    let syn = "tcp.flags.syn == 1 && tcp.flags.ack == 0";
    let relay = at("preset=relay-25");
    assert_eq!(relay.tshark(false, syn, "ip.src"), ["198.51.100.10"], "the provider's MTA, not the mail client");
    assert_eq!(relay.tshark(false, syn, "ip.dst"), ["198.51.100.25"]);
    let report = smtp_lab::outcome::tlsrpt::report(&at("preset=mta-sts-first-contact").trace).expect("a report");
    assert!(report.to_json().contains("\"sending-mta-ip\": \"198.51.100.10\""), "{}", report.to_json());
    let spoofed = at("cell=mx-spoof@dns-opportunistic");
    assert_eq!(spoofed.tshark(false, syn, "ip.dst"), ["203.0.113.66"], "the address the forged answer gave");
}
