//! SMTP commands (RFC 5321 §4.1, RFC 3207, RFC 4954): types, parser, encoder.
//!
//! A line is framed first (see [`super::line`]); these parsers get exactly one
//! line without its CRLF. The verb is matched first so that an unknown verb
//! (500) and a known verb with bad arguments (501) are told apart.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One ESMTP parameter on MAIL or RCPT: `esmtp-keyword ["=" esmtp-value]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Param {
    pub keyword: String,
    pub value: Option<String>,
}

impl Param {
    pub fn new(keyword: &str, value: Option<&str>) -> Self {
        Param { keyword: keyword.to_ascii_uppercase(), value: value.map(str::to_owned) }
    }
}

/// A client command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verb", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Command {
    Helo {
        domain: String,
    },
    Ehlo {
        domain: String,
    },
    /// `from` is the mailbox between the angle brackets; empty is the null path `<>`.
    Mail {
        from: String,
        params: Vec<Param>,
    },
    Rcpt {
        to: String,
        params: Vec<Param>,
    },
    Data,
    Rset,
    Noop {
        arg: Option<String>,
    },
    Quit,
    Vrfy {
        arg: String,
    },
    Help {
        topic: Option<String>,
    },
    #[serde(rename = "STARTTLS")]
    StartTls,
    /// `initial_response` is the base64 text as sent (`=` is an empty response).
    Auth {
        mechanism: String,
        initial_response: Option<String>,
    },
}

/// A command's verb (RFC 5321 §4.1.1, RFC 3207 §4, RFC 4954 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    Helo,
    Ehlo,
    Mail,
    Rcpt,
    Data,
    Rset,
    Noop,
    Quit,
    Vrfy,
    Help,
    StartTls,
    Auth,
}

impl Verb {
    /// The verb as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Helo => "HELO",
            Verb::Ehlo => "EHLO",
            Verb::Mail => "MAIL",
            Verb::Rcpt => "RCPT",
            Verb::Data => "DATA",
            Verb::Rset => "RSET",
            Verb::Noop => "NOOP",
            Verb::Quit => "QUIT",
            Verb::Vrfy => "VRFY",
            Verb::Help => "HELP",
            Verb::StartTls => "STARTTLS",
            Verb::Auth => "AUTH",
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a command line was rejected, with the reply it earns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("command not recognized: {0:?}")]
    Unrecognized(String),
    #[error("syntax error in {verb}: {reason}")]
    Syntax { verb: Verb, reason: &'static str },
    #[error("bad address syntax in {verb}")]
    BadAddress { verb: Verb },
    #[error("command line is not valid UTF-8")]
    NotText,
}

/// A command borrowed from the framed line it was parsed from: no allocation.
/// Everything is checked at parse time; [`Command::from`] makes it owned
/// (upper-casing the mechanism and parameter keywords).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandRef<'a> {
    Helo { domain: &'a str },
    Ehlo { domain: &'a str },
    Mail { from: &'a str, params: Params<'a> },
    Rcpt { to: &'a str, params: Params<'a> },
    Data,
    Rset,
    Noop { arg: Option<&'a str> },
    Quit,
    Vrfy { arg: &'a str },
    Help { topic: Option<&'a str> },
    StartTls,
    Auth { mechanism: &'a str, initial_response: Option<&'a str> },
}

/// The ESMTP parameters of MAIL or RCPT, checked, as they were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Params<'a>(&'a str);

impl<'a> Params<'a> {
    /// Each `keyword[=value]`, as written.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, Option<&'a str>)> {
        let text = self.0;
        text.as_bytes()
            .split(|&c| c == b' ' || c == b'\t')
            .scan(0, move |at, p| {
                // Split at ASCII bytes, so each piece is a whole &str of `text`.
                let piece = &text[*at..*at + p.len()];
                *at += p.len() + 1;
                Some(piece)
            })
            .filter(|p| !p.is_empty())
            .map(|p| match p.bytes().position(|c| c == b'=') {
                Some(i) => (&p[..i], Some(&p[i + 1..])),
                None => (p, None),
            })
    }
}

impl<'a> CommandRef<'a> {
    /// Parses one command line (without CRLF). The verb is matched first, so
    /// that an unknown verb (500) and a known verb with bad arguments (501) differ.
    pub fn parse(line: &'a [u8]) -> Result<CommandRef<'a>, CommandError> {
        let line = text(line).ok_or(CommandError::NotText)?;
        let Some((key, verb_len)) = split_verb(line.as_bytes()) else {
            return Err(CommandError::Unrecognized(truncate(line.split(' ').next().unwrap_or(line), 32)));
        };
        let (verb, args) = match line.get(verb_len + 1..) {
            Some(args) => (&line[..verb_len], Some(args)),
            None => (line, None),
        };
        let syntax = |verb, reason| CommandError::Syntax { verb, reason };
        match (key, args) {
            (DATA, None) => Ok(CommandRef::Data),
            (RSET, None) => Ok(CommandRef::Rset),
            (QUIT, None) => Ok(CommandRef::Quit),
            (STARTTLS, None) => Ok(CommandRef::StartTls),
            (DATA, Some(_)) => Err(syntax(Verb::Data, "takes no arguments")),
            (RSET, Some(_)) => Err(syntax(Verb::Rset, "takes no arguments")),
            (QUIT, Some(_)) => Err(syntax(Verb::Quit, "takes no arguments")),
            (STARTTLS, Some(_)) => Err(syntax(Verb::StartTls, "takes no arguments")),
            (NOOP, arg) => Ok(CommandRef::Noop { arg }),
            (HELP, topic) => Ok(CommandRef::Help { topic }),
            (VRFY, Some(arg)) if !arg.trim().is_empty() => Ok(CommandRef::Vrfy { arg }),
            (VRFY, _) => Err(syntax(Verb::Vrfy, "needs an argument")),
            (HELO, Some(domain)) if is_domain(domain) => Ok(CommandRef::Helo { domain }),
            (EHLO, Some(domain)) if is_domain(domain) => Ok(CommandRef::Ehlo { domain }),
            (HELO, Some(_)) => Err(syntax(Verb::Helo, "expected a domain or address literal")),
            (EHLO, Some(_)) => Err(syntax(Verb::Ehlo, "expected a domain or address literal")),
            (HELO, None) => Err(syntax(Verb::Helo, "needs a hostname")),
            (EHLO, None) => Err(syntax(Verb::Ehlo, "needs a hostname")),
            (MAIL, Some(arg)) => {
                let (from, params) = path_and_params(b"FROM:", arg).ok_or(syntax(Verb::Mail, "expected FROM:<address>"))?;
                if !from.mailbox.is_empty() && !from.is_mailbox() {
                    return Err(CommandError::BadAddress { verb: Verb::Mail });
                }
                Ok(CommandRef::Mail { from: from.mailbox, params })
            }
            (RCPT, Some(arg)) => {
                let (to, params) = path_and_params(b"TO:", arg).ok_or(syntax(Verb::Rcpt, "expected TO:<address>"))?;
                if !to.is_mailbox() && !to.mailbox.eq_ignore_ascii_case("postmaster") {
                    return Err(CommandError::BadAddress { verb: Verb::Rcpt });
                }
                Ok(CommandRef::Rcpt { to: to.mailbox, params })
            }
            (MAIL, None) => Err(syntax(Verb::Mail, "expected FROM:<address>")),
            (RCPT, None) => Err(syntax(Verb::Rcpt, "expected TO:<address>")),
            (AUTH, Some(arg)) => {
                let (mechanism, initial_response) = match memchr::memchr(b' ', arg.as_bytes()) {
                    Some(i) => (&arg[..i], Some(&arg[i + 1..])),
                    None => (arg, None),
                };
                if !is_mechanism(mechanism) || initial_response.is_some_and(|ir| !is_sasl_response(ir)) {
                    return Err(syntax(Verb::Auth, "expected a mechanism and optional base64"));
                }
                Ok(CommandRef::Auth { mechanism, initial_response })
            }
            (AUTH, None) => Err(syntax(Verb::Auth, "needs a mechanism")),
            _ => Err(CommandError::Unrecognized(truncate(verb, 32))),
        }
    }
}

impl From<CommandRef<'_>> for Command {
    fn from(c: CommandRef<'_>) -> Command {
        let params = |p: Params<'_>| p.iter().map(|(k, v)| Param::new(k, v)).collect();
        match c {
            CommandRef::Helo { domain } => Command::Helo { domain: domain.to_owned() },
            CommandRef::Ehlo { domain } => Command::Ehlo { domain: domain.to_owned() },
            CommandRef::Mail { from, params: p } => Command::Mail { from: from.to_owned(), params: params(p) },
            CommandRef::Rcpt { to, params: p } => Command::Rcpt { to: to.to_owned(), params: params(p) },
            CommandRef::Data => Command::Data,
            CommandRef::Rset => Command::Rset,
            CommandRef::Noop { arg } => Command::Noop { arg: arg.map(str::to_owned) },
            CommandRef::Quit => Command::Quit,
            CommandRef::Vrfy { arg } => Command::Vrfy { arg: arg.to_owned() },
            CommandRef::Help { topic } => Command::Help { topic: topic.map(str::to_owned) },
            CommandRef::StartTls => Command::StartTls,
            CommandRef::Auth { mechanism, initial_response } => {
                Command::Auth { mechanism: mechanism.to_ascii_uppercase(), initial_response: initial_response.map(str::to_owned) }
            }
        }
    }
}

impl CommandRef<'_> {
    pub fn verb(&self) -> Verb {
        match self {
            CommandRef::Helo { .. } => Verb::Helo,
            CommandRef::Ehlo { .. } => Verb::Ehlo,
            CommandRef::Mail { .. } => Verb::Mail,
            CommandRef::Rcpt { .. } => Verb::Rcpt,
            CommandRef::Data => Verb::Data,
            CommandRef::Rset => Verb::Rset,
            CommandRef::Noop { .. } => Verb::Noop,
            CommandRef::Quit => Verb::Quit,
            CommandRef::Vrfy { .. } => Verb::Vrfy,
            CommandRef::Help { .. } => Verb::Help,
            CommandRef::StartTls => Verb::StartTls,
            CommandRef::Auth { .. } => Verb::Auth,
        }
    }
}

impl Command {
    pub fn verb(&self) -> Verb {
        match self {
            Command::Helo { .. } => Verb::Helo,
            Command::Ehlo { .. } => Verb::Ehlo,
            Command::Mail { .. } => Verb::Mail,
            Command::Rcpt { .. } => Verb::Rcpt,
            Command::Data => Verb::Data,
            Command::Rset => Verb::Rset,
            Command::Noop { .. } => Verb::Noop,
            Command::Quit => Verb::Quit,
            Command::Vrfy { .. } => Verb::Vrfy,
            Command::Help { .. } => Verb::Help,
            Command::StartTls => Verb::StartTls,
            Command::Auth { .. } => Verb::Auth,
        }
    }

    /// Parses one command line (without CRLF): [`CommandRef::parse`], owned.
    pub fn parse(line: &[u8]) -> Result<Command, CommandError> {
        CommandRef::parse(line).map(Command::from)
    }

    /// The command as wire bytes, CRLF included.
    pub fn to_line(&self) -> Vec<u8> {
        format!("{self}\r\n").into_bytes()
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params = |f: &mut fmt::Formatter<'_>, ps: &[Param]| {
            for p in ps {
                match &p.value {
                    Some(v) => write!(f, " {}={}", p.keyword, v)?,
                    None => write!(f, " {}", p.keyword)?,
                }
            }
            Ok(())
        };
        match self {
            Command::Helo { domain } => write!(f, "HELO {domain}"),
            Command::Ehlo { domain } => write!(f, "EHLO {domain}"),
            Command::Mail { from, params: ps } => {
                write!(f, "MAIL FROM:<{from}>")?;
                params(f, ps)
            }
            Command::Rcpt { to, params: ps } => {
                write!(f, "RCPT TO:<{to}>")?;
                params(f, ps)
            }
            Command::Noop { arg: Some(a) } => write!(f, "NOOP {a}"),
            Command::Help { topic: Some(t) } => write!(f, "HELP {t}"),
            Command::Vrfy { arg } => write!(f, "VRFY {arg}"),
            Command::Auth { mechanism, initial_response } => match initial_response {
                Some(ir) => write!(f, "AUTH {mechanism} {ir}"),
                None => write!(f, "AUTH {mechanism}"),
            },
            other => f.write_str(other.verb().as_str()),
        }
    }
}

/// A line sent in answer to a 334 challenge during AUTH (RFC 4954 §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthLine {
    /// base64 text as sent.
    Response(String),
    /// `*`: the client gives up.
    Cancel,
}

impl AuthLine {
    pub fn parse(line: &[u8]) -> Result<AuthLine, CommandError> {
        let bad = CommandError::Syntax { verb: Verb::Auth, reason: "response is not base64" };
        let text = std::str::from_utf8(line).map_err(|_| bad.clone())?;
        if text == "*" {
            return Ok(AuthLine::Cancel);
        }
        if is_sasl_response(text) {
            Ok(AuthLine::Response(text.to_owned()))
        } else {
            Err(bad)
        }
    }
}

/// `line` as text. Most command lines are ASCII, which is checked a word at a time.
#[inline]
fn text(line: &[u8]) -> Option<&str> {
    if line.is_ascii() {
        // SAFETY: ASCII is valid UTF-8.
        Some(unsafe { std::str::from_utf8_unchecked(line) })
    } else {
        std::str::from_utf8(line).ok()
    }
}

/// The verb's key (see [`verb_key`]) and length, or `None` if the verb is
/// longer than any known one. Every verb fits in 8 bytes, so its end is a
/// space among the first 9 bytes or the line's end.
#[inline]
fn split_verb(line: &[u8]) -> Option<(u64, usize)> {
    let len = match line.iter().take(9).position(|&c| c == b' ') {
        Some(i) => i,
        None if line.len() <= 8 => line.len(),
        None => return None,
    };
    Some((verb_key(&line[..len]), len))
}

/// A verb of up to 8 bytes as one number, upper-cased and padded with 0xFF,
/// a byte UTF-8 never contains: two keys are equal exactly when the verbs are
/// equal ignoring ASCII case. Dispatch is then a match on integers.
#[inline]
const fn verb_key(verb: &[u8]) -> u64 {
    let mut buf = [0xffu8; 8];
    let mut i = 0;
    while i < verb.len() && i < 8 {
        buf[i] = verb[i].to_ascii_uppercase();
        i += 1;
    }
    u64::from_le_bytes(buf)
}

const DATA: u64 = verb_key(b"DATA");
const RSET: u64 = verb_key(b"RSET");
const QUIT: u64 = verb_key(b"QUIT");
const STARTTLS: u64 = verb_key(b"STARTTLS");
const NOOP: u64 = verb_key(b"NOOP");
const HELP: u64 = verb_key(b"HELP");
const VRFY: u64 = verb_key(b"VRFY");
const HELO: u64 = verb_key(b"HELO");
const EHLO: u64 = verb_key(b"EHLO");
const MAIL: u64 = verb_key(b"MAIL");
const RCPT: u64 = verb_key(b"RCPT");
const AUTH: u64 = verb_key(b"AUTH");

/// Byte classes for the checks below, one table lookup per byte.
const DOMAIN: u8 = 1; // letter, digit, '-', '.', '_'
const BASE64: u8 = 2; // letter, digit, '+', '/'
const MECHANISM: u8 = 4; // letter, digit, '-', '_'
const KEYWORD: u8 = 8; // letter, digit, '-'
const VALUE: u8 = 16; // graphic ASCII but '='
const PATH_STOP: u8 = 32; // '<', '>', C0, DEL, and 0xC2 (which may start a C1 control)
const PARAM_SEP: u8 = 64; // space, tab

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let alnum = c.is_ascii_alphanumeric();
        let mut f = 0;
        if alnum || c == b'-' || c == b'.' || c == b'_' {
            f |= DOMAIN;
        }
        if alnum || c == b'+' || c == b'/' {
            f |= BASE64;
        }
        if alnum || c == b'-' || c == b'_' {
            f |= MECHANISM;
        }
        if alnum || c == b'-' {
            f |= KEYWORD;
        }
        if c.is_ascii_graphic() && c != b'=' {
            f |= VALUE;
        }
        if c == b'<' || c == b'>' || c < 0x20 || c == 0x7f || c == 0xc2 {
            f |= PATH_STOP;
        }
        if c == b' ' || c == b'\t' {
            f |= PARAM_SEP;
        }
        t[i] = f;
        i += 1;
    }
    t
};

/// Every byte of `b` is in `class` (no early exit: short fields, no branches).
#[inline]
fn all_in(b: &[u8], class: u8) -> bool {
    b.iter().fold(class, |acc, &c| acc & CLASS[usize::from(c)]) == class
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// `Domain / address-literal`, loosely: a name of letters, digits, `-`, `.`
/// and `_`, or a bracketed literal of printable ASCII. The whole of `s`.
fn is_domain(s: &str) -> bool {
    match s.as_bytes() {
        [b'[', inner @ .., b']'] => !inner.is_empty() && inner.iter().all(|&c| c != b']' && c.is_ascii_graphic()),
        b => !b.is_empty() && all_in(b, DOMAIN),
    }
}

/// A path's mailbox, with what the one scan over it learnt.
struct Path<'a> {
    mailbox: &'a str,
    /// The last '@' of the mailbox, if any.
    at: Option<usize>,
    /// A space before that '@' (allowed only in a quoted local part).
    local_space: bool,
    rest: &'a str,
}

impl Path<'_> {
    /// `Mailbox = Local-part "@" ( Domain / address-literal )`, checked loosely.
    fn is_mailbox(&self) -> bool {
        self.at.is_some_and(|at| {
            let local = &self.mailbox[..at];
            !local.is_empty() && (local.starts_with('"') || !self.local_space) && is_domain(&self.mailbox[at + 1..])
        })
    }
}

/// `Path = "<" [ A-d-l ":" ] Mailbox ">"` or `"<>"`, at the start of `s`; the
/// source route is dropped.
fn path(s: &str) -> Option<Path<'_>> {
    let b = s.as_bytes();
    if b.first() != Some(&b'<') {
        return None;
    }
    // One pass to the first '<', '>' or control character (C0, DEL, or C1,
    // which UTF-8 writes as C2 80..9F), noting the last ':', the last '@' and
    // the last space before it on the way. Index 0 (the '<') means none.
    let (mut last_colon, mut last_at, mut last_space, mut space_before_at) = (0, 0, 0, 0);
    let mut i = 1;
    let close = loop {
        let c = *b.get(i)?;
        if CLASS[usize::from(c)] & PATH_STOP != 0 {
            match c {
                b'>' => break i,
                0xc2 if !b.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n)) => {}
                _ => return None,
            }
        } else {
            match c {
                b':' => last_colon = i,
                b'@' => (last_at, space_before_at) = (i, last_space),
                b' ' => last_space = i,
                _ => {}
            }
        }
        i += 1;
    };
    let start = if b.get(1) == Some(&b'@') && last_colon > 0 { last_colon + 1 } else { 1 };
    Some(Path {
        mailbox: &s[start..close],
        at: (last_at >= start).then(|| last_at - start),
        local_space: space_before_at >= start,
        rest: &s[close + 1..],
    })
}

/// `esmtp-param = esmtp-keyword ["=" esmtp-value]`.
fn is_param(k: &str, v: Option<&str>) -> bool {
    !k.is_empty() && all_in(k.as_bytes(), KEYWORD) && v.is_none_or(|v| !v.is_empty() && all_in(v.as_bytes(), VALUE))
}

/// `"FROM:" Reverse-path *(SP esmtp-param)`, tolerating a space after the colon
/// and trailing spaces. Returns the mailbox and the checked parameters.
fn path_and_params<'a>(prefix: &'static [u8], i: &'a str) -> Option<(Path<'a>, Params<'a>)> {
    if !i.as_bytes().get(..prefix.len())?.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let after = &i[prefix.len()..];
    let blanks = after.bytes().take_while(|&c| CLASS[usize::from(c)] & PARAM_SEP != 0).count();
    let path = path(&after[blanks..])?;
    let rest = path.rest;
    // Parameters must follow white space, and each must be well formed.
    if rest.as_bytes().first().is_some_and(|&c| CLASS[usize::from(c)] & PARAM_SEP == 0) {
        return None;
    }
    let params = Params(rest);
    params.iter().all(|(k, v)| is_param(k, v)).then_some((path, params))
}

/// `sasl-mech = 1*20(UPPER-ALPHA / DIGIT / "-" / "_")`, case-insensitive here.
fn is_mechanism(m: &str) -> bool {
    (1..=20).contains(&m.len()) && all_in(m.as_bytes(), MECHANISM)
}

/// base64 text, or `=` for an empty initial response; the whole of `s`.
fn is_sasl_response(s: &str) -> bool {
    if s == "=" {
        return true;
    }
    let body = s.trim_end_matches('=');
    !body.is_empty() && all_in(body.as_bytes(), BASE64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        let cases: &[(&str, Command)] = &[
            ("EHLO client.example", Command::Ehlo { domain: "client.example".into() }),
            ("helo [192.0.2.1]", Command::Helo { domain: "[192.0.2.1]".into() }),
            ("MAIL FROM:<>", Command::Mail { from: "".into(), params: vec![] }),
            (
                "mail from: <a@b.test> SIZE=1000 BODY=8BITMIME",
                Command::Mail {
                    from: "a@b.test".into(),
                    params: vec![Param::new("SIZE", Some("1000")), Param::new("BODY", Some("8BITMIME"))],
                },
            ),
            ("RCPT TO:<@relay.test:bob@c.test>", Command::Rcpt { to: "bob@c.test".into(), params: vec![] }),
            ("RCPT TO:<Postmaster>", Command::Rcpt { to: "Postmaster".into(), params: vec![] }),
            ("DATA", Command::Data),
            ("StartTLS", Command::StartTls),
            ("NOOP hello", Command::Noop { arg: Some("hello".into()) }),
            (
                "AUTH plain AGFsaWNlAHNlY3JldA==",
                Command::Auth { mechanism: "PLAIN".into(), initial_response: Some("AGFsaWNlAHNlY3JldA==".into()) },
            ),
            ("AUTH LOGIN", Command::Auth { mechanism: "LOGIN".into(), initial_response: None }),
            ("AUTH PLAIN =", Command::Auth { mechanism: "PLAIN".into(), initial_response: Some("=".into()) }),
        ];
        for (line, want) in cases {
            assert_eq!(&Command::parse(line.as_bytes()).unwrap(), want, "{line}");
        }
    }

    #[test]
    fn errors_distinguish_unknown_from_bad_arguments() {
        assert!(matches!(Command::parse(b"FOO bar"), Err(CommandError::Unrecognized(_))));
        assert!(matches!(Command::parse(b"DATA now"), Err(CommandError::Syntax { verb: Verb::Data, .. })));
        assert!(matches!(Command::parse(b"MAIL FROM:a@b"), Err(CommandError::Syntax { verb: Verb::Mail, .. })));
        assert!(matches!(Command::parse(b"RCPT TO:<nobody>"), Err(CommandError::BadAddress { verb: Verb::Rcpt })));
        assert!(matches!(Command::parse(b"AUTH PLAIN !!"), Err(CommandError::Syntax { verb: Verb::Auth, .. })));
        assert!(matches!(Command::parse(b"EHLO"), Err(CommandError::Syntax { verb: Verb::Ehlo, .. })));
        assert!(matches!(Command::parse(&[0x16, 0x03, 0x01, 0xff]), Err(CommandError::NotText)));
    }

    #[test]
    fn encode_then_parse_round_trips() {
        for line in ["MAIL FROM:<a@b.test> SIZE=10", "RCPT TO:<c@d.test>", "AUTH LOGIN dXNlcg==", "QUIT", "EHLO x.test"] {
            let cmd = Command::parse(line.as_bytes()).unwrap();
            assert_eq!(cmd.to_line(), format!("{line}\r\n").into_bytes());
        }
    }

    #[test]
    fn verb_split_agrees_with_a_plain_one() {
        let plain = |line: &[u8]| {
            let len = line.iter().position(|&c| c == b' ').unwrap_or(line.len());
            (len <= 8).then(|| (verb_key(&line[..len]), len))
        };
        let lines = [
            "",
            "d",
            "data",
            "DATA",
            "Data x",
            "starttls",
            "STARTTLS x",
            "STARTTLSX",
            "startTLS ",
            "mail from:<a@b>",
            "\u{e9}hlo x",
            "ehl\u{e9} x",
            "abcdefgh",
            "abcdefghi j",
            "a b",
            " DATA",
            "QUIT\t",
            "[\\]^_`{|",
            "@Z[`az{ ",
        ];
        for line in lines {
            assert_eq!(split_verb(line.as_bytes()), plain(line.as_bytes()), "{line:?}");
        }
        assert_eq!(split_verb(b"eHlO x").map(|(k, _)| k), Some(EHLO));
        assert_ne!(split_verb(b"EHL@ x").map(|(k, _)| k), Some(EHLO));
    }

    #[test]
    fn auth_lines() {
        assert_eq!(AuthLine::parse(b"*"), Ok(AuthLine::Cancel));
        assert_eq!(AuthLine::parse(b"dXNlcg=="), Ok(AuthLine::Response("dXNlcg==".into())));
        assert!(AuthLine::parse(b"not base64!").is_err());
    }
}
