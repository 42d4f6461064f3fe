//! The TLS panel of a step: each record as the path sees it and as its
//! receiver opened it (from [`crate::render::dissect`]), and for the
//! certificate the client received, what its check concluded.

use crate::proto::tls_info::{DaneMatch, DaneVerdict};
use rustls::pki_types::CertificateDer;
use serde::Serialize;

use crate::proto::endpoint::SessionEvent;
use crate::render::text::text_view;
use crate::sim::trace::{Direction, Event, Trace};

/// One TLS record in the step panel: the header and cleartext messages on
/// one side ("what anyone on the path sees"), what the receiver opened on the
/// other ("what is inside"). From [`crate::render::dissect`].
#[derive(Debug, Clone, Serialize)]
pub struct TlsRecordView {
    /// "handshake · version 0x0301 · 219 bytes".
    #[serde(serialize_with = "crate::cite::as_prose")]
    pub header: String,
    /// The sender's own record, which is not what crossed.
    pub as_sent: bool,
    pub visible: Vec<crate::render::dissect::DissectedMessage>,
    /// The hidden content type, once opened.
    pub inside_type: Option<crate::render::dissect::RecordType>,
    /// The path could not read that type (TLS 1.3), rather than read it in the header (TLS 1.2).
    pub type_hidden: bool,
    pub inside: Vec<crate::render::dissect::DissectedMessage>,
    /// Application data as text (`\r`, `\n` written out).
    pub inside_text: Option<String>,
    #[serde(serialize_with = "crate::vocab::as_optional_text")]
    pub error: Option<crate::render::dissect::Unopened>,
    /// For the certificate the client received: what its check found, in
    /// rustls's words, and what it did about it.
    #[serde(serialize_with = "crate::cite::as_optional_prose")]
    pub client_check: Option<String>,
    /// The check failed (a warning to show), rather than passed.
    pub check_failed: bool,
    /// When the client received some other chain than the server's own (a man
    /// in the middle's): the server's real chain, for comparison.
    pub real_chain: Option<Vec<crate::render::dissect::MessageField>>,
}

/// What a view adds to the certificate that reached the client: the client's
/// verdict on it, and the server's own chain when that is not what it got.
pub struct CertificateContext {
    check: Option<CertVerdict>,
    real: Vec<crate::render::dissect::MessageField>,
}

impl CertificateContext {
    /// `server_chain` is the server's own certificate chain.
    pub fn of(trace: &Trace, server_chain: &[CertificateDer<'_>]) -> CertificateContext {
        CertificateContext { check: client_check(trace), real: crate::render::dissect::chain_fields(server_chain) }
    }

    /// For a record carrying the certificate the client received (in
    /// cleartext in TLS 1.2, inside in TLS 1.3): the client's verdict, and the
    /// server's own chain if another reached the client. Nothing for other records.
    pub fn annotate(
        &self,
        r: &crate::render::dissect::DissectedRecord,
    ) -> (Option<CertVerdict>, Option<Vec<crate::render::dissect::MessageField>>) {
        let mut messages = r.visible.iter().chain(r.inside.iter().flat_map(|i| i.messages.iter()));
        match messages.find(|m| m.kind == crate::render::dissect::MessageKind::Certificate) {
            Some(cert) if r.direction == Direction::ServerToClient && !r.as_sent => {
                let real = (!self.real.is_empty() && cert.fields != self.real).then(|| self.real.clone());
                (self.check.clone(), real)
            }
            _ => (None, None),
        }
    }
}

/// The client's verdict on the certificate it received.
#[derive(Debug, Clone)]
pub struct CertVerdict {
    pub text: String,
    /// The check failed, whether or not the client went on.
    pub failed: bool,
}

/// What the client's certificate check found, from its events: refused
/// (a validating client aborts), or noticed and ignored, or valid.
fn client_check(trace: &Trace) -> Option<CertVerdict> {
    trace.events().find_map(|(_, e)| match e {
        Event::Client(SessionEvent::TlsFailed { error }) if error.kind == crate::proto::tls_info::TlsErrorKind::Certificate => Some(CertVerdict {
            text: format!(
                "The client checked this certificate and refused it: {error}. It aborts the handshake with an alert ({}).",
                if error.version == Some(crate::proto::tls_info::TlsVersion::Tls12) { "RFC 5246 §7.2.2" } else { "RFC 8446 §6.2" }
            ),
            failed: true,
        }),
        Event::Client(SessionEvent::TlsEstablished { info }) => info.cert_check.as_ref().map(|c| match &c.failure {
            // DANE-EE binds the key to the name by the TLSA record alone: no name or date is checked.
            None => CertVerdict {
                text: match &c.dane {
                    Some(DaneVerdict::Matched(DaneMatch::EndEntity(_))) => "The client checked this certificate against the MX's TLSA record: it matches (DANE-EE). That match is the whole check: the names in the certificate, its dates and its issuer do not count (RFC 7672 §3.1.1, §3.2.1).",
                    Some(DaneVerdict::Matched(DaneMatch::TrustAnchor(_))) => "The client checked this certificate against the MX's TLSA record: the chain leads to the trust anchor the record names (DANE-TA), and the certificate is valid for the name the client asked for (RFC 7672 §3.1.2, §3.2.2).",
                    _ => "The client checked this certificate: it chains to a CA the client trusts, is in date, and is valid for the name it asked for (RFC 5280 §6.1; RFC 6125 §6).",
                }
                .to_owned(),
                failed: false,
            },
            // The handshake completed, so the failed check was not enforced.
            Some(why) => CertVerdict {
                text: format!("The client's check failed ({why}), but this client does not enforce it and carries on."),
                failed: true,
            },
        }),
        _ => None,
    })
}

/// The TLS records of every step, dissected (one list per step, empty for a
/// step without TLS). `server_chain` is the server's own certificate chain,
/// shown beside a different chain that reached the client.
pub fn tls_views(trace: &Trace, server_chain: &[CertificateDer<'_>]) -> Vec<Vec<TlsRecordView>> {
    let mut out = vec![Vec::new(); trace.steps.len()];
    // A hop of a journey is a run of steps numbered from its first.
    let first = trace.steps.first().map_or(0, |s| s.index);
    let context = CertificateContext::of(trace, server_chain);
    for r in crate::render::dissect::dissect(trace) {
        let (client_check, real_chain) = context.annotate(&r);
        let Some(step) = r.step.checked_sub(first).and_then(|i| out.get_mut(i)) else { continue };
        let inside = r.inside.as_ref();
        step.push(TlsRecordView {
            header: format!("{} · version 0x{:04x} · {} bytes", r.content_type, r.version, r.length),
            as_sent: r.as_sent,
            inside_type: inside.map(|i| i.content_type),
            type_hidden: inside.is_some_and(|i| i.type_hidden),
            inside: inside.map(|i| i.messages.clone()).unwrap_or_default(),
            inside_text: inside.and_then(|i| i.data.as_ref()).map(|d| text_view(&d.0)),
            visible: r.visible,
            error: r.error,
            check_failed: client_check.as_ref().is_some_and(|v| v.failed),
            client_check: client_check.map(|v| v.text),
            real_chain,
        });
    }
    out
}

/// [`tls_views`] for every hop of a session, each against its own server's
/// chain (`chains[hop]`); one connection is hop 0.
pub(crate) fn tls_views_by_hop(trace: &Trace, chains: &[Vec<CertificateDer<'static>>]) -> Vec<Vec<TlsRecordView>> {
    if trace.hops.len() < 2 {
        return tls_views(trace, chains.first().map_or(&[][..], |c| c.as_slice()));
    }
    (0..trace.hops.len()).flat_map(|i| tls_views(&trace.hop(i), chains.get(i).map_or(&[][..], |c| c.as_slice()))).collect()
}
