//! The wasm API as the page calls it, inside headless Chromium
//! (wasm-bindgen-test; `cargo xtask test` runs it with Debian's Chromium).
//! Real TLS handshakes by ring and rustls, in the browser.
#![cfg(target_arch = "wasm32")]

use smtp_lab_wasm::{attacks, matrix_cell, matrix_layout, presets, read_link, settings_fields, Lab};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn get(v: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(v, &JsValue::from_str(key)).unwrap()
}

fn array(v: JsValue) -> js_sys::Array {
    v.dyn_into::<js_sys::Array>().unwrap()
}

#[wasm_bindgen_test]
fn every_preset_runs_and_reports_an_outcome() {
    let all = array(presets().unwrap());
    assert!(all.length() >= 20);
    for p in all.iter() {
        let id = get(&p, "id").as_string().unwrap();
        let lab = Lab::new(&id).unwrap();
        assert!(!lab.is_empty(), "{id}");
        assert!(array(lab.verdicts().unwrap()).length() > 0, "{id} has no outcome");
    }
}

#[wasm_bindgen_test]
fn a_587_session_does_a_real_tls_handshake_in_the_browser() {
    let lab = Lab::new("submission-587").unwrap();
    let session = lab.session().unwrap();
    let steps = array(get(&get(&session, "trace"), "steps"));
    let encrypted = steps.iter().filter(|s| array(get(s, "records")).iter().any(|r| get(&r, "encrypted").as_bool() == Some(true))).count();
    assert!(encrypted > 3, "only {encrypted} encrypted steps");
    let verdict = array(lab.verdicts().unwrap()).get(0);
    assert_eq!(get(&verdict, "kind").as_string().unwrap(), "delivered_securely");
    // The key log has the TLS 1.3 secrets Wireshark needs.
    assert!(lab.keylog().contains("CLIENT_TRAFFIC_SECRET_0"));
}

#[wasm_bindgen_test]
fn in_the_browser_every_tls_record_of_every_lesson_opens_to_what_its_receiver_read() {
    use smtp_lab::vocab::Named;
    let pki = smtp_lab::sim::world::Pki::lab();
    let mut opened = 0;
    for &lesson in smtp_lab::lab::Lesson::ALL {
        let trace = smtp_lab::lab::assemble::lesson(lesson).unwrap().run(&pki);
        opened += smtp_lab::render::verify_dissection(&trace).unwrap_or_else(|e| panic!("{lesson:?}: {e}"));
    }
    assert!(opened > 100, "only {opened} protected records");
    // And the page's view of them: the 587 ClientHello carries the SNI on the path.
    let lab = Lab::new("submission-587").unwrap();
    let tls = js_sys::JSON::stringify(&lab.tls().unwrap()).unwrap().as_string().unwrap();
    assert!(tls.contains("\"value\":\"mail.example.test\""), "{}", &tls[..tls.len().min(400)]);
}

#[wasm_bindgen_test]
fn stepping_forward_back_and_jumping_is_exact() {
    let mut lab = Lab::new("strip-587-opportunistic").unwrap();
    let n = lab.len();
    let mut forward = Vec::new();
    while let Some(step) = Some(lab.step_forward().unwrap()).filter(|s| !s.is_undefined()) {
        forward.push(js_sys::JSON::stringify(&step).unwrap().as_string().unwrap());
    }
    assert_eq!(forward.len(), n);
    assert!(lab.step_forward().unwrap().is_undefined(), "nothing past the end");
    for i in (0..n).rev() {
        let back = lab.step_back().unwrap();
        assert_eq!(js_sys::JSON::stringify(&back).unwrap().as_string().unwrap(), forward[i]);
    }
    assert!(lab.step_back().unwrap().is_undefined(), "nothing before the start");
    lab.jump_to(4);
    assert_eq!(lab.cursor(), 4);
    lab.jump_to(10_000);
    assert_eq!(lab.cursor(), n);
    lab.jump_to(0);
    lab.run_to_end();
    assert_eq!(lab.cursor(), n);
}

#[wasm_bindgen_test]
fn stripping_exposes_the_password_found_in_the_cleartext() {
    let lab = Lab::new("port=587&policy=opportunistic&attack=strip").unwrap();
    let v = array(lab.verdicts().unwrap()).get(0);
    assert_eq!(get(&v, "kind").as_string().unwrap(), "credentials_exposed");
    assert_eq!(get(&v, "compromise").as_bool(), Some(true));
    // The password is in the exported capture's bytes, in cleartext.
    let pcap = lab.pcap();
    let auth = b"AUTH PLAIN AGFsaWNlAGNvcnJlY3QgaG9yc2UgYmF0dGVyeSBzdGFwbGU=";
    assert!(pcap.windows(auth.len()).any(|w| w == auth));
}

#[wasm_bindgen_test]
fn bad_settings_are_errors() {
    assert!(Lab::new("no-such-lesson").is_err());
    assert!(Lab::new("attack=nope").is_err());
    assert!(Lab::new("cell=strip").is_err());
    assert!(Lab::new("colour=red").is_err());
    assert!(read_link("port=x").is_err());
}

#[wasm_bindgen_test]
fn exports_and_catalogues_are_there() {
    let lab = Lab::new("mitm-no-validation").unwrap();
    assert!(lab.mermaid().starts_with("sequenceDiagram\n"));
    assert!(lab.mermaid().contains("participant M as Mallory"));
    assert!(lab.text().contains("outcome (step"));
    assert!(lab.json().contains("\"trace\""));
    assert!(array(attacks().unwrap()).length() >= 18);
    let m = matrix_layout().unwrap();
    assert!(array(get(&m, "rows")).length() >= 20);
    let cell = matrix_cell("strip@opportunistic").unwrap();
    assert_eq!(get(&cell, "label").as_string().unwrap(), "PASSWORD");
    assert!(get(&cell, "link").as_string().unwrap().starts_with("cell=strip@opportunistic"));
    assert!(matrix_cell("port-block@plain").is_err());
}

#[wasm_bindgen_test]
fn every_step_has_notes() {
    let lab = Lab::new("cve-2011-0411-unpatched").unwrap();
    let notes = array(lab.notes().unwrap());
    assert_eq!(notes.length() as usize, lab.len());
    let warnings =
        notes.iter().flat_map(|n| array(n).iter().collect::<Vec<_>>()).filter(|n| get(n, "warning").as_bool() == Some(true)).count();
    assert!(warnings > 0, "the injection preset warns somewhere");
}

#[wasm_bindgen_test]
fn links_views_and_fields_come_from_the_engine() {
    let read = read_link("#attack=strip&port=587&step=3").unwrap();
    assert_eq!(get(&read, "link").as_string().unwrap(), "port=587&attack=strip");
    assert_eq!(get(&read, "step").as_f64(), Some(3.0));
    let lab = Lab::new("cell=strip@opportunistic").unwrap();
    assert_eq!(lab.link(Some(2)), "cell=strip@opportunistic&step=2");
    assert_eq!(get(&lab.heading().unwrap(), "command").as_string().unwrap(), "smtp-lab run --cell strip@opportunistic");
    let views = array(lab.views().unwrap());
    assert_eq!(views.length() as usize, lab.len());
    assert!(views.iter().any(|v| get(&v, "altered").as_bool() == Some(true)), "the strip alters a step");
    let fields = array(settings_fields().unwrap());
    assert!(fields.iter().any(|f| get(&f, "name").as_string().as_deref() == Some("policy")));
}

#[wasm_bindgen_test]
fn mallory_s_moves_arrive_as_objects_and_bad_ones_are_refused() {
    let mut lab = Lab::new("port=587&policy=opportunistic&drive=mallory").unwrap();
    let held = |lab: &Lab| !lab.held().unwrap().is_undefined();
    assert!(held(&lab), "Mallory holds the first segment");
    let bad = lab.decide(js_sys::JSON::parse(r#"{"kind":"juggle"}"#).unwrap());
    assert!(bad.is_err(), "an unknown move is an error, not a panic");
    assert!(lab.decide(js_sys::JSON::parse(r#"{"kind":"flip","arg":"x"}"#).unwrap()).is_err(), "a flip takes a byte offset");
    for _ in 0..100 {
        if !held(&lab) {
            break;
        }
        lab.decide(js_sys::JSON::parse(r#"{"kind":"preset","arg":"strip"}"#).unwrap()).unwrap();
    }
    let verdicts = array(lab.verdicts().unwrap());
    assert!(verdicts.iter().any(|v| get(&v, "compromise").as_bool() == Some(true)), "stripping by hand exposes the session");
}
