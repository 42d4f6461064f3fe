//! SMTP replies (RFC 5321 §4.2) with enhanced status codes (RFC 3463).
//!
//! `Reply-line = *( Reply-code "-" [ textstring ] CRLF ) Reply-code [ SP textstring ] CRLF`

use std::borrow::Cow;
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

    /// Parses `class "." subject "." detail` at the start of `text`, followed
    /// by SP or the end: the code and where the text after it starts.
    fn parse_prefix(b: &[u8]) -> Option<(EnhancedCode, usize)> {
        /// 1 to 3 digits at the start of `b`: the number and how many digits.
        fn num(b: &[u8]) -> Option<(u16, usize)> {
            let n = b.iter().take(3).take_while(|c| c.is_ascii_digit()).count();
            (n > 0).then(|| (b[..n].iter().fold(0u16, |v, d| v * 10 + u16::from(d - b'0')), n))
        }
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
            None => end,
            Some(b' ') => end + 1,
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

/// `Reply-code [ ("-" / SP) textstring ]`, where `Reply-code = %x32-35 %x30-35 %x30-39`:
/// the code and whether this is the reply's last line. The text starts at byte 4.
fn reply_line(b: &[u8]) -> Option<(u16, bool)> {
    let (a, m, c) = (*b.first()?, *b.get(1)?, *b.get(2)?);
    if !(b'2'..=b'5').contains(&a) || !(b'0'..=b'5').contains(&m) || !c.is_ascii_digit() {
        return None;
    }
    let code = u16::from(a - b'0') * 100 + u16::from(m - b'0') * 10 + u16::from(c - b'0');
    match b.get(3) {
        None | Some(b' ') => Some((code, true)),
        Some(b'-') => Some((code, false)),
        Some(_) => None,
    }
}

/// The text of a reply line (CRLF and code removed), and the enhanced code at its start.
fn line_text(line: &[u8]) -> (&[u8], Option<(EnhancedCode, usize)>) {
    let text = line.get(4..).unwrap_or_default();
    (text, EnhancedCode::parse_prefix(text))
}

/// A reply borrowed from the reader's buffer, checked, with no allocation:
/// what a client that acts on the code and moves on needs. [`Reply::from`]
/// makes it owned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyRef<'a> {
    pub code: u16,
    /// As [`Reply::enhanced`].
    pub enhanced: Option<EnhancedCode>,
    /// The reply's lines as received, CRLFs included.
    raw: &'a [u8],
}

impl<'a> ReplyRef<'a> {
    /// The reply's lines as received, CRLFs included.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The text of each line without code or shared enhanced code. Each
    /// invalid UTF-8 byte becomes one '?', not a three-byte U+FFFD, so the
    /// reply serialises to lines no longer than the ones received.
    pub fn lines(&self) -> impl Iterator<Item = Cow<'a, str>> {
        let strip = self.enhanced.is_some();
        // Every line ends with CRLF (the line reader saw to it); a CR before that is text.
        self.raw.split_inclusive(|&c| c == b'\n').map(move |line| {
            let line = line.strip_suffix(b"\r\n").unwrap_or(line);
            let (text, enhanced) = line_text(line);
            let text = match (strip, enhanced) {
                (true, Some((_, offset))) => &text[offset..],
                _ => text,
            };
            match std::str::from_utf8(text) {
                Ok(t) => Cow::Borrowed(t),
                Err(_) => Cow::Owned(lossy_same_length(text)),
            }
        })
    }
}

impl From<ReplyRef<'_>> for Reply {
    fn from(r: ReplyRef<'_>) -> Reply {
        Reply { code: r.code, enhanced: r.enhanced, lines: r.lines().map(Cow::into_owned).collect() }
    }
}

/// What is known of the reply being assembled, line by line.
#[derive(Debug, Clone, Copy, Default)]
struct Pending {
    lines: usize,
    code: u16,
    /// The first line's enhanced code, while every line so far carried the same one.
    enhanced: Option<EnhancedCode>,
}

/// Assembles replies from a byte stream, one line at a time, within fixed
/// bounds: the lines of a reply stay in the line reader's buffer (at most
/// [`limits::REPLY_MAX_LINES`] of them) until its last line arrives.
#[derive(Debug, Clone)]
pub struct ReplyReader {
    lines: LineReader,
    pending: Pending,
}

impl Default for ReplyReader {
    fn default() -> Self {
        ReplyReader { lines: LineReader::new(limits::REPLY_LINE), pending: Pending::default() }
    }
}

impl ReplyReader {
    pub fn push(&mut self, bytes: &[u8]) {
        self.lines.push(bytes);
    }

    /// The next complete reply, owned, or `None` until more bytes arrive.
    pub fn next_reply(&mut self) -> Option<Result<Reply, ReplyError>> {
        self.next_reply_ref().map(|r| r.map(Reply::from))
    }

    /// The next complete reply, borrowed from the buffer, or `None` until more bytes arrive.
    pub fn next_reply_ref(&mut self) -> Option<Result<ReplyRef<'_>, ReplyError>> {
        loop {
            self.lines.hold();
            let (code, last, enhanced) = match self.lines.next_line_ref()? {
                Ok(line) => match reply_line(line) {
                    Some((code, last)) => (code, last, line_text(line).1.map(|(e, _)| e)),
                    None => {
                        let shown: String = lossy_same_length(line).chars().take(64).collect();
                        return Some(Err(self.fail(ReplyError::Malformed(shown))));
                    }
                },
                Err(e) => return Some(Err(self.fail(e.into()))),
            };
            let p = &mut self.pending;
            if p.lines == 0 {
                // The enhanced code counts only when it is of the reply's class.
                *p = Pending { lines: 0, code, enhanced: enhanced.filter(|e| u16::from(e.class) == code / 100) };
            } else if p.code != code {
                let first = p.code;
                return Some(Err(self.fail(ReplyError::InconsistentCode(first, code))));
            } else if p.enhanced != enhanced {
                p.enhanced = None;
            }
            if p.lines >= limits::REPLY_MAX_LINES {
                return Some(Err(self.fail(ReplyError::TooManyLines(limits::REPLY_MAX_LINES))));
            }
            p.lines += 1;
            if last {
                let enhanced = std::mem::take(&mut self.pending).enhanced;
                let raw = self.lines.take_held();
                return Some(Ok(ReplyRef { code, enhanced, raw }));
            }
        }
    }

    /// Drops the reply in progress and returns `e`.
    fn fail(&mut self, e: ReplyError) -> ReplyError {
        self.pending = Pending::default();
        self.lines.release();
        e
    }

    /// Bytes received but not yet part of a reply (see [`LineReader::take_buffered`]).
    pub fn take_buffered(&mut self) -> Vec<u8> {
        self.pending = Pending::default();
        self.lines.take_buffered()
    }

    pub fn buffered_len(&self) -> usize {
        self.lines.buffered_len()
    }
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
    fn carriage_returns_in_the_text_are_kept() {
        // Found by the reply fuzz target: the last line lost one CR of its text.
        let got = read_all(b"220-a\r\r\n220 2\r\r\r\n");
        assert_eq!(got[0].as_ref().unwrap().lines, ["a\r", "2\r\r"]);
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
