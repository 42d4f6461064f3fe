//! Size limits from RFC 5321 §4.5.3.1 and friends. Every buffer in the codec is
//! bounded by one of these.

/// Command line, CRLF included (§4.5.3.1.4).
pub const COMMAND_LINE: usize = 512;
/// AUTH command and continuation lines may be longer (RFC 4954 §4).
pub const AUTH_LINE: usize = 12_288;
/// Reply line, CRLF included (§4.5.3.1.5).
pub const REPLY_LINE: usize = 512;
/// Text line inside DATA, CRLF included (§4.5.3.1.6).
pub const TEXT_LINE: usize = 1000;
/// Lines in one multi-line reply; a real EHLO reply has about a dozen.
pub const REPLY_MAX_LINES: usize = 64;
/// Recipients per transaction; the RFC's minimum is 100 (§4.5.3.1.8).
pub const MAX_RECIPIENTS: usize = 100;
