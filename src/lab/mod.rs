//! The teaching application: the settings a learner picks (one list of
//! knobs, from which the CLI's flags, the link and the page's form derive),
//! the lessons, the claims the explainer checks against sessions, the notes
//! that explain each step, and the live, steppable session.
//!
//! The submodules are `pub(crate)`; this is the face. Turning settings into a
//! scenario ([`assemble`]) and the explainer's claims ([`claims`]) keep their
//! own namespaces.

pub mod assemble;
pub mod claims;
pub(crate) mod explain;
pub(crate) mod lessons;
pub(crate) mod settings;
pub(crate) mod simulation;
mod titles;

pub use explain::{notes, session_notes, Note};
pub use lessons::{Lesson, LessonInfo};
pub use settings::{
    BadValue, ClientSettings, DomainSettings, Field, Group, Hop2Settings, JourneySettings, Kind, Knob, Knobs, LinkText, ServerSettings,
    Settings, SettingsError, Validation,
};
pub use simulation::{ActError, LabError, Simulation, Tone, Verdict};
