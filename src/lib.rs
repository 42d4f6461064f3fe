//! smtp-lab: sans-IO SMTP client and server state machines with real TLS.
//!
//! Layers, each depending only on the ones listed before it (`tests/layers.rs`
//! holds the exact order and checks every import against it):
//!
//! - Shared data and vocabulary: [`bytes`], [`names`], [`vocab`], [`tls_info`];
//!   [`dane`] and [`mta_sts`] (TLSA records and MTA-STS policies as data);
//!   [`codec`] (SMTP syntax, no state); [`dns`] (the simulated DNS); [`policy`] (the
//!   sending MTA's transport policies and decisions); the catalogues [`attack`] and [`lesson`].
//! - [`machine`], [`client`], [`server`]: the SMTP state machines; [`https`]: the policy fetch's.
//! - [`entropy`], [`pki`], [`tls`]: randomness from a seed; certificates; rustls driven without I/O.
//! - [`session`]: a machine plus TLS; owns the STARTTLS switch.
//! - [`trace`], [`wire`], [`attacker`]: two endpoints on a wire, an attacker on it, and the record;
//!   [`dissect`]: its TLS records, as the path sees them and opened with the session's secrets.
//! - [`scenario`], [`outcome`], [`matrix`], [`settings`], [`preset`], [`assemble`]: settings
//!   to a finished trace, and what it amounted to; [`tlsrpt`]: the report a sender would send.
//! - Views: [`view`] (one step as every renderer shows it), [`pcap`], [`transcript`],
//!   [`explain`], [`export`]; [`simulation`] steps through a session.
//! - Drivers: `wasm` (the browser), `socket` (real TCP).
//!
//! Nothing here reads a clock, touches a socket or keeps global state; time and
//! bytes are arguments. No input from the peer can cause a panic: a panic is a bug.

pub mod assemble;
pub mod attack;
pub mod attacker;
pub mod bytes;
pub mod claims;
pub mod client;
pub mod codec;
pub mod dane;
pub mod dissect;
pub mod dns;
pub mod entropy;
pub mod explain;
pub mod export;
pub mod https;
pub mod lesson;
pub mod machine;
pub mod matrix;
pub mod mta_sts;
pub mod names;
pub mod outcome;
pub mod pcap;
pub mod pki;
pub mod policy;
pub mod preset;
pub mod scenario;
pub mod server;
pub mod session;
pub mod settings;
pub mod simulation;
#[cfg(not(target_arch = "wasm32"))]
pub mod socket;
pub mod tls;
pub mod tls_info;
pub mod tlsrpt;
pub mod trace;
pub mod transcript;
pub mod view;
pub mod vocab;
#[cfg(target_arch = "wasm32")]
pub mod wasm;
pub mod wire;
