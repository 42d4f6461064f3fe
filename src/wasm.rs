//! The JavaScript API (wasm-bindgen): one coarse `Lab` object owns a
//! [`Simulation`]; structured data crosses as JSON the browser parses. The
//! page owns the DOM and the animation loop, and decides nothing about SMTP
//! or TLS: what a step shows comes from [`crate::view`], what a link means
//! from [`Settings::from_link`], what the menus offer from [`Settings::all_fields`].

use wasm_bindgen::prelude::*;

use serde::Serialize;

use crate::pki::Pki;
use crate::settings::Settings;
use crate::simulation::Simulation;
use crate::vocab::Choice;

/// Results cross as JSON text parsed by the browser: serde_json is already in
/// the build for the exports, and a second serialiser would cost download size.
fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsError> {
    let text = serde_json::to_string(value).map_err(|e| JsError::new(&e.to_string()))?;
    js_sys::JSON::parse(&text).map_err(|_| JsError::new("the engine produced invalid JSON"))
}

#[wasm_bindgen]
pub struct Lab {
    sim: Simulation,
    diverged_at: Option<usize>,
}

#[wasm_bindgen]
impl Lab {
    /// A lab for a link's text (`preset=strip-587-opportunistic`,
    /// `port=587&attack=strip`, or a bare lesson id); a `step=` in it is ignored.
    #[wasm_bindgen(constructor)]
    pub fn new(link: &str) -> Result<Lab, JsError> {
        let link = Settings::from_link(link).map_err(|e| JsError::new(&e.to_string()))?;
        let sim = Simulation::from_settings(&link.settings).map_err(|e| JsError::new(&e.to_string()))?;
        Ok(Lab { sim, diverged_at: None })
    }

    /// Steps made so far (all of them, once the session has ended).
    pub fn len(&self) -> usize {
        self.sim.len()
    }

    /// Who drives: `watch`, `client` or `mallory`.
    pub fn drive(&self) -> String {
        self.sim.drive().id().to_owned()
    }

    /// Nothing more can happen in this session.
    #[wasm_bindgen(js_name = isFinished)]
    pub fn is_finished(&self) -> bool {
        self.sim.finished
    }

    /// The learner, as the client, sends one line; the session runs until it
    /// needs the learner again. Errors say why the line was not sent.
    #[wasm_bindgen(js_name = typeLine)]
    pub fn type_line(&mut self, line: &str) -> Result<(), JsError> {
        self.sim.type_line(line.as_bytes()).map_err(|e| JsError::new(&e.to_string()))
    }

    /// The console's state: `{in_body, open}`, or `undefined` when the learner is not the client.
    pub fn console(&self) -> Result<JsValue, JsError> {
        #[derive(Serialize)]
        struct Console {
            in_body: bool,
            open: bool,
        }
        self.sim.console().map_or(Ok(JsValue::UNDEFINED), |(in_body, open)| to_js(&Console { in_body, open }))
    }

    /// The segment waiting on the wire for Mallory, or `undefined`.
    pub fn held(&self) -> Result<JsValue, JsError> {
        self.sim.held().map_or(Ok(JsValue::UNDEFINED), |seg| to_js(&crate::view::HeldView::of(seg, self.sim.held_between())))
    }

    /// Mallory's decision on the held segment: `pass`, `drop`, `replace`
    /// (with the new text), `flip` (with a byte offset) or `preset` (with an attack id).
    pub fn decide(&mut self, kind: &str, arg: Option<String>) -> Result<(), JsError> {
        use crate::attacker::Decision;
        let arg = arg.unwrap_or_default();
        let decision = match kind {
            "pass" => Decision::Pass,
            "drop" => Decision::Drop,
            "replace" => Decision::Replace(arg.into_bytes()),
            "flip" => Decision::FlipBit(arg.parse().map_err(|_| JsError::new("flip takes a byte offset"))?),
            "preset" => Decision::Preset(arg.parse().map_err(|e: String| JsError::new(&e))?),
            _ => return Err(JsError::new(&format!("no decision {kind:?}"))),
        };
        self.sim.decide(decision).map_err(|e| JsError::new(&e.to_string()))
    }

    /// Mallory puts her own bytes on the wire, towards `to` (`server` or `client`).
    pub fn inject(&mut self, to: &str, text: &str) -> Result<(), JsError> {
        use crate::trace::Direction;
        let direction = match to {
            "server" => Direction::ClientToServer,
            "client" => Direction::ServerToClient,
            _ => return Err(JsError::new("inject towards \"server\" or \"client\"")),
        };
        self.sim.inject(direction, text.as_bytes().to_vec()).map_err(|e| JsError::new(&e.to_string()))
    }

    /// The same session with one setting changed (`policy`, `require-starttls`),
    /// re-run from the same seed with the learner's actions, at the same step.
    pub fn fork(&self, setting: &str, value: &str) -> Result<Lab, JsError> {
        let (sim, diverged_at) = self.sim.fork(setting, value).map_err(|e| JsError::new(&e.to_string()))?;
        Ok(Lab { sim, diverged_at })
    }

    /// For a fork: the first step at which it differs from the session it was forked from.
    #[wasm_bindgen(js_name = divergedAt)]
    pub fn diverged_at(&self) -> Option<usize> {
        self.diverged_at
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

    /// Shows the first `n` steps (clamped to the session), as a deep link does.
    #[wasm_bindgen(js_name = jumpTo)]
    pub fn jump_to(&mut self, n: usize) {
        self.sim.jump_to(n);
    }

    /// Shows every step.
    #[wasm_bindgen(js_name = runToEnd)]
    pub fn run_to_end(&mut self) {
        self.sim.jump_to(self.sim.len());
    }

    /// The whole session: settings, scenario, trace and outcomes.
    pub fn session(&self) -> Result<JsValue, JsError> {
        to_js(&self.sim)
    }

    /// One view per step: what each row and the detail panel show.
    pub fn views(&self) -> Result<JsValue, JsError> {
        to_js(&self.sim.views())
    }

    /// The heading: `{title, description, command, lanes}`, `command` being the
    /// `smtp-lab run` command line for the same session.
    pub fn heading(&self) -> Result<JsValue, JsError> {
        to_js(&self.heading_of())
    }

    /// What the page shows of this session before the engine has loaded (a
    /// lesson's recording, made at build time): everything the read-only
    /// methods return, but the byte blocks' hex dumps, which the element
    /// asks the engine for when the learner switches to hex.
    pub fn recording(&self) -> Result<JsValue, JsError> {
        #[derive(Serialize)]
        struct Recording<'a> {
            link: String,
            values: std::collections::BTreeMap<String, String>,
            heading: Heading,
            drive: String,
            finished: bool,
            views: Vec<crate::view::StepView>,
            notes: Vec<Vec<crate::explain::Note>>,
            tls: Tls,
            verdicts: Vec<Verdict<'a>>,
        }
        let mut views = self.sim.views();
        for block in views.iter_mut().flat_map(|v| v.blocks.iter_mut()) {
            block.hex = None;
        }
        to_js(&Recording {
            link: self.sim.settings.to_link(None),
            values: self.sim.settings.values().into_iter().collect(),
            heading: self.heading_of(),
            drive: self.drive(),
            finished: self.is_finished(),
            views,
            notes: self.sim.notes(),
            tls: self.tls_of(),
            verdicts: self.verdicts_of(),
        })
    }

    /// The link for this session at step `step` (omit the step with `undefined`).
    pub fn link(&self, step: Option<usize>) -> String {
        self.sim.settings.to_link(step)
    }

    pub fn outcomes(&self) -> Result<JsValue, JsError> {
        to_js(&self.sim.outcomes)
    }

    /// The outcomes as the banner shows them: each finding plus one sentence
    /// and whether the attack worked.
    pub fn verdicts(&self) -> Result<JsValue, JsError> {
        to_js(&self.verdicts_of())
    }

    /// Every TLS record, dissected, one list per step; with the notes on the
    /// record header fields: `{header_notes: [[field, note]], steps: [[record]]}`.
    pub fn tls(&self) -> Result<JsValue, JsError> {
        to_js(&self.tls_of())
    }

    /// Plain-language notes with RFC references, one list per step.
    pub fn notes(&self) -> Result<JsValue, JsError> {
        to_js(&self.sim.notes())
    }

    /// The session as a pcap file (two TCP legs when an attacker altered the wire).
    pub fn pcap(&self) -> Vec<u8> {
        crate::pcap::capture(&self.sim.trace)
    }

    /// The TLS secrets in the NSS key log format, for Wireshark.
    pub fn keylog(&self) -> String {
        crate::pcap::key_log_file(&self.sim.trace)
    }

    /// The swaks-style transcript with the outcomes, as `smtp-lab run` prints it.
    pub fn text(&self) -> String {
        crate::export::text(&self.sim.trace, &self.sim.outcomes)
    }

    /// The JSON document `smtp-lab run --format json` prints.
    pub fn json(&self) -> String {
        crate::export::json(&self.sim.scenario, &self.sim.trace, &self.sim.outcomes)
    }

    /// A Mermaid sequenceDiagram of the session.
    pub fn mermaid(&self) -> String {
        crate::export::mermaid(&self.sim.trace, &self.sim.outcomes)
    }
}

/// The heading: `{title, description, command, lanes}`.
#[derive(Serialize)]
struct Heading {
    title: String,
    description: String,
    /// The `smtp-lab run` command line for the same session.
    command: String,
    /// The columns the rows are drawn between (a journey has one per node and hop).
    lanes: Vec<&'static str>,
    /// The last lane is the sending MTA's resolver and policy host (DNS and HTTPS rows).
    senders: bool,
    /// The TLS report (RFC 8460) the sender would send for this delivery, when the domain asks for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    tlsrpt: Option<TlsRpt>,
}

/// A TLS report and where it goes.
#[derive(Serialize)]
struct TlsRpt {
    rua: String,
    json: String,
}

/// A finding as the banner shows it: plus one sentence and whether the attack worked.
#[derive(Serialize)]
struct Verdict<'a> {
    #[serde(flatten)]
    finding: &'a crate::outcome::Finding,
    text: String,
    compromise: bool,
}

/// The TLS panel: what a record header says, and each step's records.
#[derive(Serialize)]
struct Tls {
    header_notes: [(&'static str, &'static str); 3],
    steps: Vec<Vec<crate::view::TlsRecordView>>,
}

impl Lab {
    fn heading_of(&self) -> Heading {
        let (title, description) = self.sim.heading();
        let lanes = self.sim.lanes();
        let tlsrpt = crate::tlsrpt::report(&self.sim.trace).map(|r| TlsRpt { json: r.to_json(), rua: r.rua });
        Heading {
            title,
            description,
            command: self.sim.settings.command_line(),
            senders: crate::view::has_sender_lane(&lanes),
            lanes,
            tlsrpt,
        }
    }

    fn verdicts_of(&self) -> Vec<Verdict<'_>> {
        self.sim
            .outcomes
            .iter()
            .map(|finding| Verdict { finding, text: finding.describe(), compromise: finding.outcome.is_compromise() })
            .collect()
    }

    fn tls_of(&self) -> Tls {
        Tls { header_notes: crate::dissect::HEADER_NOTES, steps: self.sim.tls_views() }
    }
}

/// The base64 answer to AUTH PLAIN for a username and password (RFC 4616 §2),
/// for the console's helper.
#[wasm_bindgen(js_name = authPlain)]
pub fn auth_plain(username: &str, password: &str) -> String {
    crate::codec::sasl::plain_response(username, &crate::codec::Secret::new(password))
}

/// Reads a link: `{link, step, values}`, where `link` is the same settings
/// written in their usual order without the step, and `values` maps each
/// setting that is set to its value (for filling a form). Throws on a bad link.
#[wasm_bindgen(js_name = readLink)]
pub fn read_link(text: &str) -> Result<JsValue, JsError> {
    #[derive(Serialize)]
    struct Read {
        link: String,
        step: Option<usize>,
        values: std::collections::BTreeMap<String, String>,
    }
    let link = Settings::from_link(text).map_err(|e| JsError::new(&e.to_string()))?;
    to_js(&Read { link: link.settings.to_link(None), step: link.step, values: link.settings.values().into_iter().collect() })
}

/// Every setting: name, group, help, kind and options (for the page's form).
#[wasm_bindgen(js_name = settingsFields)]
pub fn settings_fields() -> Result<JsValue, JsError> {
    to_js(&Settings::all_fields())
}

/// The explainer: `{ports, reading, claims}`, each claim with its
/// demonstrations run in this page and checked (`proofs[i].proved`).
#[wasm_bindgen]
pub fn explainer() -> Result<JsValue, JsError> {
    #[derive(Serialize)]
    struct Explainer {
        ports: Vec<crate::claims::Port>,
        path: Vec<crate::claims::PathHop>,
        reading: &'static str,
        claims: Vec<crate::claims::ProvedClaim>,
    }
    let pki = Pki::lab();
    to_js(&Explainer {
        ports: crate::claims::ports(),
        path: crate::claims::path(&pki),
        reading: crate::claims::READING_PORTS,
        claims: crate::claims::prove_all(&pki),
    })
}

/// Every lesson: id, title, description.
#[wasm_bindgen]
pub fn presets() -> Result<JsValue, JsError> {
    to_js(&crate::preset::all())
}

/// The attack catalogue.
#[wasm_bindgen]
pub fn attacks() -> Result<JsValue, JsError> {
    use crate::vocab::Choice;
    to_js(&crate::attack::Attack::ALL.iter().map(|a| a.info()).collect::<Vec<_>>())
}

/// The attacks that act on segments on the wire, as Mallory's one-click
/// presets: `[{id, title}]`.
#[wasm_bindgen(js_name = malloryPresets)]
pub fn mallory_presets() -> Result<JsValue, JsError> {
    use crate::attack::Attack;
    let on_wire = Attack::ALL.iter().filter(|a| a.on_the_wire() && **a != Attack::Eavesdrop);
    to_js(&on_wire.map(|a| crate::vocab::MenuItem { id: a.id(), title: a.title() }).collect::<Vec<_>>())
}

/// The attack × policy matrix with no session run yet: rows, columns, and
/// which cells apply (label "…"), for a page that fills it in cell by cell.
#[wasm_bindgen(js_name = matrixLayout)]
pub fn matrix_layout() -> Result<JsValue, JsError> {
    to_js(&crate::matrix::layout())
}

/// Runs one cell of the matrix (`strip@opportunistic`): its label, `tone`,
/// findings and `link` to open it in the lab.
#[wasm_bindgen(js_name = matrixCell)]
pub fn matrix_cell(id: &str) -> Result<JsValue, JsError> {
    let id: crate::matrix::CellId = id.parse().map_err(|e: String| JsError::new(&e))?;
    let mut cell = crate::matrix::cell(id, &Pki::lab()).ok_or_else(|| JsError::new("that cell does not apply"))?;
    cell.link = Settings { cell: Some(id), ..Settings::default() }.to_link(Some(0));
    to_js(&cell)
}
