//! smtp-lab: sans-IO SMTP client and server state machines with real TLS.
//!
//! Layers, each depending only on the ones above it:
//!
//! - [`codec`]: SMTP syntax (commands, replies, EHLO keywords, DATA, SASL), no state.
//! - [`pki`], [`tls`]: certificates made in memory; rustls driven without I/O.
//! - [`machine`], [`client`], [`server`]: the SMTP state machines.
//! - [`session`]: a machine plus TLS; owns the STARTTLS switch.
//! - [`wire`], [`trace`]: runs two endpoints against each other and records everything.
//! - [`scenario`], [`attack`]: settings (and an attacker) to a finished trace; [`outcome`] reads it;
//!   [`matrix`], [`preset`] run many; [`transcript`] renders one.
//! - Drivers: [`simulation`] (stepping, used by the browser through `wasm`), `socket` (real TCP).
//!
//! Nothing here reads a clock, touches a socket or keeps global state; time and
//! bytes are arguments. No input from the peer can cause a panic: a panic is a bug.

pub mod attack;
pub mod client;
pub mod codec;
pub mod explain;
pub mod export;
pub mod machine;
pub mod matrix;
pub mod outcome;
pub mod pcap;
pub mod pki;
pub mod preset;
pub mod scenario;
pub mod server;
pub mod session;
pub mod settings;
pub mod simulation;
#[cfg(not(target_arch = "wasm32"))]
pub mod socket;
pub mod tls;
pub mod trace;
pub mod transcript;
#[cfg(target_arch = "wasm32")]
pub mod wasm;
pub mod wire;
