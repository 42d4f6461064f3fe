//! A journey's connections, run one after the other on one clock: the
//! provider relays a message after its MSA has accepted it and the
//! submission has ended (store and forward, RFC 5321 §2.1). The steps of
//! every hop make one trace, each step naming its hop.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use crate::proto::endpoint::Endpoint;
use crate::proto::smtp::codec::Command;
use crate::proto::smtp::server::ServerEvent;
use crate::sim::lookups;
use crate::sim::relay::Accepted;
use crate::sim::scenario::Scenario;
use crate::sim::trace::{Hop, Step, Trace};
use crate::sim::wire::{ClientMachine, Link, Segment, MAX_STEPS};
use crate::sim::world::pki::Pki;

/// How long the provider's queue holds a message before relaying it.
pub(crate) const RELAY_DELAY: Duration = Duration::from_secs(1);

/// Each hop's client and server, as the trace, the outcomes and the step views name them.
pub(crate) const HOP_PARTIES: [(&str, &str); 2] = [("MUA", "MSA"), ("MTA", "MX")];

/// Every hop's connection, the finished ones and the one running.
pub struct Route {
    scenario: Scenario,
    pki: Arc<Pki>,
    /// Hop 1's link (kept for its client, whom the learner may be), then hop 2's.
    links: Vec<Link>,
    /// Where each hop's clock starts on the journey's clock.
    offsets: Vec<Duration>,
    steps: Vec<Step>,
    /// How many of the current link's steps are in `steps`.
    synced: usize,
    /// The current hop's sender lookups (DNS, policy fetch), not yet handed out.
    pending: VecDeque<Step>,
    /// The current hop's sender decided not to connect: its link never runs.
    no_link: bool,
    /// TLS secrets of the senders' policy fetches.
    fetch_keys: Vec<String>,
}

impl Route {
    pub fn new(scenario: &Scenario, pki: &Arc<Pki>) -> Route {
        let mut route = Route {
            scenario: scenario.clone(),
            pki: pki.clone(),
            links: Vec::new(),
            offsets: Vec::new(),
            steps: Vec::new(),
            synced: 0,
            pending: VecDeque::new(),
            no_link: false,
            fetch_keys: Vec::new(),
        };
        route.open(scenario.clone(), Duration::ZERO);
        route
    }

    /// Opens a hop at `start` on the journey's clock: first the sender's
    /// lookups, if its client is an MTA with a sender policy, then the
    /// connection it decided on (or none).
    fn open(&mut self, hop: Scenario, start: Duration) {
        let hop_index = self.links.len();
        let (connect, offset) = match &hop.sender {
            Some(setup) => {
                let prelude = lookups::prepare(&hop, setup, &self.pki);
                for mut step in prelude.steps {
                    step.hop = hop_index;
                    step.at_ms += start.as_millis() as u64;
                    self.pending.push_back(step);
                }
                self.fetch_keys.extend(prelude.key_log);
                (prelude.connect, start + prelude.elapsed)
            }
            None => (Some(hop.clone()), start),
        };
        self.no_link = connect.is_none();
        // A hop that will not connect keeps a link all the same (never run), so that hop 1's client is always there.
        let s = connect.unwrap_or(hop);
        self.links.push(s.link(&self.pki.at(&s.server.hostname)));
        self.offsets.push(offset);
        self.synced = 0;
    }

    /// Whether the current hop is over: its connection finished, or it never had one.
    fn hop_done(&self) -> bool {
        self.pending.is_empty() && (self.no_link || self.current().is_finished())
    }

    fn current(&self) -> &Link {
        self.links.last().expect("a route has a link")
    }

    fn current_mut(&mut self) -> &mut Link {
        self.links.last_mut().expect("a route has a link")
    }

    /// The hop the next step belongs to.
    pub fn hop(&self) -> usize {
        self.links.len() - 1
    }

    /// The next hop's scenario, once the current hop has ended with a message to relay.
    fn next_hop(&self) -> Option<Scenario> {
        if self.links.len() != 1 || !self.hop_done() {
            return None;
        }
        let relay = self.scenario.relay.as_ref()?;
        hop_two(&self.scenario, relay, self.current().steps())
    }

    /// Advances by one delivery (or timer) on the current hop, or opens the next hop.
    pub fn step(&mut self) -> Option<&Step> {
        if self.steps.len() >= MAX_STEPS {
            return None;
        }
        if let Some(mut step) = self.pending.pop_front() {
            step.index = self.steps.len();
            self.steps.push(step);
            return self.steps.last();
        }
        if !self.no_link && self.current_mut().step().is_some() {
            self.sync();
            return self.steps.last();
        }
        let next = self.next_hop()?;
        let start = self.now() + RELAY_DELAY;
        self.open(next, start);
        self.step()
    }

    /// Copies the current link's new steps (a delivery can record several:
    /// what the middlebox dropped is a step too) onto the journey's clock.
    fn sync(&mut self) {
        let hop = self.hop();
        let offset = self.offsets[hop].as_millis() as u64;
        let link = self.links.last().expect("a route has a link");
        for step in &link.steps()[self.synced..] {
            let mut step = step.clone();
            step.index = self.steps.len();
            step.hop = hop;
            step.at_ms += offset;
            self.steps.push(step);
        }
        self.synced = link.steps().len();
    }

    pub fn run(mut self) -> Trace {
        while self.step().is_some() {}
        self.trace()
    }

    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    pub fn is_finished(&self) -> bool {
        self.hop_done() && self.next_hop().is_none()
    }

    /// Whether a delivery is due (see [`Link::has_delivery`]), the sender's
    /// lookups and the next hop's opening included.
    pub fn has_delivery(&self) -> bool {
        !self.pending.is_empty() || (!self.no_link && self.current().has_delivery()) || self.next_hop().is_some()
    }

    /// The trace so far.
    pub fn trace(&self) -> Trace {
        let first = self.links[0].trace_head();
        Trace {
            steps: self.steps.clone(),
            key_log: self.fetch_keys.iter().cloned().chain(self.links.iter().flat_map(|l| l.key_log().iter().cloned())).collect(),
            truncated: self.links.iter().any(Link::is_truncated) || self.steps.len() >= MAX_STEPS,
            hops: self.hops(),
            ..first
        }
    }

    /// The hops as they ran: each names the server its client connected to
    /// (after the sender's MX lookup, which an attacker may have forged).
    fn hops(&self) -> Vec<Hop> {
        let mut hops = hops(&self.scenario);
        for (hop, link) in hops.iter_mut().zip(&self.links) {
            let head = link.trace_head();
            (hop.server_name, hop.client_addr, hop.server_addr) = (head.server_name, head.client_addr, head.server_addr);
        }
        hops
    }

    /// The journey's clock: the current hop's, from the journey's start.
    pub fn now(&self) -> Duration {
        let waited = self.pending.back().map_or(Duration::ZERO, |s| Duration::from_millis(s.at_ms));
        let ran = if self.no_link { Duration::ZERO } else { self.offsets[self.hop()] + self.current().now() };
        ran.max(waited).max(self.offsets[self.hop()])
    }

    /// Hop 1's client: the one the learner types as.
    pub fn client(&self) -> &Endpoint<ClientMachine> {
        self.links[0].client()
    }

    /// The client of the hop running now.
    pub fn current_client(&self) -> &Endpoint<ClientMachine> {
        self.current().client()
    }

    pub fn client_act<R>(&mut self, f: impl FnOnce(&mut ClientMachine, Duration) -> R) -> R {
        let r = self.links[0].client_act(f);
        self.sync();
        r
    }

    pub fn held(&self) -> Option<&Segment> {
        self.current().held()
    }

    pub fn take_held(&mut self) -> Option<Segment> {
        self.current_mut().take_held()
    }

    pub fn release(&mut self, segments: Vec<Segment>) {
        self.current_mut().release(segments);
        self.sync();
    }
}

/// The hops of a journey as the trace names them; none for one connection.
pub fn hops(scenario: &Scenario) -> Vec<Hop> {
    let Some(relay) = &scenario.relay else { return Vec::new() };
    [scenario, &relay.next]
        .into_iter()
        .zip(HOP_PARTIES)
        .map(|(s, (client, server))| Hop {
            client: client.to_owned(),
            server: server.to_owned(),
            server_name: s.client.server_name.clone(),
            server_port: s.port,
            client_addr: s.client_addr,
            server_addr: s.server_addr,
        })
        .collect()
}

/// Each hop's scenario as it ran: hop 1 as set up, hop 2 as the relay made
/// it from the first message the MSA accepted (`None` if it accepted none).
pub(crate) fn hop_scenarios(scenario: &Scenario, trace: &Trace) -> Vec<Scenario> {
    let mut out = vec![scenario.clone()];
    if let Some(relay) = &scenario.relay {
        let first = trace.hop(0);
        out.extend(hop_two(scenario, relay, &first.steps));
    }
    // The server each client reached, which the sender's MX lookup chose.
    for (i, s) in out.iter_mut().enumerate() {
        let name = trace.hops.get(i).map_or(&trace.server_name, |h| &h.server_name);
        if s.sender.is_some() && !name.is_empty() {
            s.client.server_name = name.clone();
            s.server.hostname = name.clone();
        }
    }
    out
}

/// Hop 2 for the first message the MSA accepted in hop 1's `steps` (hop 1 starts the journey's clock).
fn hop_two(scenario: &Scenario, relay: &crate::sim::relay::Relay, steps: &[Step]) -> Option<Scenario> {
    // The name the client gave in its last EHLO or HELO before the message: what the Received header records.
    let mut helo = scenario.client.ehlo_name.clone();
    for s in steps {
        for e in &s.events {
            let crate::sim::trace::Event::Server(crate::proto::endpoint::SessionEvent::Machine(e)) = e else { continue };
            match e {
                ServerEvent::CommandReceived { command: Command::Ehlo { domain } | Command::Helo { domain }, .. } => helo = domain.clone(),
                ServerEvent::MessageAccepted { queue_id, envelope, body, under_tls, authenticated_as, .. } => {
                    let accepted = Accepted {
                        queue_id,
                        envelope,
                        body: body.as_slice(),
                        under_tls: *under_tls,
                        authenticated: authenticated_as.is_some(),
                        helo: &helo,
                    };
                    return Some(relay.forward(scenario, accepted, Duration::from_millis(s.at_ms)));
                }
                _ => {}
            }
        }
    }
    None
}
