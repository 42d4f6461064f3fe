//! A session as a packet capture (classic pcap, raw IPv4) that Wireshark and
//! tshark open: a real TCP connection with the three-way handshake, sequence
//! and acknowledgement numbers, segments of at most one MSS, and the FIN
//! exchange, timed by the simulation's clock. With the trace's key log,
//! Wireshark decrypts the TLS part.
//!
//! Without an attacker (or with one that only listens) there is one TCP
//! stream. When the attacker changed, dropped or made up bytes, the capture
//! has two legs with distinct addresses, each carrying what really crossed it:
//! the client's leg what the client wrote and read, the server's leg what the
//! attacker passed on and what the server wrote.

use crate::sim::trace::{Direction, Step, StepKind, Trace};
// The hosts' addresses are the trace's (the simulated world's come from the documentation
// ranges, RFC 5737); Mallory's own connection to the server, on the server's leg, comes from hers.
use crate::sim::world::names::{MALLORY_ADDR, SIM_EPOCH_UNIX};

pub const CLIENT_PORT: u16 = 49_152;
pub const ATTACKER_PORT: u16 = 49_153;
const MSS: usize = 1460;
const LINKTYPE_RAW: u32 = 101;

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

/// One direction of the connection.
struct Half {
    addr: [u8; 4],
    port: u16,
    seq: u32,
}

/// One TCP connection: its initiator and its listener.
struct Connection {
    client: Half,
    server: Half,
}

struct Writer {
    out: Vec<u8>,
    streams: Vec<Connection>,
}

fn checksum(chunks: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    let mut odd: Option<u8> = None;
    for chunk in chunks {
        for &b in *chunk {
            match odd.take() {
                Some(hi) => sum += u32::from(u16::from_be_bytes([hi, b])),
                None => odd = Some(b),
            }
        }
    }
    if let Some(hi) = odd {
        sum += u32::from(u16::from_be_bytes([hi, 0]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

impl Writer {
    fn packet(&mut self, leg: usize, ms: u64, from_client: bool, flags: u8, payload: &[u8]) {
        let stream = &mut self.streams[leg];
        let (src, dst) = if from_client { (&stream.client, &stream.server) } else { (&stream.server, &stream.client) };
        let mut tcp = Vec::with_capacity(20 + payload.len());
        tcp.extend_from_slice(&src.port.to_be_bytes());
        tcp.extend_from_slice(&dst.port.to_be_bytes());
        tcp.extend_from_slice(&src.seq.to_be_bytes());
        let ack = if flags & ACK != 0 { dst.seq } else { 0 };
        tcp.extend_from_slice(&ack.to_be_bytes());
        tcp.extend_from_slice(&[5 << 4, flags, 0xff, 0xff, 0, 0, 0, 0]);
        tcp.extend_from_slice(payload);
        let len = tcp.len() as u16;
        let pseudo = [&src.addr[..], &dst.addr[..], &[0, 6], &len.to_be_bytes()[..]].concat();
        let sum = checksum(&[&pseudo, &tcp]);
        tcp[16..18].copy_from_slice(&sum.to_be_bytes());

        let total = (20 + tcp.len()) as u16;
        let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0];
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        ip.extend_from_slice(&src.addr);
        ip.extend_from_slice(&dst.addr);
        let sum = checksum(&[&ip]);
        ip[10..12].copy_from_slice(&sum.to_be_bytes());

        let secs = SIM_EPOCH_UNIX + ms / 1000;
        let micros = (ms % 1000) * 1000;
        for field in [secs as u32, micros as u32, u32::from(total), u32::from(total)] {
            self.out.extend_from_slice(&field.to_le_bytes());
        }
        self.out.extend_from_slice(&ip);
        self.out.extend_from_slice(&tcp);

        let advance = payload.len() as u32 + u32::from(flags & (SYN | FIN) != 0);
        let src = if from_client { &mut stream.client } else { &mut stream.server };
        src.seq = src.seq.wrapping_add(advance);
    }
}

/// The capture of `trace`, as the bytes of a .pcap file. A journey's hops
/// are TCP streams of their own, each between its own two hosts: the mail
/// client and the provider, then the provider and the MX.
pub fn capture(trace: &Trace) -> Vec<u8> {
    let mut out = Vec::new();
    // Global header: magic, version 2.4, zone, sigfigs, snaplen, link type.
    for field in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 262_144, LINKTYPE_RAW] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    // The pcap version fields are two u16s: 2 then 4.
    out[4..8].copy_from_slice(&[2, 0, 4, 0]);
    if trace.hops.len() < 2 {
        return connection(out, trace, (trace.client_addr.octets(), CLIENT_PORT), trace.server_addr.octets(), 0);
    }
    for (i, hop) in trace.hops.iter().enumerate() {
        let mut one = trace.hop(i);
        one.server_port = hop.server_port;
        out = connection(out, &one, (hop.client_addr.octets(), CLIENT_PORT + i as u16), hop.server_addr.octets(), i as u32);
    }
    out
}

/// Appends one connection's packets (and Mallory's second leg, when she
/// changed what crossed) to `out`.
fn connection(out: Vec<u8>, trace: &Trace, client: ([u8; 4], u16), server_addr: [u8; 4], n: u32) -> Vec<u8> {
    let base = n.wrapping_mul(0x0800_0000);
    let server = |seq: u32| Half { addr: server_addr, port: trace.server_port, seq: seq.wrapping_add(base) };
    let mut streams =
        vec![Connection { client: Half { addr: client.0, port: client.1, seq: 0x1000_0000 + base }, server: server(0x2000_0000) }];
    let two_legs = trace.steps.iter().any(Step::altered_on_wire);
    if two_legs {
        let attacker = Half { addr: MALLORY_ADDR, port: ATTACKER_PORT + 2 * n as u16, seq: 0x3000_0000 + base };
        streams.push(Connection { client: attacker, server: server(0x4000_0000) });
    }
    let mut w = Writer { out, streams };
    let legs = w.streams.len();
    // The sender's DNS lookups and policy fetch are not part of the SMTP connection's TCP stream.
    for step in trace.steps.iter().filter(|s| s.lane == crate::sim::trace::Lane::Smtp) {
        let from_client = step.direction() == Some(Direction::ClientToServer);
        for leg in 0..legs {
            match step.kind() {
                StepKind::Connect => {
                    w.packet(leg, step.at_ms, true, SYN, &[]);
                    w.packet(leg, step.at_ms, false, SYN | ACK, &[]);
                    w.packet(leg, step.at_ms, true, ACK, &[]);
                }
                StepKind::Segment | StepKind::Dropped => {
                    // On one leg, what arrived. On two: the sender's leg carries what
                    // was written, the receiver's leg what the attacker delivered.
                    let senders_leg = if from_client { 0 } else { 1 };
                    let bytes = if two_legs && leg == senders_leg { &step.sent() } else { &step.wire() };
                    for chunk in bytes.iter().flat_map(|b| b.0.chunks(MSS)) {
                        w.packet(leg, step.at_ms, from_client, PSH | ACK, chunk);
                    }
                }
                StepKind::Fin => {
                    w.packet(leg, step.at_ms, from_client, FIN | ACK, &[]);
                    w.packet(leg, step.at_ms, !from_client, ACK, &[]);
                }
                StepKind::Timeout | StepKind::Dns | StepKind::Decision => {}
            }
        }
    }
    w.out
}

/// The key log as a file Wireshark reads (`tls.keylog_file`).
pub fn key_log_file(trace: &Trace) -> String {
    trace.key_log.iter().map(|l| format!("{l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_rfc_1071_example() {
        // RFC 1071 §3: 0001 f203 f4f5 f6f7 sums to ddf2, complemented 220d.
        assert_eq!(checksum(&[&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]]), 0x220d);
    }
}
