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

/// Why a command line was rejected, with the reply it earns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("command not recognized: {0:?}")]
    Unrecognized(String),
    #[error("syntax error in {verb}: {reason}")]
    Syntax { verb: &'static str, reason: &'static str },
    #[error("bad address syntax in {verb}")]
    BadAddress { verb: &'static str },
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
        text.split([' ', '\t']).filter(|p| !p.is_empty()).map(|p| match memchr::memchr(b'=', p.as_bytes()) {
            Some(i) => (&p[..i], Some(&p[i + 1..])),
            None => (p, None),
        })
    }
}

impl<'a> CommandRef<'a> {
    /// Parses one command line (without CRLF). The verb is matched first, so
    /// that an unknown verb (500) and a known verb with bad arguments (501) differ.
    pub fn parse(line: &'a [u8]) -> Result<CommandRef<'a>, CommandError> {
        let line = std::str::from_utf8(line).map_err(|_| CommandError::NotText)?;
        let (verb, args) = match memchr::memchr(b' ', line.as_bytes()) {
            Some(i) => (&line[..i], Some(&line[i + 1..])),
            None => (line, None),
        };
        // Every verb fits in 8 bytes; uppercase it on the stack. Longer ones are unknown.
        let mut buf = [0u8; 8];
        let verb_upper: &[u8] = match buf.get_mut(..verb.len()) {
            Some(dst) => {
                dst.copy_from_slice(verb.as_bytes());
                dst.make_ascii_uppercase();
                dst
            }
            None => b"",
        };
        let syntax = |verb, reason| CommandError::Syntax { verb, reason };
        match (verb_upper, args) {
            (b"DATA", None) => Ok(CommandRef::Data),
            (b"RSET", None) => Ok(CommandRef::Rset),
            (b"QUIT", None) => Ok(CommandRef::Quit),
            (b"STARTTLS", None) => Ok(CommandRef::StartTls),
            (b"DATA" | b"RSET" | b"QUIT" | b"STARTTLS", Some(_)) => Err(syntax(static_verb(verb_upper), "takes no arguments")),
            (b"NOOP", arg) => Ok(CommandRef::Noop { arg }),
            (b"HELP", topic) => Ok(CommandRef::Help { topic }),
            (b"VRFY", Some(arg)) if !arg.trim().is_empty() => Ok(CommandRef::Vrfy { arg }),
            (b"VRFY", _) => Err(syntax("VRFY", "needs an argument")),
            (b"HELO" | b"EHLO", Some(domain)) => {
                let v = static_verb(verb_upper);
                if !is_domain(domain) {
                    return Err(syntax(v, "expected a domain or address literal"));
                }
                Ok(if v == "HELO" { CommandRef::Helo { domain } } else { CommandRef::Ehlo { domain } })
            }
            (b"HELO" | b"EHLO", None) => Err(syntax(static_verb(verb_upper), "needs a hostname")),
            (b"MAIL", Some(arg)) => {
                let (from, params) = path_and_params("FROM:", arg).ok_or(syntax("MAIL", "expected FROM:<address>"))?;
                if !from.is_empty() && !is_mailbox(from) {
                    return Err(CommandError::BadAddress { verb: "MAIL" });
                }
                Ok(CommandRef::Mail { from, params })
            }
            (b"RCPT", Some(arg)) => {
                let (to, params) = path_and_params("TO:", arg).ok_or(syntax("RCPT", "expected TO:<address>"))?;
                if !is_mailbox(to) && !to.eq_ignore_ascii_case("postmaster") {
                    return Err(CommandError::BadAddress { verb: "RCPT" });
                }
                Ok(CommandRef::Rcpt { to, params })
            }
            (b"MAIL", None) => Err(syntax("MAIL", "expected FROM:<address>")),
            (b"RCPT", None) => Err(syntax("RCPT", "expected TO:<address>")),
            (b"AUTH", Some(arg)) => {
                let (mechanism, initial_response) = match arg.split_once(' ') {
                    Some((m, ir)) => (m, Some(ir)),
                    None => (arg, None),
                };
                if !is_mechanism(mechanism) || initial_response.is_some_and(|ir| !is_sasl_response(ir)) {
                    return Err(syntax("AUTH", "expected a mechanism and optional base64"));
                }
                Ok(CommandRef::Auth { mechanism, initial_response })
            }
            (b"AUTH", None) => Err(syntax("AUTH", "needs a mechanism")),
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

impl Command {
    /// The verb as it appears on the wire.
    pub fn verb(&self) -> &'static str {
        match self {
            Command::Helo { .. } => "HELO",
            Command::Ehlo { .. } => "EHLO",
            Command::Mail { .. } => "MAIL",
            Command::Rcpt { .. } => "RCPT",
            Command::Data => "DATA",
            Command::Rset => "RSET",
            Command::Noop { .. } => "NOOP",
            Command::Quit => "QUIT",
            Command::Vrfy { .. } => "VRFY",
            Command::Help { .. } => "HELP",
            Command::StartTls => "STARTTLS",
            Command::Auth { .. } => "AUTH",
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
            other => f.write_str(other.verb()),
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
        let bad = CommandError::Syntax { verb: "AUTH", reason: "response is not base64" };
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

fn static_verb(upper: &[u8]) -> &'static str {
    ["DATA", "RSET", "QUIT", "STARTTLS", "HELO", "EHLO"].into_iter().find(|v| v.as_bytes() == upper).unwrap_or("?")
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// `Domain / address-literal`, loosely: a name of letters, digits, `-`, `.`
/// and `_`, or a bracketed literal of printable ASCII. The whole of `s`.
fn is_domain(s: &str) -> bool {
    let b = s.as_bytes();
    match b {
        [b'[', inner @ .., b']'] => !inner.is_empty() && inner.iter().all(|&c| c != b']' && c.is_ascii_graphic()),
        _ => !b.is_empty() && b.iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_')),
    }
}

/// `Path = "<" [ A-d-l ":" ] Mailbox ">"` or `"<>"`, at the start of `s`; the
/// source route is dropped. Returns the mailbox and the rest.
fn path(s: &str) -> Option<(&str, &str)> {
    let inner_and_rest = s.strip_prefix('<')?;
    // The first '<', '>' or control character (C0, DEL, or C1, which UTF-8 writes as C2 80..9F).
    let b = inner_and_rest.as_bytes();
    let close = b.iter().enumerate().position(|(i, &c)| {
        c == b'<' || c == b'>' || c < 0x20 || c == 0x7f || (c == 0xc2 && b.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n)))
    })?;
    if b[close] != b'>' {
        return None;
    }
    let inner = &inner_and_rest[..close];
    let mailbox = match inner.rfind(':') {
        Some(p) if inner.starts_with('@') => &inner[p + 1..],
        _ => inner,
    };
    Some((mailbox, &inner_and_rest[close + 1..]))
}

/// `esmtp-param = esmtp-keyword ["=" esmtp-value]`.
fn is_param(k: &str, v: Option<&str>) -> bool {
    let keyword_ok = !k.is_empty() && k.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-');
    keyword_ok && v.is_none_or(|v| !v.is_empty() && v.bytes().all(|c| c.is_ascii_graphic() && c != b'='))
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// `s` without its leading spaces and tabs.
fn trim_blank_start(s: &str) -> &str {
    let n = s.bytes().take_while(|&c| is_blank(c)).count();
    &s[n..]
}

/// `"FROM:" Reverse-path *(SP esmtp-param)`, tolerating a space after the colon
/// and trailing spaces. Returns the mailbox and the checked parameters.
fn path_and_params<'a>(prefix: &'static str, i: &'a str) -> Option<(&'a str, Params<'a>)> {
    let head = i.get(..prefix.len()).filter(|h| h.eq_ignore_ascii_case(prefix))?;
    let (mailbox, rest) = path(trim_blank_start(&i[head.len()..]))?;
    // Parameters must follow white space, and each must be well formed.
    if rest.as_bytes().first().is_some_and(|&c| !is_blank(c)) {
        return None;
    }
    let params = Params(rest);
    params.iter().all(|(k, v)| is_param(k, v)).then_some((mailbox, params))
}

/// `sasl-mech = 1*20(UPPER-ALPHA / DIGIT / "-" / "_")`, case-insensitive here.
fn is_mechanism(m: &str) -> bool {
    (1..=20).contains(&m.len()) && m.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

/// base64 text, or `=` for an empty initial response; the whole of `s`.
fn is_sasl_response(s: &str) -> bool {
    if s == "=" {
        return true;
    }
    let body = s.trim_end_matches('=');
    !body.is_empty() && body.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
}

/// `Mailbox = Local-part "@" ( Domain / address-literal )`, checked loosely.
pub fn is_mailbox(s: &str) -> bool {
    match memchr::memrchr(b'@', s.as_bytes()) {
        Some(at) => {
            let (local, dom) = (&s[..at], &s[at + 1..]);
            let local_ok = !local.is_empty() && (local.starts_with('"') || memchr::memchr(b' ', local.as_bytes()).is_none());
            local_ok && is_domain(dom)
        }
        None => false,
    }
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
        assert!(matches!(Command::parse(b"DATA now"), Err(CommandError::Syntax { verb: "DATA", .. })));
        assert!(matches!(Command::parse(b"MAIL FROM:a@b"), Err(CommandError::Syntax { verb: "MAIL", .. })));
        assert!(matches!(Command::parse(b"RCPT TO:<nobody>"), Err(CommandError::BadAddress { verb: "RCPT" })));
        assert!(matches!(Command::parse(b"AUTH PLAIN !!"), Err(CommandError::Syntax { verb: "AUTH", .. })));
        assert!(matches!(Command::parse(b"EHLO"), Err(CommandError::Syntax { verb: "EHLO", .. })));
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
    fn auth_lines() {
        assert_eq!(AuthLine::parse(b"*"), Ok(AuthLine::Cancel));
        assert_eq!(AuthLine::parse(b"dXNlcg=="), Ok(AuthLine::Response("dXNlcg==".into())));
        assert!(AuthLine::parse(b"not base64!").is_err());
    }
}
