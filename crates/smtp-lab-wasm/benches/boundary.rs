//! What it costs to hand the page a value, as JSON text the browser parses
//! or as objects serde-wasm-bindgen builds, for each kind of value the page
//! asks for: a lesson's step views and TLS panel (large, nested), one matrix
//! cell (small), the settings' fields (a list of small records). Runs in
//! headless Chromium: `cargo xtask bench`.
#![cfg(target_arch = "wasm32")]

use smtp_lab::lab::{Settings, Simulation};
use smtp_lab::outcome::matrix;
use smtp_lab::sim::world::Pki;
use smtp_lab_wasm::boundary::{as_json, as_objects};
use wasm_bindgen_test::{wasm_bindgen_bench, wasm_bindgen_test_configure, Criterion};

wasm_bindgen_test_configure!(run_in_browser);

fn both<T: serde::Serialize>(c: &mut Criterion, what: &str, value: &T) {
    c.bench_function(&format!("{what}: JSON text"), |b| b.iter(|| as_json(value).unwrap()));
    c.bench_function(&format!("{what}: serde-wasm-bindgen"), |b| b.iter(|| as_objects(value).unwrap()));
}

fn lesson(link: &str) -> Simulation {
    Simulation::from_settings(&Settings::from_link(link).unwrap().settings).unwrap()
}

#[wasm_bindgen_bench]
fn step_views(c: &mut Criterion) {
    both(c, "views of submission-587", &lesson("submission-587").views());
    both(c, "views of a journey (journey=1)", &lesson("journey=1").views());
}

#[wasm_bindgen_bench]
fn tls_panel(c: &mut Criterion) {
    both(c, "TLS records of submission-587", &lesson("submission-587").tls_views());
}

#[wasm_bindgen_bench]
fn matrix_cell(c: &mut Criterion) {
    let cell = matrix::cell("strip@opportunistic".parse().unwrap(), &Pki::lab()).unwrap();
    both(c, "one matrix cell", &cell);
}

#[wasm_bindgen_bench]
fn fields(c: &mut Criterion) {
    both(c, "settings fields", &Settings::all_fields());
}

/// The other direction: Mallory's move, as the page hands it to `Lab::decide`.
#[wasm_bindgen_bench]
fn mallory_move(c: &mut Criterion) {
    use smtp_lab_wasm::boundary::{from_js, from_json};
    use smtp_lab_wasm::MalloryMove;
    let value = js_sys::JSON::parse(r#"{"kind":"replace","arg":"250-mail.example.test\r\n250 PIPELINING\r\n"}"#).unwrap();
    c.bench_function("Mallory's move in: JSON text", |b| b.iter(|| from_json::<MalloryMove>(&value).unwrap()));
    c.bench_function("Mallory's move in: serde-wasm-bindgen", |b| b.iter(|| from_js::<MalloryMove>(value.clone()).unwrap()));
}
