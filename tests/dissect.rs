//! The TLS dissector on every lesson: every record the trace carried is
//! dissected, and every protected record opens, with the session's own
//! secrets, to exactly the bytes its receiver read.

mod common;

use common::pki;
use smtp_lab::lab::{assemble, Lesson};
use smtp_lab::render::{dissect, verify_dissection, DissectedRecord, MessageKind};
use smtp_lab::sim::Trace;
use smtp_lab::vocab::Named;

fn run(lesson: Lesson) -> Trace {
    assemble::lesson(lesson).unwrap().run(&pki())
}

#[test]
fn every_record_of_every_lesson_is_dissected_and_opens_to_what_the_receiver_read() {
    let mut opened = 0;
    for &lesson in Lesson::ALL {
        opened += verify_dissection(&run(lesson)).unwrap_or_else(|e| panic!("{lesson:?}: {e}"));
    }
    assert!(opened > 100, "only {opened} protected records in all lessons");
}

#[test]
fn tls_1_2_sessions_open_too_and_show_the_certificate_to_the_path() {
    use smtp_lab::proto::TlsVersions;
    for lesson in [Lesson::Submission587, Lesson::Submissions465, Lesson::MitmNoValidation] {
        let mut s = assemble::lesson(lesson).unwrap();
        s.client_tls_versions = TlsVersions::Tls12;
        let trace = s.run(&pki());
        let opened = verify_dissection(&trace).unwrap_or_else(|e| panic!("{lesson:?} over TLS 1.2: {e}"));
        assert!(opened >= 3, "{lesson:?}: {opened}");
        let records = dissect(&trace);
        // In TLS 1.2 the certificate crosses in cleartext (RFC 5246 §7.4.2): it is on the path.
        assert!(records.iter().flat_map(|r| &r.visible).any(|m| m.kind == MessageKind::Certificate), "{lesson:?}");
        assert!(names(&records, true).contains(&"Finished"), "{lesson:?}: the Finished messages are encrypted");
    }
}

#[test]
fn a_man_in_the_middle_shows_her_certificate_and_what_the_client_sent_her() {
    let records = dissect(&run(Lesson::MitmNoValidation));
    let issuers: Vec<String> = records
        .iter()
        .filter_map(|r| r.inside.as_ref())
        .flat_map(|i| &i.messages)
        .filter(|m| m.kind == MessageKind::Certificate)
        .flat_map(|m| m.fields.iter().filter(|f| f.name == "issuer").map(|f| f.value.clone()).take(1))
        .collect();
    assert_eq!(issuers, ["CN=Mallory's CA"], "the client got Mallory's chain");
    // The client's records ended at Mallory; opened with the client's own session, they hold its password.
    let sent: Vec<u8> = records
        .iter()
        .filter(|r| r.as_sent && r.direction == smtp_lab::sim::Direction::ClientToServer)
        .filter_map(|r| r.inside.as_ref()?.data.as_ref())
        .flat_map(|d| d.0.iter().copied())
        .collect();
    assert!(String::from_utf8_lossy(&sent).contains("AUTH PLAIN "), "{}", String::from_utf8_lossy(&sent));
}
fn names(records: &[DissectedRecord], inside: bool) -> Vec<&'static str> {
    records
        .iter()
        .flat_map(|r| if inside { r.inside.iter().flat_map(|i| i.messages.iter()).collect::<Vec<_>>() } else { r.visible.iter().collect() })
        .map(|m| m.kind.name())
        .collect()
}

#[test]
fn a_587_handshake_shows_sni_outside_and_the_certificate_inside() {
    let records = dissect(&run(Lesson::Submission587));
    assert_eq!(names(&records, false), ["ClientHello", "ServerHello", "ChangeCipherSpec", "ChangeCipherSpec"]);
    // The server's flight, the client's Finished, then SMTP; close_notify at the end (RFC 8446 §6.1).
    assert_eq!(names(&records, true)[..5], ["EncryptedExtensions", "Certificate", "CertificateVerify", "Finished", "Finished"]);
    let hello = records.iter().flat_map(|r| &r.visible).find(|m| m.kind == MessageKind::ClientHello).unwrap();
    let sni = hello.fields.iter().find(|f| f.name.starts_with("server_name")).unwrap();
    assert_eq!(sni.value, "mail.example.test");
    let cert =
        records.iter().filter_map(|r| r.inside.as_ref()).flat_map(|i| &i.messages).find(|m| m.kind == MessageKind::Certificate).unwrap();
    let subject = cert.fields.iter().find(|f| f.name == "subject").unwrap();
    assert!(subject.value.contains("mail.example.test"), "{subject:?}");
}

#[test]
fn mallorys_chain_is_shown_beside_the_real_one_with_the_clients_verdict() {
    use smtp_lab::sim::world::IdentityKind;
    let pki = pki();
    let real = pki.identity(IdentityKind::Valid).chain();
    for (lesson, verdict) in
        [(Lesson::MitmValidating, "refused it: invalid peer certificate: UnknownIssuer"), (Lesson::MitmNoValidation, "does not enforce it")]
    {
        let views = smtp_lab::render::tls_views(&run(lesson), real);
        let cert = views.iter().flatten().find(|v| v.real_chain.is_some()).unwrap_or_else(|| panic!("{lesson:?}: no real chain shown"));
        assert!(cert.inside.iter().any(|m| m.fields.iter().any(|f| f.value == "CN=Mallory's CA")), "{lesson:?}");
        assert!(cert.real_chain.as_ref().unwrap().iter().any(|f| f.value == "CN=smtp-lab Test CA"), "{lesson:?}");
        assert!(cert.client_check.as_deref().unwrap_or_default().contains(verdict), "{lesson:?}: {:?}", cert.client_check);
    }
    // Without a man in the middle the client got the real chain: nothing to set beside it.
    assert!(smtp_lab::render::tls_views(&run(Lesson::Submission587), real).iter().flatten().all(|v| v.real_chain.is_none()));
}
