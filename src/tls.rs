//! rustls driven sans-IO: ciphertext in, plaintext out, and the reverse.
//!
//! The same code runs natively and in the browser. Time comes from a
//! [`SimClock`] the caller advances, never from the system clock. The client's
//! certificate check always runs; whether its verdict is enforced is a policy,
//! and the verdict is recorded either way so "not validated" is an observable
//! fact, not a label.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{
    ring, ActiveKeyExchange, CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom, SharedSecret, SupportedKxGroup,
    WebPkiSupportedAlgorithms,
};
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, NamedGroup, PeerMisbehaved, RootCertStore, SignatureScheme};
use serde::{Deserialize, Serialize};

use crate::dane::{Tlsa, Usage};
use crate::entropy::{self, Entropy, Lender};
use crate::pki::{IdentityKind, Pki};
use crate::tls_info::{CertCheck, TlsError, TlsErrorKind, TlsInfo};
use crate::vocab::choice;

/// The simulation's wall clock, shared with rustls as its time provider.
#[derive(Debug, Clone)]
pub struct SimClock(Arc<AtomicU64>);

pub use crate::names::SIM_EPOCH_UNIX;

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

#[derive(Debug)]
struct RecordingVerifier {
    /// `None` when no trust anchors were configured: nothing can validate.
    inner: Option<Arc<WebPkiServerVerifier>>,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
    enforce: bool,
    /// TLSA records that replace the CA store (DANE, RFC 7672 §3.1).
    dane: Option<Vec<Tlsa>>,
    provider: Arc<CryptoProvider>,
    verdict: Arc<Mutex<Option<CertCheck>>>,
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
    ) -> Result<String, String> {
        let chain: Vec<&[u8]> = std::iter::once(end_entity.as_ref()).chain(intermediates.iter().map(|c| c.as_ref())).collect();
        let mut why = Vec::new();
        for record in records {
            match (record.usage, record.find_in(&chain)) {
                (Usage::DaneEe, Ok(Some(_))) => return Ok(format!("the server's certificate matches TLSA {record}")),
                (Usage::DaneTa, Ok(Some(i))) => {
                    let mut roots = RootCertStore::empty();
                    if roots.add(CertificateDer::from(chain[i].to_vec())).is_err() {
                        why.push(format!("TLSA {record}: the matched certificate is not a usable trust anchor"));
                        continue;
                    }
                    let checked = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                        .build()
                        .map_err(|e| e.to_string())
                        .and_then(|v| v.verify_server_cert(end_entity, intermediates, server_name, &[], now).map_err(|e| e.to_string()));
                    match checked {
                        Ok(_) => return Ok(format!("the chain leads to the trust anchor of TLSA {record}")),
                        Err(e) => why.push(format!("TLSA {record} matched a trust anchor, but {e}")),
                    }
                }
                (Usage::DaneEe | Usage::DaneTa, Ok(None)) => why.push(format!("TLSA {record} matches no certificate presented")),
                (_, Err(e)) => why.push(format!("TLSA {record}: {e}")),
                (usage, Ok(_)) => why.push(format!("TLSA {record}: usage {} is not used for SMTP (RFC 7672 §3.1.3)", usage.mnemonic())),
            }
        }
        Err(why.join("; "))
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
            let result = self.verify_dane(records, end_entity, intermediates, server_name, now);
            let check = CertCheck {
                valid: result.is_ok(),
                error: result.as_ref().err().cloned(),
                enforced: self.enforce,
                dane: Some(result.clone().unwrap_or_else(|e| e)),
            };
            *self.verdict.lock().unwrap_or_else(|e| e.into_inner()) = Some(check);
            return match result {
                Err(e) if self.enforce => Err(rustls::Error::General(format!("DANE: {e}"))),
                _ => Ok(ServerCertVerified::assertion()),
            };
        }
        let result = match &self.inner {
            Some(inner) => inner.verify_server_cert(end_entity, intermediates, server_name, ocsp, now),
            None => Err(rustls::Error::General("no trust anchors configured".into())),
        };
        let check =
            CertCheck { valid: result.is_ok(), error: result.as_ref().err().map(ToString::to_string), enforced: self.enforce, dane: None };
        *self.verdict.lock().unwrap_or_else(|e| e.into_inner()) = Some(check);
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
/// every other random number drawn from the seed ([`crate::entropy`]), and
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
fn provider_for(entropy: Entropy) -> (Arc<CryptoProvider>, Option<Lender>) {
    match entropy {
        Entropy::Seeded { seed, stream } => (lab_provider(), Some(Lender::new(seed, stream))),
        #[cfg(not(target_arch = "wasm32"))]
        Entropy::System => (system_provider(), None),
    }
}

/// Collects session secrets in the NSS key log format, so that Wireshark can
/// decrypt a capture of the session. Simulation only: these are the keys.
#[derive(Debug, Default)]
pub struct KeyLogLines(Mutex<Vec<String>>);

impl rustls::KeyLog for KeyLogLines {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let line = format!("{label} {} {}", hex(client_random), hex(secret));
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(line);
    }

    fn will_log(&self, _label: &str) -> bool {
        true
    }
}

choice! {
    /// The TLS versions an endpoint speaks. TLS 1.3 (RFC 8446) encrypts the
    /// handshake from the ServerHello on; TLS 1.2 (RFC 5246) sends the
    /// certificate in cleartext and takes another round trip.
    #[derive(Default)]
    pub enum TlsVersions ("TLS versions") {
        #[default]
        Both = "1.2-1.3": "TLS 1.2 and 1.3 (1.3 when both sides have it)",
        Tls13 = "1.3": "TLS 1.3 only",
        Tls12 = "1.2": "TLS 1.2 only, as older software",
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

    pub fn server(
        pki: &Pki,
        identity: IdentityKind,
        versions: TlsVersions,
        clock: &SimClock,
        entropy: Entropy,
    ) -> Result<TlsStream, TlsError> {
        let id = pki.identity(identity);
        let (provider, lender) = provider_for(entropy);
        let mut config = rustls::ServerConfig::builder_with_details(provider, Arc::new(clock.clone()))
            .with_protocol_versions(versions.rustls())?
            .with_no_client_auth()
            .with_single_cert(id.chain.clone(), id.key())?;
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
            let state = self.with_entropy(|conn| conn.process_new_packets())?;
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
    /// rustls, when seeded (see [`crate::entropy`]).
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
        let version = self.conn.protocol_version().and_then(|v| v.as_str()).unwrap_or("?").replace('_', ".").replace("TLSv", "TLS ");
        let cipher = self.conn.negotiated_cipher_suite().and_then(|c| c.suite().as_str()).unwrap_or("?").to_owned();
        let (server_name, peer_subject) = match &self.conn {
            rustls::Connection::Server(s) => (s.server_name().map(str::to_owned), None),
            rustls::Connection::Client(c) => (None, c.peer_certificates().and_then(|certs| certs.first()).map(subject_of)),
        };
        let cert_check = self.verdict.as_ref().and_then(|v| v.lock().unwrap_or_else(|e| e.into_inner()).clone());
        Some(TlsInfo { version, cipher, server_name, peer_subject, cert_check })
    }
}

/// The first DNS name in the certificate's subjectAltName, for display only.
fn subject_of(cert: &CertificateDer<'_>) -> String {
    webpki::EndEntityCert::try_from(cert)
        .ok()
        .and_then(|ee| ee.valid_dns_names().next().map(str::to_owned))
        .unwrap_or_else(|| "(no DNS name)".to_owned())
}

/// One TLS record header seen on the wire (RFC 8446 §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordInfo {
    pub content_type: String,
    pub length: u16,
    /// Whether the record's contents are encrypted. The first handshake
    /// records (ClientHello, ServerHello) and the compatibility
    /// change_cipher_spec are TLSPlaintext that anyone on the path can read
    /// (RFC 8446 §5.1); protected records travel as application_data with the
    /// real type inside (RFC 8446 §5.2). In TLS 1.2, what a side sends after
    /// its change_cipher_spec is encrypted whatever its type (RFC 5246 §7.1).
    #[serde(default)]
    pub encrypted: bool,
}

/// The name of a record content type (RFC 8446 §5.1), for the four types TLS 1.3 uses.
pub fn content_type_name(t: u8) -> Option<&'static str> {
    Some(match t {
        20 => "change_cipher_spec",
        21 => "alert",
        22 => "handshake",
        23 => "application_data",
        _ => return None,
    })
}

/// Splits a chunk of ciphertext into record headers. Stops at anything that
/// is not a record header (so cleartext yields an empty list).
pub fn records(bytes: &[u8]) -> Vec<RecordInfo> {
    records_after(bytes, &mut false)
}

/// As [`records`], for a sender that may already have sent its
/// change_cipher_spec (`after_ccs`, updated as records go by).
pub fn records_after(mut bytes: &[u8], after_ccs: &mut bool) -> Vec<RecordInfo> {
    let mut out = Vec::new();
    while bytes.len() >= 5 {
        let Some(kind) = content_type_name(bytes[0]) else { break };
        if bytes[1] != 3 {
            break;
        }
        let length = u16::from_be_bytes([bytes[3], bytes[4]]);
        let encrypted = bytes[0] == 23 || (*after_ccs && bytes[0] != 20);
        *after_ccs |= bytes[0] == 20;
        out.push(RecordInfo { content_type: kind.to_owned(), length, encrypted });
        bytes = &bytes[(5 + length as usize).min(bytes.len())..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut s = TlsStream::server(&pki, kind, TlsVersions::Both, &clock, Entropy::seeded(1, 2)).unwrap();
        let r = pump(&mut c, &mut s);
        (c, s, r)
    }

    #[test]
    fn handshake_and_data() {
        let (mut c, mut s, r) = pair(IdentityKind::Valid, true);
        r.unwrap();
        let info = c.info().unwrap();
        assert_eq!(info.version, "TLS 1.3");
        assert_eq!(info.peer_subject.as_deref(), Some("mail.example.test"));
        assert!(info.cert_check.unwrap().valid);
        c.send(b"EHLO x\r\n").unwrap();
        let wire = c.take_outgoing();
        assert_eq!(records(&wire)[0].content_type, "application_data");
        assert_eq!(s.receive(&wire).unwrap(), b"EHLO x\r\n");
        assert_eq!(s.info().unwrap().server_name.as_deref(), Some("mail.example.test"));
    }

    #[test]
    fn bad_certificates_fail_when_enforced_and_are_recorded_when_not() {
        for kind in [IdentityKind::SelfSigned, IdentityKind::WrongName, IdentityKind::UntrustedCa, IdentityKind::Expired] {
            let (_, _, r) = pair(kind, true);
            assert!(r.is_err(), "{kind:?} must fail when enforced");
            let (c, _, r) = pair(kind, false);
            r.unwrap();
            let check = c.info().unwrap().cert_check.unwrap();
            assert!(!check.valid && check.error.is_some(), "{kind:?}: {check:?}");
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
        assert!(records(&c.take_outgoing()).len() == 1);
        assert!(c.receive(b"220 mail.example.test ESMTP\r\n").is_err());
        assert_eq!(records(&c.take_outgoing())[0].content_type, "alert");
    }
}
