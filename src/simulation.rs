//! A session to step through: run once, then move a cursor over the recorded
//! steps. Stepping back is exact because nothing is re-run (a re-run would
//! differ in its TLS keys and signatures). This is what the browser lab drives.

use std::sync::Arc;

use serde::Serialize;

use crate::outcome::{self, Finding};
use crate::pki::Pki;
use crate::scenario::Scenario;
use crate::settings::{Settings, SettingsError};

/// Why a session could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
}
use rustls::pki_types::CertificateDer;

use crate::trace::{Step, Trace};
use crate::view::StepView;
use crate::vocab::Choice;

#[derive(Debug, Clone, Serialize)]
pub struct Simulation {
    /// What the session was asked for (empty when built from a scenario directly).
    pub settings: Settings,
    pub scenario: Scenario,
    pub trace: Trace,
    pub outcomes: Vec<Finding>,
    /// The server's own certificate chain, to set beside another that reached
    /// the client (not part of the session's JSON: the trace has what crossed).
    #[serde(skip)]
    pub server_chain: Vec<CertificateDer<'static>>,
    /// Steps shown so far: 0 before the first, `trace.steps.len()` at the end.
    cursor: usize,
}

impl Simulation {
    pub fn new(scenario: Scenario, pki: &Arc<Pki>) -> Simulation {
        let trace = scenario.run(pki);
        let outcomes = outcome::analyse(&scenario, &trace);
        let server_chain = pki.identity(scenario.server_identity).chain.clone();
        Simulation { settings: Settings::default(), scenario, trace, outcomes, server_chain, cursor: 0 }
    }

    /// The session that settings (a preset, a matrix cell, or a setup, as in a
    /// deep link) describe, with its own certificates.
    pub fn from_settings(settings: &Settings) -> Result<Simulation, LabError> {
        let scenario = crate::assemble::scenario(settings)?;
        let pki = Pki::lab();
        Ok(Simulation { settings: settings.clone(), ..Simulation::new(scenario, &pki) })
    }

    /// A heading and a sentence for the session: the lesson's, or a summary of the setup.
    pub fn heading(&self) -> (String, String) {
        if let Some(lesson) = self.settings.preset {
            return (lesson.title().to_owned(), lesson.description().to_owned());
        }
        let s = &self.scenario;
        let mut title = format!("Port {}: {} client, server {}", s.port, s.client.policy.id(), s.server_tls().title());
        if let Some(a) = s.attack {
            title.push_str(&format!("; attack: {}", a.title()));
        }
        let description = match self.settings.cell {
            Some(cell) => format!("Attack matrix: {}, against the column \"{}\".", cell.row.title(), cell.column.title()),
            None => String::new(),
        };
        (title, description)
    }

    /// One view per step, as every renderer shows it.
    pub fn views(&self) -> Vec<StepView> {
        self.trace.steps.iter().map(StepView::of).collect()
    }

    pub fn len(&self) -> usize {
        self.trace.steps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.trace.steps.is_empty()
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Reveals the next step; `None` at the end.
    pub fn step_forward(&mut self) -> Option<&Step> {
        let step = self.trace.steps.get(self.cursor)?;
        self.cursor += 1;
        Some(step)
    }

    /// Hides the last revealed step; `None` at the start.
    pub fn step_back(&mut self) -> Option<&Step> {
        self.cursor = self.cursor.checked_sub(1)?;
        self.trace.steps.get(self.cursor)
    }

    /// Moves to just after step `n` (clamped), as a deep link does.
    pub fn jump_to(&mut self, n: usize) {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stepping_back_and_forth_is_exact() {
        let settings = Settings::from_link("preset=strip-587-opportunistic").unwrap().settings;
        let mut sim = Simulation::from_settings(&settings).unwrap();
        let forward: Vec<Step> = std::iter::from_fn(|| sim.step_forward().cloned()).collect();
        assert_eq!(forward.len(), sim.len());
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
}
