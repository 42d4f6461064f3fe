//! SMTP replies (RFC 5321 §4.2) with enhanced status codes (RFC 3463).
//!
//! `Reply-line = *( Reply-code "-" [ textstring ] CRLF ) Reply-code [ SP textstring ] CRLF`

use std::fmt;

use serde::{Deserialize, Serialize};

use super::limits;
use super::line::{LineError, LineReader};

/// An enhanced mail system status code, `class.subject.detail` (RFC 3463 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnhancedCode {
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

impl EnhancedCode {
    pub const fn new(class: u8, subject: u16, detail: u16) -> Self {
        EnhancedCode { class, subject, detail }
    }

    /// Parses `class "." subject "." detail` at the start of `text`, followed by SP or the end.
    fn parse_prefix(text: &str) -> Option<(EnhancedCode, &str)> {
        /// 1 to 3 digits at the start of `b`: the number and how many digits.
        fn num(b: &[u8]) -> Option<(u16, usize)> {
            let n = b.iter().take(3).take_while(|c| c.is_ascii_digit()).count();
            (n > 0).then(|| (b[..n].iter().fold(0u16, |v, d| v * 10 + u16::from(d - b'0')), n))
        }
        let b = text.as_bytes();
        let class = *b.first().filter(|c| matches!(c, b'2' | b'4' | b'5'))?;
        if b.get(1) != Some(&b'.') {
            return None;
        }
        let (subject, n1) = num(&b[2..])?;
        let at = 2 + n1;
        if b.get(at) != Some(&b'.') {
            return None;
        }
        let (detail, n2) = num(&b[at + 1..])?;
        let end = at + 1 + n2;
        let rest = match b.get(end) {
            None => "",
            Some(b' ') => &text[end + 1..],
            Some(_) => return None,
        };
        Some((EnhancedCode::new(class - b'0', subject, detail), rest))
    }
}

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// A complete (possibly multi-line) reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub code: u16,
    /// Present when every line starts with the same enhanced code of the reply's class.
    pub enhanced: Option<EnhancedCode>,
    /// The text of each line, without code or enhanced code.
    pub lines: Vec<String>,
}

/// Why bytes from a server could not be read as a reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("malformed reply line: {0:?}")]
    Malformed(String),
    #[error("reply lines disagree on the code ({0} then {1})")]
    InconsistentCode(u16, u16),
    #[error("reply has more than {0} lines")]
    TooManyLines(usize),
    #[error(transparent)]
    Line(#[from] LineError),
}

impl Reply {
    pub fn new(code: u16, enhanced: Option<EnhancedCode>, text: impl Into<String>) -> Self {
        Reply { code, enhanced, lines: vec![text.into()] }
    }

    pub fn multi(code: u16, enhanced: Option<EnhancedCode>, lines: Vec<String>) -> Self {
        Reply { code, enhanced, lines }
    }

    /// 2xx.
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }
    /// 3xx: the server waits for more (DATA body, AUTH response).
    pub fn is_intermediate(&self) -> bool {
        (300..400).contains(&self.code)
    }
    /// 4xx: try again later.
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }
    /// 5xx.
    pub fn is_permanent(&self) -> bool {
        self.code >= 500
    }

    /// All lines joined with a space, for messages and logs.
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }

    /// The same reply with each line's text cut (at a character boundary) so
    /// that every line fits in the reply-line limit (RFC 5321 §4.5.3.1.5).
    /// Servers call this on replies that echo the client's text.
    pub fn fitted(mut self) -> Reply {
        let overhead = 3 + 1 + self.enhanced.map_or(0, |e| e.to_string().len() + 1) + 2;
        let room = limits::REPLY_LINE.saturating_sub(overhead);
        for line in &mut self.lines {
            if line.len() > room {
                let mut cut = room;
                while !line.is_char_boundary(cut) {
                    cut -= 1;
                }
                line.truncate(cut);
            }
        }
        self
    }

    /// Wire form, CRLF included.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let n = self.lines.len().max(1);
        for i in 0..n {
            let sep = if i + 1 == n { ' ' } else { '-' };
            let text = self.lines.get(i).map(String::as_str).unwrap_or("");
            // An empty text still gets its separator: "334 " is what clients expect.
            let line = match (self.enhanced, text.is_empty()) {
                (Some(e), true) => format!("{}{sep}{e}\r\n", self.code),
                (Some(e), false) => format!("{}{sep}{e} {text}\r\n", self.code),
                (None, _) => format!("{}{sep}{text}\r\n", self.code),
            };
            out.extend_from_slice(line.as_bytes());
        }
        out
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.to_bytes();
        f.write_str(String::from_utf8_lossy(&bytes).trim_end())
    }
}

/// UTF-8 text with each invalid byte replaced by `?`: as many bytes out as in.
fn lossy_same_length(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(std::iter::repeat_n('?', chunk.invalid().len()));
    }
    out
}

/// One parsed reply line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyLine<'a> {
    pub code: u16,
    pub last: bool,
    pub text: &'a str,
}

/// `Reply-code [ ("-" / SP) textstring ]`, where `Reply-code = %x32-35 %x30-35 %x30-39`.
pub fn reply_line(line: &str) -> Option<ReplyLine<'_>> {
    let b = line.as_bytes();
    let (a, m, c) = (*b.first()?, *b.get(1)?, *b.get(2)?);
    if !(b'2'..=b'5').contains(&a) || !(b'0'..=b'5').contains(&m) || !c.is_ascii_digit() {
        return None;
    }
    let code = u16::from(a - b'0') * 100 + u16::from(m - b'0') * 10 + u16::from(c - b'0');
    match b.get(3) {
        None => Some(ReplyLine { code, last: true, text: "" }),
        Some(b'-') => Some(ReplyLine { code, last: false, text: &line[4..] }),
        Some(b' ') => Some(ReplyLine { code, last: true, text: &line[4..] }),
        Some(_) => None,
    }
}

/// One line of a reply being assembled: its code, its text, and where the
/// text starts after an enhanced code (parsed once, when the line arrives).
#[derive(Debug, Clone)]
struct PendingLine {
    code: u16,
    text: String,
    enhanced: Option<(EnhancedCode, usize)>,
}

/// Assembles replies from a byte stream, one line at a time, within fixed bounds.
#[derive(Debug, Clone)]
pub struct ReplyReader {
    lines: LineReader,
    pending: Vec<PendingLine>,
}

impl Default for ReplyReader {
    fn default() -> Self {
        ReplyReader { lines: LineReader::new(limits::REPLY_LINE), pending: Vec::new() }
    }
}

impl ReplyReader {
    pub fn push(&mut self, bytes: &[u8]) {
        self.lines.push(bytes);
    }

    /// The next complete reply, or `None` until more bytes arrive.
    pub fn next_reply(&mut self) -> Option<Result<Reply, ReplyError>> {
        loop {
            let line = match self.lines.next_line_ref()? {
                Ok(l) => l,
                Err(e) => {
                    self.pending.clear();
                    return Some(Err(e.into()));
                }
            };
            // Each invalid byte becomes one '?', not a three-byte U+FFFD, so the reply
            // serialises to a line no longer than the one received.
            let text = match std::str::from_utf8(line) {
                Ok(t) => std::borrow::Cow::Borrowed(t),
                Err(_) => std::borrow::Cow::Owned(lossy_same_length(line)),
            };
            let parsed = match reply_line(&text) {
                Some(l) => l,
                None => {
                    self.pending.clear();
                    return Some(Err(ReplyError::Malformed(text.chars().take(64).collect())));
                }
            };
            if let Some(first) = self.pending.first() {
                if first.code != parsed.code {
                    let first = first.code;
                    self.pending.clear();
                    return Some(Err(ReplyError::InconsistentCode(first, parsed.code)));
                }
            }
            if self.pending.len() >= limits::REPLY_MAX_LINES {
                self.pending.clear();
                return Some(Err(ReplyError::TooManyLines(limits::REPLY_MAX_LINES)));
            }
            let enhanced = EnhancedCode::parse_prefix(parsed.text).map(|(e, rest)| (e, parsed.text.len() - rest.len()));
            let last = parsed.last;
            if last && self.pending.is_empty() {
                // A one-line reply, the common case: one allocation for its text.
                let enhanced = enhanced.filter(|(e, _)| e.class == (parsed.code / 100) as u8);
                let body = enhanced.map_or(parsed.text, |(_, offset)| &parsed.text[offset..]);
                return Some(Ok(Reply { code: parsed.code, enhanced: enhanced.map(|(e, _)| e), lines: vec![body.to_owned()] }));
            }
            self.pending.push(PendingLine { code: parsed.code, text: parsed.text.to_owned(), enhanced });
            if last {
                return Some(Ok(assemble(std::mem::take(&mut self.pending))));
            }
        }
    }

    /// Bytes received but not yet part of a reply (see [`LineReader::take_buffered`]).
    pub fn take_buffered(&mut self) -> Vec<u8> {
        self.pending.clear();
        self.lines.take_buffered()
    }

    pub fn buffered_len(&self) -> usize {
        self.lines.buffered_len()
    }
}

/// The enhanced code counts only when every line carries the same one, of the reply's class.
fn assemble(lines: Vec<PendingLine>) -> Reply {
    let code = lines[0].code;
    let first = lines[0].enhanced.map(|(e, _)| e).filter(|e| e.class == (code / 100) as u8);
    let shared = first.filter(|f| lines.iter().all(|l| l.enhanced.map(|(e, _)| e) == Some(*f)));
    let lines = lines
        .into_iter()
        .map(|mut l| {
            if let (Some(_), Some((_, offset))) = (shared, l.enhanced) {
                l.text.drain(..offset);
            }
            l.text
        })
        .collect();
    Reply { code, enhanced: shared, lines }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8]) -> Vec<Result<Reply, ReplyError>> {
        let mut r = ReplyReader::default();
        r.push(bytes);
        std::iter::from_fn(|| r.next_reply()).collect()
    }

    #[test]
    fn single_and_multi_line() {
        let got =
            read_all(b"220 mail.example.test ESMTP\r\n250-mail.example.test\r\n250-PIPELINING\r\n250 SIZE 1000\r\n250 2.1.0 Ok\r\n354\r\n");
        assert_eq!(got.len(), 4);
        let greet = got[0].as_ref().unwrap();
        assert_eq!((greet.code, greet.lines.clone()), (220, vec!["mail.example.test ESMTP".to_owned()]));
        let ehlo = got[1].as_ref().unwrap();
        assert_eq!(ehlo.lines, ["mail.example.test", "PIPELINING", "SIZE 1000"]);
        let ok = got[2].as_ref().unwrap();
        assert_eq!((ok.enhanced, ok.text()), (Some(EnhancedCode::new(2, 1, 0)), "Ok".to_owned()));
        assert_eq!(got[3].as_ref().unwrap().lines, [""]);
    }

    #[test]
    fn enhanced_code_only_if_class_matches() {
        let got = read_all(b"250 5.1.0 odd\r\n");
        let r = got[0].as_ref().unwrap();
        assert_eq!((r.enhanced, r.text()), (None, "5.1.0 odd".to_owned()));
    }

    #[test]
    fn errors() {
        assert!(matches!(read_all(b"2x0 nope\r\n")[0], Err(ReplyError::Malformed(_))));
        assert!(matches!(read_all(b"250-a\r\n251 b\r\n")[0], Err(ReplyError::InconsistentCode(250, 251))));
        assert!(matches!(read_all(b"\x16\x03\x03\x00\x02\r\n")[0], Err(ReplyError::Malformed(_))));
        let many = b"250-x\r\n".repeat(200);
        assert!(matches!(read_all(&many)[0], Err(ReplyError::TooManyLines(_))));
    }

    #[test]
    fn encode_round_trips() {
        let r = Reply::multi(250, None, vec!["mail.example.test".into(), "STARTTLS".into(), "AUTH PLAIN LOGIN".into()]);
        assert_eq!(r.to_bytes(), b"250-mail.example.test\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n");
        assert_eq!(read_all(&r.to_bytes())[0].as_ref().unwrap(), &r);
        let e = Reply::new(535, Some(EnhancedCode::new(5, 7, 8)), "Authentication credentials invalid");
        assert_eq!(e.to_bytes(), b"535 5.7.8 Authentication credentials invalid\r\n");
        assert_eq!(read_all(&e.to_bytes())[0].as_ref().unwrap(), &e);
    }
}
