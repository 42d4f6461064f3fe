//! Every attacker, fed arbitrary segments in either direction, cleartext or
//! TLS: no panic, and what it returns is bounded by what it was given.
#![no_main]
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use smtp_lab::sim::{Attack, Attacker, Direction, Meddling, Middlebox, Segment};
use smtp_lab::vocab::Named;

fuzz_target!(|input: (u8, Vec<(bool, bool, Vec<u8>)>)| {
    let (attack, segments) = input;
    let attack = Attack::ALL[usize::from(attack) % Attack::ALL.len()];
    let mut mallory = Attacker::new(attack, 25, fuzz_support::pki(), 0, smtp_lab::proto::Entropy::seeded(1, 3));
    for (i, (c2s, tls, bytes)) in segments.into_iter().enumerate() {
        let direction = if c2s { Direction::ClientToServer } else { Direction::ServerToClient };
        let mut seg = Segment::injected(direction, bytes.clone(), Meddling::InjectedByHand);
        seg.tls = tls;
        let out = mallory.on_segment(seg, Duration::from_secs(i as u64));
        let total: usize = out.iter().map(|s| s.bytes.len()).sum();
        assert!(total <= 64 * 1024 + 4 * bytes.len(), "{total} bytes out of {}", bytes.len());
    }
});
