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

#[derive(Debug, thiserror::Error)]
#[error("certificate generation failed: {0}")]
pub struct PkiError(#[from] rcgen::Error);

impl Pki {
    /// Makes a CA and one identity of each [`IdentityKind`] for `server_name`.
    pub fn generate(server_name: &str) -> Result<Arc<Pki>, PkiError> {
        let (ca_cert, ca_issuer) = make_ca("smtp-lab Test CA")?;
        let (_, rogue_issuer) = make_ca("Mallory's CA")?;
        let valid = || (date_time_ymd(2025, 1, 1), date_time_ymd(2035, 1, 1));
        let specs = [
            (IdentityKind::Valid, server_name, Some(&ca_issuer), valid()),
            (IdentityKind::SelfSigned, server_name, None, valid()),
            (IdentityKind::WrongName, "other.example.test", Some(&ca_issuer), valid()),
            (IdentityKind::UntrustedCa, server_name, Some(&rogue_issuer), valid()),
            (IdentityKind::Expired, server_name, Some(&ca_issuer), (date_time_ymd(2018, 1, 1), date_time_ymd(2020, 1, 1))),
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
