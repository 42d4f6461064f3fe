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
    assert!(proved >= 16, "only {proved} claims shown by a session");
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
        ("A1", ClaimVerdict::Misleading),
        ("A4", ClaimVerdict::Misleading),
        ("A6", ClaimVerdict::Misleading),
        ("B5", ClaimVerdict::False),
        ("B9", ClaimVerdict::Misleading),
        // Changed by the second audit (issue 26), each with a session that shows it.
        ("S1", ClaimVerdict::Misleading),
        ("X3", ClaimVerdict::False),
    ] {
        assert!(v.contains(&(id, want)), "{id}");
    }
}

/// A verdict and its sessions cannot disagree: a true claim's sessions show it
/// holding and none failing, a false one's show it failing and none holding, and
/// a misleading one has a session for each (the case where it holds, and one where it fails).
#[test]
fn a_verdict_and_its_sessions_agree() {
    use smtp_lab::lab::claims::Side;
    for c in claims::claims() {
        if c.demos.is_empty() {
            assert!(c.no_session.is_some(), "{}: no session and no reason why", c.id);
            continue;
        }
        let has = |side| c.demos.iter().any(|d| d.side == side);
        let agree = match c.verdict {
            ClaimVerdict::True => has(Side::Holds) && !has(Side::Fails),
            ClaimVerdict::False => has(Side::Fails) && !has(Side::Holds),
            ClaimVerdict::Misleading => has(Side::Holds) && has(Side::Fails),
        };
        assert!(
            agree,
            "{} is judged {:?}, but its sessions point {:?}",
            c.id,
            c.verdict,
            c.demos.iter().map(|d| d.side).collect::<Vec<_>>()
        );
    }
}
