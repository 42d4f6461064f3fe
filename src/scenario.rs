//! Settings for a whole session, and the function that turns them into a trace.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::client::{Client, ClientConfig, TlsPolicy};
use crate::pki::{IdentityKind, Pki};
use crate::server::{Role, Server, ServerConfig};
use crate::session::{Endpoint, SessionOptions, TlsSide};
use crate::tls::ClientTls;
use crate::trace::Trace;
use crate::wire::Link;

/// Everything that decides how a session goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    /// The port the client connects to (shown in traces and captures).
    pub port: u16,
    pub client: ClientConfig,
    pub server: ServerConfig,
    /// The server expects a TLS handshake before any SMTP (port 465).
    pub server_implicit_tls: bool,
    /// Which certificate the server presents.
    pub server_identity: IdentityKind,
    /// Server bug: keep bytes that followed STARTTLS (CVE-2011-0411).
    pub server_keeps_buffer_across_tls: bool,
    /// Client bug: keep bytes that followed the 220 to STARTTLS.
    pub client_keeps_buffer_across_tls: bool,
}

impl Scenario {
    /// The usual setup for a port: 25 relay, 587/2525 submission with STARTTLS, 465 implicit TLS.
    pub fn for_port(port: u16) -> Scenario {
        match port {
            25 => Scenario::relay(),
            465 => Scenario::submissions(),
            _ => Scenario { port, ..Scenario::submission() },
        }
    }

    /// Port 25: a sending MTA with opportunistic STARTTLS delivers to an MX.
    pub fn relay() -> Scenario {
        Scenario::new(25, ClientConfig::relay(TlsPolicy::Opportunistic), ServerConfig::for_role(Role::Relay), false)
    }

    /// Port 587: a mail client that requires STARTTLS, then authenticates.
    pub fn submission() -> Scenario {
        Scenario::new(587, ClientConfig::submission(TlsPolicy::RequireStartTls), ServerConfig::for_role(Role::Submission), false)
    }

    /// Port 465: TLS from the first byte, then AUTH.
    pub fn submissions() -> Scenario {
        Scenario::new(465, ClientConfig::submission(TlsPolicy::Implicit), ServerConfig::for_role(Role::Submissions), true)
    }

    fn new(port: u16, client: ClientConfig, server: ServerConfig, server_implicit_tls: bool) -> Scenario {
        Scenario {
            port,
            client,
            server,
            server_implicit_tls,
            server_identity: IdentityKind::Valid,
            server_keeps_buffer_across_tls: false,
            client_keeps_buffer_across_tls: false,
        }
    }

    /// Builds the two endpoints and the wire between them.
    pub fn link(&self, pki: &Arc<Pki>) -> Link {
        let client_tls = ClientTls {
            roots: vec![pki.ca_cert.clone()],
            server_name: self.client.server_name.clone(),
            enforce_validation: self.client.validate_certificate,
        };
        let client = Endpoint::new(
            Client::new(self.client.clone()),
            TlsSide::Client(client_tls),
            SessionOptions {
                implicit_tls: self.client.policy == TlsPolicy::Implicit,
                keep_buffer_across_tls: self.client_keeps_buffer_across_tls,
                ..SessionOptions::default()
            },
        );
        let server = Endpoint::new(
            Server::new(self.server.clone()),
            TlsSide::Server { pki: pki.clone(), identity: self.server_identity },
            SessionOptions {
                implicit_tls: self.server_implicit_tls,
                keep_buffer_across_tls: self.server_keeps_buffer_across_tls,
                ..SessionOptions::default()
            },
        );
        Link::new(client, server, self.port)
    }

    /// Runs the session to the end.
    pub fn run(&self, pki: &Arc<Pki>) -> Trace {
        self.link(pki).run()
    }
}
