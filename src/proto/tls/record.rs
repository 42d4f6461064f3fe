//! What a TLS record header tells anyone on the path (RFC 8446 §5.1, RFC
//! 5246 §6.2.1), and the session secrets a simulated session logs so that a
//! capture of it can be opened.

use std::fmt;
use std::sync::Mutex;

use serde::{Serialize, Serializer};

/// A record's content type (RFC 8446 §5.1): the four that TLS 1.2 and 1.3 use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentType {
    ChangeCipherSpec,
    Alert,
    Handshake,
    ApplicationData,
}

impl ContentType {
    /// The type a record header's first byte names, if it is one of the four.
    pub fn from_byte(b: u8) -> Option<ContentType> {
        Some(match b {
            20 => ContentType::ChangeCipherSpec,
            21 => ContentType::Alert,
            22 => ContentType::Handshake,
            23 => ContentType::ApplicationData,
            _ => return None,
        })
    }

    pub fn byte(self) -> u8 {
        match self {
            ContentType::ChangeCipherSpec => 20,
            ContentType::Alert => 21,
            ContentType::Handshake => 22,
            ContentType::ApplicationData => 23,
        }
    }

    /// The name the RFCs give it: `application_data`.
    pub fn name(self) -> &'static str {
        match self {
            ContentType::ChangeCipherSpec => "change_cipher_spec",
            ContentType::Alert => "alert",
            ContentType::Handshake => "handshake",
            ContentType::ApplicationData => "application_data",
        }
    }

    /// The name as words: `application data`.
    pub fn words(self) -> &'static str {
        match self {
            ContentType::ChangeCipherSpec => "change cipher spec",
            ContentType::Alert => "alert",
            ContentType::Handshake => "handshake",
            ContentType::ApplicationData => "application data",
        }
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for ContentType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// One TLS record header seen on the wire (RFC 8446 §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordInfo {
    pub content_type: ContentType,
    pub length: u16,
    /// Whether the record's contents are encrypted. The first handshake
    /// records (ClientHello, ServerHello) and the compatibility
    /// change_cipher_spec are TLSPlaintext that anyone on the path can read
    /// (RFC 8446 §5.1); protected records travel as application_data with the
    /// real type inside (RFC 8446 §5.2). In TLS 1.2, what a side sends after
    /// its change_cipher_spec is encrypted whatever its type (RFC 5246 §7.1).
    pub encrypted: bool,
}

impl RecordInfo {
    /// Splits a chunk of ciphertext into record headers. Stops at anything that
    /// is not a record header (so cleartext yields an empty list).
    pub fn read(bytes: &[u8]) -> Vec<RecordInfo> {
        RecordInfo::read_after(bytes, &mut false)
    }

    /// As [`RecordInfo::read`], for a sender that may already have sent its
    /// change_cipher_spec (`after_ccs`, updated as records go by).
    pub fn read_after(bytes: &[u8], after_ccs: &mut bool) -> Vec<RecordInfo> {
        read_after(bytes, after_ccs)
    }
}

fn read_after(mut bytes: &[u8], after_ccs: &mut bool) -> Vec<RecordInfo> {
    let mut out = Vec::new();
    while bytes.len() >= 5 {
        let Some(content_type) = ContentType::from_byte(bytes[0]) else { break };
        if bytes[1] != 3 {
            break;
        }
        let length = u16::from_be_bytes([bytes[3], bytes[4]]);
        let encrypted = content_type == ContentType::ApplicationData || (*after_ccs && content_type != ContentType::ChangeCipherSpec);
        *after_ccs |= content_type == ContentType::ChangeCipherSpec;
        out.push(RecordInfo { content_type, length, encrypted });
        bytes = &bytes[(5 + length as usize).min(bytes.len())..];
    }
    out
}

/// Collects session secrets in the NSS key log format, so that Wireshark can
/// decrypt a capture of the session. Simulation only: these are the keys.
#[derive(Debug, Default)]
pub struct KeyLogLines(pub(super) Mutex<Vec<String>>);

impl rustls::KeyLog for KeyLogLines {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let line = format!("{label} {} {}", hex::encode(client_random), hex::encode(secret));
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(line);
    }

    fn will_log(&self, _label: &str) -> bool {
        true
    }
}
