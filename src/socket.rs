//! The blocking socket driver: the same endpoints as the simulation, on a real
//! TCP connection, with real elapsed time. Used by `smtp-lab serve`, `send`
//! and `probe` to talk to real SMTP software.
//!
//! One thread per connection; the machine's own timers set the read timeout,
//! so an idle or stalled peer is dropped by the protocol's rules.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::bytes::Bytes;
use crate::machine::Machine;
use crate::session::{Endpoint, SessionEvent};
use crate::tls;
use crate::trace::{Direction, Event, Step, StepKind, Trace};

/// Seconds since 1970, to start a session's clock from the real time.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Which way "outgoing" goes for the side this process plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

impl Side {
    fn outgoing(self) -> Direction {
        match self {
            Side::Client => Direction::ClientToServer,
            Side::Server => Direction::ServerToClient,
        }
    }
}

/// What [`drive`] keeps of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Every step with its bytes, for a transcript or a trace file.
    Steps,
    /// Only events (to `on_event`): the trace comes back empty, and a
    /// connection holds no more memory than its machine's own bounded buffers.
    Events,
}

/// Runs `endpoint` over `stream` until it closes; returns the recorded trace.
/// `on_event` sees every event as it happens (to print accepted messages, say).
pub fn drive<M: Machine>(
    mut endpoint: Endpoint<M>,
    mut stream: TcpStream,
    side: Side,
    server: (&str, u16),
    keep: Keep,
    mut on_event: impl FnMut(&Event),
) -> Trace
where
    SessionEvent<M::Event>: Into<Event>,
{
    let start = Instant::now();
    let mut steps: Vec<Step> = Vec::new();
    // Whether each side (client, server) has sent its change_cipher_spec.
    let mut after_ccs = [false; 2];
    let mut record = |steps: &mut Vec<Step>,
                      endpoint: &mut Endpoint<M>,
                      kind,
                      dir: Option<Direction>,
                      wire: Option<Vec<u8>>,
                      plain: Option<Vec<u8>>,
                      tls: bool| {
        let mut events = Vec::new();
        while let Some(e) = endpoint.poll_event() {
            let e: Event = e.into();
            on_event(&e);
            events.push(e);
        }
        if keep == Keep::Events {
            return;
        }
        let outgoing = dir == Some(side.outgoing());
        let state = endpoint.state_name();
        let after = &mut after_ccs[usize::from(dir == Some(Direction::ServerToClient))];
        let records = wire.as_deref().filter(|_| tls).map(|w| tls::records_after(w, after)).unwrap_or_default();
        steps.push(Step {
            hop: 0,
            lane: Default::default(),
            dns: None,
            index: steps.len(),
            at_ms: start.elapsed().as_millis() as u64,
            kind,
            direction: dir,
            sent: wire.clone().filter(|_| outgoing).map(Bytes),
            tls,
            records,
            sender_plaintext: plain.clone().filter(|_| outgoing).map(Bytes),
            receiver_plaintext: plain.filter(|p| !outgoing && !p.is_empty()).map(Bytes),
            wire: wire.map(Bytes),
            middlebox: None,
            attacker_plaintext: None,
            events,
            client_state: if side == Side::Client { state.clone() } else { "(remote)".into() },
            server_state: if side == Side::Server { state } else { "(remote)".into() },
        });
    };
    let _ = stream.set_nodelay(true);
    endpoint.open(Duration::ZERO);
    record(&mut steps, &mut endpoint, StepKind::Connect, None, None, None, false);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        while let Some(t) = endpoint.poll_transmit() {
            if t.fin {
                let _ = stream.shutdown(Shutdown::Write);
                record(&mut steps, &mut endpoint, StepKind::Fin, Some(side.outgoing()), None, None, false);
            } else {
                let ok = stream.write_all(&t.bytes).is_ok();
                record(&mut steps, &mut endpoint, StepKind::Segment, Some(side.outgoing()), Some(t.bytes), Some(t.plaintext), t.tls);
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
        match stream.read(&mut buf) {
            Ok(0) => {
                endpoint.handle_fin(start.elapsed());
                record(&mut steps, &mut endpoint, StepKind::Fin, Some(side.outgoing().reverse()), None, None, false);
            }
            Ok(n) => {
                let wire = buf[..n].to_vec();
                // Cleartext SMTP never starts with a TLS record header, so the bytes say which it is.
                let tls = !tls::records(&wire).is_empty();
                let plain = endpoint.handle_wire(&wire, start.elapsed());
                record(&mut steps, &mut endpoint, StepKind::Segment, Some(side.outgoing().reverse()), Some(wire), Some(plain), tls);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                endpoint.handle_timeout(start.elapsed());
                record(&mut steps, &mut endpoint, StepKind::Timeout, None, None, None, false);
            }
            Err(_) => {
                endpoint.handle_fin(start.elapsed());
                record(&mut steps, &mut endpoint, StepKind::Fin, Some(side.outgoing().reverse()), None, None, false);
            }
        }
    }
    linger(&mut stream, &mut buf);
    Trace {
        server_name: server.0.to_owned(),
        server_port: server.1,
        simulated: false,
        steps,
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
