//! The simulated world and the wire it runs on: two endpoints joined by a
//! wire ([`Link`]), an attacker that can sit on it, the sending MTA's lookups,
//! the journey's hops, and the record of it all ([`Trace`]). The lab's people,
//! names, certificates and zone have their own namespace, [`world`].
//!
//! The submodules are `pub(crate)`; this is the face.

pub(crate) mod attack;
pub(crate) mod lookups;
pub(crate) mod relay;
pub(crate) mod route;
pub(crate) mod scenario;
pub(crate) mod trace;
pub(crate) mod wire;
pub mod world;

pub use attack::middlebox::{Attacker, Decision, INJECTED_COMMANDS};
pub use attack::{Attack, AttackInfo};
pub use relay::{Accepted, Outbound, Relay};
pub use route::{hops, Route};
pub use scenario::{Drive, Scenario, ServerTls, DEFAULT_SEED};
pub use trace::{Crossing, Direction, Event, Happened, Hop, Lane, PartyState, Step, StepKind, Trace};
pub use wire::{ClientMachine, Link, Meddling, Middlebox, Segment, Wrap, MAX_STEPS};
