//! TLSA records (RFC 6698) and what they match in a server's certificate
//! chain: the data half of DANE, as a sending MTA would use it on port 25.
//!
//! A TLSA record names a certificate usage, a selector and a matching type
//! (RFC 6698 §2.1.1–§2.1.3; the mnemonics are RFC 7218's), then the
//! certificate association data. Matching is plain bytes: the selected part
//! of a certificate (all of it, or its SubjectPublicKeyInfo), either as is or
//! hashed, compared with that data. Which certificates of the chain a usage
//! may match is [`Tlsa::candidates`]; whether the DNS answer that carried the
//! records can be trusted at all (DNSSEC) is the resolver's business, not
//! this module's.

use std::fmt;

use ring::digest;
use serde::{Deserialize, Serialize};

/// The certificate usage field (RFC 6698 §2.1.1; names from RFC 7218 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Usage {
    /// 0: a CA in the chain, which must also pass the client's PKIX validation.
    PkixTa,
    /// 1: the server's own certificate, which must also pass PKIX validation.
    PkixEe,
    /// 2: a trust anchor named by the DNS: a certificate in the chain that the
    /// server's certificate must chain to, whatever the client's CA store says.
    DaneTa,
    /// 3: the server's own certificate (or key), matched directly.
    DaneEe,
}

/// The selector field (RFC 6698 §2.1.2; names from RFC 7218 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Selector {
    /// 0: the whole certificate, DER-encoded.
    Cert,
    /// 1: the certificate's SubjectPublicKeyInfo, DER-encoded.
    Spki,
}

/// The matching type field (RFC 6698 §2.1.3; names from RFC 7218 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Matching {
    /// 0: the selected bytes themselves.
    Full,
    /// 1: their SHA-256 digest.
    Sha256,
    /// 2: their SHA-512 digest.
    Sha512,
}

/// Where the TLSA records of an SMTP server are: `_25._tcp.<mx>` (RFC 7672 §2.2.3).
pub(crate) fn tlsa_name(mx: &str) -> String {
    format!("_25._tcp.{mx}")
}

/// One TLSA record's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tlsa {
    pub usage: Usage,
    pub selector: Selector,
    pub matching: Matching,
    /// The certificate association data.
    pub data: Vec<u8>,
}

/// Why a TLSA record or a certificate could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DaneError {
    #[error("a TLSA record needs its {0} field")]
    MissingField(&'static str),
    #[error("the {what} field must be a number from 0 to 255, not {field:?}")]
    NotANumber { what: &'static str, field: String },
    #[error("certificate usage {0} is not defined (RFC 6698 §2.1.1)")]
    UndefinedUsage(u8),
    #[error("selector {0} is not defined (RFC 6698 §2.1.2)")]
    UndefinedSelector(u8),
    #[error("matching type {0} is not defined (RFC 6698 §2.1.3)")]
    UndefinedMatching(u8),
    #[error("the certificate association data must be an even number of hex digits")]
    BadData,
    #[error("a {mnemonic} digest is {len} bytes, not {got}")]
    WrongLength { mnemonic: &'static str, len: usize, got: usize },
    #[error("the certificate cannot be parsed: {0}")]
    Certificate(String),
}

impl Usage {
    fn from_number(n: u8) -> Option<Usage> {
        Some(match n {
            0 => Usage::PkixTa,
            1 => Usage::PkixEe,
            2 => Usage::DaneTa,
            3 => Usage::DaneEe,
            _ => return None,
        })
    }
    pub fn number(self) -> u8 {
        self as u8
    }
    /// RFC 7218's mnemonic.
    pub fn mnemonic(self) -> &'static str {
        ["PKIX-TA", "PKIX-EE", "DANE-TA", "DANE-EE"][self as usize]
    }
}

impl Selector {
    fn from_number(n: u8) -> Option<Selector> {
        Some(match n {
            0 => Selector::Cert,
            1 => Selector::Spki,
            _ => return None,
        })
    }
    pub fn number(self) -> u8 {
        self as u8
    }
    /// RFC 7218's mnemonic.
    pub fn mnemonic(self) -> &'static str {
        ["Cert", "SPKI"][self as usize]
    }

    /// The bytes of `cert` (DER) this selector names.
    fn select(self, cert: &[u8]) -> Result<Vec<u8>, DaneError> {
        match self {
            Selector::Cert => Ok(cert.to_vec()),
            Selector::Spki => {
                let (_, parsed) = x509_parser::parse_x509_certificate(cert).map_err(|e| DaneError::Certificate(e.to_string()))?;
                Ok(parsed.tbs_certificate.subject_pki.raw.to_vec())
            }
        }
    }
}

impl Matching {
    fn from_number(n: u8) -> Option<Matching> {
        Some(match n {
            0 => Matching::Full,
            1 => Matching::Sha256,
            2 => Matching::Sha512,
            _ => return None,
        })
    }
    pub fn number(self) -> u8 {
        self as u8
    }
    /// RFC 7218's mnemonic.
    pub fn mnemonic(self) -> &'static str {
        ["Full", "SHA2-256", "SHA2-512"][self as usize]
    }

    /// The length of the data a record of this type carries, when fixed (a digest's).
    fn data_len(self) -> Option<usize> {
        match self {
            Matching::Full => None,
            Matching::Sha256 => Some(digest::SHA256.output_len()),
            Matching::Sha512 => Some(digest::SHA512.output_len()),
        }
    }

    fn apply(self, selected: &[u8]) -> Vec<u8> {
        match self {
            Matching::Full => selected.to_vec(),
            Matching::Sha256 => digest::digest(&digest::SHA256, selected).as_ref().to_vec(),
            Matching::Sha512 => digest::digest(&digest::SHA512, selected).as_ref().to_vec(),
        }
    }
}

impl Tlsa {
    /// The record a server operator would publish for `cert` (DER).
    pub fn for_certificate(usage: Usage, selector: Selector, matching: Matching, cert: &[u8]) -> Result<Tlsa, DaneError> {
        Ok(Tlsa { usage, selector, matching, data: matching.apply(&selector.select(cert)?) })
    }

    /// Whether `cert` (DER) is the certificate, or has the key, this record names.
    pub fn matches(&self, cert: &[u8]) -> Result<bool, DaneError> {
        Ok(self.matching.apply(&self.selector.select(cert)?) == self.data)
    }

    /// The positions in a chain (the server's certificate first, as TLS sends
    /// it) this record's usage may match: the server's own certificate for an
    /// end-entity usage, the certificates after it for a trust-anchor usage.
    pub fn candidates(&self, chain_len: usize) -> std::ops::Range<usize> {
        match self.usage {
            Usage::PkixEe | Usage::DaneEe => 0..chain_len.min(1),
            Usage::PkixTa | Usage::DaneTa => chain_len.min(1)..chain_len,
        }
    }

    /// The first position in `chain` this record matches, among its [`Tlsa::candidates`].
    pub fn find_in(&self, chain: &[&[u8]]) -> Result<Option<usize>, DaneError> {
        for i in self.candidates(chain.len()) {
            if self.matches(chain[i])? {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }
}

/// The presentation format (RFC 6698 §2.2): `3 1 1 0123…` (the data in hex).
impl fmt::Display for Tlsa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {} ", self.usage.number(), self.selector.number(), self.matching.number())?;
        f.write_str(&hex::encode(&self.data))
    }
}

impl std::str::FromStr for Tlsa {
    type Err = DaneError;

    /// The presentation format (RFC 6698 §2.2): three numbers, then the data
    /// in hex, which may be split by white space.
    fn from_str(text: &str) -> Result<Tlsa, DaneError> {
        let (rest, fields) = presentation(text).map_err(|_: nom::Err<nom::error::Error<&str>>| DaneError::BadData)?;
        let mut numbers = fields.iter();
        let mut number = |what: &'static str| -> Result<u8, DaneError> {
            let field = numbers.next().ok_or(DaneError::MissingField(what))?;
            field.parse().map_err(|_| DaneError::NotANumber { what, field: (*field).to_owned() })
        };
        let (u, s, m) = (number("certificate usage")?, number("selector")?, number("matching type")?);
        let usage = Usage::from_number(u).ok_or(DaneError::UndefinedUsage(u))?;
        let selector = Selector::from_number(s).ok_or(DaneError::UndefinedSelector(s))?;
        let matching = Matching::from_number(m).ok_or(DaneError::UndefinedMatching(m))?;
        let digits: String = rest.split_whitespace().collect();
        if digits.is_empty() {
            return Err(DaneError::BadData);
        }
        let data = hex::decode(&digits).map_err(|_| DaneError::BadData)?;
        if let Some(len) = matching.data_len().filter(|&len| len != data.len()) {
            return Err(DaneError::WrongLength { mnemonic: matching.mnemonic(), len, got: data.len() });
        }
        Ok(Tlsa { usage, selector, matching, data })
    }
}

/// The three fields before the data: up to three words, each followed by white space or the end.
fn presentation(text: &str) -> nom::IResult<&str, Vec<&str>> {
    use nom::character::complete::{multispace0, multispace1};
    use nom::combinator::{eof, recognize};
    use nom::multi::many_m_n;
    use nom::sequence::terminated;
    use nom::Parser;
    let word = recognize(nom::bytes::complete::take_till1(|c: char| c.is_whitespace()));
    (multispace0, many_m_n(0, 3, terminated(word, nom::branch::alt((multispace1, eof))))).map(|(_, words)| words).parse(text)
}

impl TryFrom<String> for Tlsa {
    type Error = DaneError;
    fn try_from(text: String) -> Result<Tlsa, DaneError> {
        text.parse()
    }
}

impl From<Tlsa> for String {
    fn from(t: Tlsa) -> String {
        t.to_string()
    }
}

// Native only: the tests make their certificates with rcgen, which the browser build does not carry.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, PKCS_ED25519};

    /// A server's certificate and the CA that issued it, as DER: the chain a server sends.
    fn chain() -> Vec<Vec<u8>> {
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_key = KeyPair::generate_for(&PKCS_ED25519).unwrap();
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let leaf_key = KeyPair::generate_for(&PKCS_ED25519).unwrap();
        let leaf = CertificateParams::new(vec!["mail.example.test".to_owned()]).unwrap().signed_by(&leaf_key, &issuer).unwrap();
        vec![leaf.der().to_vec(), ca_cert.der().to_vec()]
    }

    #[test]
    fn presentation_format_round_trips_and_bad_records_say_why() {
        let text = format!("3 1 1 {}", "ab".repeat(32));
        let tlsa: Tlsa = text.parse().unwrap();
        assert_eq!((tlsa.usage, tlsa.selector, tlsa.matching), (Usage::DaneEe, Selector::Spki, Matching::Sha256));
        assert_eq!(tlsa.to_string(), text);
        // Hex split by spaces, as zone files write long data.
        assert_eq!(format!("3 1 1 {} {}", "ab".repeat(16), "ab".repeat(16)).parse::<Tlsa>().unwrap(), tlsa);
        for (bad, why) in [
            ("3 1", "matching type field"),
            ("4 1 1 00", "usage 4 is not defined"),
            ("3 2 1 00", "selector 2 is not defined"),
            ("3 1 3 00", "matching type 3 is not defined"),
            ("3 1 1 abc", "even number of hex digits"),
            ("3 1 1 zz", "hex digits"),
            ("3 1 1 00", "SHA2-256 digest is 32 bytes, not 1"),
            ("3 1 x 00", "must be a number"),
        ] {
            let err = bad.parse::<Tlsa>().unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn every_selector_and_matching_type_matches_the_certificate_it_was_made_from_and_no_other() {
        let valid = chain();
        let other = chain();
        for selector in [Selector::Cert, Selector::Spki] {
            for matching in [Matching::Full, Matching::Sha256, Matching::Sha512] {
                let tlsa = Tlsa::for_certificate(Usage::DaneEe, selector, matching, &valid[0]).unwrap();
                assert!(tlsa.matches(&valid[0]).unwrap(), "{tlsa}");
                assert!(!tlsa.matches(&other[0]).unwrap(), "{tlsa}");
                // Through the presentation format and back.
                assert!(tlsa.to_string().parse::<Tlsa>().unwrap().matches(&valid[0]).unwrap());
            }
        }
    }

    /// Two certificates for one key: a renewal, as DANE-EE with SPKI (`3 1 1`) is meant to survive.
    #[test]
    fn the_spki_selector_follows_the_key_and_the_cert_selector_the_certificate() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let cert = |name: &str| rcgen::CertificateParams::new(vec![name.to_owned()]).unwrap().self_signed(&key).unwrap().der().to_vec();
        let (old, renewed) = (cert("mail.example.test"), cert("mx.example.test"));
        assert_ne!(old, renewed);
        let by_key = Tlsa::for_certificate(Usage::DaneEe, Selector::Spki, Matching::Sha256, &old).unwrap();
        let by_cert = Tlsa::for_certificate(Usage::DaneEe, Selector::Cert, Matching::Sha256, &old).unwrap();
        assert!(by_key.matches(&renewed).unwrap());
        assert!(!by_cert.matches(&renewed).unwrap());
        assert!(by_cert.matches(&old).unwrap());
    }

    #[test]
    fn an_end_entity_usage_matches_only_the_first_certificate_and_a_trust_anchor_usage_only_the_others() {
        let sent = chain();
        let presented: Vec<&[u8]> = sent.iter().map(Vec::as_slice).collect();
        let ee = Tlsa::for_certificate(Usage::DaneEe, Selector::Spki, Matching::Sha256, presented[0]).unwrap();
        assert_eq!(ee.find_in(&presented).unwrap(), Some(0));
        let ta = Tlsa::for_certificate(Usage::DaneTa, Selector::Cert, Matching::Sha256, presented[1]).unwrap();
        assert_eq!(ta.find_in(&presented).unwrap(), Some(1));
        // The same data under the other usage finds nothing: usage decides where to look.
        assert_eq!(Tlsa { usage: Usage::DaneTa, ..ee }.find_in(&presented).unwrap(), None);
        assert_eq!(Tlsa { usage: Usage::DaneEe, ..ta.clone() }.find_in(&presented).unwrap(), None);
        // A server that leaves its trust anchor out of the chain cannot be matched by it.
        assert_eq!(ta.find_in(&presented[..1]).unwrap(), None);
    }

    #[test]
    fn garbage_for_a_certificate_is_an_error_not_a_panic() {
        let tlsa = Tlsa::for_certificate(Usage::DaneEe, Selector::Spki, Matching::Sha256, &chain()[0]).unwrap();
        assert!(tlsa.matches(b"not a certificate").is_err());
        assert!(Tlsa::for_certificate(Usage::DaneEe, Selector::Cert, Matching::Full, b"any bytes").is_ok(), "Cert/Full reads nothing");
    }

    #[test]
    fn serde_uses_the_presentation_format() {
        let tlsa = Tlsa::for_certificate(Usage::DaneTa, Selector::Cert, Matching::Sha512, &chain()[0]).unwrap();
        let json = serde_json::to_string(&tlsa).unwrap();
        assert!(json.starts_with("\"2 0 2 "), "{json}");
        assert_eq!(serde_json::from_str::<Tlsa>(&json).unwrap(), tlsa);
    }
}
