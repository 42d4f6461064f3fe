//! smtp-lab: sans-IO SMTP client and server machines with real TLS, and a lab
//! that runs both sides of a session, an attacker on the wire, and shows what
//! crossed it.
//!
//! A machine takes bytes and time and hands back bytes and events; it never
//! reads a clock, touches a socket or draws randomness of its own. Here is a
//! client delivering to a server, the bytes carried by hand:
//!
//! ```
//! use std::time::Duration;
//! use smtp_lab::proto::{Client, ClientConfig, Machine, Output, Role, Server, ServerConfig, ServerEvent, TlsPolicy};
//!
//! let mail = b"Subject: lunch\r\n\r\nNoon?\r\n";
//! let mut client = Client::new(ClientConfig::new(TlsPolicy::Plain, "mx.example.net").sending("alice@example.org", &["bob@example.net"], mail));
//! let mx = ServerConfig { local_domains: vec!["example.net".into()], ..ServerConfig::new("mx.example.net", Role::Relay) };
//! let mut server = Server::new(mx);
//! let (now, mut accepted) = (Duration::ZERO, None);
//! server.connected(now);
//! client.connected(now);
//! while !client.is_closed() {
//!     while let Some(out) = server.poll_output() {
//!         match out {
//!             Output::Send(bytes) => client.handle_input(&bytes, now),
//!             Output::Event(ServerEvent::MessageAccepted { envelope, .. }) => accepted = Some(envelope),
//!             _ => {}
//!         }
//!     }
//!     while let Some(out) = client.poll_output() {
//!         if let Output::Send(bytes) = out {
//!             server.handle_input(&bytes, now);
//!         }
//!     }
//! }
//! assert_eq!(accepted.unwrap().to, ["bob@example.net"]);
//! ```
//!
//! (Every `Output` matters in a real driver: [`proto::Endpoint`] joins a
//! machine to TLS and carries out `StartTls` and `Close`; the simulated
//! [`sim::Link`] puts two endpoints on a wire, and the CLI's socket driver puts
//! one on TCP.)
//!
//! The folders are the layers, and each names only itself and those before it
//! (`tests/layers.rs` parses every file to check):
//!
//! - [`vocab`], [`bytes`]: the words every layer shares (a value's id and
//!   title; bytes that serialize as text or base64).
//! - [`proto`]: the sans-IO protocol cores: SMTP (codec, client, console,
//!   server), HTTP for the MTA-STS fetch, TLS, and the sending MTA's policies.
//! - [`sim`]: the simulated world (names, people, certificates, DNS zone), the
//!   wire, the attacker, scenarios and journeys, and the trace they record.
//! - [`outcome`]: what a finished trace amounted to, read from its bytes.
//! - [`render`]: the trace for people and tools (views, transcript, exports,
//!   packet capture, TLS dissection).
//! - [`lab`]: the teaching application (settings, lessons, claims, notes, the
//!   steppable session).
//!
//! Each layer's `mod.rs` is its face; the items most programs start from are
//! also here at the root.

#![warn(unreachable_pub)]

pub mod bytes;
pub mod cite;
pub mod lab;
pub mod outcome;
pub mod proto;
pub mod render;
pub mod sim;
pub mod vocab;

pub use lab::{Lesson, Settings, Simulation};
pub use outcome::{analyse, Finding, Outcome};
pub use proto::{Client, ClientConfig, Endpoint, Machine, Output, Server, ServerConfig};
pub use sim::{Link, Scenario, Trace};
