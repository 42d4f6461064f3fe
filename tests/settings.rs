//! One vocabulary: every setting the lab can show is a link and a command
//! line, both parse back (the link with `Settings::from_link`, the command
//! line with clap, as `smtp-lab run` parses it) to the same scenario, and
//! nothing given explicitly is silently dropped by a lesson or an attack.

use clap::Parser;
use proptest::prelude::*;
use smtp_lab::lab::{
    assemble, ClientSettings, DomainSettings, Hop2Settings, JourneySettings, Knobs, Lesson, ServerSettings, Settings, Validation,
};
use smtp_lab::outcome::matrix::CellId;
use smtp_lab::proto::{
    codec::{EodVariant, Mechanism},
    AuthPolicy, Role, SenderPolicy, StsMode, TlsPolicy, TlsVersions,
};
use smtp_lab::sim::{world::IdentityKind, Attack, Outbound, ServerTls};
use smtp_lab::vocab::{Choice, Named};

/// `run`'s settings, parsed by clap exactly as the binary flattens them.
#[derive(Parser)]
struct Run {
    #[command(flatten)]
    settings: Settings,
}

/// The command line, split as a shell would (values never hold spaces or quotes).
fn parse_command_line(line: &str) -> Settings {
    let words: Vec<&str> = line.split(' ').collect();
    assert_eq!(&words[..2], ["smtp-lab", "run"], "{line}");
    let argv = std::iter::once("smtp-lab").chain(words[2..].iter().copied());
    Run::try_parse_from(argv).unwrap_or_else(|e| panic!("{line}: {e}")).settings
}

/// Both spellings of `settings` give back the same settings and the same scenario (or the same refusal).
fn round_trip(settings: &Settings) {
    let link = settings.to_link(Some(3));
    let read = Settings::from_link(&link).unwrap_or_else(|e| panic!("{link}: {e}"));
    assert_eq!(read.step, Some(3));
    assert_eq!(&read.settings, settings, "link {link}");
    let line = settings.command_line();
    assert_eq!(&parse_command_line(&line), settings, "command line {line}");
    let want = assemble::scenario(settings).map_err(|e| e.to_string());
    assert_eq!(assemble::scenario(&read.settings).map_err(|e| e.to_string()), want, "{link}");
}

#[test]
fn every_lesson_and_every_matrix_cell_round_trips() {
    for &lesson in Lesson::ALL {
        let s = Settings { preset: Some(lesson), ..Settings::default() };
        assert!(assemble::scenario(&s).is_ok(), "{lesson}");
        round_trip(&s);
    }
    let mut cells = 0;
    for cell in CellId::all() {
        let s = Settings { cell: Some(cell), ..Settings::default() };
        assert_eq!(assemble::scenario(&s).unwrap(), cell.scenario().unwrap(), "{cell}");
        round_trip(&s);
        cells += 1;
    }
    assert!(cells > 100, "only {cells} cells");
}

fn pick<T: Choice + std::fmt::Debug>() -> impl Strategy<Value = Option<T>> {
    prop_oneof![Just(None), proptest::sample::select(T::ALL).prop_map(Some)]
}

prop_compose! {
    fn server_settings()(
        role in pick::<Role>(), server_tls in pick::<ServerTls>(), auth in pick::<AuthPolicy>(),
        require_tls in any::<bool>(), cert in pick::<IdentityKind>(), server_tls_versions in pick::<TlsVersions>(), server_keeps_buffer in any::<bool>(),
        server_keeps_state in any::<bool>(), lenient_end_of_data in proptest::collection::vec(proptest::sample::select(EodVariant::ALL), 0..3),
        offer_requiretls in any::<bool>(),
    ) -> ServerSettings {
        ServerSettings {
            role, server_tls, auth, require_tls, cert, server_tls_versions, server_keeps_buffer, server_keeps_state, lenient_end_of_data,
            offer_requiretls,
        }
    }
}

prop_compose! {
    fn domain_settings()(sts in pick::<StsMode>(), unsigned_zone in any::<bool>(), no_tlsa in any::<bool>(), tlsa_ta in any::<bool>()) -> DomainSettings {
        DomainSettings { sts, unsigned_zone, no_tlsa, tlsa_ta }
    }
}

prop_compose! {
    fn client_settings()(
        policy in pick::<TlsPolicy>(), validate in pick::<Validation>(), client_tls_versions in pick::<TlsVersions>(),
        mechanism in pick::<Mechanism>(), no_auth in any::<bool>(), no_pipelining in any::<bool>(), client_keeps_buffer in any::<bool>(),
        client_reuses_capabilities in any::<bool>(), sender in pick::<SenderPolicy>(), sts_cached in any::<bool>(), requiretls in any::<bool>(),
    ) -> ClientSettings {
        ClientSettings {
            policy, validate, client_tls_versions, mechanism, no_auth, no_pipelining, client_keeps_buffer, client_reuses_capabilities,
            sender, sts_cached, requiretls,
        }
    }
}

prop_compose! {
    fn journey_settings()(
        journey in any::<bool>(), outbound in pick::<Outbound>(), port in prop_oneof![Just(None), Just(Some(25u16)), Just(Some(587)), Just(Some(465))],
        attack in pick::<Attack>(), mallory in any::<bool>(), server in server_settings(), client in client_settings(), on in 0..3u8, lean in any::<bool>(),
    ) -> JourneySettings {
        // One case in three is a journey, so that most cases stay one connection; half of those keep hop 2's knobs few.
        if on > 0 {
            return JourneySettings::default();
        }
        let (server, client) = if lean { (ServerSettings::default(), ClientSettings { policy: client.policy, ..ClientSettings::default() }) } else { (server, client) };
        JourneySettings { journey, outbound, hop2: Hop2Settings { port, attack, mallory, server, client } }
    }
}

prop_compose! {
    fn settings()(
        start in 0..3u8, lesson in proptest::sample::select(Lesson::ALL), cell in proptest::sample::select(CellId::all().collect::<Vec<_>>()),
        port in prop_oneof![Just(None), Just(Some(25u16)), Just(Some(465)), Just(Some(587)), Just(Some(2525)), (1u16..).prop_map(Some)],
        attack in pick::<Attack>(), seed in proptest::option::of(any::<u64>()), server in server_settings(), client in client_settings(),
        domain in domain_settings(), journey in journey_settings(),
    ) -> Settings {
        let (preset, cell) = match start { 0 => (Some(lesson), None), 1 => (None, Some(cell)), _ => (None, None) };
        Settings { preset, cell, port, attack, drive: None, seed, server, client, domain, journey }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_settings_round_trip(s in settings()) {
        round_trip(&s);
    }
}

/// `setting` applied on top of every lesson and every attack is either in the
/// scenario, or refused with an error naming it and what it conflicts with.
fn survives(flag: &str, setting: impl Fn(&mut Settings), holds: impl Fn(&smtp_lab::sim::Scenario) -> bool) {
    let starts = Lesson::ALL
        .iter()
        .map(|&l| Settings { preset: Some(l), ..Settings::default() })
        .chain(Attack::ALL.iter().map(|&a| Settings { attack: Some(a), ..Settings::default() }))
        .chain(Attack::ALL.iter().map(|&a| Settings { attack: Some(a), port: Some(25), ..Settings::default() }));
    let (mut kept, mut refused) = (0, 0);
    for mut s in starts {
        setting(&mut s);
        let link = s.to_link(None);
        match assemble::scenario(&s) {
            Ok(scenario) => {
                assert!(holds(&scenario), "{link}: {flag} was dropped");
                kept += 1;
            }
            Err(e) => {
                let e = e.to_string();
                assert!(e.starts_with(flag) && e.contains(" conflicts with --"), "{link}: {e}");
                refused += 1;
            }
        }
    }
    assert!(kept > 0, "{flag} was never honoured ({refused} refusals)");
}

#[test]
fn explicit_settings_survive_every_lesson_and_attack_or_are_refused_by_name() {
    survives("--port 2525", |s| s.port = Some(2525), |sc| sc.port == 2525);
    survives("--seed 9", |s| s.seed = Some(9), |sc| sc.seed == 9);
    for &role in Role::ALL {
        survives(
            &format!("--role {role}"),
            |s| s.server.role = Some(role),
            |sc| sc.server.role == role && sc.server_tls() == ServerTls::for_role(role),
        );
    }
    for &tls in ServerTls::ALL {
        survives(&format!("--server-tls {tls}"), |s| s.server.server_tls = Some(tls), |sc| sc.server_tls() == tls);
    }
    for &cert in IdentityKind::ALL {
        survives(&format!("--cert {cert}"), |s| s.server.cert = Some(cert), |sc| sc.server_identity == cert);
    }
    for &policy in TlsPolicy::ALL {
        survives(&format!("--policy {policy}"), |s| s.client.policy = Some(policy), |sc| sc.client.policy == policy);
    }
    for &auth in AuthPolicy::ALL {
        survives(&format!("--auth {auth}"), |s| s.server.auth = Some(auth), |sc| sc.server.auth == auth);
    }
    survives("--validate report", |s| s.client.validate = Some(Validation::Report), |sc| !sc.client.validate_certificate);
    survives("--validate enforce", |s| s.client.validate = Some(Validation::Enforce), |sc| sc.client.validate_certificate);
}

#[test]
fn a_lesson_with_its_own_attack_refuses_another() {
    let s = Settings { preset: Some(Lesson::Strip587Opportunistic), attack: Some(Attack::Eavesdrop), ..Settings::default() };
    let e = assemble::scenario(&s).unwrap_err().to_string();
    assert!(e.starts_with("--attack eavesdrop conflicts with --preset strip-587-opportunistic"), "{e}");
    // The same attack again is no conflict.
    let s = Settings { attack: Some(Attack::Strip), ..s };
    assert!(assemble::scenario(&s).is_ok());
}

/// The flags a `--help` lists.
fn flags(command: &str) -> Vec<String> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_smtp-lab")).args([command, "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let mut flags: Vec<String> = help
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter_map(|w| w.strip_prefix("--"))
        .map(|w| w.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect())
        .filter(|w: &String| !w.is_empty())
        .collect();
    flags.sort();
    flags.dedup();
    flags
}

#[test]
fn serve_send_and_run_use_the_same_names_for_the_same_knobs() {
    let (run, serve, send) = (flags("run"), flags("serve"), flags("send"));
    for f in ServerSettings::fields() {
        assert!(run.contains(&f.name) && serve.contains(&f.name), "--{} missing from run or serve", f.name);
    }
    for f in ClientSettings::fields() {
        assert!(run.contains(&f.name) && send.contains(&f.name), "--{} missing from run or send", f.name);
    }
    // The old, different spellings are gone.
    for old in ["keeps-buffer", "keeps-state", "starttls", "no-starttls", "implicit-tls", "insecure", "mode"] {
        assert!(!serve.contains(&old.to_owned()) && !send.contains(&old.to_owned()), "--{old} is still there");
    }
    // Every flag `run` shares with serve or send is one of the shared knobs.
    let shared: Vec<String> = ServerSettings::fields().into_iter().chain(ClientSettings::fields()).map(|f| f.name).collect();
    for f in serve.iter().chain(&send).filter(|f| run.contains(f)) {
        assert!(shared.contains(f) || ["help", "user", "from", "to"].contains(&f.as_str()), "--{f} means two things");
    }
}
