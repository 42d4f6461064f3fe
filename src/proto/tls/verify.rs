//! The client's certificate check: always run, its verdict always recorded,
//! enforced or not as the client's policy says, so that "not validated" is an
//! observable fact and not a label. With TLSA records (DANE) they decide
//! instead of the CA store.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::proto::policy::dane::{Tlsa, Usage};
use crate::proto::tls_info::{CertCheck, CertFailure, CertFailureKind, DaneMatch, DaneMiss, DaneVerdict};

#[derive(Debug)]
pub(super) struct RecordingVerifier {
    /// `None` when no trust anchors were configured: nothing can validate.
    pub(super) inner: Option<Arc<WebPkiServerVerifier>>,
    pub(super) algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
    pub(super) enforce: bool,
    /// TLSA records that replace the CA store (DANE, RFC 7672 §3.1).
    pub(super) dane: Option<Vec<Tlsa>>,
    pub(super) provider: Arc<CryptoProvider>,
    pub(super) verdict: Arc<Mutex<Option<CertCheck>>>,
}

/// The kind of a rustls verification error (RFC 5280 §6 by rustls's names).
fn kind_of(e: &rustls::Error) -> CertFailureKind {
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => CertFailureKind::NotValidForName,
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => CertFailureKind::Expired,
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => CertFailureKind::NotValidYet,
            CertificateError::UnknownIssuer => CertFailureKind::UnknownIssuer,
            CertificateError::BadSignature => CertFailureKind::BadSignature,
            _ => CertFailureKind::Other,
        },
        _ => CertFailureKind::Other,
    }
}

impl RecordingVerifier {
    /// Checks the chain against TLSA records (RFC 7672 §3.1): DANE-EE(3)
    /// matches the server's own certificate or key, with no name or date
    /// check (§3.1.1); DANE-TA(2) names a certificate of the chain that the
    /// server's must chain to, with the name checked (§3.1.2). Other usages
    /// are unusable for SMTP (§3.1.3). One usable match is enough.
    fn verify_dane(
        &self,
        records: &[Tlsa],
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> DaneVerdict {
        let chain: Vec<&[u8]> = std::iter::once(end_entity.as_ref()).chain(intermediates.iter().map(|c| c.as_ref())).collect();
        let mut misses = Vec::new();
        for record in records {
            let r = record.clone();
            match (record.usage, record.find_in(&chain)) {
                (Usage::DaneEe, Ok(Some(_))) => return DaneVerdict::Matched(DaneMatch::EndEntity(r)),
                (Usage::DaneTa, Ok(Some(i))) => {
                    let mut roots = RootCertStore::empty();
                    if roots.add(CertificateDer::from(chain[i].to_vec())).is_err() {
                        misses.push(DaneMiss::NotAnAnchor(r));
                        continue;
                    }
                    let checked = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                        .build()
                        .map_err(|e| e.to_string())
                        .and_then(|v| v.verify_server_cert(end_entity, intermediates, server_name, &[], now).map_err(|e| e.to_string()));
                    match checked {
                        Ok(_) => return DaneVerdict::Matched(DaneMatch::TrustAnchor(r)),
                        Err(e) => misses.push(DaneMiss::ChainFailed(r, e)),
                    }
                }
                (Usage::DaneEe | Usage::DaneTa, Ok(None)) => misses.push(DaneMiss::NoCertificate(r)),
                (_, Err(e)) => misses.push(DaneMiss::Unreadable(r, e)),
                (_, Ok(_)) => misses.push(DaneMiss::UsageNotForSmtp(r)),
            }
        }
        DaneVerdict::Mismatched(misses)
    }

    fn record(&self, check: CertCheck) {
        *self.verdict.lock().unwrap_or_else(|e| e.into_inner()) = Some(check);
    }
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(records) = &self.dane {
            let verdict = self.verify_dane(records, end_entity, intermediates, server_name, now);
            let failure = match &verdict {
                DaneVerdict::Matched(_) => None,
                DaneVerdict::Mismatched(_) => Some(CertFailure { kind: CertFailureKind::Dane, detail: verdict.to_string() }),
            };
            let refused = failure.is_some() && self.enforce;
            let detail = failure.as_ref().map(|f| f.detail.clone());
            self.record(CertCheck { valid: failure.is_none(), failure, enforced: self.enforce, dane: Some(verdict) });
            return match detail {
                Some(why) if refused => Err(rustls::Error::General(format!("DANE: {why}"))),
                _ => Ok(ServerCertVerified::assertion()),
            };
        }
        let result = match &self.inner {
            Some(inner) => inner.verify_server_cert(end_entity, intermediates, server_name, ocsp, now),
            None => Err(rustls::Error::General("no trust anchors configured".into())),
        };
        let failure = result.as_ref().err().map(|e| CertFailure {
            kind: if self.inner.is_none() { CertFailureKind::NoTrustAnchors } else { kind_of(e) },
            detail: e.to_string(),
        });
        self.record(CertCheck { valid: result.is_ok(), failure, enforced: self.enforce, dane: None });
        match result {
            Err(e) if self.enforce => Err(e),
            _ => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
