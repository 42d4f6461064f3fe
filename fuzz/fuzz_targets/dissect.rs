//! The TLS dissector on a recorded session whose bytes someone changed, as an
//! attacker or a learner editing a record would: one step's bytes replaced by
//! arbitrary ones. It never panics, every record belongs to a step that
//! exists, a record either opens or says why not, and the same bytes give the
//! same dissection.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use smtp_lab::bytes::Bytes;
use smtp_lab::lab::Lesson;
use smtp_lab::render::dissect;
use smtp_lab::sim::{Happened, Trace};

fn session() -> &'static Trace {
    static TRACE: OnceLock<Trace> = OnceLock::new();
    TRACE.get_or_init(|| smtp_lab::lab::assemble::lesson(Lesson::Submission587).expect("a lesson").run(&fuzz_support::pki()))
}

fuzz_target!(|input: (u8, Vec<u8>)| {
    let (which, bytes) = input;
    let mut trace = session().clone();
    let tls: Vec<usize> = trace.steps.iter().filter(|s| s.tls() && s.wire().is_some()).map(|s| s.index).collect();
    let i = tls[usize::from(which) % tls.len()];
    let unchanged = trace.steps[i].wire().is_some_and(|w| w.0 == bytes);
    if let Happened::Segment(crossing) = &mut trace.steps[i].happened {
        crossing.wire = Some(Bytes(bytes));
    }
    let after = dissect(&trace);
    for r in &after {
        assert!(r.step < trace.steps.len());
        assert!(r.inside.is_none() || r.error.is_none(), "opened and failed at once");
    }
    if unchanged {
        assert_eq!(after, dissect(session()));
    }
});
