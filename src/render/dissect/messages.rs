//! Handshake messages, alerts and change_cipher_spec, field by field, each
//! with the section of the RFC that defines it. Hellos, extensions and alerts
//! are parsed by tls-parser; what it does not parse (TLS 1.3's
//! EncryptedExtensions, Certificate, CertificateVerify and NewSessionTicket
//! layouts) is read here from the RFC 8446 structures, and certificates by
//! x509-parser.

use rustls::pki_types::CertificateDer;
use serde::Serialize;
use tls_parser::{TlsExtension, TlsMessage, TlsMessageHandshake};

/// What a dissected message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    ClientHello,
    ServerHello,
    NewSessionTicket,
    EncryptedExtensions,
    Certificate,
    CertificateVerify,
    Finished,
    KeyUpdate,
    ServerKeyExchange,
    ServerHelloDone,
    ClientKeyExchange,
    /// A handshake message of a type not dissected here.
    OtherHandshake,
    Alert,
    ChangeCipherSpec,
}

impl MessageKind {
    /// Its name as the RFCs (and Wireshark) write it.
    pub fn name(self) -> &'static str {
        match self {
            MessageKind::ClientHello => "ClientHello",
            MessageKind::ServerHello => "ServerHello",
            MessageKind::NewSessionTicket => "NewSessionTicket",
            MessageKind::EncryptedExtensions => "EncryptedExtensions",
            MessageKind::Certificate => "Certificate",
            MessageKind::CertificateVerify => "CertificateVerify",
            MessageKind::Finished => "Finished",
            MessageKind::KeyUpdate => "KeyUpdate",
            MessageKind::ServerKeyExchange => "ServerKeyExchange",
            MessageKind::ServerHelloDone => "ServerHelloDone",
            MessageKind::ClientKeyExchange => "ClientKeyExchange",
            MessageKind::OtherHandshake => "handshake message",
            MessageKind::Alert => "Alert",
            MessageKind::ChangeCipherSpec => "ChangeCipherSpec",
        }
    }
}

impl std::fmt::Display for MessageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One message, as its fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DissectedMessage {
    #[serde(rename = "name", serialize_with = "crate::vocab::as_text")]
    pub kind: MessageKind,
    /// Where the message is defined, e.g. "RFC 8446 §4.1.2".
    #[serde(serialize_with = "crate::cite::as_prose")]
    pub section: &'static str,
    /// What the message is for, when that is not obvious from its name.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "crate::cite::as_optional_prose")]
    pub note: Option<&'static str>,
    /// A handshake message's msg_type (RFC 8446 §4), as Wireshark lists it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handshake_type: Option<u8>,
    pub fields: Vec<MessageField>,
}

/// One field of a message, its value as text, and what it tells a learner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageField {
    #[serde(serialize_with = "crate::cite::as_prose")]
    pub name: &'static str,
    pub value: String,
    /// Why the field matters, with its RFC section.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "crate::cite::as_optional_prose")]
    pub note: Option<&'static str>,
}

fn field(name: &'static str, value: impl Into<String>) -> MessageField {
    MessageField { name, value: value.into(), note: note(name) }
}

/// The notes, by field name; each sentence checked against the section it cites.
fn note(name: &str) -> Option<&'static str> {
    Some(match name {
        "legacy_version" => "TLS 1.3 keeps 0x0303 (TLS 1.2) here; the versions really offered or chosen are in supported_versions (RFC 8446 §4.1.2, §4.1.3).",
        "legacy_session_id" => "A cached TLS 1.2 session ID, or a new 32-byte value in middlebox compatibility mode, so that the handshake looks like a TLS 1.2 resumption; otherwise empty (RFC 8446 §4.1.2, §D.4).",
        "server_name (RFC 6066 §3)" => "The name of the server the client wants, in cleartext: anyone on the path reads it (RFC 6066 §3).",
        "key_share (RFC 8446 §4.2.8)" => "Ephemeral (EC)DHE public values; both sides derive the handshake keys from them, so every handshake message after ServerHello is encrypted (RFC 8446 §4.2.8, §7.1).",
        "supported_versions (RFC 8446 §4.2.1)" => "The versions offered (ClientHello) or the one chosen (ServerHello) (RFC 8446 §4.2.1).",
        "cipher_suite" => "The AEAD and hash that protect every later record (RFC 8446 §4.1.3, §B.4).",
        "subject" => "Who the certificate names. In TLS 1.3 it travels encrypted under the handshake keys (RFC 8446 §4.4.2); a TLS 1.2 observer reads it in cleartext (RFC 5246 §7.4.2).",
        "subject_alt_names" => "The DNS names the certificate is valid for, which a client compares with the name it asked for (RFC 5280 §4.2.1.6).",
        "algorithm" => "The signature over the handshake transcript that proves the server holds the certificate's private key (RFC 8446 §4.4.3).",
        "verify_data" => "An HMAC over the handshake so far: any altered handshake message makes it fail (RFC 8446 §4.4.4).",
        "random" => "32 bytes of fresh randomness from each side, mixed into the session's keys (RFC 8446 §4.1.2; RFC 5246 §8.1).",
        "cipher_suites" => "The AEAD-and-hash pairs the client accepts, most preferred first (RFC 8446 §4.1.2).",
        "legacy_session_id_echo" => "The server echoes the client's legacy_session_id; a client that gets back anything else aborts the handshake (RFC 8446 §4.1.3).",
        "session_id" => "The server's identity for this session: the client's own value if the server resumes that session, a new one if not, or empty if the session will not be cached for resumption (RFC 5246 §7.4.1.3).",
        "supported_groups (RFC 8446 §4.2.7)" => "The key-exchange groups the client supports, most preferred first (RFC 8446 §4.2.7).",
        "signature_algorithms (RFC 8446 §4.2.3)" => "The signature schemes the client accepts for the server's proof of its key (RFC 8446 §4.2.3).",
        "application_layer_protocol_negotiation (RFC 7301 §3.1)" => "The application protocols the client offers (RFC 7301 §3.1).",
        "psk_key_exchange_modes (RFC 8446 §4.2.9)" => "How a later resumption may use a pre-shared key: psk_dhe_ke keeps a fresh (EC)DHE exchange, for forward secrecy (RFC 8446 §4.2.9).",
        "extended_master_secret (RFC 7627 §5.1)" => "Binds a TLS 1.2 master secret to the whole handshake (RFC 7627 §4).",
        "issuer" => "Who signed the certificate; a client accepts the chain only if it ends at a root it already trusts (RFC 5280 §6.1).",
        "validity" => "The certificate counts only between these two times (RFC 5280 §4.1.2.5).",
        "public_key" => "The key the server's signature over the handshake is checked against (RFC 5280 §4.1.2.7).",
        "signature_algorithm" => "How the issuer signed this certificate (RFC 5280 §4.1.1.2).",
        "ticket_lifetime" => "How long, in seconds, the client may use this ticket to resume (RFC 8446 §4.6.1).",
        "level" => "In TLS 1.3 the level can be ignored: the description says how serious the alert is (RFC 8446 §6).",
        "description" => "close_notify ends the session cleanly and user_canceled cancels the handshake; any other description reports an error (RFC 8446 §6.1, §6.2).",
        "named_curve" => "The group of the server's ephemeral ECDHE key, sent and signed in the clear (RFC 8422 §5.4).",
        _ => return None,
    })
}

/// The notes a TLS 1.2 message needs instead of TLS 1.3's (RFC 5246), by field name.
fn note_tls12(name: &str) -> Option<&'static str> {
    Some(match name {
        "legacy_version" => "In TLS 1.2 this is the version itself: in a ClientHello the highest the client supports, in a ServerHello the one chosen (RFC 5246 §7.4.1.2, §7.4.1.3).",
        "legacy_session_id" => "The session the client asks to resume; empty when it has none or wants new keys (RFC 5246 §7.4.1.2).",
        "cipher_suites" => "The cipher suites the client accepts, most preferred first; a TLS 1.2 suite names a key exchange, a bulk cipher, a MAC and a PRF (RFC 5246 §7.4.1.2).",
        "cipher_suite" => "The suite the server chose: key exchange, bulk cipher, MAC and PRF. Each side's records are protected with it after that side's change_cipher_spec (RFC 5246 §7.4.1.3, §7.1).",
        "verify_data" => "The PRF of the master secret over a hash of every handshake message so far: any altered handshake message makes it fail (RFC 5246 §7.4.9).",
        "public_key" => "The key the server's signature in ServerKeyExchange is checked against: it signs both randoms and its ECDHE parameters (RFC 5280 §4.1.2.7; RFC 8422 §5.4).",
        "algorithm" => "In TLS 1.2 CertificateVerify is the client's: its signature over the handshake so far, proving it holds its certificate's key (RFC 5246 §7.4.8).",
        "signature_algorithms (RFC 8446 §4.2.3)" => "The signature and hash pairs the client accepts in the server's signatures (RFC 5246 §7.4.1.4.1).",
        "supported_groups (RFC 8446 §4.2.7)" => "The curves the client supports for ECDHE, most preferred first (RFC 8422 §5.1.1).",
        "level" => "In TLS 1.2 the level matters: a fatal alert ends the connection at once; after a warning it may go on (RFC 5246 §7.2, §7.2.2).",
        "description" => "close_notify ends the session cleanly (RFC 5246 §7.2.1); the other descriptions report errors, fatal or, like user_canceled, usually a warning (RFC 5246 §7.2.2).",
        _ => return None,
    })
}

/// Gives a TLS 1.2 message's fields the notes of RFC 5246 where TLS 1.3's would mislead.
fn as_tls12(mut m: DissectedMessage) -> DissectedMessage {
    for f in &mut m.fields {
        if let Some(n) = note_tls12(f.name) {
            f.note = Some(n);
        }
    }
    m
}

fn hex(b: &[u8]) -> String {
    hex::encode(b)
}

/// `BadRecordMac` → `bad_record_mac`: tls-parser's names as the RFCs write them.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn version_name(v: u16) -> String {
    match v {
        0x0304 => "TLS 1.3".into(),
        0x0303 => "TLS 1.2".into(),
        0x0302 => "TLS 1.1".into(),
        0x0301 => "TLS 1.0".into(),
        v => format!("0x{v:04x}"),
    }
}

/// Named groups (RFC 8446 §4.2.7, RFC 8422 §5.1.1).
fn group_name(g: u16) -> String {
    match g {
        0x001d => "x25519".into(),
        0x001e => "x448".into(),
        0x0017 => "secp256r1".into(),
        0x0018 => "secp384r1".into(),
        0x0019 => "secp521r1".into(),
        0x11ec => "X25519MLKEM768".into(),
        g => snake(&format!("{}", tls_parser::NamedGroup(g))),
    }
}

/// Signature schemes (RFC 8446 §4.2.3).
fn scheme_name(s: u16) -> String {
    let name = match s {
        0x0401 => "rsa_pkcs1_sha256",
        0x0501 => "rsa_pkcs1_sha384",
        0x0601 => "rsa_pkcs1_sha512",
        0x0403 => "ecdsa_secp256r1_sha256",
        0x0503 => "ecdsa_secp384r1_sha384",
        0x0603 => "ecdsa_secp521r1_sha512",
        0x0804 => "rsa_pss_rsae_sha256",
        0x0805 => "rsa_pss_rsae_sha384",
        0x0806 => "rsa_pss_rsae_sha512",
        0x0807 => "ed25519",
        0x0808 => "ed448",
        0x0201 => "rsa_pkcs1_sha1",
        0x0203 => "ecdsa_sha1",
        s => return format!("0x{s:04x}"),
    };
    name.into()
}

fn list(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

/// Reads a big-endian length of `n` bytes and that many bytes after it.
fn vector(b: &[u8], n: usize) -> Option<(&[u8], &[u8])> {
    let len = b.get(..n)?.iter().fold(0usize, |acc, &x| acc << 8 | usize::from(x));
    let body = b.get(n..n + len)?;
    Some((body, &b[n + len..]))
}

/// The first whole handshake message at the start of `hs` (type, u24 length,
/// body; RFC 8446 §4), or `None` while it is incomplete.
pub(super) fn whole_message(hs: &[u8]) -> Option<&[u8]> {
    let (body, _) = vector(hs.get(1..)?, 3)?;
    Some(&hs[..4 + body.len()])
}

/// The random of a ClientHello (whole message, header included).
pub(super) fn hello_random(msg: &[u8]) -> Option<Vec<u8>> {
    // type(1) length(3) legacy_version(2) random(32) (RFC 8446 §4.1.2).
    msg.get(6..38).map(<[u8]>::to_vec)
}

/// A ServerHello's cipher suite, whether it selected TLS 1.3 (supported_versions
/// 0x0304, RFC 8446 §4.2.1), and its random.
pub(super) fn server_hello_info(msg: &[u8]) -> Option<(u16, bool, Vec<u8>)> {
    let (_, TlsMessage::Handshake(TlsMessageHandshake::ServerHello(sh))) = tls_parser::parse_tls_message_handshake(msg).ok()? else {
        return None;
    };
    let tls13 = match sh.ext {
        Some(ext) => tls_parser::parse_tls_server_hello_extensions(ext)
            .ok()?
            .1
            .iter()
            .any(|e| matches!(e, TlsExtension::SupportedVersions(v) if v.first().is_some_and(|v| v.0 == 0x0304))),
        None => false,
    };
    Some((sh.cipher.0, tls13, sh.random.to_vec()))
}

/// The groups of a key_share extension: a list in a ClientHello, one entry in
/// a ServerHello (RFC 8446 §4.2.8).
fn key_share_groups(data: &[u8], client: bool) -> Vec<u16> {
    let mut entries = if client { vector(data, 2).map_or(&[][..], |(v, _)| v) } else { data };
    let mut out = Vec::new();
    while let Some(group) = entries.get(..2) {
        out.push(u16::from_be_bytes([group[0], group[1]]));
        match vector(&entries[2..], 2) {
            Some((_, rest)) => entries = rest,
            None => break,
        }
    }
    out
}

/// The fields of a list of extensions.
fn extensions(exts: &[TlsExtension<'_>], client: bool) -> Vec<MessageField> {
    exts.iter()
        .filter_map(|e| {
            Some(match e {
                // A server that used the name answers with an empty server_name (RFC 6066 §3).
                TlsExtension::SNI(names) if names.is_empty() => MessageField {
                    name: "server_name (RFC 6066 §3)",
                    value: "empty: the server used the name the client sent".into(),
                    note: None,
                },
                TlsExtension::SNI(names) => {
                    field("server_name (RFC 6066 §3)", list(names.iter().map(|(_, n)| String::from_utf8_lossy(n).into_owned())))
                }
                TlsExtension::SupportedVersions(v) => {
                    field("supported_versions (RFC 8446 §4.2.1)", list(v.iter().map(|v| version_name(v.0))))
                }
                TlsExtension::EllipticCurves(g) => field("supported_groups (RFC 8446 §4.2.7)", list(g.iter().map(|g| group_name(g.0)))),
                TlsExtension::KeyShare(data) => {
                    field("key_share (RFC 8446 §4.2.8)", list(key_share_groups(data, client).into_iter().map(group_name)))
                }
                TlsExtension::SignatureAlgorithms(s) => {
                    field("signature_algorithms (RFC 8446 §4.2.3)", list(s.iter().map(|&s| scheme_name(s))))
                }
                TlsExtension::ALPN(p) => field(
                    "application_layer_protocol_negotiation (RFC 7301 §3.1)",
                    list(p.iter().map(|p| String::from_utf8_lossy(p).into_owned())),
                ),
                TlsExtension::PskExchangeModes(m) => field(
                    "psk_key_exchange_modes (RFC 8446 §4.2.9)",
                    list(m.iter().map(|m| if *m == 1 { "psk_dhe_ke".to_owned() } else { format!("{m}") })),
                ),
                TlsExtension::ExtendedMasterSecret => field("extended_master_secret (RFC 7627 §5.1)", "present"),
                TlsExtension::RenegotiationInfo(_) => field("renegotiation_info (RFC 5746 §3.2)", "present"),
                TlsExtension::EcPointFormats(_) => field("ec_point_formats (RFC 8422 §5.1.2)", "present"),
                TlsExtension::SessionTicket(_) => field("session_ticket (RFC 5077 §3.2)", "present"),
                TlsExtension::StatusRequest(_) => field("status_request (RFC 6066 §8)", "present"),
                TlsExtension::SignedCertificateTimestamp(_) => field("signed_certificate_timestamp (RFC 6962 §3.3.1)", "present"),
                TlsExtension::Unknown(t, _) => field("extension", format!("type {}", t.0)),
                _ => return None,
            })
        })
        .collect()
}

fn client_hello(msg: &[u8]) -> Option<DissectedMessage> {
    let (_, TlsMessage::Handshake(TlsMessageHandshake::ClientHello(ch))) = tls_parser::parse_tls_message_handshake(msg).ok()? else {
        return None;
    };
    let mut fields = vec![
        field("legacy_version", version_name(ch.version.0)),
        field("random", hex(ch.random)),
        field("legacy_session_id", ch.session_id.map(hex).unwrap_or_default()),
        field("cipher_suites", list(ch.ciphers.iter().map(|c| crate::proto::tls::suite_name(c.0)))),
    ];
    let mut offers13 = false;
    if let Some(ext) = ch.ext {
        let exts = tls_parser::parse_tls_client_hello_extensions(ext).ok()?.1;
        offers13 = exts.iter().any(|e| matches!(e, TlsExtension::SupportedVersions(v) if v.iter().any(|v| v.0 == 0x0304)));
        fields.extend(extensions(&exts, true));
    }
    // A client that offers only TLS 1.2 sends the hello of RFC 5246.
    let section = if offers13 { "RFC 8446 §4.1.2" } else { "RFC 5246 §7.4.1.2" };
    let m = DissectedMessage { kind: MessageKind::ClientHello, section, note: None, handshake_type: None, fields };
    Some(if offers13 { m } else { as_tls12(m) })
}

fn server_hello(msg: &[u8]) -> Option<DissectedMessage> {
    let (_, TlsMessage::Handshake(TlsMessageHandshake::ServerHello(sh))) = tls_parser::parse_tls_message_handshake(msg).ok()? else {
        return None;
    };
    let exts = match sh.ext {
        Some(ext) => tls_parser::parse_tls_server_hello_extensions(ext).ok()?.1,
        None => Vec::new(),
    };
    let chose13 = exts.iter().any(|e| matches!(e, TlsExtension::SupportedVersions(v) if v.first().is_some_and(|v| v.0 == 0x0304)));
    // TLS 1.3 echoes the client's value here (RFC 8446 §4.1.3); TLS 1.2 sends the server's own (RFC 5246 §7.4.1.3).
    let session_id = if chose13 { "legacy_session_id_echo" } else { "session_id" };
    let mut fields = vec![
        field("legacy_version", version_name(sh.version.0)),
        field("random", hex(sh.random)),
        field(session_id, sh.session_id.map(hex).unwrap_or_default()),
        field("cipher_suite", crate::proto::tls::suite_name(sh.cipher.0)),
    ];
    fields.extend(extensions(&exts, false));
    let section = if chose13 { "RFC 8446 §4.1.3" } else { "RFC 5246 §7.4.1.3" };
    let m = DissectedMessage { kind: MessageKind::ServerHello, section, note: None, handshake_type: None, fields };
    Some(if chose13 { m } else { as_tls12(m) })
}

/// A distinguished name as `CN=..., O=...`, the usual short names for the
/// usual attributes (RFC 4514 §3) and dotted numbers for others. Written here
/// rather than with x509-parser's Display, whose OID registry would double
/// what the dissector adds to the browser build.
fn dn(name: &x509_parser::x509::X509Name<'_>) -> String {
    let parts: Vec<String> = name
        .iter_attributes()
        .map(|a| {
            let oid = a.attr_type().to_id_string();
            let short = match oid.as_str() {
                "2.5.4.3" => "CN",
                "2.5.4.10" => "O",
                "2.5.4.11" => "OU",
                "2.5.4.6" => "C",
                "2.5.4.7" => "L",
                "2.5.4.8" => "ST",
                other => other,
            };
            format!("{short}={}", a.as_str().unwrap_or("(not text)"))
        })
        .collect();
    parts.join(", ")
}

/// A certificate time as `YYYY-MM-DD HH:MM:SS UTC`.
fn when(t: &x509_parser::time::ASN1Time) -> String {
    let d = t.to_datetime();
    format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", d.year(), u8::from(d.month()), d.day(), d.hour(), d.minute(), d.second())
}

/// A chain's fields, certificate by certificate, as a Certificate message shows them.
pub(crate) fn chain_fields(chain: &[CertificateDer<'_>]) -> Vec<MessageField> {
    chain.iter().enumerate().flat_map(|(i, der)| certificate_fields(der, i)).collect()
}

/// One certificate's fields (RFC 5280 §4.1), by x509-parser.
fn certificate_fields(der: &[u8], i: usize) -> Vec<MessageField> {
    use x509_parser::extensions::GeneralName;
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
        return vec![field("certificate", format!("#{i}: {} bytes, not a parsable X.509 certificate", der.len()))];
    };
    let sans = match cert.subject_alternative_name() {
        Ok(Some(ext)) => list(ext.value.general_names.iter().map(|n| match n {
            GeneralName::DNSName(d) => format!("DNS:{d}"),
            GeneralName::IPAddress(ip) => format!("IP:{ip:?}"),
            GeneralName::RFC822Name(m) => format!("email:{m}"),
            _ => "(other)".to_owned(),
        })),
        _ => String::new(),
    };
    let validity = cert.validity();
    let mut fields = vec![
        field("subject", format!("#{i}: {}", dn(cert.subject()))),
        field("subject_alt_names", sans),
        field("issuer", dn(cert.issuer())),
        field("validity", format!("{} to {}", when(&validity.not_before), when(&validity.not_after))),
        field("public_key", oid_name(&cert.public_key().algorithm.algorithm.to_id_string())),
        field("signature_algorithm", oid_name(&cert.signature_algorithm.algorithm.to_id_string())),
    ];
    fields.retain(|f| !f.value.is_empty());
    // The notes once, on the first certificate.
    if i > 0 {
        fields.iter_mut().for_each(|f| f.note = None);
    }
    fields
}

/// Names of the algorithm identifiers a certificate here can carry.
fn oid_name(oid: &str) -> String {
    match oid {
        "1.2.840.10045.2.1" => "EC public key",
        "1.2.840.113549.1.1.1" => "RSA",
        "1.3.101.112" => "Ed25519",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        other => return other.to_owned(),
    }
    .into()
}

/// TLS 1.3 Certificate (RFC 8446 §4.4.2): a request context, then entries
/// of certificate data and extensions. TLS 1.2's (RFC 5246 §7.4.2) is a plain list.
fn certificate(body: &[u8], tls13: bool) -> Option<DissectedMessage> {
    let mut fields = Vec::new();
    let list = if tls13 { vector(body, 1)?.1 } else { body };
    let (mut entries, _) = vector(list, 3)?;
    let mut i = 0;
    while !entries.is_empty() {
        let (der, rest) = vector(entries, 3)?;
        entries = if tls13 { vector(rest, 2)?.1 } else { rest };
        fields.extend(certificate_fields(der, i));
        i += 1;
    }
    let section = if tls13 { "RFC 8446 §4.4.2" } else { "RFC 5246 §7.4.2" };
    Some(DissectedMessage { kind: MessageKind::Certificate, section, note: None, handshake_type: None, fields })
}

fn encrypted_extensions(body: &[u8]) -> Option<DissectedMessage> {
    let (exts, _) = vector(body, 2)?;
    let (_, parsed) = tls_parser::parse_tls_extensions(exts).ok()?;
    Some(DissectedMessage {
        kind: MessageKind::EncryptedExtensions,
        section: "RFC 8446 §4.3.1",
        note: None,
        handshake_type: None,
        fields: extensions(&parsed, false),
    })
}

/// One whole handshake message (header included), dissected.
fn handshake(msg: &[u8], tls13: bool) -> DissectedMessage {
    let body = &msg[4..];
    let plain = |kind, section, fields| DissectedMessage { kind, section, note: None, handshake_type: None, fields };
    let parsed = match msg[0] {
        1 => client_hello(msg),
        2 => server_hello(msg),
        4 if tls13 => (body.len() >= 4).then(|| {
            let lifetime = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
            plain(MessageKind::NewSessionTicket, "RFC 8446 §4.6.1", vec![field("ticket_lifetime", format!("{lifetime} s"))])
        }),
        8 => encrypted_extensions(body),
        11 => certificate(body, tls13),
        15 => (body.len() >= 2).then(|| {
            let scheme = u16::from_be_bytes([body[0], body[1]]);
            let section = if tls13 { "RFC 8446 §4.4.3" } else { "RFC 5246 §7.4.8" };
            plain(MessageKind::CertificateVerify, section, vec![field("algorithm", scheme_name(scheme))])
        }),
        20 => {
            let section = if tls13 { "RFC 8446 §4.4.4" } else { "RFC 5246 §7.4.9" };
            Some(plain(MessageKind::Finished, section, vec![field("verify_data", format!("{} bytes", body.len()))]))
        }
        24 => Some(plain(MessageKind::KeyUpdate, "RFC 8446 §4.6.3", vec![])),
        // TLS 1.2's key exchange in the clear: ECDHE parameters signed by the server (RFC 8422 §5.4).
        12 if !tls13 => Some(plain(
            MessageKind::ServerKeyExchange,
            "RFC 5246 §7.4.3",
            match body {
                [3, a, b, ..] => vec![field("named_curve", group_name(u16::from_be_bytes([*a, *b])))],
                _ => vec![],
            },
        )),
        14 if !tls13 => Some(plain(MessageKind::ServerHelloDone, "RFC 5246 §7.4.5", vec![])),
        16 if !tls13 => {
            Some(plain(MessageKind::ClientKeyExchange, "RFC 5246 §7.4.7", vec![field("length", format!("{} bytes", body.len()))]))
        }
        _ => None,
    };
    let mut m = parsed.unwrap_or_else(|| DissectedMessage {
        kind: MessageKind::OtherHandshake,
        section: "RFC 8446 §4",
        note: None,
        handshake_type: None,
        fields: vec![field("type", msg[0].to_string()), field("length", body.len().to_string())],
    });
    m.handshake_type = Some(msg[0]);
    // The hellos tell their own version; what follows is the session's.
    if tls13 || matches!(msg[0], 1 | 2) {
        m
    } else {
        as_tls12(m)
    }
}

/// Joins handshake bytes across records and returns each message as it completes.
#[derive(Debug, Default)]
pub(super) struct Reassembler {
    buf: Vec<u8>,
}

impl Reassembler {
    pub(super) fn push(&mut self, bytes: &[u8], tls13: bool) -> Vec<DissectedMessage> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(len) = whole_message(&self.buf).map(<[u8]>::len) {
            let msg: Vec<u8> = self.buf.drain(..len).collect();
            out.push(handshake(&msg, tls13));
        }
        out
    }
}

/// An alert record's content (RFC 8446 §6; RFC 5246 §7.2).
pub(super) fn alert(body: &[u8], tls13: bool) -> Option<DissectedMessage> {
    let [level, description] = body.get(..2)?.try_into().ok()?;
    let level = match level {
        1 => "warning".to_owned(),
        2 => "fatal".to_owned(),
        l => l.to_string(),
    };
    let description = snake(&format!("{}", tls_parser::TlsAlertDescription(description)));
    let m = DissectedMessage {
        kind: MessageKind::Alert,
        section: if tls13 { "RFC 8446 §6" } else { "RFC 5246 §7.2" },
        note: None,
        handshake_type: None,
        fields: vec![field("level", level), field("description", description)],
    };
    Some(if tls13 { m } else { as_tls12(m) })
}

/// A change_cipher_spec record: in TLS 1.2 the switch to the new keys, in
/// TLS 1.3 a dummy sent only so that middleboxes see a familiar handshake.
pub(super) fn change_cipher_spec(tls13: bool) -> DissectedMessage {
    let (section, note) = if tls13 {
        (
            "RFC 8446 Appendix D.4",
            "In TLS 1.3 a dummy record, sent so that middleboxes see what looks like a TLS 1.2 resumption; the receiver drops it (RFC 8446 §5, Appendix D.4).",
        )
    } else {
        ("RFC 5246 §7.1", "From here on, everything this side sends is encrypted under the keys just agreed (RFC 5246 §7.1).")
    };
    DissectedMessage { kind: MessageKind::ChangeCipherSpec, section, handshake_type: None, note: Some(note), fields: vec![] }
}
