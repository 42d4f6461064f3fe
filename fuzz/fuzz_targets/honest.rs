//! With nobody on the wire, the outcome analysis never reports an injected
//! command or a forged reply, whatever the setup and the message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp_lab::outcome::{self, Outcome};
use smtp_lab::proto::{AuthPolicy, TlsPolicy};
use smtp_lab::sim::{world::IdentityKind, Scenario, ServerTls};
use smtp_lab::vocab::Choice;

fn pick<T: Choice>(b: u8) -> T {
    T::ALL[usize::from(b) % T::ALL.len()]
}

fuzz_target!(|input: ([u8; 6], Vec<u8>)| {
    let ([port, policy, tls, auth, cert, flags], message) = input;
    let mut s = Scenario::for_port([25, 465, 587, 2525][usize::from(port % 4)]);
    s.client.policy = pick::<TlsPolicy>(policy);
    s.set_server_tls(pick::<ServerTls>(tls));
    s.server.auth = pick::<AuthPolicy>(auth);
    s.server_identity = pick::<IdentityKind>(cert);
    s.client.validate_certificate = flags & 1 != 0;
    s.client.pipelining = flags & 2 != 0;
    s.server.require_tls = flags & 4 != 0;
    s.client.message = message;
    let trace = s.run(&fuzz_support::pki());
    for f in outcome::analyse(&s, &trace) {
        assert!(
            !matches!(f.outcome, Outcome::CommandInjected { .. } | Outcome::ForgedReplyAccepted { .. }),
            "with nobody on the wire: {f:?}\n{}",
            smtp_lab::render::export::transcript(&trace)
        );
    }
});
