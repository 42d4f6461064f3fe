//! Where a simulated session's randomness comes from: its seed.
//!
//! A simulated session is a pure function of its settings and a seed, so a
//! link shows the same bytes everywhere. TLS needs random numbers (the hello
//! randoms and session ids, RFC 8446 §4.1.2 and §4.1.3; the key shares,
//! §4.2.8); here they come from ChaCha20 keyed by the seed. rustls reaches
//! its randomness only through `&'static` objects, which cannot hold one
//! connection's generator; so each connection owns its generator and lends
//! it to the current thread for exactly the length of each call into rustls
//! ([`Lender::lend`]). A draw with nothing lent fails instead of falling back
//! to the system's randomness: nothing unseeded can slip in unnoticed.

use std::cell::RefCell;

use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

/// How one endpoint of a session draws random numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entropy {
    /// From the session's seed. `stream` tells apart the endpoints that
    /// share it (client, server, attacker), so none repeats another's draws.
    Seeded { seed: u64, stream: u64 },
    /// The operating system's: real sockets, where a repeated key would be a flaw.
    #[cfg(not(target_arch = "wasm32"))]
    System,
}

impl Entropy {
    pub fn seeded(seed: u64, stream: u64) -> Entropy {
        Entropy::Seeded { seed, stream }
    }

    /// The same source for the `n`th TLS connection of an endpoint, so a
    /// second handshake does not repeat the first one's randoms.
    pub fn nth(self, n: u64) -> Entropy {
        match self {
            Entropy::Seeded { seed, stream } => Entropy::Seeded { seed, stream: stream + (n << 32) },
            #[cfg(not(target_arch = "wasm32"))]
            Entropy::System => Entropy::System,
        }
    }
}

thread_local! {
    static LENT: RefCell<Option<ChaCha20Rng>> = const { RefCell::new(None) };
}

/// One connection's generator, lent to the thread around calls into rustls.
pub(crate) struct Lender(Option<ChaCha20Rng>);

impl Lender {
    /// ChaCha20 keyed by the seed (little-endian, zero-padded to 32 bytes), on `stream`.
    pub(crate) fn new(seed: u64, stream: u64) -> Lender {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        let mut rng = ChaCha20Rng::from_seed(key);
        rng.set_stream(stream);
        Lender(Some(rng))
    }

    /// Runs `f` with this generator as the thread's source of draws, then
    /// takes it back (restoring whatever was lent before, so calls nest).
    pub(crate) fn lend<T>(&mut self, f: impl FnOnce() -> T) -> T {
        struct Return<'a>(&'a mut Option<ChaCha20Rng>, Option<ChaCha20Rng>);
        impl Drop for Return<'_> {
            fn drop(&mut self) {
                *self.0 = LENT.with(|l| std::mem::replace(&mut *l.borrow_mut(), self.1.take()));
            }
        }
        let before = LENT.with(|l| std::mem::replace(&mut *l.borrow_mut(), self.0.take()));
        let _return = Return(&mut self.0, before);
        f()
    }
}

/// Fills `buf` from the generator lent to this thread; `false` when none is.
pub(crate) fn draw(buf: &mut [u8]) -> bool {
    LENT.with(|l| match l.borrow_mut().as_mut() {
        Some(rng) => {
            rng.fill_bytes(buf);
            true
        }
        None => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draws(entropy: Entropy) -> [u8; 16] {
        let Entropy::Seeded { seed, stream } = entropy else { unreachable!() };
        let mut lender = Lender::new(seed, stream);
        let mut out = [0u8; 16];
        assert!(lender.lend(|| draw(&mut out)));
        out
    }

    #[test]
    fn a_seed_and_stream_give_the_same_draws_and_others_differ() {
        let a = draws(Entropy::seeded(7, 1));
        assert_eq!(a, draws(Entropy::seeded(7, 1)));
        assert_ne!(a, draws(Entropy::seeded(8, 1)));
        assert_ne!(a, draws(Entropy::seeded(7, 2)));
        assert_ne!(a, draws(Entropy::seeded(7, 1).nth(1)));
    }

    #[test]
    fn nothing_is_drawn_outside_a_loan_and_loans_nest() {
        assert!(!draw(&mut [0u8; 4]));
        let mut outer = Lender::new(1, 1);
        let mut inner = Lender::new(1, 2);
        let (mut x, mut y) = ([0u8; 4], [0u8; 4]);
        outer.lend(|| {
            inner.lend(|| draw(&mut x));
            draw(&mut y)
        });
        assert_ne!(x, y, "the inner loan drew from its own generator");
        assert!(!draw(&mut [0u8; 4]), "both were taken back");
        // The outer generator moved on by one draw: its next is not its first.
        let mut z = [0u8; 4];
        outer.lend(|| draw(&mut z));
        assert_ne!(z, y);
    }
}
