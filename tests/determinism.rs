//! A simulated session is a pure function of its settings and its seed: the
//! same link gives the same bytes in every export, and another seed gives
//! other TLS bytes. Natively with `cargo test`, and in Chromium with
//! wasm-bindgen-test (`cargo xtask test` runs both); `tests/wasm/smoke.mjs`
//! holds the wasm build to the same bytes as the CLI.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::{wasm_bindgen_test as test, wasm_bindgen_test_configure};
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test_configure!(run_in_browser);

use smtp_lab::lab::{Lesson, Settings, Simulation};
use smtp_lab::vocab::Named;

/// JSON, transcript, Mermaid, pcap and key log of the session a link
/// describes, and whether any TLS crossed the SMTP wire (the capture's).
fn exports(link: &str) -> ([Vec<u8>; 5], bool) {
    let settings = Settings::from_link(link).unwrap().settings;
    let sim = Simulation::from_settings(&settings).unwrap();
    let tls = sim.trace.steps.iter().any(|s| s.tls() && s.lane == smtp_lab::sim::Lane::Smtp);
    (
        [
            smtp_lab::render::export::json(&sim.scenario, &sim.trace, &sim.outcomes, None).into_bytes(),
            smtp_lab::render::export::text(&sim.trace, &sim.outcomes).into_bytes(),
            smtp_lab::render::export::mermaid(&sim.trace, &sim.outcomes).into_bytes(),
            smtp_lab::render::pcap::capture(&sim.trace),
            smtp_lab::render::pcap::key_log_file(&sim.trace).into_bytes(),
        ],
        tls,
    )
}

#[test]
fn every_lesson_gives_the_same_bytes_for_a_seed_and_other_tls_bytes_for_another() {
    let mut with_tls = 0;
    for lesson in Lesson::ALL {
        let id = lesson.id();
        let (first, tls) = exports(&format!("preset={id}&seed=7"));
        let (again, _) = exports(&format!("preset={id}&seed=7"));
        for (name, (a, b)) in ["json", "text", "mermaid", "pcap", "keylog"].iter().zip(first.iter().zip(&again)) {
            assert!(a == b, "{id}: the {name} export differs between two runs with one seed");
        }
        let (other, _) = exports(&format!("preset={id}&seed=8"));
        if !tls {
            // No TLS, nothing random: the seed changes only the JSON's record of it.
            assert_eq!(first[3], other[3], "{id}: a session without TLS does not depend on the seed");
        } else {
            with_tls += 1;
            assert_ne!(first[3], other[3], "{id}: another seed, the same TLS bytes");
            // A handshake that never finished logs no secrets to differ in.
            if !first[4].is_empty() {
                assert_ne!(first[4], other[4], "{id}: another seed, the same TLS secrets");
            }
        }
    }
    assert!(with_tls >= 10, "only {with_tls} lessons with TLS");
}

#[test]
fn the_seed_is_in_the_json_the_link_and_the_command_line() {
    let settings = Settings::from_link("preset=submission-587&seed=42").unwrap().settings;
    let sim = Simulation::from_settings(&settings).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&smtp_lab::render::export::json(&sim.scenario, &sim.trace, &sim.outcomes, None)).unwrap();
    assert_eq!(json["scenario"]["seed"], 42);
    assert_eq!(settings.to_link(None), "preset=submission-587&seed=42");
    assert_eq!(settings.command_line(), "smtp-lab run --preset submission-587 --seed 42");
    // Without one, a session has the default seed, and says so.
    let sim = Simulation::from_settings(&Settings::default()).unwrap();
    assert_eq!(sim.scenario.seed, smtp_lab::sim::DEFAULT_SEED);
}
