//! Certificates: the simulated world's, made at build time (`build.rs`) as
//! fixed data, and fresh ones for real clients of `serve` (natively only).
//! Both come from [`make`], with a test CA, the server's identity, and spare
//! identities an attacker (or a misconfigured server) can present.
//!
//! The simulated ones are valid around [`crate::sim::world::names::SIM_EPOCH_UNIX`] and
//! have Ed25519 keys: Ed25519 signatures are deterministic (RFC 8032 §5.1.6),
//! so a seeded session signs the same bytes every time.

use std::sync::Arc;

use crate::proto::tls::ServerIdentity;
use crate::vocab::choice;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

#[cfg(not(target_arch = "wasm32"))]
pub(crate) mod make;
#[cfg(not(target_arch = "wasm32"))]
pub use make::max_validity_days;

/// The certificates `build.rs` made for the simulated world.
mod lab {
    include!(concat!(env!("OUT_DIR"), "/lab_pki.rs"));
}

choice! {
    /// Which certificate a TLS server presents.
    #[derive(Default)]
    pub enum IdentityKind ("certificate") {
        #[default]
        Valid = "valid": "issued by the trusted CA for the server's name",
        SelfSigned = "self-signed": "the right name, but signed by its own key",
        WrongName = "wrong-name": "issued by the trusted CA for another name",
        /// An attacker's CA, for instance.
        UntrustedCa = "untrusted-ca": "the right name, issued by a CA the client does not trust",
        Expired = "expired": "issued by the trusted CA, but expired",
        /// What Mallory holds after a CA wrongly issued her a certificate for the server's name.
        Misissued = "misissued": "the right name, issued by the trusted CA, but to Mallory's key, not the server's",
    }
}

/// A certificate chain and its private key, of one kind.
#[derive(Debug)]
pub struct Identity {
    pub kind: IdentityKind,
    /// What a TLS server presents with it.
    pub tls: Arc<ServerIdentity>,
    /// The key as PKCS#8, for the PEM files of real servers.
    #[cfg(not(target_arch = "wasm32"))]
    key_der: Vec<u8>,
}

impl Identity {
    /// The chain, leaf first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.tls.chain
    }

    /// The chain as PEM, for real servers (Postfix) and files.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn chain_pem(&self) -> String {
        self.chain().iter().map(|c| pem("CERTIFICATE", c)).collect()
    }

    /// The key as PEM (PKCS#8).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn key_pem(&self) -> String {
        pem("PRIVATE KEY", &self.key_der)
    }

    /// An identity of the kind named `id` (as [`IdentityKind`] spells it).
    fn made(id: &str, chain: Vec<CertificateDer<'static>>, key_der: Vec<u8>) -> Option<Identity> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der.clone()));
        Some(Identity {
            kind: id.parse().ok()?,
            tls: Arc::new(ServerIdentity::new(chain, key)),
            #[cfg(not(target_arch = "wasm32"))]
            key_der,
        })
    }
}

/// DER as PEM with LF line ends (RFC 7468 §2), as files on Unix have them.
#[cfg(not(target_arch = "wasm32"))]
fn pem(label: &str, der: &[u8]) -> String {
    pem::encode_config(&pem::Pem::new(label, der), pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF))
}

/// Everything certificate-related one simulation needs.
#[derive(Debug)]
pub struct Pki {
    pub server_name: String,
    pub ca_cert: CertificateDer<'static>,
    identities: Vec<Identity>,
    /// Other hosts of the simulated world, under the same CA.
    others: Vec<Arc<Pki>>,
}

#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, thiserror::Error)]
#[error("certificate generation failed: {0}")]
pub struct PkiError(#[from] rcgen::Error);

impl Pki {
    /// The simulated world's certificates, for [`crate::sim::world::names::SERVER_NAME`]
    /// and, through [`Pki::at`], every other host of [`crate::sim::world::names::LAB_HOSTS`]
    /// (made by `build.rs`: the same bytes on every build and every run).
    pub fn lab() -> Arc<Pki> {
        let ca_cert = CertificateDer::from(lab::CA.to_vec());
        let mut hosts = lab::HOSTS.iter().map(|(host, made)| {
            let identities = made
                .iter()
                .filter_map(|(id, chain, key)| {
                    Identity::made(id, chain.iter().map(|c| CertificateDer::from(c.to_vec())).collect(), key.to_vec())
                })
                .collect();
            Pki { server_name: (*host).to_owned(), ca_cert: ca_cert.clone(), identities, others: Vec::new() }
        });
        let mut first = hosts.next().expect("build.rs makes at least one host");
        first.others = hosts.map(Arc::new).collect();
        Arc::new(first)
    }

    /// The certificates of another host of the same world (the same CA), or
    /// these when the host has none of its own.
    pub fn at(self: &Arc<Self>, host: &str) -> Arc<Pki> {
        self.others.iter().find(|p| p.server_name == host).cloned().unwrap_or_else(|| self.clone())
    }

    /// Fresh certificates for `server_name`, valid around `now_unix` (seconds
    /// since 1970), with new ECDSA P-256 keys: what `serve` shows real clients.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn generate_at(server_name: &str, now_unix: u64) -> Result<Arc<Pki>, PkiError> {
        let (ca, made) = make::make(server_name, now_unix, |_| rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256))?;
        let identities =
            made.into_iter().filter_map(|m| Identity::made(m.id, m.chain.into_iter().map(CertificateDer::from).collect(), m.key)).collect();
        Ok(Arc::new(Pki { server_name: server_name.to_owned(), ca_cert: CertificateDer::from(ca), identities, others: Vec::new() }))
    }

    /// The CA certificate as PEM, for clients to trust.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn ca_pem(&self) -> String {
        pem("CERTIFICATE", &self.ca_cert)
    }

    pub fn identity(&self, kind: IdentityKind) -> &Identity {
        self.identities.iter().find(|i| i.kind == kind).expect("every kind is made (tested)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Named;

    /// Validity of a certificate in unix seconds, read back with x509-parser.
    fn validity(der: &[u8]) -> (i64, i64) {
        let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
        (cert.validity().not_before.timestamp(), cert.validity().not_after.timestamp())
    }

    #[test]
    fn every_kind_is_made_for_the_lab_and_for_serve() {
        for pki in [Pki::lab(), Pki::generate_at("mail.example.test", crate::sim::world::names::SIM_EPOCH_UNIX).unwrap()] {
            assert_eq!(pki.identities.len(), IdentityKind::ALL.len());
            for kind in IdentityKind::ALL {
                assert_eq!(pki.identity(*kind).kind, *kind);
            }
        }
    }

    #[test]
    fn the_lab_certificates_are_ed25519_and_valid_at_the_simulated_time() {
        let pki = Pki::lab();
        let now = crate::sim::world::names::SIM_EPOCH_UNIX as i64;
        for kind in IdentityKind::ALL {
            let der = &pki.identity(*kind).chain()[0];
            let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
            assert_eq!(cert.signature_algorithm.algorithm.to_id_string(), "1.3.101.112", "{kind:?} is signed with Ed25519");
            let (from, until) = validity(der);
            assert_eq!(*kind != IdentityKind::Expired, from <= now && now < until, "{kind:?}");
        }
        assert!(pki.identity(IdentityKind::Valid).chain_pem().starts_with("-----BEGIN CERTIFICATE-----\nMII"));
    }

    #[test]
    fn the_limit_follows_the_schedule_of_its_day() {
        assert_eq!(max_validity_days(1_773_532_799), 398, "the day before 2026-03-15");
        assert_eq!(max_validity_days(1_773_532_800), 200);
        assert_eq!(max_validity_days(1_805_068_800), 100);
        assert_eq!(max_validity_days(1_868_227_200), 47);
    }

    #[test]
    fn server_certificates_live_within_the_limit_of_their_day() {
        let now = 1_795_000_000; // 2026-11-18
        let pki = Pki::generate_at("mail.example.test", now).unwrap();
        for kind in IdentityKind::ALL {
            let (from, until) = validity(&pki.identity(*kind).chain()[0]);
            if *kind == IdentityKind::Expired {
                assert!(until < now as i64, "the expired one has expired");
            } else {
                assert!(from <= now as i64 && (now as i64) < until, "{kind:?} is valid now");
                assert!(until - from < i64::from(max_validity_days(now)) * 86_400, "{kind:?}: {} days", (until - from) / 86_400);
            }
        }
    }
}
