//! The blocking socket driver: the same endpoints as the simulation, on a real
//! TCP connection, with real elapsed time. Used by `smtp-lab serve`, `send`
//! and `probe` to talk to real SMTP software.
//!
//! One thread per connection; the machine's own timers set the read timeout,
//! so an idle or stalled peer is dropped by the protocol's rules.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use smtp_lab::bytes::Bytes;
use smtp_lab::proto::{Endpoint, Machine, RecordInfo, SessionEvent};
use smtp_lab::sim::{Crossing, Direction, Event, Happened, PartyState, Step, Trace};

/// Seconds since 1970, to start a session's clock from the real time.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Which way "outgoing" goes for the side this process plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plays {
    Client,
    Server,
}

impl Plays {
    fn outgoing(self) -> Direction {
        match self {
            Plays::Client => Direction::ClientToServer,
            Plays::Server => Direction::ServerToClient,
        }
    }
}

/// What [`over_tcp`] keeps of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Every step with its bytes, for a transcript or a trace file.
    Steps,
    /// Only events (to `on_event`): the trace comes back empty, and a
    /// connection holds no more memory than its machine's own bounded buffers.
    Events,
}

/// What this process saw happen on the connection, as a step records it.
enum Seen {
    Connect,
    /// Bytes that crossed (`outgoing`: sent by this side), their plaintext, and whether they were TLS records.
    Bytes {
        outgoing: bool,
        wire: Vec<u8>,
        plain: Vec<u8>,
        tls: bool,
    },
    Fin {
        outgoing: bool,
    },
    Timeout,
}

/// The steps of a real connection, one per thing seen, with the endpoint's
/// events and state after it.
struct StepLog<F> {
    side: Plays,
    keep: Keep,
    start: Instant,
    on_event: F,
    steps: Vec<Step>,
    /// Whether each direction (client's, server's) has sent its change_cipher_spec.
    after_ccs: [bool; 2],
}

impl<F: FnMut(&Event)> StepLog<F> {
    fn record<M: Machine>(&mut self, endpoint: &mut Endpoint<M>, seen: Seen)
    where
        SessionEvent<M::Event>: Into<Event>,
        M::State: Into<PartyState>,
    {
        let mut events = Vec::new();
        while let Some(e) = endpoint.poll_event() {
            let e: Event = e.into();
            (self.on_event)(&e);
            events.push(e);
        }
        if self.keep == Keep::Events {
            return;
        }
        let direction = |outgoing: bool| if outgoing { self.side.outgoing() } else { self.side.outgoing().reverse() };
        let happened = match seen {
            Seen::Connect => Happened::Connect,
            Seen::Timeout => Happened::Timeout,
            Seen::Fin { outgoing } => Happened::Fin(Crossing::new(direction(outgoing))),
            Seen::Bytes { outgoing, wire, plain, tls } => {
                let direction = direction(outgoing);
                let after = &mut self.after_ccs[usize::from(direction == Direction::ServerToClient)];
                Happened::Segment(Crossing {
                    records: if tls { RecordInfo::read_after(&wire, after) } else { Vec::new() },
                    sent: outgoing.then(|| Bytes(wire.clone())),
                    sender_plaintext: outgoing.then(|| Bytes(plain.clone())),
                    receiver_plaintext: (!outgoing && !plain.is_empty()).then_some(Bytes(plain)),
                    wire: Some(Bytes(wire)),
                    tls,
                    ..Crossing::new(direction)
                })
            }
        };
        let state: PartyState = endpoint.state().into();
        let (client_state, server_state) = match self.side {
            Plays::Client => (state, PartyState::Remote),
            Plays::Server => (PartyState::Remote, state),
        };
        let mut step = Step::new(self.start.elapsed().as_millis() as u64, happened, events, client_state, server_state);
        step.index = self.steps.len();
        self.steps.push(step);
    }
}

/// Runs `endpoint` over `stream` until it closes; returns the recorded trace.
/// `on_event` sees every event as it happens (to print accepted messages, say).
pub fn over_tcp<M: Machine>(
    mut endpoint: Endpoint<M>,
    mut stream: TcpStream,
    side: Plays,
    server: (&str, u16),
    keep: Keep,
    on_event: impl FnMut(&Event),
) -> Trace
where
    SessionEvent<M::Event>: Into<Event>,
    M::State: Into<PartyState>,
{
    let start = Instant::now();
    let mut log = StepLog { side, keep, start, on_event, steps: Vec::new(), after_ccs: [false; 2] };
    let _ = stream.set_nodelay(true);
    endpoint.open(Duration::ZERO);
    log.record(&mut endpoint, Seen::Connect);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        while let Some(t) = endpoint.poll_transmit() {
            if t.fin {
                let _ = stream.shutdown(Shutdown::Write);
                log.record(&mut endpoint, Seen::Fin { outgoing: true });
            } else {
                let ok = stream.write_all(&t.bytes).is_ok();
                log.record(&mut endpoint, Seen::Bytes { outgoing: true, wire: t.bytes, plain: t.plaintext, tls: t.tls });
                if !ok {
                    endpoint.handle_fin(start.elapsed());
                }
            }
        }
        if endpoint.is_closed() {
            break;
        }
        let now = start.elapsed();
        let wait = endpoint.poll_timeout().map(|t| t.saturating_sub(now).max(Duration::from_millis(1)));
        let _ = stream.set_read_timeout(Some(wait.unwrap_or(Duration::from_secs(3600))));
        let seen = match stream.read(&mut buf) {
            Ok(n) if n > 0 => {
                let wire = buf[..n].to_vec();
                // Cleartext SMTP never starts with a TLS record header, so the bytes say which it is.
                let tls = !RecordInfo::read(&wire).is_empty();
                let plain = endpoint.handle_wire(&wire, start.elapsed());
                Seen::Bytes { outgoing: false, wire, plain, tls }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                endpoint.handle_timeout(start.elapsed());
                Seen::Timeout
            }
            // The peer closed (a read of 0), or the connection broke.
            _ => {
                endpoint.handle_fin(start.elapsed());
                Seen::Fin { outgoing: false }
            }
        };
        log.record(&mut endpoint, seen);
    }
    linger(&mut stream, &mut buf);
    let ipv4 = |a: std::io::Result<std::net::SocketAddr>| match a.map(|a| a.ip()) {
        Ok(std::net::IpAddr::V4(v4)) => v4,
        _ => std::net::Ipv4Addr::UNSPECIFIED,
    };
    Trace {
        server_name: server.0.to_owned(),
        server_port: server.1,
        // Where each end of this TCP connection really was.
        client_addr: ipv4(if side == Plays::Client { stream.local_addr() } else { stream.peer_addr() }),
        server_addr: ipv4(if side == Plays::Client { stream.peer_addr() } else { stream.local_addr() }),
        simulated: false,
        steps: log.steps,
        truncated: false,
        key_log: vec![],
        hops: vec![],
    }
}

/// After our FIN, reads (and ignores) what the peer still sends, such as its
/// TLS close_notify, until it closes too: closing a socket with unread data
/// makes the kernel send a reset, which can destroy the peer's last reply.
fn linger(stream: &mut TcpStream, buf: &mut [u8]) {
    let deadline = Instant::now() + Duration::from_secs(2);
    while let Some(left) = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) {
        let _ = stream.set_read_timeout(Some(left));
        match stream.read(buf) {
            Ok(n) if n > 0 => continue,
            _ => return,
        }
    }
}
