//! How values cross between the engine and the page. Two ways, measured
//! against each other in headless Chromium (`benches/boundary.rs`, run by
//! `cargo xtask bench`; the wasm-release build the lab ships):
//!
//! | value | JSON text | serde-wasm-bindgen |
//! |---|---:|---:|
//! | a lesson's step views (submission-587) | 208 µs | 341 µs |
//! | a journey's step views | 478 µs | 646 µs |
//! | a lesson's TLS records | 60 µs | 110 µs |
//! | one matrix cell | 2.1 µs | 4.2 µs |
//! | the settings' fields | 120 µs | 303 µs |
//! | Mallory's move, into the engine | 1.15 µs | 0.55 µs |
//!
//! Out of the engine, JSON text wins for every kind of value the page asks
//! for, large or small: the values are mostly strings, and one string crossing
//! once, parsed by the browser's native JSON parser, beats building each
//! object property by a call across the boundary. Into the engine,
//! serde-wasm-bindgen wins: it reads the page's object where it is, while JSON
//! needs `JSON.stringify` and a copy of the text. So results leave as JSON
//! ([`as_json`]) and the page's structured arguments arrive through
//! serde-wasm-bindgen ([`from_js`]).

use serde::Serialize;
use wasm_bindgen::prelude::*;

/// As JSON text, parsed by the browser (`JSON.parse`).
pub fn as_json<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    let text = serde_json::to_string(value)?;
    js_sys::JSON::parse(&text).map_err(|_| JsError::new("the engine produced invalid JSON"))
}

/// As JavaScript objects built by serde-wasm-bindgen (maps as plain objects,
/// as JSON would have them).
pub fn as_objects<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&e.to_string()))
}

/// A value from JavaScript, read by serde-wasm-bindgen from its objects.
pub fn from_js<T: serde::de::DeserializeOwned>(value: JsValue) -> Result<T, JsError> {
    serde_wasm_bindgen::from_value(value).map_err(|e| JsError::new(&e.to_string()))
}

/// A value from JavaScript, written out by `JSON.stringify` and read by serde_json.
pub fn from_json<T: serde::de::DeserializeOwned>(value: &JsValue) -> Result<T, JsError> {
    let text: String = js_sys::JSON::stringify(value).map_err(|_| JsError::new("not a JSON value"))?.into();
    Ok(serde_json::from_str(&text)?)
}

/// The way the engine hands the page its results: JSON text, which the
/// benchmark finds faster for every kind of value the page asks for.
pub(crate) fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    as_json(value)
}
