//! rustls driven sans-IO: ciphertext in, plaintext out, and the reverse.
//!
//! The same code runs natively and in the browser. Time comes from a
//! [`SimClock`] the caller advances, never from the system clock. The client's
//! certificate check always runs; whether its verdict is enforced is a policy,
//! and the verdict is recorded either way so "not validated" is an observable
//! fact, not a label.

pub(crate) mod entropy;

mod provider;
mod record;
mod verify;

use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::RootCertStore;

use crate::proto::policy::dane::Tlsa;
use crate::proto::tls_info::{CertCheck, TlsError, TlsErrorKind, TlsInfo, TlsVersion};
use crate::vocab::named;
use entropy::{Entropy, Lender};
use provider::provider_for;
pub use record::{ContentType, KeyLogLines, RecordInfo};
use verify::RecordingVerifier;

/// The simulation's wall clock, shared with rustls as its time provider.
#[derive(Debug, Clone)]
pub struct SimClock(Arc<AtomicU64>);

impl SimClock {
    pub fn new(unix_seconds: u64) -> Self {
        SimClock(Arc::new(AtomicU64::new(unix_seconds)))
    }
    pub fn set(&self, unix_seconds: u64) {
        self.0.store(unix_seconds, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl rustls::time_provider::TimeProvider for SimClock {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(std::time::Duration::from_secs(self.get())))
    }
}

impl From<rustls::Error> for TlsError {
    fn from(e: rustls::Error) -> Self {
        let kind = match &e {
            rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => TlsErrorKind::Certificate,
            rustls::Error::AlertReceived(_) => TlsErrorKind::AlertReceived,
            rustls::Error::InvalidMessage(_)
            | rustls::Error::InappropriateMessage { .. }
            | rustls::Error::InappropriateHandshakeMessage { .. } => TlsErrorKind::NotTls,
            _ => TlsErrorKind::Other,
        };
        TlsError::new(kind, e.to_string())
    }
}

named! {
    /// The TLS versions an endpoint speaks. TLS 1.3 (RFC 8446) encrypts the
    /// handshake from the ServerHello on; TLS 1.2 (RFC 5246) sends the
    /// certificate in cleartext and takes another round trip.
    #[derive(Default)]
    pub enum TlsVersions ("TLS versions") {
        #[default]
        Both = "1.2-1.3",
        Tls13 = "1.3",
        Tls12 = "1.2",
    }
}

impl TlsVersions {
    fn rustls(self) -> &'static [&'static rustls::SupportedProtocolVersion] {
        static BOTH: [&rustls::SupportedProtocolVersion; 2] = [&rustls::version::TLS13, &rustls::version::TLS12];
        static TLS13: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
        static TLS12: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
        match self {
            TlsVersions::Both => &BOTH,
            TlsVersions::Tls13 => &TLS13,
            TlsVersions::Tls12 => &TLS12,
        }
    }
}

/// Settings for the client side of a TLS session.
#[derive(Debug, Clone)]
pub struct ClientTls {
    /// Roots the client trusts (DER).
    pub roots: Vec<CertificateDer<'static>>,
    pub server_name: String,
    /// Abort the handshake when the certificate does not validate.
    pub enforce_validation: bool,
    pub versions: TlsVersions,
    /// Validate by these TLSA records instead of the roots (DANE).
    pub dane: Option<Vec<Tlsa>>,
}

/// What a TLS server presents: its certificate chain, leaf first, and the leaf's private key.
pub struct ServerIdentity {
    pub chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl ServerIdentity {
    pub fn new(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> ServerIdentity {
        ServerIdentity { chain, key }
    }
}

impl std::fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerIdentity").field("chain", &self.chain.len()).finish_non_exhaustive()
    }
}

/// A TLS connection, client or server, fed and drained by the caller.
pub struct TlsStream {
    conn: rustls::Connection,
    key_log: Arc<KeyLogLines>,
    verdict: Option<Arc<Mutex<Option<CertCheck>>>>,
    closed_by_peer: bool,
    /// The generator lent to rustls around every call, when seeded.
    lender: Option<Lender>,
}

impl std::fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsStream").field("handshaking", &self.conn.is_handshaking()).finish()
    }
}

impl TlsStream {
    pub fn client(settings: &ClientTls, clock: &SimClock, entropy: Entropy) -> Result<TlsStream, TlsError> {
        let (provider, mut lender) = provider_for(entropy);
        let mut roots = RootCertStore::empty();
        for r in &settings.roots {
            roots.add(r.clone())?;
        }
        let inner = match roots.is_empty() {
            true => None,
            false => Some(
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| TlsError::new(TlsErrorKind::Other, e.to_string()))?,
            ),
        };
        let verdict = Arc::new(Mutex::new(None));
        let algorithms = provider.signature_verification_algorithms;
        let verifier = RecordingVerifier {
            inner,
            algorithms,
            enforce: settings.enforce_validation,
            dane: settings.dane.clone(),
            provider: provider.clone(),
            verdict: verdict.clone(),
        };
        let mut config = rustls::ClientConfig::builder_with_details(provider, Arc::new(clock.clone()))
            .with_protocol_versions(settings.versions.rustls())?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        let key_log = Arc::new(KeyLogLines::default());
        config.key_log = key_log.clone();
        let name = ServerName::try_from(settings.server_name.clone()).map_err(|e| TlsError::new(TlsErrorKind::Other, e.to_string()))?;
        // The client hello is made here: its random and key share are drawn now.
        let config = Arc::new(config);
        let mut conn = match &mut lender {
            Some(lender) => lender.lend(|| rustls::ClientConnection::new(config, name))?,
            None => rustls::ClientConnection::new(config, name)?,
        };
        // The machines bound what they write (one reply, one message within its size
        // limit); rustls's own 64 KiB cap would make `send` drop the rest.
        conn.set_buffer_limit(None);
        Ok(TlsStream { conn: conn.into(), key_log, verdict: Some(verdict), closed_by_peer: false, lender })
    }

    pub fn server(identity: &ServerIdentity, versions: TlsVersions, clock: &SimClock, entropy: Entropy) -> Result<TlsStream, TlsError> {
        let (provider, lender) = provider_for(entropy);
        let mut config = rustls::ServerConfig::builder_with_details(provider, Arc::new(clock.clone()))
            .with_protocol_versions(versions.rustls())?
            .with_no_client_auth()
            .with_single_cert(identity.chain.clone(), identity.key.clone_key())?;
        // No session tickets: a one-shot session has no use for them and they clutter the trace.
        config.send_tls13_tickets = 0;
        let key_log = Arc::new(KeyLogLines::default());
        config.key_log = key_log.clone();
        let mut conn = rustls::ServerConnection::new(Arc::new(config))?;
        conn.set_buffer_limit(None);
        Ok(TlsStream { conn: conn.into(), key_log, verdict: None, closed_by_peer: false, lender })
    }

    /// Feeds ciphertext from the peer; returns the plaintext it carried.
    /// On error, the alert to send is waiting in [`Self::take_outgoing`].
    pub fn receive(&mut self, mut ciphertext: &[u8]) -> Result<Vec<u8>, TlsError> {
        let mut plain = Vec::new();
        while !ciphertext.is_empty() {
            let n = self.conn.read_tls(&mut ciphertext).map_err(|e| TlsError::new(TlsErrorKind::Other, e.to_string()))?;
            if n == 0 {
                // rustls reads nothing after the peer's close_notify: what follows is ignored.
                break;
            }
            // The server's hello, its key share and TLS 1.2 key exchanges are made here.
            let state = self.with_entropy(|conn| conn.process_new_packets()).map_err(|e| self.failed(e))?;
            if state.plaintext_bytes_to_read() > 0 {
                let start = plain.len();
                plain.resize(start + state.plaintext_bytes_to_read(), 0);
                let n = self.conn.reader().read(&mut plain[start..]).map_err(|e| TlsError::new(TlsErrorKind::Other, e.to_string()))?;
                plain.truncate(start + n);
            }
            if state.peer_has_closed() {
                self.closed_by_peer = true;
            }
        }
        Ok(plain)
    }

    /// The error rustls reported, with the certificate check when its refusal was the cause.
    fn failed(&self, e: rustls::Error) -> TlsError {
        let mut error = TlsError::from(e);
        error.check = self.verdict().filter(|c| !c.valid && c.enforced);
        // A refusal of the lab's own verifier (DANE) reaches rustls as a general error:
        // it is a certificate failure, in the verifier's words.
        if let Some(failure) = error.certificate_failure().filter(|_| error.kind == TlsErrorKind::Other) {
            error.message = failure.detail.clone();
            error.kind = TlsErrorKind::Certificate;
        }
        error.version = self.conn.protocol_version().map(|v| match v {
            rustls::ProtocolVersion::TLSv1_2 => TlsVersion::Tls12,
            _ => TlsVersion::Tls13,
        });
        error
    }

    /// What the certificate check concluded, once it has run (client side).
    fn verdict(&self) -> Option<CertCheck> {
        self.verdict.as_ref().and_then(|v| v.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }

    /// Queues plaintext to encrypt (buffered by rustls until the handshake completes).
    /// Fails once the connection has failed: rustls accepts no more data then.
    pub fn send(&mut self, plaintext: &[u8]) -> Result<(), TlsError> {
        self.with_entropy(|conn| conn.writer().write_all(plaintext)).map_err(|e| TlsError::new(TlsErrorKind::Other, e.to_string()))
    }

    /// Records ready for the wire.
    pub fn take_outgoing(&mut self) -> Vec<u8> {
        self.with_entropy(|conn| {
            let mut out = Vec::new();
            while conn.wants_write() {
                if conn.write_tls(&mut out).is_err() {
                    break;
                }
            }
            out
        })
    }

    /// Runs `f` on the connection with this connection's generator lent to
    /// rustls, when seeded (see [`crate::proto::tls::entropy`]).
    fn with_entropy<T>(&mut self, f: impl FnOnce(&mut rustls::Connection) -> T) -> T {
        match &mut self.lender {
            Some(lender) => lender.lend(|| f(&mut self.conn)),
            None => f(&mut self.conn),
        }
    }

    /// Key log lines written since the last call.
    pub fn take_key_log(&self) -> Vec<String> {
        std::mem::take(&mut *self.key_log.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn close(&mut self) {
        self.with_entropy(|conn| conn.send_close_notify());
    }

    pub fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    pub fn peer_closed(&self) -> bool {
        self.closed_by_peer
    }

    /// Details of the negotiated session, once the handshake is done.
    pub fn info(&self) -> Option<TlsInfo> {
        if self.conn.is_handshaking() {
            return None;
        }
        let version = match self.conn.protocol_version()? {
            rustls::ProtocolVersion::TLSv1_2 => TlsVersion::Tls12,
            _ => TlsVersion::Tls13,
        };
        let cipher = self.conn.negotiated_cipher_suite().map_or_else(|| "?".to_owned(), |c| suite_name(u16::from(c.suite())));
        let (server_name, peer_subject) = match &self.conn {
            rustls::Connection::Server(s) => (s.server_name().map(str::to_owned), None),
            rustls::Connection::Client(c) => (None, c.peer_certificates().and_then(|certs| certs.first()).map(subject_of)),
        };
        let cert_check = self.verdict();
        Some(TlsInfo { version, cipher, server_name, peer_subject, cert_check })
    }
}

/// Cipher suite names (RFC 8446 §B.4; RFC 5289 §3.2 and RFC 7905 §2 for the
/// TLS 1.2 ones rustls offers), as the dissector, the notes and the
/// transcripts write them. Not tls-parser's table of every suite: in the
/// browser build that table alone costs more than the dissector.
pub(crate) fn suite_name(id: u16) -> String {
    let name = match id {
        0x1301 => "TLS_AES_128_GCM_SHA256",
        0x1302 => "TLS_AES_256_GCM_SHA384",
        0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
        0xc02b => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        0xc02c => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        0xc02f => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        0xc030 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        0xcca8 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0xcca9 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        0x00ff => "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
        id => return format!("0x{id:04x}"),
    };
    name.into()
}

/// The first DNS name in the certificate's subjectAltName, for display only.
fn subject_of(cert: &CertificateDer<'_>) -> String {
    webpki::EndEntityCert::try_from(cert)
        .ok()
        .and_then(|ee| ee.valid_dns_names().next().map(str::to_owned))
        .unwrap_or_else(|| "(no DNS name)".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    // The tests borrow the lab's certificates: fixtures may come from any layer.
    use crate::sim::world::names::SIM_EPOCH_UNIX;
    use crate::sim::world::pki::{IdentityKind, Pki};

    fn pump(c: &mut TlsStream, s: &mut TlsStream) -> Result<(), TlsError> {
        for _ in 0..10 {
            let out = c.take_outgoing();
            s.receive(&out)?;
            let back = s.take_outgoing();
            c.receive(&back)?;
        }
        Ok(())
    }

    fn pair(kind: IdentityKind, enforce: bool) -> (TlsStream, TlsStream, Result<(), TlsError>) {
        let pki = Pki::lab();
        let clock = SimClock::new(SIM_EPOCH_UNIX);
        let settings = ClientTls {
            roots: vec![pki.ca_cert.clone()],
            server_name: pki.server_name.clone(),
            enforce_validation: enforce,
            versions: TlsVersions::Both,
            dane: None,
        };
        let mut c = TlsStream::client(&settings, &clock, Entropy::seeded(1, 1)).unwrap();
        let mut s = TlsStream::server(&pki.identity(kind).tls, TlsVersions::Both, &clock, Entropy::seeded(1, 2)).unwrap();
        let r = pump(&mut c, &mut s);
        (c, s, r)
    }

    #[test]
    fn handshake_and_data() {
        let (mut c, mut s, r) = pair(IdentityKind::Valid, true);
        r.unwrap();
        let info = c.info().unwrap();
        assert_eq!(info.version, TlsVersion::Tls13);
        assert_eq!(info.peer_subject.as_deref(), Some("mail.example.test"));
        assert!(info.cert_check.unwrap().valid);
        c.send(b"EHLO x\r\n").unwrap();
        let wire = c.take_outgoing();
        assert_eq!(RecordInfo::read(&wire)[0].content_type, ContentType::ApplicationData);
        assert_eq!(s.receive(&wire).unwrap(), b"EHLO x\r\n");
        assert_eq!(s.info().unwrap().server_name.as_deref(), Some("mail.example.test"));
    }

    #[test]
    fn bad_certificates_fail_when_enforced_and_are_recorded_when_not() {
        use crate::proto::tls_info::CertFailureKind as Why;
        for (kind, why) in [
            (IdentityKind::SelfSigned, Why::UnknownIssuer),
            (IdentityKind::WrongName, Why::NotValidForName),
            (IdentityKind::UntrustedCa, Why::UnknownIssuer),
            (IdentityKind::Expired, Why::Expired),
        ] {
            let (_, _, r) = pair(kind, true);
            let refused = r.expect_err("a bad certificate fails when enforced");
            assert_eq!(refused.certificate_failure().map(|f| f.kind), Some(why), "{kind:?}: the refusal keeps the check's verdict");
            let (c, _, r) = pair(kind, false);
            r.unwrap();
            let check = c.info().unwrap().cert_check.unwrap();
            assert!(!check.valid, "{kind:?}: {check:?}");
            assert_eq!(check.failure.map(|f| f.kind), Some(why), "{kind:?}: the kind is rustls's CertificateError, kept");
        }
    }

    #[test]
    fn a_megabyte_in_one_write_arrives_whole() {
        let (mut c, mut s, r) = pair(IdentityKind::Valid, true);
        r.unwrap();
        let big: Vec<u8> = (0..1_048_576u32).map(|i| (i % 251) as u8).collect();
        c.send(&big).unwrap();
        let got = s.receive(&c.take_outgoing()).unwrap();
        assert_eq!(got, big);
    }

    #[test]
    fn bytes_after_close_notify_are_ignored_not_looped_on() {
        let (mut c, mut s, r) = pair(IdentityKind::Valid, true);
        r.unwrap();
        s.send(b"221 Bye\r\n").unwrap();
        s.close();
        let mut wire = s.take_outgoing();
        wire.extend_from_slice(&wire.clone()[..7]);
        for piece in wire.chunks(5) {
            let _ = c.receive(piece);
        }
        assert!(c.peer_closed());
    }

    /// A client for the lab's server that enforces the certificate check.
    fn client(entropy: Entropy) -> TlsStream {
        let pki = Pki::lab();
        let settings = ClientTls {
            roots: vec![pki.ca_cert.clone()],
            server_name: pki.server_name.clone(),
            enforce_validation: true,
            versions: TlsVersions::Both,
            dane: None,
        };
        TlsStream::client(&settings, &SimClock::new(SIM_EPOCH_UNIX), entropy).unwrap()
    }

    fn client_hello(entropy: Entropy) -> Vec<u8> {
        client(entropy).take_outgoing()
    }

    #[test]
    fn a_seeded_hello_repeats_and_a_real_one_never_does() {
        assert_eq!(client_hello(Entropy::seeded(5, 1)), client_hello(Entropy::seeded(5, 1)));
        assert_ne!(client_hello(Entropy::seeded(5, 1)), client_hello(Entropy::seeded(6, 1)));
        // `serve`, `send` and `probe` use the system's randomness.
        assert_ne!(client_hello(Entropy::System), client_hello(Entropy::System));
    }

    #[test]
    fn plaintext_smtp_is_a_tls_error() {
        let mut c = client(Entropy::seeded(1, 1));
        assert!(RecordInfo::read(&c.take_outgoing()).len() == 1);
        assert!(c.receive(b"220 mail.example.test ESMTP\r\n").is_err());
        assert_eq!(RecordInfo::read(&c.take_outgoing())[0].content_type, ContentType::Alert);
    }
}
