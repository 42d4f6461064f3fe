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

    /// Parses one command line (without CRLF).
    pub fn parse(line: &[u8]) -> Result<Command, CommandError> {
        let line = std::str::from_utf8(line).map_err(|_| CommandError::NotText)?;
        let (verb, args) = match line.find(' ') {
            Some(i) => (&line[..i], Some(&line[i + 1..])),
            None => (line, None),
        };
        // Every verb fits in 8 bytes; uppercase it on the stack. Longer ones are unknown.
        let mut buf = [0u8; 8];
        let verb_upper = match buf.get_mut(..verb.len()) {
            Some(dst) => {
                dst.copy_from_slice(verb.as_bytes());
                dst.make_ascii_uppercase();
                std::str::from_utf8(dst).unwrap_or("")
            }
            None => "",
        };
        let syntax = |verb, reason| CommandError::Syntax { verb, reason };
        match (verb_upper, args) {
            ("DATA", None) => Ok(Command::Data),
            ("RSET", None) => Ok(Command::Rset),
            ("QUIT", None) => Ok(Command::Quit),
            ("STARTTLS", None) => Ok(Command::StartTls),
            ("DATA" | "RSET" | "QUIT" | "STARTTLS", Some(_)) => {
                let v = static_verb(verb_upper);
                Err(syntax(v, "takes no arguments"))
            }
            ("NOOP", arg) => Ok(Command::Noop { arg: arg.map(str::to_owned) }),
            ("HELP", topic) => Ok(Command::Help { topic: topic.map(str::to_owned) }),
            ("VRFY", Some(arg)) if !arg.trim().is_empty() => Ok(Command::Vrfy { arg: arg.to_owned() }),
            ("VRFY", _) => Err(syntax("VRFY", "needs an argument")),
            ("HELO" | "EHLO", Some(arg)) => {
                let v = static_verb(verb_upper);
                if !is_domain(arg) {
                    return Err(syntax(v, "expected a domain or address literal"));
                }
                let domain = arg.to_owned();
                Ok(if v == "HELO" { Command::Helo { domain } } else { Command::Ehlo { domain } })
            }
            ("HELO" | "EHLO", None) => Err(syntax(static_verb(verb_upper), "needs a hostname")),
            ("MAIL", Some(arg)) => {
                let (from, params) = path_and_params("FROM:", arg).map_err(|_| syntax("MAIL", "expected FROM:<address>"))?;
                if !from.is_empty() && !is_mailbox(&from) {
                    return Err(CommandError::BadAddress { verb: "MAIL" });
                }
                Ok(Command::Mail { from, params })
            }
            ("RCPT", Some(arg)) => {
                let (to, params) = path_and_params("TO:", arg).map_err(|_| syntax("RCPT", "expected TO:<address>"))?;
                if !is_mailbox(&to) && !to.eq_ignore_ascii_case("postmaster") {
                    return Err(CommandError::BadAddress { verb: "RCPT" });
                }
                Ok(Command::Rcpt { to, params })
            }
            ("MAIL", None) => Err(syntax("MAIL", "expected FROM:<address>")),
            ("RCPT", None) => Err(syntax("RCPT", "expected TO:<address>")),
            ("AUTH", Some(arg)) => {
                let (mech, ir) = match arg.split_once(' ') {
                    Some((m, ir)) => (m, Some(ir)),
                    None => (arg, None),
                };
                if !is_mechanism(mech) || ir.is_some_and(|ir| !is_sasl_response(ir)) {
                    return Err(syntax("AUTH", "expected a mechanism and optional base64"));
                }
                Ok(Command::Auth { mechanism: mech.to_ascii_uppercase(), initial_response: ir.map(str::to_owned) })
            }
            ("AUTH", None) => Err(syntax("AUTH", "needs a mechanism")),
            _ => Err(CommandError::Unrecognized(truncate(verb, 32))),
        }
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

fn static_verb(upper: &str) -> &'static str {
    ["DATA", "RSET", "QUIT", "STARTTLS", "HELO", "EHLO"].into_iter().find(|v| *v == upper).unwrap_or("?")
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
    let close = inner_and_rest.find(|c: char| c == '<' || c == '>' || c.is_control())?;
    if inner_and_rest.as_bytes()[close] != b'>' {
        return None;
    }
    let inner = &inner_and_rest[..close];
    let mailbox = match inner.rfind(':') {
        Some(p) if inner.starts_with('@') => &inner[p + 1..],
        _ => inner,
    };
    Some((mailbox, &inner_and_rest[close + 1..]))
}

/// `esmtp-param = esmtp-keyword ["=" esmtp-value]`, the whole of `s`.
fn param(s: &str) -> Option<Param> {
    let (k, v) = match s.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (s, None),
    };
    let keyword_ok = !k.is_empty() && k.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-');
    let value_ok = v.is_none_or(|v| !v.is_empty() && v.bytes().all(|c| c.is_ascii_graphic() && c != b'='));
    (keyword_ok && value_ok).then(|| Param::new(k, v))
}

/// `"FROM:" Reverse-path *(SP esmtp-param)`, tolerating a space after the colon
/// and trailing spaces.
fn path_and_params(prefix: &'static str, i: &str) -> Result<(String, Vec<Param>), ()> {
    let head = i.get(..prefix.len()).filter(|h| h.eq_ignore_ascii_case(prefix)).ok_or(())?;
    let (mailbox, rest) = path(i[head.len()..].trim_start_matches([' ', '\t'])).ok_or(())?;
    let mut params = Vec::new();
    let mut rest = rest;
    loop {
        let trimmed = rest.trim_start_matches([' ', '\t']);
        if trimmed.is_empty() {
            break;
        }
        if trimmed.len() == rest.len() {
            return Err(()); // a parameter must follow white space
        }
        let end = trimmed.find([' ', '\t']).unwrap_or(trimmed.len());
        params.push(param(&trimmed[..end]).ok_or(())?);
        rest = &trimmed[end..];
    }
    Ok((mailbox.to_owned(), params))
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
    match s.rsplit_once('@') {
        Some((local, dom)) => {
            let local_ok = !local.is_empty() && (local.starts_with('"') || !local.contains(' '));
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
