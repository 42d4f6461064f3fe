//! The DATA phase (RFC 5321 §4.1.1.4, §4.5.2): dot-stuffing on send, un-stuffing
//! and end-of-data detection on receive.
//!
//! The receiver is a byte-at-a-time state machine, so the result cannot depend
//! on how the input was chunked. It is strict by default: only `CRLF "." CRLF`
//! ends the message. Each bare-CR/LF variant that a lenient historical server
//! accepted (the SMTP smuggling family, CVE-2023-51764/51765/51766) can be
//! switched on separately so a lesson can show what it enables.

use serde::{Deserialize, Serialize};

use super::limits;
use crate::vocab::named;

named! {
    /// A bare-CR/LF ending of DATA that a lenient receiver may accept, or all of them.
    pub enum EodVariant ("end-of-data variant") {
        LfDotCrlf = "lf-dot-crlf",
        LfDotLf = "lf-dot-lf",
        CrDotCrlf = "cr-dot-crlf",
        CrlfDotLf = "crlf-dot-lf",
        All = "all",
    }
}

impl EodVariant {
    /// The bytes of the sequence (`None` for `all`).
    pub fn bytes(self) -> Option<&'static [u8]> {
        match self {
            EodVariant::LfDotCrlf => Some(b"\n.\r\n"),
            EodVariant::LfDotLf => Some(b"\n.\n"),
            EodVariant::CrDotCrlf => Some(b"\r.\r\n"),
            EodVariant::CrlfDotLf => Some(b"\r\n.\n"),
            EodVariant::All => None,
        }
    }

    /// The sequence with CR and LF written out (`\\n.\\r\\n`), as a sentence shows it.
    pub fn escaped(self) -> String {
        String::from_utf8_lossy(self.bytes().unwrap_or_default()).replace('\r', "\\r").replace('\n', "\\n")
    }

    /// The four sequences, without `all`.
    pub const SEQUENCES: [EodVariant; 4] = [EodVariant::LfDotCrlf, EodVariant::LfDotLf, EodVariant::CrDotCrlf, EodVariant::CrlfDotLf];
}

/// Which end-of-data sequences besides `\r\n.\r\n` a receiver accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EndOfData {
    /// `\n.\r\n`: a line start after a bare LF.
    pub lf_dot_crlf: bool,
    /// `\n.\n`: bare LF on both sides of the dot.
    pub lf_dot_lf: bool,
    /// `\r.\r\n`: a line start after a bare CR.
    pub cr_dot_crlf: bool,
    /// `\r\n.\n`: a bare LF after the dot.
    pub crlf_dot_lf: bool,
}

impl EndOfData {
    /// Only `\r\n.\r\n` (RFC 5321 §4.1.1.4). The default.
    pub const STRICT: EndOfData = EndOfData { lf_dot_crlf: false, lf_dot_lf: false, cr_dot_crlf: false, crlf_dot_lf: false };
    /// Every variant in the smuggling catalogue.
    pub const LENIENT: EndOfData = EndOfData { lf_dot_crlf: true, lf_dot_lf: true, cr_dot_crlf: true, crlf_dot_lf: true };

    /// Strict, plus each variant named.
    pub fn accepting(variants: &[EodVariant]) -> EndOfData {
        let mut e = EndOfData::STRICT;
        for v in variants {
            match v {
                EodVariant::LfDotCrlf => e.lf_dot_crlf = true,
                EodVariant::LfDotLf => e.lf_dot_lf = true,
                EodVariant::CrDotCrlf => e.cr_dot_crlf = true,
                EodVariant::CrlfDotLf => e.crlf_dot_lf = true,
                EodVariant::All => e = EndOfData::LENIENT,
            }
        }
        e
    }

    pub fn is_strict(&self) -> bool {
        *self == Self::STRICT
    }

    /// Does `<start> "." <end>` end the data?
    fn accepts(&self, start: Ending, end: Ending) -> bool {
        match (start, end) {
            (Ending::Crlf, Ending::Crlf) => true,
            (Ending::Lf, Ending::Crlf) => self.lf_dot_crlf,
            (Ending::Lf, Ending::Lf) => self.lf_dot_lf,
            (Ending::Cr, Ending::Crlf) => self.cr_dot_crlf,
            (Ending::Crlf, Ending::Lf) => self.crlf_dot_lf,
            _ => false,
        }
    }

    /// Is a dot after this kind of line ending a line start for un-stuffing?
    fn line_start(&self, after: Ending) -> bool {
        match after {
            Ending::Crlf => true,
            Ending::Lf => self.lf_dot_crlf || self.lf_dot_lf,
            Ending::Cr => self.cr_dot_crlf,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Crlf,
    Lf,
    Cr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// At the start of a line that followed this ending.
    Start(Ending),
    Text,
    /// A CR in text; the next byte decides CRLF or bare CR.
    TextCr,
    /// A dot at a line start.
    Dot(Ending),
    /// A dot then a CR.
    DotCr(Ending),
    Done,
}

/// What the receiver found in a finished message.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DataSummary {
    /// Octets of un-stuffed content, counted even past the size limit.
    pub size: u64,
    /// More than the size limit arrived; `body` holds only the first part.
    pub oversize: bool,
    /// A line longer than 1000 octets arrived (RFC 5321 §4.5.3.1.6).
    pub long_line: bool,
    /// Bare LF or bare CR seen in the content.
    pub bare_lf: bool,
    pub bare_cr: bool,
    /// The non-standard sequence that ended the data, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_by: Option<EodVariant>,
}

/// Receives a message body after the 354 reply.
#[derive(Debug, Clone)]
pub struct DataReader {
    policy: EndOfData,
    max_size: usize,
    state: Scan,
    body: Vec<u8>,
    line_len: usize,
    summary: DataSummary,
}

impl DataReader {
    pub fn new(policy: EndOfData, max_size: usize) -> Self {
        DataReader { policy, max_size, state: Scan::Start(Ending::Crlf), body: Vec::new(), line_len: 0, summary: DataSummary::default() }
    }

    /// Consumes bytes up to and including the end-of-data marker. Returns how
    /// many bytes were used; once [`Self::is_done`], the rest belong to the
    /// command stream again.
    pub fn feed(&mut self, input: &[u8]) -> usize {
        for (i, &b) in input.iter().enumerate() {
            self.step(b);
            if self.state == Scan::Done {
                return i + 1;
            }
        }
        input.len()
    }

    /// Content octets received so far.
    pub fn received(&self) -> u64 {
        self.summary.size
    }

    pub fn is_done(&self) -> bool {
        self.state == Scan::Done
    }

    /// The un-stuffed body (without the terminating `.` line) and what was seen.
    pub fn finish(self) -> (Vec<u8>, DataSummary) {
        (self.body, self.summary)
    }

    fn step(&mut self, b: u8) {
        self.state = match (self.state, b) {
            (Scan::Done, _) => Scan::Done,
            (Scan::Start(e), b'.') => Scan::Dot(e),
            (Scan::Start(_) | Scan::Text, b'\r') => Scan::TextCr,
            (Scan::Start(_) | Scan::Text, b'\n') => {
                self.summary.bare_lf = true;
                self.emit(b"\n");
                self.end_line(Ending::Lf)
            }
            (Scan::Start(_) | Scan::Text, _) => {
                self.emit(&[b]);
                Scan::Text
            }
            (Scan::TextCr, b'\n') => {
                self.emit(b"\r\n");
                self.end_line(Ending::Crlf)
            }
            (Scan::TextCr, _) => {
                self.summary.bare_cr = true;
                self.emit(b"\r");
                self.state = self.end_line(Ending::Cr);
                return self.step(b);
            }
            (Scan::Dot(e), b'\r') => Scan::DotCr(e),
            (Scan::Dot(e), b'\n') if self.policy.accepts(e, Ending::Lf) => self.done(e, Ending::Lf),
            (Scan::Dot(e), _) => {
                self.emit_dot(e);
                self.state = Scan::Text;
                return self.step(b);
            }
            (Scan::DotCr(e), b'\n') if self.policy.accepts(e, Ending::Crlf) => self.done(e, Ending::Crlf),
            (Scan::DotCr(e), _) => {
                self.emit_dot(e);
                self.state = Scan::TextCr;
                return self.step(b);
            }
        };
    }

    /// The data ends at `<start> "." <end>`; notes which variant it was.
    fn done(&mut self, start: Ending, end: Ending) -> Scan {
        self.summary.ended_by = match (start, end) {
            (Ending::Lf, Ending::Crlf) => Some(EodVariant::LfDotCrlf),
            (Ending::Lf, Ending::Lf) => Some(EodVariant::LfDotLf),
            (Ending::Cr, Ending::Crlf) => Some(EodVariant::CrDotCrlf),
            (Ending::Crlf, Ending::Lf) => Some(EodVariant::CrlfDotLf),
            _ => None,
        };
        Scan::Done
    }

    fn emit_dot(&mut self, after: Ending) {
        if !self.policy.line_start(after) {
            self.emit(b".");
        }
    }

    fn end_line(&mut self, ending: Ending) -> Scan {
        self.line_len = 0;
        Scan::Start(ending)
    }

    fn emit(&mut self, bytes: &[u8]) {
        self.summary.size += bytes.len() as u64;
        self.line_len += bytes.len();
        if self.line_len > limits::TEXT_LINE {
            self.summary.long_line = true;
        }
        // Once over the limit nothing more is kept, so the body is a prefix of the message.
        if !self.summary.oversize && self.body.len() + bytes.len() <= self.max_size {
            self.body.extend_from_slice(bytes);
        } else {
            self.summary.oversize = true;
        }
    }
}

/// Prepares a body for DATA: doubles a dot at the start of each line and
/// terminates with `CRLF "." CRLF` (adding the CRLF a body lacks).
///
/// A line starts only after CRLF, so a bare LF is passed through as it is:
/// that is what a sender that does not normalise line endings puts on the wire.
pub fn dot_stuff(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + body.len() / 64 + 5);
    let mut at_line_start = true;
    for (i, &b) in body.iter().enumerate() {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n' && i > 0 && body[i - 1] == b'\r';
    }
    if !body.is_empty() && !body.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receive(policy: EndOfData, wire: &[u8]) -> (Vec<u8>, usize) {
        let mut r = DataReader::new(policy, 1 << 20);
        let used = r.feed(wire);
        assert!(r.is_done(), "no end of data in {wire:?}");
        (r.finish().0, used)
    }

    #[test]
    fn stuff_and_unstuff() {
        let body = b"Hi\r\n.hidden\r\n..two\r\n.\r\nend\r\n";
        let wire = dot_stuff(body);
        assert_eq!(wire, b"Hi\r\n..hidden\r\n...two\r\n..\r\nend\r\n.\r\n");
        assert_eq!(receive(EndOfData::STRICT, &wire), (body.to_vec(), wire.len()));
    }

    #[test]
    fn empty_body_and_missing_final_crlf() {
        assert_eq!(dot_stuff(b""), b".\r\n");
        assert_eq!(receive(EndOfData::STRICT, b".\r\n"), (vec![], 3));
        assert_eq!(dot_stuff(b"x"), b"x\r\n.\r\n");
    }

    #[test]
    fn leftover_after_end_is_not_consumed() {
        let (body, used) = receive(EndOfData::STRICT, b"a\r\n.\r\nQUIT\r\n");
        assert_eq!((body, used), (b"a\r\n".to_vec(), 6));
    }

    /// Each smuggling sequence ends data only when its switch is on.
    #[test]
    fn smuggling_variants() {
        let variants: [(&[u8], EndOfData); 4] = [
            (b"\n.\r\n", EndOfData { lf_dot_crlf: true, ..EndOfData::STRICT }),
            (b"\n.\n", EndOfData { lf_dot_lf: true, ..EndOfData::STRICT }),
            (b"\r.\r\n", EndOfData { cr_dot_crlf: true, ..EndOfData::STRICT }),
            (b"\r\n.\n", EndOfData { crlf_dot_lf: true, ..EndOfData::STRICT }),
        ];
        for (seq, lenient) in variants {
            let mut wire = b"one".to_vec();
            wire.extend_from_slice(seq);
            wire.extend_from_slice(b"MAIL FROM:<spoof@x.test>\r\n\r\n.\r\n");
            let (strict_body, strict_used) = receive(EndOfData::STRICT, &wire);
            assert_eq!(strict_used, wire.len(), "strict must read to the real end for {seq:?}");
            assert!(strict_body.windows(4).any(|w| w == b"MAIL"));
            let mut r = DataReader::new(lenient, 1 << 20);
            let used = r.feed(&wire);
            assert!(r.is_done());
            assert_eq!(used, 3 + seq.len(), "lenient ends at the smuggled marker for {seq:?}");
            let ended_by = r.finish().1.ended_by.expect("a non-standard ending is named");
            assert_eq!(ended_by.bytes(), Some(seq));
        }
    }

    #[test]
    fn size_and_line_limits_are_enforced_without_growing() {
        let mut r = DataReader::new(EndOfData::STRICT, 100);
        for _ in 0..1000 {
            r.feed(&[b'x'; 1000]);
        }
        r.feed(b"\r\n.\r\n");
        let (body, s) = r.finish();
        assert_eq!(body.len(), 100);
        assert!(s.oversize && s.long_line);
        assert_eq!(s.size, 1_000_002);
    }
}
