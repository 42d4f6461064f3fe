//! Bytes for people: whether they read as text, that text with its line
//! ends written out, a hex dump, and a one-line summary.

use std::fmt::Write;

use crate::proto::tls::RecordInfo;

/// Lines a row's label shows of a segment before "(+N lines)".
const LABEL_CHARS: usize = 72;
/// Bytes a hex dump shows before "… N more bytes".
const HEX_LIMIT: usize = 4096;

/// Text a person can read: UTF-8 without control characters other than
/// CR, LF and tab. Anything else is shown as hex.
pub(crate) fn is_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|s| s.chars().all(|c| !c.is_control() || matches!(c, '\r' | '\n' | '\t')))
}

/// Text with CR and LF written out as `\r` and `\n`, so a bare LF stands out.
pub(crate) fn text_view(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace('\r', "\\r").replace('\n', "\\n\n")
}

/// Bytes in hex, a space between each: `16 03 01`.
pub(crate) fn spaced_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| hex::encode([*b])).collect::<Vec<_>>().join(" ")
}

/// A classic hex dump: offset, 16 bytes, ASCII.
pub(crate) fn hex_view(bytes: &[u8]) -> String {
    let mut out = String::new();
    let shown = &bytes[..bytes.len().min(HEX_LIMIT)];
    for (i, row) in shown.chunks(16).enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let ascii: String = row.iter().map(|&b| if (0x20..0x7f).contains(&b) { b as char } else { '.' }).collect();
        let _ = write!(out, "{:06x}  {:<47}  {ascii}", i * 16, spaced_hex(row));
    }
    if bytes.len() > HEX_LIMIT {
        let _ = write!(out, "\n… {} more bytes", bytes.len() - HEX_LIMIT);
    }
    out
}

/// A short label for a segment: its first line and how many more, or its size.
pub fn summary(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return String::new();
    }
    if !is_text(bytes) {
        return match RecordInfo::read(bytes).len() {
            0 => format!("{} bytes", bytes.len()),
            _ => format!("{} bytes of TLS records", bytes.len()),
        };
    }
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.split_inclusive('\n').map(|l| l.trim_end_matches(['\r', '\n'])).collect();
    let first = lines.first().copied().unwrap_or("");
    let first = if first.chars().count() > LABEL_CHARS {
        format!("{}…", first.chars().take(LABEL_CHARS - 1).collect::<String>())
    } else {
        first.to_owned()
    };
    if lines.len() > 1 {
        format!("{first}  (+{} lines)", lines.len() - 1)
    } else {
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_utf8_without_controls() {
        assert!(is_text(b"EHLO x\r\n\tok"));
        assert!(is_text("Grüße\r\n".as_bytes()));
        assert!(!is_text(b"\x16\x03\x01"));
        assert!(!is_text(b"\xff\xfe"), "invalid UTF-8");
        assert!(!is_text("a\u{85}b".as_bytes()), "C1 control");
        assert!(!is_text(b"a\x7fb"));
    }

    #[test]
    fn labels_and_hex() {
        assert_eq!(summary(b"250-a\r\n250-b\r\n250 c\r\n"), "250-a  (+2 lines)");
        assert_eq!(summary(&[0x16, 3, 3, 0, 1, 0]), "6 bytes of TLS records");
        assert_eq!(hex_view(b"AB\x00"), format!("000000  {:<47}  AB.", "41 42 00"));
        assert_eq!(text_view(b"a\r\nb\n"), "a\\r\\n\nb\\n\n");
    }
}
