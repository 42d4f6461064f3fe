//! The crypto providers rustls runs on: ring's full one for real sockets,
//! and for simulated sessions a small one whose every random number comes
//! from the session's seed ([`super::entropy`]).

use std::sync::Arc;

use rustls::crypto::{
    ring, ActiveKeyExchange, CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom, SharedSecret, SupportedKxGroup,
    WebPkiSupportedAlgorithms,
};
use rustls::pki_types::PrivateKeyDer;
use rustls::{NamedGroup, PeerMisbehaved, SignatureScheme};

use super::entropy::{self, Entropy, Lender};

/// The provider for real sockets (`serve`, `send`, `probe`): ring's full
/// one, with the system's randomness, to meet real peers with RSA
/// certificates and every common suite.
#[cfg(not(target_arch = "wasm32"))]
fn system_provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

/// The provider for simulated sessions, the same natively and in the browser
/// so that a seed gives the same bytes in both: one TLS 1.3 suite and one
/// TLS 1.2 suite (for the lesson that contrasts them), X25519 key shares and
/// every other random number drawn from the seed ([`super::entropy`]), and
/// Ed25519 certificates, whose signatures need no random number (RFC 8032
/// §5.1.6). Carrying only this keeps the page small.
fn lab_provider() -> Arc<CryptoProvider> {
    static ALGORITHMS: WebPkiSupportedAlgorithms =
        WebPkiSupportedAlgorithms { all: &[webpki::ring::ED25519], mapping: &[(SignatureScheme::ED25519, &[webpki::ring::ED25519])] };
    Arc::new(CryptoProvider {
        cipher_suites: vec![ring::cipher_suite::TLS13_AES_256_GCM_SHA384, ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384],
        kx_groups: vec![&SeededX25519],
        signature_verification_algorithms: ALGORITHMS,
        secure_random: &Seeded,
        key_provider: &Seeded,
    })
}

/// Random numbers and keys for the lab provider.
#[derive(Debug)]
struct Seeded;

impl SecureRandom for Seeded {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        entropy::draw(buf).then_some(()).ok_or(GetRandomFailed)
    }
}

impl KeyProvider for Seeded {
    fn load_private_key(&self, der: PrivateKeyDer<'static>) -> Result<Arc<dyn rustls::sign::SigningKey>, rustls::Error> {
        match der {
            PrivateKeyDer::Pkcs8(der) => ring::sign::any_eddsa_type(&der),
            _ => Err(rustls::Error::General("the lab's keys are PKCS#8 Ed25519".into())),
        }
    }
}

/// X25519 (RFC 7748) with the private key drawn from the seed: ring makes
/// its own from the system's randomness and takes no other.
#[derive(Debug)]
struct SeededX25519;

impl SupportedKxGroup for SeededX25519 {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, rustls::Error> {
        let mut secret = [0u8; 32];
        entropy::draw(&mut secret).then_some(()).ok_or_else(|| rustls::Error::from(GetRandomFailed))?;
        let secret = x25519_dalek::StaticSecret::from(secret);
        let public = x25519_dalek::PublicKey::from(&secret).to_bytes();
        Ok(Box::new(X25519Share { secret, public }))
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

struct X25519Share {
    secret: x25519_dalek::StaticSecret,
    public: [u8; 32],
}

impl ActiveKeyExchange for X25519Share {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, rustls::Error> {
        let peer: [u8; 32] = peer.try_into().map_err(|_| PeerMisbehaved::InvalidKeyShare)?;
        let shared = self.secret.diffie_hellman(&x25519_dalek::PublicKey::from(peer));
        // An all-zero result means the peer sent a low-order point (RFC 8446 §7.4.2, RFC 7748 §6.1).
        if !shared.was_contributory() {
            return Err(PeerMisbehaved::InvalidKeyShare.into());
        }
        Ok(SharedSecret::from(&shared.as_bytes()[..]))
    }

    fn pub_key(&self) -> &[u8] {
        &self.public
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

/// The provider and, when seeded, the generator for one connection.
pub(super) fn provider_for(entropy: Entropy) -> (Arc<CryptoProvider>, Option<Lender>) {
    match entropy {
        Entropy::Seeded { seed, stream } => (lab_provider(), Some(Lender::new(seed, stream))),
        #[cfg(not(target_arch = "wasm32"))]
        Entropy::System => (system_provider(), None),
    }
}
