//! Settings for a whole session, and the function that turns them into a trace.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::proto::endpoint::{Endpoint, SessionOptions, TlsSide};
use crate::proto::policy::dane::Tlsa;
use crate::proto::policy::sender::SenderSetup;
use crate::proto::smtp::client::{Client, ClientConfig, Credentials, TlsPolicy};
use crate::proto::smtp::codec::{Mechanism, Secret};
use crate::proto::smtp::console::Console;
use crate::proto::smtp::server::{Account, Role, Server, ServerConfig, SpfSetup};
use crate::proto::tls::entropy::Entropy;
use crate::proto::tls::{ClientTls, TlsVersions};
use crate::sim::attack::middlebox::Attacker;
use crate::sim::attack::Attack;
use crate::sim::trace::Trace;
use crate::sim::wire::{ClientMachine, Link};
use crate::sim::world::names::SIM_EPOCH_UNIX;
use crate::sim::world::names::{CLIENT_ADDR, CUSTOMER_DOMAIN, PROVIDER_ADDR, PROVIDER_DOMAIN, PROVIDER_NAME, SERVER_ADDR};
use crate::sim::world::people;
use crate::sim::world::pki::{IdentityKind, Pki};
use crate::sim::world::zone;
use crate::vocab::choice;

use crate::sim::relay::{Outbound, Relay};
use crate::sim::route::Route;

/// The seed a session has when none is given.
pub const DEFAULT_SEED: u64 = 1;

/// The endpoints of a simulated session, each with its own stream of draws.
pub(crate) mod stream {
    pub(crate) const CLIENT: u64 = 1;
    pub(crate) const SERVER: u64 = 2;
    /// The attacker's own TLS endpoint (certificate substitution).
    pub(crate) const ATTACKER: u64 = 3;
    /// The sending MTA's HTTPS fetch of an MTA-STS policy, and the policy host.
    pub(crate) const POLICY_CLIENT: u64 = 4;
    pub(crate) const POLICY_SERVER: u64 = 5;

    /// The same party's stream on another hop of a journey, so that no two
    /// connections share random numbers.
    pub(crate) const fn on_hop(stream: u64, hop: u8) -> u64 {
        stream + 16 * hop as u64
    }
}

choice! {
    /// How the server does TLS.
    pub enum ServerTls ("server TLS mode") {
        Starttls = "starttls": "offers STARTTLS (RFC 3207)",
        Implicit = "implicit": "TLS from the first byte (RFC 8314 §3.3)",
        None = "none": "no TLS at all",
    }
}

impl ServerTls {
    /// How a server in this role does TLS unless told otherwise.
    pub fn for_role(role: Role) -> ServerTls {
        if role == Role::Submissions {
            ServerTls::Implicit
        } else {
            ServerTls::Starttls
        }
    }
}

choice! {
    /// Who drives the session: the machines alone, or the learner as one of the parties.
    #[derive(Default)]
    pub enum Drive ("driver") {
        #[default]
        Watch = "watch": "the client and server machines run by themselves; you watch",
        Client = "client": "you are the client: type its SMTP lines at the real server",
        Mallory = "mallory": "you are Mallory: every segment stops on the wire for you to pass, drop, edit or add to",
    }
}

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
    /// The TLS versions each side speaks.
    #[serde(default)]
    pub client_tls_versions: TlsVersions,
    #[serde(default)]
    pub server_tls_versions: TlsVersions,
    /// Server bug: keep bytes that followed STARTTLS (CVE-2011-0411).
    pub server_keeps_buffer_across_tls: bool,
    /// Client bug: keep bytes that followed the 220 to STARTTLS.
    pub client_keeps_buffer_across_tls: bool,
    /// Who sits on the wire, if anyone.
    pub attack: Option<Attack>,
    /// Every random number of the session's TLS comes from it: the same
    /// scenario and seed give the same bytes.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Who drives: the machines, or the learner as the client or as Mallory.
    #[serde(default)]
    pub drive: Drive,
    /// Which hop of a journey this connection is (0 for the first): each hop
    /// draws from its own random streams.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hop: u8,
    /// A journey: the server is the sender's provider, which relays what it
    /// accepts to the recipient's MX (hop 2). `None` for one connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay: Option<Box<Relay>>,
    /// The client is a sending MTA that looks up the recipient domain's MX
    /// and transport policies before it connects (`sim/lookups.rs`); `None` for a
    /// client that connects straight to the server it was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<Box<SenderSetup>>,
    /// TLSA records the client checks the certificate against instead of its
    /// CA store (set by the sender's DANE lookup).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tlsa: Option<Vec<Tlsa>>,
    /// The server checks each MAIL FROM's SPF record (RFC 7208 §2.4) in the
    /// world's DNS, for the client at `client_addr` (the MX of a journey).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub check_spf: bool,
    /// Where the two hosts are: a mail client or the provider's MTA, and the
    /// server it connected to (the address the sender's DNS answer gave).
    pub client_addr: Ipv4Addr,
    pub server_addr: Ipv4Addr,
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}

fn default_seed() -> u64 {
    DEFAULT_SEED
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
        let mut s = Scenario::new(25, people::mta_client(TlsPolicy::Opportunistic), people::server(Role::Relay), false);
        // The sending MTA is the provider's.
        s.client_addr = Ipv4Addr::from(PROVIDER_ADDR);
        s
    }

    /// Port 587: a mail client that requires STARTTLS, then authenticates.
    pub fn submission() -> Scenario {
        Scenario::new(587, people::mail_client(TlsPolicy::RequireStartTls), people::server(Role::Submission), false)
    }

    /// Port 465: TLS from the first byte, then AUTH.
    pub fn submissions() -> Scenario {
        Scenario::new(465, people::mail_client(TlsPolicy::Implicit), people::server(Role::Submissions), true)
    }

    fn new(port: u16, client: ClientConfig, server: ServerConfig, server_implicit_tls: bool) -> Scenario {
        Scenario {
            port,
            client,
            server,
            server_implicit_tls,
            server_identity: IdentityKind::Valid,
            client_tls_versions: TlsVersions::Both,
            server_tls_versions: TlsVersions::Both,
            server_keeps_buffer_across_tls: false,
            client_keeps_buffer_across_tls: false,
            attack: None,
            seed: DEFAULT_SEED,
            drive: Drive::Watch,
            hop: 0,
            relay: None,
            sender: None,
            tlsa: None,
            check_spf: false,
            client_addr: Ipv4Addr::from(CLIENT_ADDR),
            server_addr: Ipv4Addr::from(SERVER_ADDR),
        }
    }

    /// The journey of one message (RFC 6409 §1, RFC 5321 §2.1): alice submits
    /// to her provider on `port` (587 with STARTTLS, or 465 with implicit
    /// TLS), and the provider relays to bob's MX on 25 ([`Relay::usual`]).
    pub fn journey(port: u16) -> Scenario {
        let mut s = if port == 465 { Scenario::submissions() } else { Scenario { port, ..Scenario::submission() } };
        s.client.server_name = PROVIDER_NAME.to_owned();
        s.client.from = format!("alice@{PROVIDER_DOMAIN}");
        s.client.message = String::from_utf8_lossy(&s.client.message).replace("alice@example.test", &s.client.from).into_bytes();
        s.server.hostname = PROVIDER_NAME.to_owned();
        s.server_addr = Ipv4Addr::from(PROVIDER_ADDR);
        s.server.local_domains = vec![PROVIDER_DOMAIN.to_owned()];
        s.server.accounts.push(Account { username: "mallory".into(), password: Secret::new(people::MALLORY_PASSWORD) });
        s.relay = Some(Box::new(Relay::usual()));
        s
    }

    /// This connection as hop 1 of a journey: its server becomes the
    /// sender's provider, which relays what it accepts as [`Relay::usual`].
    /// A journey stays as it is.
    pub fn into_journey(self) -> Scenario {
        if self.relay.is_some() {
            return self;
        }
        let mut j = Scenario::journey(self.port);
        j.client = ClientConfig { server_name: j.client.server_name, from: j.client.from, message: j.client.message, ..self.client };
        j.server =
            ServerConfig { hostname: j.server.hostname, local_domains: j.server.local_domains, accounts: j.server.accounts, ..self.server };
        Scenario { client: j.client, server: j.server, relay: j.relay, client_addr: j.client_addr, server_addr: j.server_addr, ..self }
    }

    /// This connection (an MTA to an MX) as hop 2 of a journey from a 587 submission.
    pub fn as_hop2(self) -> Scenario {
        let mut j = Scenario::journey(587);
        j.seed = self.seed;
        if let Some(relay) = j.relay.as_mut() {
            let usual = relay.next.clone();
            relay.next = Scenario {
                client: ClientConfig { ehlo_name: usual.client.ehlo_name, ..self.client },
                server: self.server,
                check_spf: usual.check_spf,
                client_addr: usual.client_addr,
                server_addr: usual.server_addr,
                hop: 1,
                ..self
            };
        }
        j
    }

    /// Hop 2 of a journey.
    pub fn hop2(&self) -> Option<&Scenario> {
        self.relay.as_ref().map(|r| &r.next)
    }

    /// Hop 2 of a journey, to change its settings.
    pub fn hop2_mut(&mut self) -> Option<&mut Scenario> {
        self.relay.as_mut().map(|r| &mut r.next)
    }

    /// Puts an attack into the scenario. Most act on the wire; a smuggling
    /// sender is the client itself, writing its own wire bytes; a wrong-mode
    /// "attack" is a client pointed at the wrong port.
    pub fn with_attack(mut self, attack: Attack) -> Scenario {
        self.attack = Some(attack);
        if let (Some(seq), Some(_)) = (attack.smuggle_sequence(), &self.relay) {
            // In a journey the smuggler is a customer of the provider: she
            // submits under her own account, and no one sits on any wire.
            self.client.credentials = Some(Credentials {
                username: "mallory".into(),
                password: Secret::new(people::MALLORY_PASSWORD),
                mechanism: Mechanism::Plain,
                initial_response: true,
            });
            self.client.from = format!("mallory@{PROVIDER_DOMAIN}");
            self.client.message = people::smuggling_message(seq, CUSTOMER_DOMAIN);
            self.client.stuff_dots = false;
            return self;
        }
        if let Some(seq) = attack.smuggle_sequence() {
            self.client.message = people::smuggling_message(seq, "example.test");
            self.client.stuff_dots = false;
        }
        // An attack on a sending MTA's lookups needs one: the relay on 25, with the sender it defeats.
        if let (Some(sender), None, None) = (attack.sender_it_defeats(), &self.relay, &self.sender) {
            if self.server.role != Role::Relay {
                self = Scenario { attack: self.attack, seed: self.seed, drive: self.drive, ..Scenario::relay() };
            }
            self.sender = Some(Box::new(sender));
        }
        // A wrong-mode client keeps its own settings and meets the other kind of server.
        match attack {
            Attack::WrongModeImplicitTo587 => {
                self.client.policy = TlsPolicy::Implicit;
                if self.server_implicit_tls {
                    self.server = people::server(Role::Submission);
                    self.server_implicit_tls = false;
                    self.port = 587;
                }
            }
            Attack::WrongModeStarttlsTo465 => {
                if self.client.policy == TlsPolicy::Implicit {
                    self.client.policy = TlsPolicy::RequireStartTls;
                }
                if !self.server_implicit_tls {
                    self.server = people::server(Role::Submissions);
                    self.server_implicit_tls = true;
                    self.port = 465;
                }
            }
            _ => {}
        }
        self
    }

    /// How the server does TLS.
    pub fn server_tls(&self) -> ServerTls {
        match (self.server_implicit_tls, self.server.starttls) {
            (true, _) => ServerTls::Implicit,
            (false, true) => ServerTls::Starttls,
            (false, false) => ServerTls::None,
        }
    }

    pub fn set_server_tls(&mut self, tls: ServerTls) {
        self.server.starttls = tls == ServerTls::Starttls;
        self.server_implicit_tls = tls == ServerTls::Implicit;
    }

    /// Builds the two endpoints and the wire between them.
    pub fn link(&self, pki: &Arc<Pki>) -> Link {
        let client_tls = ClientTls {
            roots: vec![pki.ca_cert.clone()],
            server_name: self.client.server_name.clone(),
            enforce_validation: self.client.validate_certificate,
            versions: self.client_tls_versions,
            dane: self.tlsa.clone(),
        };
        let machine = match self.drive {
            Drive::Client => ClientMachine::Console(Console::new(self.client.clone())),
            _ => ClientMachine::Auto(Client::new(self.client.clone())),
        };
        let client = Endpoint::new(
            machine,
            TlsSide::Client(client_tls),
            SessionOptions {
                implicit_tls: self.client.policy == TlsPolicy::Implicit,
                keep_buffer_across_tls: self.client_keeps_buffer_across_tls,
                ..SessionOptions::new(SIM_EPOCH_UNIX, Entropy::seeded(self.seed, stream::on_hop(stream::CLIENT, self.hop)))
            },
        );
        let mut server_config = self.server.clone();
        // A provider that rejects bare LF does it at submission (postconf(5), smtpd_forbid_bare_newline).
        server_config.reject_bare_lf |= self.relay.as_ref().is_some_and(|r| r.outbound == Outbound::Reject);
        let mut server = Server::new(server_config);
        if self.check_spf {
            server = server.checking_spf(SpfSetup { resolver: Arc::new(zone::spf_zone()), client_ip: IpAddr::V4(self.client_addr) });
        }
        let server = Endpoint::new(
            server,
            TlsSide::Server { identity: pki.identity(self.server_identity).tls.clone(), versions: self.server_tls_versions },
            SessionOptions {
                implicit_tls: self.server_implicit_tls,
                keep_buffer_across_tls: self.server_keeps_buffer_across_tls,
                ..SessionOptions::new(SIM_EPOCH_UNIX, Entropy::seeded(self.seed, stream::on_hop(stream::SERVER, self.hop)))
            },
        );
        let link = Link::new(client, server, &self.client.server_name, self.port).with_addresses(self.client_addr, self.server_addr);
        if self.drive == Drive::Mallory {
            return link.with_interception();
        }
        match self.attack.and_then(Attack::wire_part) {
            Some(attack) => {
                let entropy = Entropy::seeded(self.seed, stream::on_hop(stream::ATTACKER, self.hop));
                link.with_middlebox(Box::new(Attacker::new(attack, self.port, pki.clone(), SIM_EPOCH_UNIX, entropy)))
            }
            None => link,
        }
    }

    /// Runs the session (every hop of a journey) to the end.
    pub fn run(&self, pki: &Arc<Pki>) -> Trace {
        Route::new(self, pki).run()
    }
}
