//! A client and server with TLS, and a middlebox that corrupts, cuts or
//! replaces the TLS records as the input says: no panic, and the session ends
//! within the step limit with a clear outcome.
#![no_main]
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use smtp_lab::outcome;
use smtp_lab::sim::{Meddling, Middlebox, Scenario, Segment, MAX_STEPS};

/// Each TLS segment takes the next instruction: pass, flip a byte, cut, or replace with input bytes.
struct Corrupter {
    plan: Vec<u8>,
    at: usize,
}

impl Middlebox for Corrupter {
    fn on_segment(&mut self, mut seg: Segment, _: Duration) -> Vec<Segment> {
        if !seg.tls || seg.bytes.is_empty() || self.at >= self.plan.len() {
            return vec![seg];
        }
        let op = self.plan[self.at];
        let arg = usize::from(*self.plan.get(self.at + 1).unwrap_or(&0));
        self.at += 2;
        let n = seg.bytes.len();
        match op % 4 {
            0 => {}
            1 => seg.bytes[arg % n] ^= 0x01 << (op >> 5),
            2 => seg.bytes.truncate(arg % n),
            _ => {
                let start = self.at.min(self.plan.len());
                let end = (start + arg).min(self.plan.len());
                seg.bytes = self.plan[start..end].to_vec();
                self.at = end;
            }
        }
        seg.note = Some(Meddling::EditedByHand);
        vec![seg]
    }
}

fuzz_target!(|input: (u8, Vec<u8>)| {
    let (port, plan) = input;
    let scenario = Scenario::for_port([25, 465, 587][usize::from(port % 3)]);
    let trace = scenario.link(&fuzz_support::pki()).with_middlebox(Box::new(Corrupter { plan, at: 0 })).run();
    assert!(trace.steps.len() < MAX_STEPS && !trace.truncated, "the session did not end");
    assert!(!outcome::analyse(&scenario, &trace).is_empty(), "no outcome at all");
});
