//! The teaching application: the settings a learner picks (one list of
//! knobs, from which the CLI's flags, the link and the page's form derive),
//! the lessons, the claims the explainer checks against sessions, the notes
//! that explain each step, and the live, steppable session.
//!
//! The submodules are `pub(crate)`; this is the face. Turning settings into a
//! scenario ([`assemble`]) and the explainer's claims ([`claims`]) keep their
//! own namespaces.

pub(crate) mod actions;
pub mod assemble;
pub mod claims;
pub(crate) mod explain;
pub(crate) mod lessons;
pub(crate) mod settings;
pub(crate) mod simulation;
mod titles;

pub use actions::{Acted, ActedView, Action, ActsError, BadAction};
pub use explain::{notes, session_notes, Note};
pub use lessons::{Lesson, LessonInfo, Topic};
pub use settings::{
    link_of, BadValue, ClientSettings, DomainSettings, Field, Group, Hop2Settings, JourneySettings, Kind, Knob, Knobs, LinkProblem,
    LinkText, Section, ServerSettings, Settings, SettingsError, Validation,
};
pub use simulation::{ActError, LabError, Simulation, Tone, Verdict};
