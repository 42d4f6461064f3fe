//! Traffic keys from a session's own secrets, to open the records it sent.
//!
//! The key log (NSS format, the one rustls writes and Wireshark reads) holds
//! each TLS 1.3 traffic secret by the ClientHello's random. From a secret,
//! HKDF-Expand-Label gives the record key and IV (RFC 8446 §7.1, §7.3); each
//! record's nonce is the IV XOR its sequence number (§5.3), its additional
//! data the record header (§5.2). TLS 1.2 logs the master secret instead
//! (`CLIENT_RANDOM`): the keys come from its PRF (RFC 5246 §5, §6.3), and the
//! nonces and additional data are those of RFC 5288 §3 (AES-GCM) and RFC 7905
//! §2 (ChaCha20-Poly1305). All with ring, which rustls already uses.

use ring::{aead, hkdf, hmac};

/// How records are protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protection {
    /// TLS 1.3: IV XOR sequence number, the header as additional data.
    Tls13,
    /// TLS 1.2 AES-GCM: a 4-byte salt and an 8-byte explicit nonce in the record.
    Tls12Gcm,
    /// TLS 1.2 ChaCha20-Poly1305: IV XOR sequence number, no explicit nonce.
    Tls12Chacha,
}

/// A cipher suite rustls with ring offers: TLS 1.3 (RFC 8446 §B.4) or TLS 1.2 ECDHE with an AEAD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Suite {
    pub id: u16,
    aead: &'static aead::Algorithm,
    hkdf: hkdf::Algorithm,
    hmac: hmac::Algorithm,
    mode: Protection,
}

impl Suite {
    pub(super) fn tls13(id: u16) -> Option<Suite> {
        let (aead, hkdf, hmac) = match id {
            0x1301 => (&aead::AES_128_GCM, hkdf::HKDF_SHA256, hmac::HMAC_SHA256),
            0x1302 => (&aead::AES_256_GCM, hkdf::HKDF_SHA384, hmac::HMAC_SHA384),
            0x1303 => (&aead::CHACHA20_POLY1305, hkdf::HKDF_SHA256, hmac::HMAC_SHA256),
            _ => return None,
        };
        Some(Suite { id, aead, hkdf, hmac, mode: Protection::Tls13 })
    }

    pub(super) fn tls12(id: u16) -> Option<Suite> {
        let (aead, hkdf, hmac, mode) = match id {
            0xc02b | 0xc02f => (&aead::AES_128_GCM, hkdf::HKDF_SHA256, hmac::HMAC_SHA256, Protection::Tls12Gcm),
            0xc02c | 0xc030 => (&aead::AES_256_GCM, hkdf::HKDF_SHA384, hmac::HMAC_SHA384, Protection::Tls12Gcm),
            0xcca8 | 0xcca9 => (&aead::CHACHA20_POLY1305, hkdf::HKDF_SHA256, hmac::HMAC_SHA256, Protection::Tls12Chacha),
            _ => return None,
        };
        Some(Suite { id, aead, hkdf, hmac, mode })
    }

    pub(super) fn is_tls13(&self) -> bool {
        self.mode == Protection::Tls13
    }

    /// TLS 1.2's two write keys from the master secret: the client's opener
    /// and the server's (RFC 5246 §6.3: key_block = PRF(master_secret,
    /// "key expansion", server_random + client_random)).
    pub(super) fn tls12_openers(&self, master: &[u8], client_random: &[u8], server_random: &[u8]) -> (Opener, Opener) {
        let key_len = self.aead.key_len();
        let iv_len = if self.mode == Protection::Tls12Gcm { 4 } else { aead::NONCE_LEN };
        let block = prf(self.hmac, master, b"key expansion", &[server_random, client_random].concat(), 2 * (key_len + iv_len));
        let (keys, ivs) = block.split_at(2 * key_len);
        let opener = |key: &[u8], iv: &[u8]| {
            let mut full = [0u8; aead::NONCE_LEN];
            full[..iv.len()].copy_from_slice(iv);
            Opener::with_key(*self, Vec::new(), key, full)
        };
        (opener(&keys[..key_len], &ivs[..iv_len]), opener(&keys[key_len..], &ivs[iv_len..]))
    }
}

/// The TLS 1.2 PRF: P_hash(secret, label + seed) (RFC 5246 §5).
fn prf(alg: hmac::Algorithm, secret: &[u8], label: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
    let key = hmac::Key::new(alg, secret);
    let seed = [label, seed].concat();
    let mut a = hmac::sign(&key, &seed);
    let mut out = Vec::with_capacity(len + 64);
    while out.len() < len {
        out.extend_from_slice(hmac::sign(&key, &[a.as_ref(), &seed].concat()).as_ref());
        a = hmac::sign(&key, a.as_ref());
    }
    out.truncate(len);
    out
}

/// The secret a key log holds for `label` (e.g. `SERVER_HANDSHAKE_TRAFFIC_SECRET`)
/// and the session whose ClientHello carried `client_random`.
pub(super) fn secret(key_log: &[String], label: &str, client_random: &[u8]) -> Option<Vec<u8>> {
    key_log.iter().find_map(|line| {
        let mut parts = line.split_whitespace();
        (parts.next()? == label && hex(parts.next()?)? == client_random).then_some(())?;
        // A traffic secret is as long as the suite's hash (32 or 48 bytes); a master secret is 48.
        hex(parts.next()?).filter(|s| matches!(s.len(), 32 | 48))
    })
}

fn hex(s: &str) -> Option<Vec<u8>> {
    hex::decode(s).ok()
}

/// An output length for ring's HKDF.
struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// `HKDF-Expand-Label(Secret, Label, "", Length)` (RFC 8446 §7.1).
fn expand_label(alg: hkdf::Algorithm, secret: &[u8], label: &str, len: usize) -> Vec<u8> {
    let full = [b"tls13 ", label.as_bytes()].concat();
    let length = u16::try_from(len).expect("key lengths are small").to_be_bytes();
    let info: [&[u8]; 5] = [&length, &[full.len() as u8], &full, &[0], &[]];
    let mut out = vec![0; len];
    hkdf::Prk::new_less_safe(alg, secret).expand(&info, Len(len)).and_then(|okm| okm.fill(&mut out)).expect("a length HKDF allows");
    out
}

/// Opens one direction's records under one traffic secret, counting them.
pub(super) struct Opener {
    suite: Suite,
    secret: Vec<u8>,
    key: aead::LessSafeKey,
    iv: [u8; aead::NONCE_LEN],
    seq: u64,
}

/// A record that would not open: the receiver would answer bad_record_mac (RFC 8446 §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OpenError;

impl Opener {
    /// A TLS 1.3 opener for one traffic secret (RFC 8446 §7.3).
    pub(super) fn new(suite: Suite, secret: Vec<u8>) -> Opener {
        let key = expand_label(suite.hkdf, &secret, "key", suite.aead.key_len());
        let iv: [u8; aead::NONCE_LEN] =
            expand_label(suite.hkdf, &secret, "iv", aead::NONCE_LEN).try_into().expect("asked for NONCE_LEN bytes");
        Opener::with_key(suite, secret, &key, iv)
    }

    fn with_key(suite: Suite, secret: Vec<u8>, key: &[u8], iv: [u8; aead::NONCE_LEN]) -> Opener {
        let key = aead::LessSafeKey::new(aead::UnboundKey::new(suite.aead, key).expect("the suite's key length"));
        Opener { suite, secret, key, iv, seq: 0 }
    }

    /// Opens a protected record: its content type (hidden inside in TLS 1.3,
    /// RFC 8446 §5.2; the header's in TLS 1.2) and its content, padding removed.
    pub(super) fn open(&mut self, header: &[u8], body: &[u8]) -> Result<(u8, Vec<u8>), OpenError> {
        let seq = self.seq.to_be_bytes();
        self.seq += 1;
        let tag = self.suite.aead.tag_len();
        let mut nonce = self.iv;
        let (aad, mut buf) = match self.suite.mode {
            Protection::Tls13 => (header.to_vec(), body.to_vec()),
            Protection::Tls12Gcm | Protection::Tls12Chacha => {
                let explicit = if self.suite.mode == Protection::Tls12Gcm { 8 } else { 0 };
                let len = body.len().checked_sub(explicit + tag).ok_or(OpenError)?;
                if explicit > 0 {
                    nonce[4..].copy_from_slice(&body[..8]);
                }
                // seq_num + type + version + length of the plaintext (RFC 5246 §6.2.3.3).
                let aad = [&seq[..], &header[..3], &(len as u16).to_be_bytes()].concat();
                (aad, body[explicit..].to_vec())
            }
        };
        if self.suite.mode != Protection::Tls12Gcm {
            for (n, s) in nonce[4..].iter_mut().zip(seq) {
                *n ^= s;
            }
        }
        let plain =
            self.key.open_in_place(aead::Nonce::assume_unique_for_key(nonce), aead::Aad::from(&aad), &mut buf).map_err(|_| OpenError)?;
        if self.suite.mode != Protection::Tls13 {
            return Ok((header[0], plain.to_vec()));
        }
        // TLSInnerPlaintext: content, then the real type, then zeros (§5.4).
        let end = plain.iter().rposition(|&b| b != 0).ok_or(OpenError)?;
        let content_type = plain[end];
        let mut content = plain[..end].to_vec();
        content.shrink_to_fit();
        Ok((content_type, content))
    }

    /// After a KeyUpdate: the next secret and fresh keys (RFC 8446 §7.2).
    pub(super) fn update(&mut self) {
        let next = expand_label(self.suite.hkdf, &self.secret, "traffic upd", self.secret.len());
        *self = Opener::new(self.suite, next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8448 §3 (simple 1-RTT handshake): the server's handshake traffic
    /// secret, and the key and IV derived from it.
    #[test]
    fn rfc_8448_server_handshake_keys() {
        let secret = hex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38").unwrap();
        let key = expand_label(hkdf::HKDF_SHA256, &secret, "key", 16);
        let iv = expand_label(hkdf::HKDF_SHA256, &secret, "iv", 12);
        assert_eq!(key, hex("3fce516009c21727d0f2e4e86ee403bc").unwrap());
        assert_eq!(iv, hex("5d313eb2671276ee13000b30").unwrap());
    }

    #[test]
    fn secrets_are_found_by_label_and_random() {
        let (a, b) = ("11".repeat(32), "22".repeat(48));
        let log = vec![format!("CLIENT_TRAFFIC_SECRET_0 0a0b {a}"), format!("SERVER_TRAFFIC_SECRET_0 0a0b {b}")];
        assert_eq!(secret(&log, "SERVER_TRAFFIC_SECRET_0", &[0x0a, 0x0b]), Some(vec![0x22; 48]));
        assert_eq!(secret(&log, "SERVER_TRAFFIC_SECRET_0", &[0x0a]), None);
        let odd = vec!["SERVER_TRAFFIC_SECRET_0 0a0b 3344".to_owned()];
        assert_eq!(secret(&odd, "SERVER_TRAFFIC_SECRET_0", &[0x0a, 0x0b]), None, "not a secret's length");
    }
}
