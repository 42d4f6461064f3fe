//! Certificates made in memory with rcgen: a test CA, the server's identity,
//! and spare identities an attacker (or a misconfigured server) can present.
//!
//! Validity is fixed (2025-01-01 to 2035-01-01; the expired one ended in 2020)
//! so that a certificate check depends only on the simulation's clock.

use std::sync::Arc;

use crate::vocab::choice;
use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::OffsetDateTime;

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
    }
}

/// A certificate chain and its private key.
#[derive(Debug)]
pub struct Identity {
    pub kind: IdentityKind,
    pub chain: Vec<CertificateDer<'static>>,
    key_der: Vec<u8>,
    /// The chain and the key as PEM, for real servers (Postfix) and files.
    pub chain_pem: String,
    pub key_pem: String,
}

impl Identity {
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }
}

/// Everything certificate-related one simulation needs.
#[derive(Debug)]
pub struct Pki {
    pub server_name: String,
    pub ca_cert: CertificateDer<'static>,
    pub ca_pem: String,
    identities: Vec<Identity>,
}

/// The longest a publicly trusted server certificate may be valid: 398 days
/// (CA/Browser Forum Baseline Requirements §6.3.2); scanners flag longer ones.
pub const MAX_VALIDITY_DAYS: u16 = 398;

#[derive(Debug, thiserror::Error)]
#[error("certificate generation failed: {0}")]
pub struct PkiError(#[from] rcgen::Error);

impl Pki {
    /// Makes a CA and one identity of each [`IdentityKind`] for `server_name`,
    /// valid around the simulated sessions' start ([`crate::names::SIM_EPOCH_UNIX`]).
    pub fn generate(server_name: &str) -> Result<Arc<Pki>, PkiError> {
        Pki::generate_at(server_name, crate::names::SIM_EPOCH_UNIX)
    }

    /// As [`Pki::generate`], valid around `now_unix` (seconds since 1970): a
    /// server certificate lives at most [`MAX_VALIDITY_DAYS`] from a day before
    /// `now`, as public CAs issue them; the expired one ended a year before `now`.
    pub fn generate_at(server_name: &str, now_unix: u64) -> Result<Arc<Pki>, PkiError> {
        let (ca_cert, ca_issuer) = make_ca("smtp-lab Test CA")?;
        let (_, rogue_issuer) = make_ca("Mallory's CA")?;
        let now = OffsetDateTime::from_unix_timestamp(i64::try_from(now_unix).unwrap_or(i64::MAX)).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let day = time::Duration::days(1);
        let valid = || (now - day, now - day + day * i32::from(MAX_VALIDITY_DAYS));
        let expired = (now - day * 730, now - day * 365);
        let specs = [
            (IdentityKind::Valid, server_name, Some(&ca_issuer), valid()),
            (IdentityKind::SelfSigned, server_name, None, valid()),
            (IdentityKind::WrongName, "other.example.test", Some(&ca_issuer), valid()),
            (IdentityKind::UntrustedCa, server_name, Some(&rogue_issuer), valid()),
            (IdentityKind::Expired, server_name, Some(&ca_issuer), expired),
        ];
        let identities = specs
            .into_iter()
            .map(|(kind, name, issuer, (from, until))| {
                let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
                let mut params = CertificateParams::new(vec![name.to_owned()])?;
                params.distinguished_name = dn(name);
                params.not_before = from;
                params.not_after = until;
                params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
                params.use_authority_key_identifier_extension = issuer.is_some();
                let cert = match issuer {
                    Some(issuer) => params.signed_by(&key, issuer)?,
                    None => params.self_signed(&key)?,
                };
                let mut chain = vec![cert.der().clone()];
                let mut chain_pem = cert.pem();
                if kind == IdentityKind::Valid {
                    chain.push(ca_cert.der().clone());
                    chain_pem.push_str(&ca_cert.pem());
                }
                Ok(Identity { kind, chain, key_der: key.serialize_der(), chain_pem, key_pem: key.serialize_pem() })
            })
            .collect::<Result<Vec<_>, rcgen::Error>>()?;
        Ok(Arc::new(Pki { server_name: server_name.to_owned(), ca_pem: ca_cert.pem(), ca_cert: ca_cert.der().clone(), identities }))
    }

    pub fn identity(&self, kind: IdentityKind) -> &Identity {
        self.identities.iter().find(|i| i.kind == kind).expect("every kind is generated")
    }
}

fn dn(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

fn make_ca(name: &str) -> Result<(rcgen::Certificate, Issuer<'static, KeyPair>), rcgen::Error> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = dn(name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params.not_before = date_time_ymd(2024, 1, 1);
    params.not_after = date_time_ymd(2040, 1, 1);
    let cert = params.self_signed(&key)?;
    Ok((cert, Issuer::new(params, key)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Choice;

    /// Validity of a certificate in unix seconds, read back with x509-parser.
    fn validity(der: &[u8]) -> (i64, i64) {
        let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
        (cert.validity().not_before.timestamp(), cert.validity().not_after.timestamp())
    }

    #[test]
    fn server_certificates_live_at_most_398_days_around_now() {
        let now = 1_795_000_000; // 2026-11-18
        let pki = Pki::generate_at("mail.example.test", now).unwrap();
        for kind in IdentityKind::ALL {
            let (from, until) = validity(&pki.identity(*kind).chain[0]);
            if *kind == IdentityKind::Expired {
                assert!(until < now as i64, "the expired one has expired");
            } else {
                assert!(from <= now as i64 && (now as i64) < until, "{kind:?} is valid now");
                assert!(until - from <= i64::from(MAX_VALIDITY_DAYS) * 86_400, "{kind:?}: {} days", (until - from) / 86_400);
            }
        }
    }
}
