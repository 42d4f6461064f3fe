//! Every claim the explainer shows, and every lesson, is proved by its own
//! session: the check over the trace and outcomes holds. A claim without a
//! session says why no session can show it.

mod common;

use smtp_lab::lab::{
    claims::{self, lesson_demo, ClaimVerdict},
    Lesson,
};
use smtp_lab::vocab::Named;

#[test]
fn every_claims_demonstration_holds() {
    let pki = common::pki();
    let all = claims::claims();
    assert_eq!(all.len(), 27);
    let mut proved = 0;
    for claim in &all {
        assert!(claim.demos.is_empty() == claim.no_session.is_some(), "{}: a demonstration or a reason, not both", claim.id);
        for demo in &claim.demos {
            let proof = demo.run(&pki);
            assert!(proof.proved, "{}: {} ({})", claim.id, demo.shows, proof.link);
        }
        proved += usize::from(!claim.demos.is_empty());
    }
    assert!(proved >= 16, "only {proved} claims proved by a session");
}

#[test]
fn every_lessons_demonstration_holds() {
    let pki = common::pki();
    for &lesson in Lesson::ALL {
        let proof = lesson_demo(lesson).run(&pki);
        assert!(proof.proved, "{lesson}: {}", proof.shows);
    }
}

#[test]
fn a_check_can_fail() {
    // The same check against the wrong session does not hold: the checks read the session.
    let pki = common::pki();
    let mut demo = lesson_demo(Lesson::Strip587Opportunistic);
    demo.settings = lesson_demo(Lesson::Strip587Required).settings;
    assert!(!demo.run(&pki).proved);
    let mut demo = lesson_demo(Lesson::WrongModeStarttls465);
    demo.settings = lesson_demo(Lesson::WrongModeImplicit587).settings;
    assert!(!demo.run(&pki).proved, "the implicit client at 587 does not wait for a timeout");
}

#[test]
fn verdicts_are_the_reference_ones() {
    let v: Vec<(&str, ClaimVerdict)> = claims::claims().iter().map(|c| (c.id, c.verdict)).collect();
    for (id, want) in [
        ("A1", ClaimVerdict::True),
        ("A4", ClaimVerdict::Misleading),
        ("A6", ClaimVerdict::Misleading),
        ("B5", ClaimVerdict::False),
        ("B9", ClaimVerdict::Misleading),
    ] {
        assert!(v.contains(&(id, want)), "{id}");
    }
}
