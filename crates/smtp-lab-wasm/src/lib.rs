//! The JavaScript API (wasm-bindgen): one coarse `Lab` object owns a
//! [`Simulation`]; results cross as JSON the browser parses, and the page's
//! structured arguments as objects serde-wasm-bindgen reads ([`boundary`]
//! has the figures); the matrix's workers post their results themselves
//! ([`run_matrix_share`], through web-sys). The
//! page owns the DOM and the animation loop, and decides nothing about SMTP
//! or TLS: what a step shows comes from [`smtp_lab::render::StepView`], what a link means
//! from [`Settings::from_link`], what the menus offer from [`Settings::all_fields`].

use wasm_bindgen::prelude::*;

use serde::Serialize;

use smtp_lab::lab::{Settings, Simulation};
use smtp_lab::sim::world::Pki;
use smtp_lab::vocab::{Choice, Named};

pub mod boundary;
use boundary::to_js;

/// What Mallory does with the segment she holds (see [`Lab::decide`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(tag = "kind", content = "arg", rename_all = "kebab-case")]
pub enum MalloryMove {
    Pass,
    Drop,
    /// Send this text instead.
    Replace(String),
    /// Flip a bit of the byte at this offset (a number, or its digits, as a form's field gives them).
    Flip(#[serde(deserialize_with = "offset")] usize),
    /// Do what this attack would.
    Preset(smtp_lab::sim::Attack),
}

/// A byte offset, as a number or as the text of a number field.
fn offset<'de, D: serde::Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Offset {
        Number(usize),
        Text(String),
    }
    match <Offset as serde::Deserialize>::deserialize(d)? {
        Offset::Number(n) => Ok(n),
        Offset::Text(t) => t.trim().parse().map_err(|_| serde::de::Error::custom(format!("a byte offset is a whole number, not {t:?}"))),
    }
}

/// Which way Mallory sends bytes of her own (see [`Lab::inject`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Towards {
    Server,
    Client,
}

impl From<Towards> for smtp_lab::sim::Direction {
    fn from(t: Towards) -> Self {
        match t {
            Towards::Server => smtp_lab::sim::Direction::ClientToServer,
            Towards::Client => smtp_lab::sim::Direction::ServerToClient,
        }
    }
}

impl From<MalloryMove> for smtp_lab::sim::Decision {
    fn from(m: MalloryMove) -> Self {
        use smtp_lab::sim::Decision;
        match m {
            MalloryMove::Pass => Decision::Pass,
            MalloryMove::Drop => Decision::Drop,
            MalloryMove::Replace(text) => Decision::Replace(text.into_bytes()),
            MalloryMove::Flip(at) => Decision::FlipBit(at),
            MalloryMove::Preset(attack) => Decision::Preset(attack),
        }
    }
}

#[wasm_bindgen]
pub struct Lab {
    sim: Simulation,
    diverged_at: Option<usize>,
}

#[wasm_bindgen]
impl Lab {
    /// A lab for a link's text (`preset=strip-587-opportunistic`,
    /// `port=587&attack=strip`, or a bare lesson id), with the learner's
    /// actions in it (`acts=`) replayed; a `step=` in it is ignored.
    #[wasm_bindgen(constructor)]
    pub fn new(link: &str) -> Result<Lab, JsError> {
        let link = Settings::from_link(link)?;
        let sim = Simulation::from_link(&smtp_lab::lab::LinkText { step: None, ..link })?;
        Ok(Lab { sim, diverged_at: None })
    }

    /// A lab for a session file this page (or `smtp-lab run --format json`)
    /// exported: re-run from the link in it, and checked against the trace
    /// in it, byte for byte. Throws when the file has no link, or when the
    /// re-run differs (a file from another version of the lab).
    #[wasm_bindgen(js_name = openSession)]
    pub fn open_session(text: &str) -> Result<Lab, JsError> {
        let doc: serde_json::Value =
            serde_json::from_str(text).map_err(|e| JsError::new(&format!("This file is not a session exported by the lab: {e}.")))?;
        let link = doc
            .get("link")
            .and_then(|l| l.as_str())
            .ok_or_else(|| JsError::new("This JSON file has no \"link\": it is not a session file the lab exported."))?;
        let lab = Lab::new(link)?;
        // Through the export's own text serialiser (one copy of the code in the engine, not a second for Value).
        let rerun: serde_json::Value = serde_json::to_string_pretty(&lab.sim.trace)
            .and_then(|text| serde_json::from_str(&text))
            .map_err(|e| JsError::new(&e.to_string()))?;
        if doc.get("trace") != Some(&rerun) {
            return Err(JsError::new(
                "Re-run from its link, this file's session does not give the same bytes: it was exported by another version of the lab.",
            ));
        }
        Ok(lab)
    }

    /// What the learner did so far: `[{at, text}]`, each with the step it was taken at.
    pub fn actions(&self) -> Result<JsValue, JsError> {
        to_js(&self.sim.actions().iter().map(smtp_lab::lab::ActedView::from).collect::<Vec<_>>())
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
        Ok(self.sim.type_line(line.as_bytes())?)
    }

    /// The console's state: `{in_body, open}`, or `undefined` when the learner is not the client.
    pub fn console(&self) -> Result<JsValue, JsError> {
        #[derive(Serialize)]
        struct ConsoleState {
            in_body: bool,
            open: bool,
        }
        self.sim.console().map_or(Ok(JsValue::UNDEFINED), |(in_body, open)| to_js(&ConsoleState { in_body, open }))
    }

    /// The segment waiting on the wire for Mallory, or `undefined`.
    pub fn held(&self) -> Result<JsValue, JsError> {
        self.sim.held().map_or(Ok(JsValue::UNDEFINED), |seg| to_js(&smtp_lab::render::HeldView::of(seg, self.sim.held_between())))
    }

    /// Mallory's decision on the held segment, as a [`MalloryMove`]:
    /// `{kind: "pass"}`, `{kind: "drop"}`, `{kind: "replace", arg: text}`,
    /// `{kind: "flip", arg: byteOffset}` or `{kind: "preset", arg: attackId}`.
    pub fn decide(&mut self, decision: JsValue) -> Result<(), JsError> {
        let decision = boundary::from_js::<MalloryMove>(decision)?.into();
        Ok(self.sim.decide(decision)?)
    }

    /// Mallory puts her own bytes on the wire, towards `to` (`"server"` or `"client"`).
    pub fn inject(&mut self, to: JsValue, text: &str) -> Result<(), JsError> {
        let direction = boundary::from_js::<Towards>(to)?.into();
        Ok(self.sim.inject(direction, text.as_bytes().to_vec())?)
    }

    /// The same session with one setting changed (`policy`, `require-starttls`),
    /// re-run from the same seed with the learner's actions, at the same step.
    pub fn fork(&self, setting: &str, value: &str) -> Result<Lab, JsError> {
        let (sim, diverged_at) = self.sim.fork(setting, value)?;
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

    /// The heading: `{title, description, command, lanes, attacked, senders, tlsrpt}`,
    /// `command` being the `smtp-lab run` command line for the same session.
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
            views: Vec<smtp_lab::render::StepView>,
            notes: Vec<Vec<smtp_lab::lab::Note>>,
            tls: TlsPanel,
            verdicts: Vec<smtp_lab::lab::Verdict<'a>>,
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
            verdicts: self.sim.verdicts(),
        })
    }

    /// The link for this session at step `step` (omit the step with `undefined`).
    pub fn link(&self, step: Option<usize>) -> String {
        self.sim.link(step)
    }

    pub fn outcomes(&self) -> Result<JsValue, JsError> {
        to_js(&self.sim.outcomes)
    }

    /// The outcomes as the banner shows them: each finding plus one sentence
    /// and whether the attack worked.
    pub fn verdicts(&self) -> Result<JsValue, JsError> {
        to_js(&self.sim.verdicts())
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
        smtp_lab::render::pcap::capture(&self.sim.trace)
    }

    /// The TLS secrets in the NSS key log format, for Wireshark.
    pub fn keylog(&self) -> String {
        smtp_lab::render::pcap::key_log_file(&self.sim.trace)
    }

    /// The swaks-style transcript with the outcomes, as `smtp-lab run` prints it.
    pub fn text(&self) -> String {
        smtp_lab::render::export::text(&self.sim.trace, &self.sim.outcomes)
    }

    /// The session file: the JSON document `smtp-lab run --format json`
    /// prints, with the link that re-runs it (the learner's actions
    /// included), which [`Lab::open_session`] opens again.
    pub fn json(&self) -> String {
        let session = smtp_lab::render::export::SessionLink {
            link: self.sim.link(None),
            actions: self.sim.actions().iter().map(|a| a.describe()).collect(),
        };
        smtp_lab::render::export::json(&self.sim.scenario, &self.sim.trace, &self.sim.outcomes, Some(&session))
    }

    /// A Mermaid sequenceDiagram of the session.
    pub fn mermaid(&self) -> String {
        smtp_lab::render::export::mermaid(&self.sim.trace, &self.sim.outcomes)
    }
}

/// The heading: `{title, description, command, lanes, senders, tlsrpt}`.
#[derive(Serialize)]
struct Heading {
    title: String,
    #[serde(serialize_with = "smtp_lab::cite::as_prose")]
    description: String,
    /// The `smtp-lab run` command line for the same session.
    command: String,
    /// The columns the rows are drawn between (a journey has one per node and hop).
    lanes: Vec<&'static str>,
    /// The last lane is the sending MTA's resolver and policy host (DNS and HTTPS rows).
    senders: bool,
    /// Someone attacks this session (the wire's lane is the attacker's).
    attacked: bool,
    /// The TLS report (RFC 8460) the sender would send for this delivery, when the domain asks for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    tlsrpt: Option<TlsRpt>,
}

/// A TLS report and where it goes.
#[derive(Serialize)]
struct TlsRpt {
    rua: String,
    /// What the panel's summary says.
    summary: String,
    /// Where the report's format is defined, as a citation the page links.
    source: smtp_lab::cite::Prose,
    json: String,
}

/// The TLS panel: what a record header says, and each step's records.
#[derive(Serialize)]
struct TlsPanel {
    header_notes: Vec<(&'static str, smtp_lab::cite::Prose)>,
    steps: Vec<Vec<smtp_lab::render::TlsRecordView>>,
}

impl Lab {
    fn heading_of(&self) -> Heading {
        let (title, description) = self.sim.heading();
        let lanes = self.sim.lanes();
        let tlsrpt = smtp_lab::outcome::tlsrpt::report(&self.sim.trace).map(|r| TlsRpt {
            json: r.to_json(),
            summary: format!("The TLS report this sender would send to {}", r.rua),
            source: smtp_lab::cite::Prose::new("Its format: RFC 8460 §4.4."),
            rua: r.rua,
        });
        Heading {
            title,
            description,
            command: self.sim.settings.command_line(),
            senders: smtp_lab::render::has_sender_lane(&lanes),
            attacked: self.sim.attacked(),
            lanes,
            tlsrpt,
        }
    }

    fn tls_of(&self) -> TlsPanel {
        TlsPanel {
            header_notes: smtp_lab::render::HEADER_NOTES.iter().map(|(field, note)| (*field, smtp_lab::cite::Prose::new(note))).collect(),
            steps: self.sim.tls_views(),
        }
    }
}

/// The base64 answer to AUTH PLAIN for a username and password (RFC 4616 §2),
/// for the console's helper.
#[wasm_bindgen(js_name = authPlain)]
pub fn auth_plain(username: &str, password: &str) -> String {
    smtp_lab::proto::codec::sasl::plain_response(username, &smtp_lab::proto::codec::Secret::new(password))
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
    let link = Settings::from_link(text)?;
    let step = link.step;
    let values = link.settings.values().into_iter().collect();
    to_js(&Read { link: smtp_lab::lab::LinkText { step: None, ..link }.to_link(), step, values })
}

/// What is wrong with a link, in the lab's words: `{setting, value, message,
/// suggestion, suggested_link}`, or `undefined` when nothing is.
#[wasm_bindgen(js_name = linkProblem)]
pub fn link_problem(text: &str) -> Result<JsValue, JsError> {
    // A link can read well and still ask for settings that cannot go together.
    match Settings::from_link(text).and_then(|link| smtp_lab::lab::assemble::scenario(&link.settings)) {
        Ok(_) => Ok(JsValue::UNDEFINED),
        Err(e) => to_js(&e.problem(text)),
    }
}

/// Every setting: name, group, help, kind and options (for the page's form).
#[wasm_bindgen(js_name = settingsFields)]
pub fn settings_fields() -> Result<JsValue, JsError> {
    to_js(&Settings::all_fields())
}

/// The explainer: `{ports, path, reading, claims}`, each claim with its
/// demonstrations run in this page and checked (`proofs[i].proved`).
#[wasm_bindgen]
pub fn explainer() -> Result<JsValue, JsError> {
    #[derive(Serialize)]
    struct Explainer {
        ports: Vec<smtp_lab::lab::claims::Port>,
        path: Vec<smtp_lab::lab::claims::PathHop>,
        #[serde(serialize_with = "smtp_lab::cite::as_prose")]
        reading: &'static str,
        claims: Vec<smtp_lab::lab::claims::ProvedClaim>,
    }
    let pki = Pki::lab();
    to_js(&Explainer {
        ports: smtp_lab::lab::claims::ports(),
        path: smtp_lab::lab::claims::path(&pki),
        reading: smtp_lab::lab::claims::READING_PORTS,
        claims: smtp_lab::lab::claims::prove_all(&pki),
    })
}

/// Every lesson: id, title, description.
#[wasm_bindgen]
pub fn presets() -> Result<JsValue, JsError> {
    to_js(&smtp_lab::lab::Lesson::catalogue())
}

/// The attack catalogue.
#[wasm_bindgen]
pub fn attacks() -> Result<JsValue, JsError> {
    use smtp_lab::vocab::Named;
    to_js(&smtp_lab::sim::Attack::ALL.iter().map(|a| a.info()).collect::<Vec<_>>())
}

/// The attacks that act on segments on the wire, as Mallory's one-click
/// presets: `[{id, title}]`.
#[wasm_bindgen(js_name = malloryPresets)]
pub fn mallory_presets() -> Result<JsValue, JsError> {
    use smtp_lab::sim::Attack;
    let on_wire = Attack::ALL.iter().filter(|a| a.on_the_wire() && **a != Attack::Eavesdrop);
    to_js(&on_wire.map(|a| smtp_lab::vocab::MenuItem { id: a.id(), title: a.title() }).collect::<Vec<_>>())
}

/// The attack × policy matrix with no session run yet: rows, columns, and
/// which cells apply (label "…"), for a page that fills it in cell by cell.
#[wasm_bindgen(js_name = matrixLayout)]
pub fn matrix_layout() -> Result<JsValue, JsError> {
    to_js(&smtp_lab::outcome::matrix::layout())
}

/// Runs one cell of the matrix (`strip@opportunistic`): its label, `tone`,
/// findings and `link` to open it in the lab.
#[wasm_bindgen(js_name = matrixCell)]
pub fn matrix_cell(id: &str) -> Result<JsValue, JsError> {
    to_js(&run_cell(id.parse()?, &Pki::lab())?)
}

/// One cell, with the link that opens it in the lab.
fn run_cell(id: smtp_lab::outcome::matrix::CellId, pki: &std::sync::Arc<Pki>) -> Result<smtp_lab::outcome::matrix::Cell, JsError> {
    let mut cell = smtp_lab::outcome::matrix::cell(id, pki).ok_or_else(|| JsError::new("that cell does not apply"))?;
    cell.link = Settings { cell: Some(id), ..Settings::default() }.to_link(Some(0));
    Ok(cell)
}

/// Runs a worker's share of the matrix (every `of`-th cell that applies,
/// from `shard`), posting to the page, as each is ready: the layout first
/// (from shard 0), `{id, cell}` per cell, then `{done, sessions, started,
/// ended}` with wall-clock times comparable across workers. Call it inside a
/// dedicated worker.
#[wasm_bindgen(js_name = runMatrixShare)]
pub fn run_matrix_share(shard: u32, of: u32) -> Result<(), JsError> {
    use wasm_bindgen::JsCast;
    let scope: web_sys::DedicatedWorkerGlobalScope =
        js_sys::global().dyn_into().map_err(|_| JsError::new("runMatrixShare runs in a dedicated worker"))?;
    let clock = scope.performance().ok_or_else(|| JsError::new("this worker has no performance clock"))?;
    let now = || clock.time_origin() + clock.now();
    fn post<T: Serialize>(scope: &web_sys::DedicatedWorkerGlobalScope, message: &T) -> Result<(), JsError> {
        scope.post_message(&to_js(message)?).map_err(|_| JsError::new("the worker could not post a message"))
    }
    if shard == 0 {
        #[derive(Serialize)]
        struct Layout {
            layout: smtp_lab::outcome::matrix::Matrix,
        }
        post(&scope, &Layout { layout: smtp_lab::outcome::matrix::layout() })?;
    }
    let started = now();
    let pki = Pki::lab();
    let ids = smtp_lab::outcome::matrix::CellId::all();
    let mut sessions = 0u32;
    for id in ids.skip(shard as usize).step_by(of.max(1) as usize) {
        #[derive(Serialize)]
        struct Ran {
            id: String,
            cell: smtp_lab::outcome::matrix::Cell,
        }
        post(&scope, &Ran { id: id.to_string(), cell: run_cell(id, &pki)? })?;
        sessions += 1;
    }
    #[derive(Serialize)]
    struct Done {
        done: bool,
        sessions: u32,
        started: f64,
        ended: f64,
    }
    post(&scope, &Done { done: true, sessions, started, ended: now() })
}
