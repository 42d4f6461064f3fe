//! Line framing: splits a byte stream into CRLF-terminated lines with a hard cap.
//!
//! Framing comes before parsing, so a parser only ever sees one whole line and
//! nothing can make the buffer grow past `limit` plus one input chunk: the
//! part of an over-long line that does not fit is dropped as it arrives.

/// Why a line could not be framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// The line (CRLF included) was longer than the limit; its bytes were discarded.
    #[error("line longer than {limit} octets")]
    TooLong { limit: usize },
    /// The line ended with a bare LF instead of CRLF (RFC 5321 §2.3.8).
    #[error("line ended with a bare LF")]
    BareLf,
}

/// A streaming line splitter with a length cap (RFC 5321 §4.5.3.1).
#[derive(Debug, Clone)]
pub struct LineReader {
    buf: Vec<u8>,
    /// Index of the first unconsumed byte in `buf`.
    start: usize,
    /// Index in `buf` where the trailing partial line begins (after the last LF).
    tail: usize,
    limit: usize,
    /// Dropping input until the next LF because the current line overflowed.
    discarding: bool,
    /// Position at which an over-long line was cut out, reported in order.
    overflow_at: Option<usize>,
    /// Start of lines already returned but kept in the buffer (see [`Self::hold`]).
    held: Option<usize>,
}

impl LineReader {
    /// `limit` counts the terminating CRLF, as the RFC limits do.
    pub fn new(limit: usize) -> Self {
        LineReader { buf: Vec::new(), start: 0, tail: 0, limit, discarding: false, overflow_at: None, held: None }
    }

    /// Adds bytes from the peer. Never stores more than `limit` bytes of a partial line.
    pub fn push(&mut self, mut bytes: &[u8]) {
        if self.discarding {
            match memchr::memchr(b'\n', bytes) {
                Some(i) => {
                    bytes = &bytes[i + 1..];
                    self.discarding = false;
                }
                None => return,
            }
        }
        let old_len = self.buf.len();
        self.buf.extend_from_slice(bytes);
        if let Some(i) = memchr::memrchr(b'\n', bytes) {
            self.tail = old_len + i + 1;
        }
        if self.buf.len() - self.tail > self.limit {
            self.buf.truncate(self.tail);
            self.discarding = true;
            self.overflow_at = Some(self.tail);
        }
    }

    /// The next complete line without its CRLF, or `None` if more input is needed.
    pub fn next_line(&mut self) -> Option<Result<Vec<u8>, LineError>> {
        self.next_line_ref().map(|r| r.map(<[u8]>::to_vec))
    }

    /// As [`Self::next_line`], borrowing the line from the buffer instead of copying it.
    pub fn next_line_ref(&mut self) -> Option<Result<&[u8], LineError>> {
        if self.overflow_at == Some(self.start) {
            self.overflow_at = None;
            return Some(Err(LineError::TooLong { limit: self.limit }));
        }
        let Some(i) = find_lf(&self.buf[self.start..]) else {
            self.compact();
            return None;
        };
        let line = &self.buf[self.start..=self.start + i];
        self.start += i + 1;
        if line.len() > self.limit {
            return Some(Err(LineError::TooLong { limit: self.limit }));
        }
        if line.len() < 2 || line[line.len() - 2] != b'\r' {
            return Some(Err(LineError::BareLf));
        }
        Some(Ok(&line[..line.len() - 2]))
    }

    /// Keeps the lines returned from now on in the buffer, so that a reader
    /// assembling several lines (a multi-line reply) can borrow them at once
    /// with [`Self::take_held`]. The caller bounds how many lines it holds.
    pub fn hold(&mut self) {
        self.held.get_or_insert(self.start);
    }

    /// The lines returned since [`Self::hold`], CRLFs included; they are let go.
    pub fn take_held(&mut self) -> &[u8] {
        let from = self.held.take().unwrap_or(self.start);
        &self.buf[from..self.start]
    }

    /// Lets the held lines go.
    pub fn release(&mut self) {
        self.held = None;
    }

    /// Hands back every byte not yet returned as a line (h11's `trailing_data`).
    ///
    /// Used at protocol switches: DATA, and the STARTTLS boundary where these
    /// bytes must not leak into the TLS session.
    pub fn take_buffered(&mut self) -> Vec<u8> {
        let rest = self.buf.split_off(self.start);
        self.clear();
        rest
    }

    /// Number of bytes waiting.
    pub fn buffered_len(&self) -> usize {
        self.buf.len() - self.start
    }

    fn clear(&mut self) {
        self.buf.clear();
        self.start = 0;
        self.tail = 0;
        self.overflow_at = None;
        self.discarding = false;
        self.held = None;
    }

    fn compact(&mut self) {
        let keep = self.held.unwrap_or(self.start);
        if keep == 0 {
            return;
        }
        self.buf.drain(..keep);
        self.start -= keep;
        self.tail -= keep;
        self.overflow_at = self.overflow_at.map(|p| p - keep);
        self.held = self.held.map(|_| 0);
    }
}

/// The first LF in `b`. Command and reply lines are short, so the first 64
/// bytes are searched eight at a time in registers (no call, no dispatch);
/// longer lines go to `memchr`.
#[inline]
fn find_lf(b: &[u8]) -> Option<usize> {
    const LF: u64 = u64::from_ne_bytes([b'\n'; 8]);
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let head = b.len().min(64);
    let mut words = b[..head].chunks_exact(8);
    let mut at = 0;
    for w in &mut words {
        let x = u64::from_le_bytes(w.try_into().expect("chunks of 8")) ^ LF;
        // A zero byte of x is an LF; the lowest flag set is exact (Mycroft's test).
        let found = x.wrapping_sub(ONES) & !x & HIGHS;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    if let Some(i) = words.remainder().iter().position(|&c| c == b'\n') {
        return Some(at + i);
    }
    memchr::memchr(b'\n', &b[head..]).map(|i| head + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(r: &mut LineReader) -> Vec<Result<Vec<u8>, LineError>> {
        std::iter::from_fn(|| r.next_line()).collect()
    }

    #[test]
    fn splits_lines_and_keeps_partial() {
        let mut r = LineReader::new(512);
        r.push(b"EHLO a\r\nNOOP\r\nQU");
        assert_eq!(drain(&mut r), vec![Ok(b"EHLO a".to_vec()), Ok(b"NOOP".to_vec())]);
        r.push(b"IT\r\n");
        assert_eq!(drain(&mut r), vec![Ok(b"QUIT".to_vec())]);
        assert_eq!(r.buffered_len(), 0);
    }

    #[test]
    fn overlong_line_is_reported_in_order_and_memory_stays_bounded() {
        let mut r = LineReader::new(16);
        r.push(b"NOOP\r\n");
        for _ in 0..1000 {
            r.push(&[b'x'; 100]);
            assert!(r.buffered_len() <= 16 + 6);
        }
        r.push(b"xx\r\nQUIT\r\n");
        assert_eq!(drain(&mut r), vec![Ok(b"NOOP".to_vec()), Err(LineError::TooLong { limit: 16 }), Ok(b"QUIT".to_vec())]);
    }

    #[test]
    fn complete_overlong_line_and_bare_lf() {
        let mut r = LineReader::new(8);
        r.push(b"123456789\r\nab\ncd\r\n");
        assert_eq!(drain(&mut r), vec![Err(LineError::TooLong { limit: 8 }), Err(LineError::BareLf), Ok(b"cd".to_vec())]);
    }

    #[test]
    fn find_lf_agrees_with_a_plain_search() {
        for len in 0..150 {
            for at in 0..=len {
                let mut b = vec![b'x'; len];
                if at < len {
                    b[at] = b'\n';
                }
                b.iter_mut().skip(at + 1).step_by(3).for_each(|c| *c = b'\n');
                assert_eq!(find_lf(&b), b.iter().position(|&c| c == b'\n'), "len {len}, LF at {at}");
            }
        }
    }

    #[test]
    fn held_lines_survive_compaction() {
        let mut r = LineReader::new(512);
        r.push(b"250-a\r\n250-b");
        r.hold();
        assert_eq!(r.next_line(), Some(Ok(b"250-a".to_vec())));
        assert_eq!(r.next_line(), None); // compacts
        r.push(b"\r\n250 c\r\nNEXT");
        assert_eq!(drain(&mut r), vec![Ok(b"250-b".to_vec()), Ok(b"250 c".to_vec())]);
        assert_eq!(r.take_held(), b"250-a\r\n250-b\r\n250 c\r\n");
        assert_eq!(r.take_held(), b"");
        assert_eq!(r.take_buffered(), b"NEXT".to_vec());
    }

    #[test]
    fn take_buffered_returns_unread_bytes() {
        let mut r = LineReader::new(512);
        r.push(b"STARTTLS\r\nRSET\r\nMAIL");
        assert_eq!(r.next_line(), Some(Ok(b"STARTTLS".to_vec())));
        assert_eq!(r.take_buffered(), b"RSET\r\nMAIL".to_vec());
        assert_eq!(r.next_line(), None);
    }
}
