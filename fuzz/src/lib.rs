//! What the fuzz targets share: splitting input into chunks the way a network
//! might, and draining a machine's output with a bound on what it may say.

use std::sync::Arc;
use std::time::Duration;

use smtp_lab::proto::{Machine, Output};
use smtp_lab::sim::world::Pki;

/// The simulated world's certificates (fixed data, made at build time).
pub fn pki() -> Arc<Pki> {
    Pki::lab()
}

/// Splits `data` into chunks whose sizes come from `sizes` (each byte a size, 1..=256),
/// cycling; the same bytes, in another chunking.
pub fn chunks<'a>(data: &'a [u8], sizes: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let (mut at, mut i) = (0, 0);
    while at < data.len() {
        let size = sizes.get(i % sizes.len().max(1)).map_or(data.len(), |&s| usize::from(s) + 1);
        let end = (at + size).min(data.len());
        out.push(&data[at..end]);
        at = end;
        i += 1;
    }
    out
}

/// Everything a machine has to say: the bytes it sent, and how many events.
pub fn drain<M: Machine>(m: &mut M) -> (Vec<u8>, usize) {
    let (mut bytes, mut events) = (Vec::new(), 0);
    while let Some(o) = m.poll_output() {
        match o {
            Output::Send(b) => bytes.extend(b),
            Output::Event(_) => events += 1,
            Output::StartTls | Output::Close => {}
        }
    }
    (bytes, events)
}

/// Feeds `input` to a machine in the given chunking, a second of time per chunk,
/// and checks that what it says stays within a small multiple of what it heard.
pub fn feed<M: Machine>(m: &mut M, input: &[u8], sizes: &[u8]) -> Vec<u8> {
    let mut said = Vec::new();
    let mut now = Duration::ZERO;
    m.connected(now);
    said.extend(drain(m).0);
    for chunk in chunks(input, sizes) {
        now += Duration::from_secs(1);
        m.handle_input(chunk, now);
        if m.poll_timeout().is_some_and(|t| t <= now) {
            m.handle_timeout(now);
        }
        said.extend(drain(m).0);
        assert!(said.len() <= 4096 + 64 * input.len(), "{} bytes out for {} in", said.len(), input.len());
    }
    m.handle_timeout(now + Duration::from_secs(3600));
    m.peer_closed(now + Duration::from_secs(3601));
    said.extend(drain(m).0);
    said
}
