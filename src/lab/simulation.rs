//! A live session: the lab owns the running wire and advances it one
//! delivery at a time on request. The learner can act on it as the client
//! (typing lines at the real server) or as Mallory (deciding what happens to
//! each segment), and can fork it with one setting changed.
//!
//! A session is a pure function of its settings, its seed and the learner's
//! actions, so going back is exact: acting at an earlier step re-runs the
//! session from the seed to that step, replaying the earlier actions, and the
//! old future is discarded. Outcomes are computed from the trace so far and
//! are final once the session has ended.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use serde::Serialize;

use crate::lab::actions::{Acted, Action};
use crate::lab::settings::{LinkText, Settings, SettingsError};
use crate::outcome::{self, Finding, Outcome};
use crate::proto::machine::Machine;
use crate::proto::smtp::client::ClientEvent;
use crate::proto::smtp::console::ConsoleError;
use crate::proto::tls::entropy::Entropy;
use crate::render::view::StepView;
use crate::sim::attack::middlebox::{Attacker, Decision};
use crate::sim::attack::Attack;
use crate::sim::route::Route;
use crate::sim::scenario::stream;
use crate::sim::scenario::{Drive, Scenario};
use crate::sim::trace::{Direction, Step, Trace};
use crate::sim::wire::{Meddling, Segment, MAX_STEPS};
use crate::sim::world::names::SIM_EPOCH_UNIX;
use crate::sim::world::pki::Pki;
use crate::vocab::{Choice, Named};

/// Why a session could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
}

/// Why the learner's action was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActError {
    #[error(transparent)]
    Console(#[from] ConsoleError),
    #[error("this session's client is not driven from the console")]
    NotConsole,
    #[error("no segment is waiting on the wire for Mallory")]
    NothingHeld,
    #[error("this session is not in Mallory mode (drive=mallory)")]
    NotMallory,
    #[error("an injected line must not be empty")]
    EmptyInjection,
}

#[derive(Debug, Serialize)]
pub struct Simulation {
    /// What the session was asked for.
    pub settings: Settings,
    pub scenario: Scenario,
    /// The steps so far.
    pub trace: Trace,
    /// What the steps so far amount to (final once `finished`).
    pub outcomes: Vec<Finding>,
    /// Nothing more can happen.
    pub finished: bool,
    #[serde(skip)]
    pki: Arc<Pki>,
    #[serde(skip)]
    run: Machinery,
    /// The learner's actions, each with the number of steps there were when it was taken.
    #[serde(skip)]
    actions: Vec<Acted>,
    /// Steps shown so far: 0 before the first.
    cursor: usize,
}

/// The running machinery: the wire, and Mallory's hands.
struct Machinery {
    route: Route,
    mallory: Attacker,
}

impl std::fmt::Debug for Machinery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Machinery").field("steps", &self.route.steps().len()).finish()
    }
}

impl Machinery {
    fn new(scenario: &Scenario, pki: &Arc<Pki>) -> Machinery {
        let entropy = Entropy::seeded(scenario.seed, stream::ATTACKER);
        let mallory = Attacker::new(Attack::Eavesdrop, scenario.port, pki.clone(), SIM_EPOCH_UNIX, entropy);
        Machinery { route: Route::new(scenario, pki), mallory }
    }

    /// Advances until there are at least `to` steps, or nothing can happen
    /// without the learner. Watching, timers run too (a server that times
    /// out is part of the lesson); with the learner in the loop they wait.
    fn advance(&mut self, to: usize, drive: Drive) {
        while self.route.steps().len() < to.min(MAX_STEPS) {
            if drive != Drive::Watch && !self.route.has_delivery() {
                return;
            }
            if self.route.step().is_none() {
                return;
            }
        }
    }

    /// The session re-run from its seed to `to` steps, taking `actions` each
    /// at the step it was taken at before; with the actions that applied.
    fn replay<'a>(scenario: &Scenario, pki: &Arc<Pki>, actions: impl Iterator<Item = &'a Acted>, to: usize) -> (Machinery, Vec<Acted>) {
        let mut run = Machinery::new(scenario, pki);
        let mut applied = Vec::new();
        for acted in actions {
            run.advance(acted.at, scenario.drive);
            if run.apply(&acted.action).is_ok() {
                applied.push(acted.clone());
            }
        }
        run.advance(to, scenario.drive);
        (run, applied)
    }

    fn apply(&mut self, action: &Action) -> Result<(), ActError> {
        match action {
            Action::Type(line) => self.route.client_act(|c, now| c.type_line(line, now)).ok_or(ActError::NotConsole)??,
            Action::Decide(decision) => {
                let seg = self.route.take_held().ok_or(ActError::NothingHeld)?;
                let out = self.mallory.decide(seg, decision, self.route.now());
                self.route.release(out);
            }
            Action::Inject(direction, bytes) => {
                self.route.release(vec![Segment::injected(*direction, bytes.clone(), Meddling::InjectedByHand)]);
            }
        }
        Ok(())
    }
}

/// How the banner marks a finding: what the lab decides about it, for the page to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tone {
    /// An attacker was there and gained something.
    AttackWorked,
    /// Something was exposed or forged with no attacker in the session: anyone on the path could have read it.
    Exposed,
    /// Not a compromise, but no protection either (delivered in cleartext), or a good end beside a bad one.
    Plain,
    /// Protected, and nothing else in the session went wrong.
    Safe,
}

impl Tone {
    /// The words before the finding's sentence.
    pub fn mark(self) -> &'static str {
        match self {
            Tone::AttackWorked => "⚠ Attack worked: ",
            Tone::Exposed => "⚠ Exposed, with no attacker in this session: ",
            Tone::Plain => "",
            Tone::Safe => "✓ ",
        }
    }
}

/// One finding as the banner shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict<'a> {
    #[serde(flatten)]
    pub finding: &'a Finding,
    pub text: String,
    pub compromise: bool,
    pub tone: Tone,
    pub mark: &'static str,
}

impl Simulation {
    /// A session for settings (a preset, a matrix cell, or a setup, as in a
    /// deep link), not yet started: steps are made as they are asked for.
    pub fn start(settings: &Settings) -> Result<Simulation, LabError> {
        let scenario = crate::lab::assemble::scenario(settings)?;
        Ok(Simulation::with(settings.clone(), scenario))
    }

    /// As [`Simulation::start`], run as far as it goes by itself: to its end,
    /// shown from the start; or, when the learner drives, to where it waits
    /// for them, shown up to there (an action acts at the cursor).
    pub fn from_settings(settings: &Settings) -> Result<Simulation, LabError> {
        let mut sim = Simulation::start(settings)?;
        sim.run_to_end();
        if sim.drive() == Drive::Watch {
            sim.cursor = 0;
        }
        Ok(sim)
    }

    /// The session a link names: its settings, run with the learner's
    /// actions in it replayed each at its step, as far as it goes; shown up
    /// to the link's step (else as [`Simulation::from_settings`] shows it).
    /// An action that no longer applies is left out, as when forking.
    pub fn from_link(link: &LinkText) -> Result<Simulation, LabError> {
        let mut sim = Simulation::from_settings(&link.settings)?;
        if !link.actions.is_empty() {
            (sim.run, sim.actions) = Machinery::replay(&sim.scenario, &sim.pki, link.actions.iter(), usize::MAX);
            sim.refresh();
            sim.cursor = sim.len();
        }
        if let Some(step) = link.step {
            sim.jump_to(step);
        }
        Ok(sim)
    }

    /// The learner's actions so far, each with the step it was taken at.
    pub fn actions(&self) -> &[Acted] {
        &self.actions
    }

    /// This session's link at a step: its settings and the learner's actions.
    pub fn link(&self, step: Option<usize>) -> String {
        crate::lab::settings::link_of(&self.settings, &self.actions, step)
    }

    fn with(settings: Settings, scenario: Scenario) -> Simulation {
        let pki = Pki::lab();
        let run = Machinery::new(&scenario, &pki);
        let mut sim = Simulation {
            settings,
            scenario,
            trace: run.route.trace(),
            outcomes: Vec::new(),
            finished: false,
            pki,
            run,
            actions: Vec::new(),
            cursor: 0,
        };
        sim.refresh();
        sim
    }

    /// A heading and a sentence for the session: the lesson's, or a summary of the setup.
    pub fn heading(&self) -> (String, String) {
        if let Some(lesson) = self.settings.preset {
            // A lesson with other settings on top (a fork, a link) is another
            // session: its own description may no longer be true of it.
            let changed: Vec<String> = self
                .settings
                .values()
                .into_iter()
                .filter(|(name, _)| name != "preset" && name != "seed")
                .map(|(name, value)| format!("{name}={value}"))
                .collect();
            if changed.is_empty() {
                return (lesson.title().to_owned(), lesson.description().to_owned());
            }
            let changed = changed.join(", ");
            return (
                format!("{} (changed: {changed})", lesson.title()),
                format!("The lesson's setup with {changed}: the steps and outcomes below are what this session did."),
            );
        }
        let s = &self.scenario;
        if let Some(relay) = &s.relay {
            let next = &relay.next;
            let mut title =
                format!("A message's journey: {} to the provider, then {} to the MX ({} MTA)", s.port, next.port, next.client.policy.id());
            for (hop, attack, drive) in [(1, s.attack, s.drive), (2, next.attack, next.drive)] {
                if let Some(a) = attack {
                    title.push_str(&format!("; hop {hop}: {}", a.title()));
                }
                match drive {
                    Drive::Mallory => title.push_str(&format!("; you are Mallory on hop {hop}")),
                    Drive::Client => title.push_str("; you are the mail client"),
                    Drive::Watch => {}
                }
            }
            let description = format!("Relay behaviour: {}.", relay.outbound.title());
            return (title, description);
        }
        let client = match s.drive {
            Drive::Client => "you are the client".to_owned(),
            _ => format!("{} client", s.client.policy.id()),
        };
        let mut title = format!("Port {}: {client}, server {}", s.port, s.server_tls().title());
        if let Some(a) = s.attack {
            title.push_str(&format!("; attack: {}", a.title()));
        }
        if s.drive == Drive::Mallory {
            title.push_str("; you are Mallory");
        }
        let description = match self.settings.cell {
            Some(cell) => format!("Attack matrix: {}, against the column \"{}\".", cell.row.title(), cell.column.title()),
            None => String::new(),
        };
        (title, description)
    }

    /// One view per step so far, as every renderer shows it.
    pub fn views(&self) -> Vec<StepView> {
        let journey = self.is_journey();
        let sender = crate::render::has_sender_lane(&self.lanes());
        self.trace.steps.iter().map(|s| StepView::in_session(s, journey, sender)).collect()
    }

    /// The session follows a message over more than one hop.
    pub fn is_journey(&self) -> bool {
        self.scenario.relay.is_some()
    }

    /// Each hop's scenario as it ran (one for a single connection).
    fn hop_scenarios(&self) -> Vec<Scenario> {
        crate::sim::route::hop_scenarios(&self.scenario, &self.trace)
    }

    /// What every TLS record of every step shows, each hop against its own server's chain.
    pub fn tls_views(&self) -> Vec<Vec<crate::render::tls_view::TlsRecordView>> {
        let chains: Vec<Vec<CertificateDer<'static>>> =
            self.hop_scenarios().iter().map(|s| self.pki.at(&s.server.hostname).identity(s.server_identity).chain().to_vec()).collect();
        crate::render::tls_view::tls_views_by_hop(&self.trace, &chains)
    }

    /// Whether anyone attacks this session: a built-in attack on a hop, the
    /// learner as Mallory, or a middlebox that acted (not the ISP's firewall,
    /// nor a client at the wrong port, which are no attackers).
    pub fn attacked(&self) -> bool {
        self.drive() == Drive::Mallory
            || self.hop_scenarios().iter().any(|s| s.attack.is_some_and(Attack::is_adversary))
            || self
                .trace
                .steps
                .iter()
                .any(|s| s.meddling().is_some_and(|m| m != Meddling::PortBlocked) || s.dns().is_some_and(|l| l.tampered.is_some()))
    }

    /// The findings as the banner marks them: "attack worked" only where
    /// there is an attacker, and no tick beside a leak.
    pub fn verdicts(&self) -> Vec<Verdict<'_>> {
        let attacked = self.attacked();
        // No tick beside a leak, nor beside TLS whose certificate the client took unchecked.
        let unchecked = self.trace.client_events().any(|(_, e)| matches!(e, ClientEvent::CertificateNotValidated { .. }));
        let any_bad = unchecked || self.outcomes.iter().any(|f| f.outcome.is_compromise() || f.outcome == Outcome::DeliveredInCleartext);
        self.outcomes
            .iter()
            .map(|finding| {
                let compromise = finding.outcome.is_compromise();
                let tone = match (compromise, attacked, &finding.outcome) {
                    (true, true, _) => Tone::AttackWorked,
                    (true, false, _) => Tone::Exposed,
                    (false, _, Outcome::DeliveredSecurely | Outcome::AbortedSafely { .. }) if !any_bad => Tone::Safe,
                    (false, _, _) => Tone::Plain,
                };
                Verdict { finding, text: finding.describe(), compromise, tone, mark: tone.mark() }
            })
            .collect()
    }

    /// Plain-language notes with RFC references, one list per step, each read
    /// with its hop's setup (its TLS mode, its attacker).
    pub fn notes(&self) -> Vec<Vec<crate::lab::explain::Note>> {
        crate::lab::explain::session_notes(&self.scenario, &self.trace)
    }

    /// The columns its rows are drawn between.
    pub fn lanes(&self) -> Vec<&'static str> {
        crate::render::view::lanes(
            self.is_journey(),
            self.attacked(),
            self.scenario.sender.is_some() || self.scenario.hop2().is_some_and(|h| h.sender.is_some()),
        )
    }

    /// Steps made so far.
    pub fn len(&self) -> usize {
        self.trace.steps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.trace.steps.is_empty()
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Who drives this session: the learner as hop 1's client, or as Mallory
    /// on either hop; otherwise the machines.
    pub fn drive(&self) -> Drive {
        match &self.scenario.relay {
            Some(relay) if self.scenario.drive == Drive::Watch => relay.next.drive,
            _ => self.scenario.drive,
        }
    }

    /// Makes steps until there are `to` (or the session needs the learner, or ends).
    fn advance(&mut self, to: usize) {
        if self.run.route.steps().len() < to {
            self.run.advance(to, self.scenario.drive);
            self.refresh();
        }
    }

    /// Runs as far as the session goes without the learner.
    pub fn run_to_end(&mut self) {
        self.advance(usize::MAX);
        self.cursor = self.len();
    }

    /// Reveals the next step, making it if need be; `None` when there is none yet.
    pub fn step_forward(&mut self) -> Option<&Step> {
        self.advance(self.cursor + 1);
        let step = self.trace.steps.get(self.cursor)?;
        self.cursor += 1;
        Some(step)
    }

    /// Hides the last revealed step; `None` at the start.
    pub fn step_back(&mut self) -> Option<&Step> {
        self.cursor = self.cursor.checked_sub(1)?;
        self.trace.steps.get(self.cursor)
    }

    /// Moves to just after step `n`, making steps as far as they go, as a deep link does.
    pub fn jump_to(&mut self, n: usize) {
        self.advance(n);
        self.cursor = n.min(self.len());
    }

    /// The steps revealed so far.
    pub fn shown(&self) -> &[Step] {
        &self.trace.steps[..self.cursor]
    }

    /// Outcomes whose step has been revealed.
    pub fn outcomes_so_far(&self) -> impl Iterator<Item = &Finding> {
        self.outcomes.iter().filter(|f| f.step < self.cursor)
    }

    /// Who the held segment is between: the running hop's client and server.
    pub fn held_between(&self) -> (&'static str, &'static str) {
        crate::render::view::parties(self.is_journey(), self.run.route.hop())
    }

    /// The segment waiting for Mallory's decision, if any.
    pub fn held(&self) -> Option<&Segment> {
        self.run.route.held()
    }

    /// Whether the console's next line is message text, and whether the
    /// client can still send (`None` unless the learner is the client).
    pub fn console(&self) -> Option<(bool, bool)> {
        let client = self.run.route.client().machine();
        client.console().map(|c| (c.in_body(), !client.is_closed()))
    }

    /// The learner, as the client, sends a line (without CRLF). The session
    /// then runs until it needs the learner again, and everything is shown.
    pub fn type_line(&mut self, line: &[u8]) -> Result<(), ActError> {
        self.act(Action::Type(line.to_vec()))
    }

    /// The learner, as Mallory, decides what happens to the held segment.
    pub fn decide(&mut self, decision: Decision) -> Result<(), ActError> {
        if self.drive() != Drive::Mallory {
            return Err(ActError::NotMallory);
        }
        self.act(Action::Decide(decision))
    }

    /// The learner, as Mallory, puts a segment of her own on the wire.
    pub fn inject(&mut self, direction: Direction, bytes: Vec<u8>) -> Result<(), ActError> {
        if self.drive() != Drive::Mallory {
            return Err(ActError::NotMallory);
        }
        if bytes.is_empty() {
            return Err(ActError::EmptyInjection);
        }
        self.act(Action::Inject(direction, bytes))
    }

    /// Takes an action at the cursor: an earlier step first re-runs the session
    /// from the seed to there (the old future is gone).
    /// An action that cannot be taken changes nothing, not even the future.
    fn act(&mut self, action: Action) -> Result<(), ActError> {
        if self.cursor < self.len() {
            let earlier = self.actions.iter().filter(|a| a.at < self.cursor);
            let (mut run, actions) = Machinery::replay(&self.scenario, &self.pki, earlier, self.cursor);
            run.apply(&action)?;
            (self.run, self.actions) = (run, actions);
        } else {
            self.run.apply(&action)?;
        }
        self.actions.push(Acted { at: self.run.route.steps().len(), action });
        self.run_to_end();
        Ok(())
    }

    /// The same session with one setting changed, re-run from the same seed
    /// (with the learner's actions replayed where they still apply) as far as
    /// it goes; and the first step at which the two differ.
    pub fn fork(&self, setting: &str, value: &str) -> Result<(Simulation, Option<usize>), LabError> {
        let settings = self.settings.with(setting, value)?;
        let mut fork = Simulation::start(&settings)?;
        (fork.run, fork.actions) = Machinery::replay(&fork.scenario, &fork.pki, self.actions.iter(), usize::MAX);
        fork.refresh();
        fork.cursor = self.cursor.min(fork.len());
        let diverges = self.diverges_from(&fork);
        Ok((fork, diverges))
    }

    /// The first step that is not the same in both (what crossed, and what each side did).
    pub fn diverges_from(&self, other: &Simulation) -> Option<usize> {
        let (a, b) = (&self.trace.steps, &other.trace.steps);
        let same = |x: &Step, y: &Step| {
            x.kind() == y.kind() && x.direction() == y.direction() && x.sent() == y.sent() && x.wire() == y.wire() && x.events == y.events
        };
        (0..a.len().max(b.len())).find(|&i| match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => !same(x, y),
            _ => true,
        })
    }

    /// What the learner meant to send, for the outcomes: at the console, the
    /// message they typed, sent as typed (no dot-stuffing of their lines).
    fn intended(&self) -> std::borrow::Cow<'_, Scenario> {
        match self.run.route.client().machine().console().map(|c| c.body()) {
            Some(body) => {
                let mut s = self.scenario.clone();
                s.client.message = body.to_vec();
                s.client.stuff_dots = false;
                std::borrow::Cow::Owned(s)
            }
            None => std::borrow::Cow::Borrowed(&self.scenario),
        }
    }

    fn refresh(&mut self) {
        self.trace = self.run.route.trace();
        self.finished = self.run.route.is_finished()
            || (self.drive() != Drive::Watch
                && self.run.route.current_client().machine().is_closed()
                && !self.run.route.has_delivery()
                && self.run.route.held().is_none());
        let mut outcomes = outcome::analyse(&self.intended(), &self.trace);
        if !self.finished {
            // "Not delivered" is a verdict on a session that has ended.
            outcomes.retain(|f| !matches!(f.outcome, Outcome::AbortedSafely { .. }));
        }
        self.outcomes = outcomes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim(link: &str) -> Simulation {
        Simulation::start(&Settings::from_link(link).unwrap().settings).unwrap()
    }

    #[test]
    fn a_strip_marks_the_line_mallory_took_out_and_nothing_else() {
        let settings = Settings::from_link("preset=strip-587-opportunistic").unwrap().settings;
        let sim = Simulation::from_settings(&settings).unwrap();
        let views = sim.views();
        let altered = views.iter().find(|v| v.altered).expect("the strip alters a step");
        let wrote = &altered.blocks[0];
        let lines: Vec<&str> = wrote.text.as_deref().unwrap().lines().collect();
        let removed: Vec<&str> = wrote.changed.iter().map(|&i| lines[i]).collect();
        assert_eq!(wrote.change, Some(crate::render::Change::Removed));
        assert_eq!(removed, ["250-STARTTLS\\r\\n"], "{lines:?}");
        let carried = altered.blocks.iter().find(|b| b.title == "The wire carried").unwrap();
        assert!(carried.changed.is_empty() || carried.change == Some(crate::render::Change::Added), "{carried:?}");
        assert!(views.iter().filter(|v| !v.altered).all(|v| v.blocks.iter().all(|b| b.changed.is_empty())));
        // The transcript marks the same change, line by line.
        let text = crate::render::transcript::transcript(&sim.trace);
        let change = text
            .lines()
            .skip_while(|l| !l.starts_with("!!! the change"))
            .skip(1)
            .take_while(|l| l.starts_with("!!!   "))
            .collect::<Vec<_>>();
        assert!(change.contains(&"!!!   - 250-STARTTLS"), "{change:?}");
        assert!(change.iter().all(|l| l.starts_with("!!!   - ") || l.starts_with("!!!   + ")), "{change:?}");
    }

    #[test]
    fn stepping_back_and_forth_is_exact() {
        let mut sim = sim("preset=strip-587-opportunistic");
        let forward: Vec<Step> = std::iter::from_fn(|| sim.step_forward().cloned()).collect();
        assert_eq!(forward.len(), sim.len());
        assert!(sim.finished);
        assert!(sim.step_forward().is_none());
        let mut backward: Vec<Step> = std::iter::from_fn(|| sim.step_back().cloned()).collect();
        backward.reverse();
        assert_eq!(forward, backward);
        assert_eq!(sim.cursor(), 0);
        assert_eq!(sim.outcomes_so_far().count(), 0);
        sim.jump_to(usize::MAX);
        assert_eq!(sim.cursor(), sim.len());
        assert!(sim.outcomes_so_far().any(|f| f.outcome.label() == "PASSWORD"));
    }

    #[test]
    fn a_lesson_with_a_setting_changed_does_not_keep_the_lessons_description() {
        let lesson = sim("preset=strip-587-opportunistic&seed=9").heading();
        assert_eq!(lesson.0, crate::lab::lessons::Lesson::Strip587Opportunistic.title(), "a seed changes no story");
        let (title, description) = sim("preset=strip-587-opportunistic").fork("policy", "require-starttls").unwrap().0.heading();
        assert!(title.ends_with("(changed: policy=require-starttls)"), "{title}");
        assert!(!description.contains("cleartext"), "{description}");
    }

    #[test]
    fn steps_are_made_as_they_are_asked_for() {
        let mut sim = sim("preset=submission-587");
        assert_eq!(sim.len(), 0);
        sim.jump_to(3);
        assert!((3..5).contains(&sim.len()), "{} steps made", sim.len());
        assert!(!sim.finished);
        assert!(sim.outcomes.is_empty(), "nothing is concluded before the end: {:?}", sim.outcomes);
        let whole = Simulation::from_settings(&sim.settings).unwrap();
        sim.run_to_end();
        assert_eq!(sim.trace, whole.trace, "made step by step or at once, the same session");
        assert_eq!(sim.outcomes, whole.outcomes);
    }
}
