//! The JavaScript API (wasm-bindgen): one coarse `Lab` object owns a
//! [`Simulation`]; structured data crosses as plain JS objects
//! (serde-wasm-bindgen). The page owns the DOM and the animation loop.

use wasm_bindgen::prelude::*;

use crate::pki::Pki;
use crate::scenario::Scenario;
use crate::simulation::Simulation;

fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsError> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&e.to_string()))
}

#[wasm_bindgen]
pub struct Lab {
    sim: Simulation,
}

#[wasm_bindgen]
impl Lab {
    /// A lab for a preset id (a string) or full scenario settings (an object).
    #[wasm_bindgen(constructor)]
    pub fn new(scenario: JsValue) -> Result<Lab, JsError> {
        let sim = match scenario.as_string() {
            Some(id) => Simulation::from_preset(&id).map_err(|e| JsError::new(&e))?,
            None => {
                let s: Scenario = serde_wasm_bindgen::from_value(scenario).map_err(|e| JsError::new(&e.to_string()))?;
                let pki = Pki::generate(&s.client.server_name).map_err(|e| JsError::new(&e.to_string()))?;
                Simulation::new(s, &pki)
            }
        };
        Ok(Lab { sim })
    }

    pub fn len(&self) -> usize {
        self.sim.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sim.is_empty()
    }

    pub fn cursor(&self) -> usize {
        self.sim.cursor()
    }

    /// The step revealed, or `undefined` at the end.
    #[wasm_bindgen(js_name = stepForward)]
    pub fn step_forward(&mut self) -> Result<JsValue, JsError> {
        self.sim.step_forward().map_or(Ok(JsValue::UNDEFINED), to_js)
    }

    /// The step hidden again, or `undefined` at the start.
    #[wasm_bindgen(js_name = stepBack)]
    pub fn step_back(&mut self) -> Result<JsValue, JsError> {
        self.sim.step_back().map_or(Ok(JsValue::UNDEFINED), to_js)
    }

    #[wasm_bindgen(js_name = jumpTo)]
    pub fn jump_to(&mut self, n: usize) {
        self.sim.jump_to(n);
    }

    /// The whole session: scenario, trace and outcomes.
    pub fn session(&self) -> Result<JsValue, JsError> {
        to_js(&self.sim)
    }

    pub fn outcomes(&self) -> Result<JsValue, JsError> {
        to_js(&self.sim.outcomes)
    }
}

/// Every preset: id, title, description, scenario.
#[wasm_bindgen]
pub fn presets() -> Result<JsValue, JsError> {
    to_js(&crate::preset::all())
}

/// The attack catalogue.
#[wasm_bindgen]
pub fn attacks() -> Result<JsValue, JsError> {
    to_js(&crate::attack::Attack::ALL.iter().map(|a| a.info()).collect::<Vec<_>>())
}

/// Runs the whole attack × policy matrix.
#[wasm_bindgen]
pub fn matrix() -> Result<JsValue, JsError> {
    let pki = Pki::generate(crate::pki::SERVER_NAME).map_err(|e| JsError::new(&e.to_string()))?;
    to_js(&crate::matrix::run(&pki))
}
