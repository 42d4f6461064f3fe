//! How the lab's certificates are made, shared by the build script (the
//! simulated world's certificates, fixed data made once at build time) and by
//! `serve` and `cert` (fresh ones, valid around the real time, for real
//! clients). Plain data in and out: the build script compiles this file on
//! its own, without the rest of the crate.

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use time::OffsetDateTime;

/// The longest a publicly trusted TLS server certificate issued at
/// `issued_unix` (seconds since 1970) may be valid, in days: the CA/Browser
/// Forum's Baseline Requirements §6.3.2 as Ballot SC-081v3 set them, 398
/// days before 2026-03-15, then 200, 100 from 2027-03-15 and 47 from
/// 2029-03-15. Scanners flag longer ones.
pub fn max_validity_days(issued_unix: u64) -> u16 {
    // 2026-03-15, 2027-03-15 and 2029-03-15, 00:00 UTC.
    const SCHEDULE: [(u64, u16); 3] = [(1_773_532_800, 200), (1_805_068_800, 100), (1_868_227_200, 47)];
    SCHEDULE.iter().rev().find(|(from, _)| issued_unix >= *from).map_or(398, |(_, days)| *days)
}

/// The host name of the identity made for another name.
pub(crate) const OTHER_NAME: &str = "other.example.test";

/// One identity, by the id of its kind (`valid`, `self-signed`, ...).
pub(crate) struct Made {
    pub id: &'static str,
    /// Leaf first; the trusted CA follows the leaf of the valid identity.
    pub chain: Vec<Vec<u8>>,
    /// PKCS#8.
    pub key: Vec<u8>,
}

/// A CA and one identity of each kind for `server_name`, valid around
/// `now_unix` (seconds since 1970): a server certificate starts a day before
/// `now` and lives a day less than [`max_validity_days`] allows then;
/// the expired one ended a year before `now`. `key` makes the key for a
/// label (`ca`, `rogue-ca`, or an identity's id).
pub(crate) fn make(
    server_name: &str,
    now_unix: u64,
    mut key: impl FnMut(&str) -> Result<KeyPair, rcgen::Error>,
) -> Result<(Vec<u8>, Vec<Made>), rcgen::Error> {
    let (ca_cert, ca_issuer) = make_ca("smtp-lab Test CA", key("ca")?)?;
    let (_, rogue_issuer) = make_ca("Mallory's CA", key("rogue-ca")?)?;
    let now = OffsetDateTime::from_unix_timestamp(i64::try_from(now_unix).unwrap_or(i64::MAX)).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let day = time::Duration::days(1);
    let lifetime = i32::from(max_validity_days(now_unix)) - 1;
    let valid = || (now - day, now - day + day * lifetime);
    let expired = (now - day * 730, now - day * 365);
    let specs = [
        ("valid", server_name, Some(&ca_issuer), valid()),
        ("self-signed", server_name, None, valid()),
        ("wrong-name", OTHER_NAME, Some(&ca_issuer), valid()),
        ("untrusted-ca", server_name, Some(&rogue_issuer), valid()),
        ("misissued", server_name, Some(&ca_issuer), valid()),
        ("expired", server_name, Some(&ca_issuer), expired),
    ];
    let mut made = Vec::new();
    for (id, name, issuer, (from, until)) in specs {
        let key = key(id)?;
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
        let mut chain = vec![cert.der().to_vec()];
        if id == "valid" || id == "misissued" {
            chain.push(ca_cert.der().to_vec());
        }
        made.push(Made { id, chain, key: key.serialize_der() });
    }
    Ok((ca_cert.der().to_vec(), made))
}

fn dn(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

fn make_ca(name: &str, key: KeyPair) -> Result<(rcgen::Certificate, Issuer<'static, KeyPair>), rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = dn(name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params.not_before = date_time_ymd(2024, 1, 1);
    params.not_after = date_time_ymd(2040, 1, 1);
    let cert = params.self_signed(&key)?;
    Ok((cert, Issuer::new(params, key)))
}
