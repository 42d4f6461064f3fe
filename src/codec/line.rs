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
}

impl LineReader {
    /// `limit` counts the terminating CRLF, as the RFC limits do.
    pub fn new(limit: usize) -> Self {
        LineReader { buf: Vec::new(), start: 0, tail: 0, limit, discarding: false, overflow_at: None }
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
        let Some(i) = memchr::memchr(b'\n', &self.buf[self.start..]) else {
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
    }

    fn compact(&mut self) {
        if self.start == 0 {
            return;
        }
        self.buf.drain(..self.start);
        self.tail -= self.start;
        self.overflow_at = self.overflow_at.map(|p| p - self.start);
        self.start = 0;
    }
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
    fn take_buffered_returns_unread_bytes() {
        let mut r = LineReader::new(512);
        r.push(b"STARTTLS\r\nRSET\r\nMAIL");
        assert_eq!(r.next_line(), Some(Ok(b"STARTTLS".to_vec())));
        assert_eq!(r.take_buffered(), b"RSET\r\nMAIL".to_vec());
        assert_eq!(r.next_line(), None);
    }
}
