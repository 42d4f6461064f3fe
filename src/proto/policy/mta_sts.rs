//! MTA-STS (RFC 8461) as data: the `_mta-sts` TXT record a sender looks up,
//! the policy it fetches from `https://mta-sts.<domain>/.well-known/mta-sts.txt`,
//! and whether an MX host is one the policy names. Fetching (over HTTPS, with
//! a certificate check) and caching belong to the sending MTA; this module
//! only reads what they bring and answers what the policy says.

use serde::{Deserialize, Serialize};

use crate::vocab::{named, Named};

/// The longest `max_age` a policy may give: about a year (RFC 8461 §3.2).
pub(crate) const MAX_AGE_LIMIT: u64 = 31_557_600;

/// The TXT record at `_mta-sts.<domain>` (RFC 8461 §3.1): its `id` changes
/// whenever the policy does, so a sender with a cached policy knows to fetch again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StsRecord {
    pub id: String,
}

named! {
    /// What a policy tells senders to do (RFC 8461 §5).
    pub enum StsMode ("MTA-STS mode") {
        Enforce = "enforce",
        Testing = "testing",
        None = "none",
    }
}

/// A policy file (RFC 8461 §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StsPolicy {
    pub mode: StsMode,
    /// Host names or `*.`-wildcards an MX must match (RFC 8461 §4.1).
    pub mx: Vec<String>,
    /// How long a sender may cache the policy, in seconds.
    pub max_age: u64,
}

/// Why a record or a policy could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StsError {
    #[error("{0:?} is not an MTA-STS record: it must start with v=STSv1")]
    NotARecord(String),
    #[error("{0:?} is not a list of key=value fields separated by \";\" (RFC 8461 §3.1)")]
    RecordSyntax(String),
    #[error("the record has no id field")]
    NoId,
    #[error("the id {0:?} must be 1 to 32 letters and digits")]
    BadId(String),
    #[error("{0:?} is not a key: value line")]
    NotKeyValue(String),
    #[error("mode {0:?} is not enforce, testing or none")]
    BadMode(String),
    #[error("max_age {0:?} is not a number of seconds")]
    BadMaxAge(String),
    #[error("max_age {0} is more than {MAX_AGE_LIMIT} seconds")]
    MaxAgeTooLong(u64),
    #[error("the policy's version must be STSv1")]
    Version,
    #[error("the policy has no mode")]
    NoMode,
    #[error("the policy has no max_age")]
    NoMaxAge,
    #[error("the policy names no mx")]
    NoMx,
}

/// The record's grammar (RFC 8461 §3.1, in nom): `v=STSv1`, then
/// `*WSP ";" *WSP name=value` fields, and an optional final delimiter.
mod grammar {
    use nom::bytes::complete::{tag, take_while, take_while1, take_while_m_n};
    use nom::character::complete::space0;
    use nom::combinator::{all_consuming, opt, recognize};
    use nom::multi::many0;
    use nom::sequence::{delimited, preceded, separated_pair};
    use nom::{IResult, Parser};

    fn delim(input: &str) -> IResult<&str, &str> {
        delimited(space0, tag(";"), space0).parse(input)
    }

    /// `sts-ext-name "=" sts-ext-value`; `id` is one of them, checked after.
    fn field(input: &str) -> IResult<&str, (&str, &str)> {
        let name = recognize((
            take_while_m_n(1, 1, |c: char| c.is_ascii_alphanumeric()),
            take_while_m_n(0, 31, |c: char| c.is_ascii_alphanumeric() || "_-.".contains(c)),
        ));
        let value = take_while1(|c: char| matches!(c, '\x21'..='\x3a' | '\x3c' | '\x3e'..='\x7e'));
        separated_pair(name, tag("="), value).parse(input)
    }

    /// The fields after the version, or `None` when the text is not that grammar.
    pub(super) fn fields(text: &str) -> Option<Vec<(&str, &str)>> {
        let record = (tag("v=STSv1"), many0(preceded(delim, field)), opt(delim));
        all_consuming(record).parse(text).ok().map(|(_, (_, fields, _))| fields)
    }

    /// Whether the text starts with the version field (a record of some other kind does not).
    pub(super) fn is_versioned(text: &str) -> bool {
        (tag::<_, _, ()>("v=STSv1"), take_while(|c: char| c == ' ' || c == '\t'), tag(";")).parse(text).is_ok() || text == "v=STSv1"
    }

    /// One policy line, `key ":" *WSP value`, trailing white space dropped (RFC 8461 §3.2).
    pub(super) fn policy_line(line: &str) -> Option<(&str, &str)> {
        let key = take_while1(|c: char| c.is_ascii_alphanumeric() || "_-.".contains(c));
        let parser = separated_pair(key, (tag(":"), space0::<_, ()>), take_while(|_| true));
        all_consuming(parser).parse(line).ok().map(|(_, (k, v))| (k, v.trim_end()))
    }
}

impl StsRecord {
    /// Reads a TXT string: `v=STSv1; id=20260101T000000;` (RFC 8461 §3.1).
    /// `v` must come first; fields other than `id` are ignored.
    pub fn parse(text: &str) -> Result<StsRecord, StsError> {
        if !grammar::is_versioned(text) {
            return Err(StsError::NotARecord(text.to_owned()));
        }
        let fields = grammar::fields(text).ok_or_else(|| StsError::RecordSyntax(text.to_owned()))?;
        let id = fields.iter().find(|(k, _)| *k == "id").map(|(_, v)| *v).ok_or(StsError::NoId)?;
        if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(StsError::BadId(id.to_owned()));
        }
        Ok(StsRecord { id: id.to_owned() })
    }
}

impl StsPolicy {
    /// Reads a policy file: `key: value` lines, ended by CRLF or LF
    /// (RFC 8461 §3.2). Unknown keys are ignored; `version`, `mode` and
    /// `max_age` are required. A policy that enforces or tests must also name
    /// at least one `mx`: without one it would match no host at all.
    pub fn parse(text: &str) -> Result<StsPolicy, StsError> {
        let (mut version, mut mode, mut max_age, mut mx) = (None, None, None, Vec::new());
        for line in text.lines().map(|l| l.trim_end_matches('\r')).filter(|l| !l.trim().is_empty()) {
            let (key, value) = grammar::policy_line(line).ok_or_else(|| StsError::NotKeyValue(line.to_owned()))?;
            match key {
                "version" => version = Some(value.to_owned()),
                "mode" => {
                    mode =
                        Some(value.parse::<StsMode>().ok().filter(|m| m.id() == value).ok_or_else(|| StsError::BadMode(value.to_owned()))?)
                }
                "max_age" => {
                    let age: u64 = value.parse().map_err(|_| StsError::BadMaxAge(value.to_owned()))?;
                    if age > MAX_AGE_LIMIT {
                        return Err(StsError::MaxAgeTooLong(age));
                    }
                    max_age = Some(age);
                }
                "mx" => mx.push(value.to_ascii_lowercase()),
                _ => {}
            }
        }
        if version.as_deref() != Some("STSv1") {
            return Err(StsError::Version);
        }
        let mode = mode.ok_or(StsError::NoMode)?;
        let max_age = max_age.ok_or(StsError::NoMaxAge)?;
        if mx.is_empty() && mode != StsMode::None {
            return Err(StsError::NoMx);
        }
        Ok(StsPolicy { mode, mx, max_age })
    }

    /// The policy file's text, as a domain would publish it.
    pub fn to_text(&self) -> String {
        let mut text = format!("version: STSv1\r\nmode: {}\r\n", self.mode.id());
        for mx in &self.mx {
            text.push_str(&format!("mx: {mx}\r\n"));
        }
        text.push_str(&format!("max_age: {}\r\n", self.max_age));
        text
    }

    /// Whether `host` (an MX's name) is one the policy lists: the same name,
    /// or a `*.` pattern whose wildcard stands for exactly its leftmost label
    /// (RFC 8461 §4.1). Case does not matter, nor a trailing dot.
    pub fn allows_mx(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.mx.iter().any(|pattern| match pattern.strip_prefix("*.") {
            Some(parent) => host.split_once('.').is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
            None => host == pattern.trim_end_matches('.'),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_txt_record_needs_v_first_and_an_id() {
        assert_eq!(StsRecord::parse("v=STSv1; id=20261124T000000;").unwrap().id, "20261124T000000");
        assert_eq!(StsRecord::parse("v=STSv1;id=abc").unwrap().id, "abc");
        for (bad, why) in [
            ("id=abc; v=STSv1", "must start with v=STSv1"),
            ("v=spf1 -all", "must start with v=STSv1"),
            ("v=STSv1;", "no id"),
            ("v=STSv1; id=not-alnum", "letters and digits"),
            ("v=STSv1; id=0123456789012345678901234567890123", "1 to 32"),
            ("v=STSv1; id=abc; not a field", "key=value fields"),
            ("v=STSv1 id=abc", "must start with v=STSv1"),
        ] {
            let err = StsRecord::parse(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn a_policy_reads_back_what_it_writes_and_ignores_unknown_keys() {
        let policy =
            StsPolicy { mode: StsMode::Enforce, mx: vec!["mail.example.test".into(), "*.backup.example.test".into()], max_age: 604_800 };
        assert_eq!(StsPolicy::parse(&policy.to_text()).unwrap(), policy);
        let lf = "version: STSv1\nmode: testing\nmx: MAIL.example.test\nmax_age: 86400\nfuture: ignored\n";
        let read = StsPolicy::parse(lf).unwrap();
        assert_eq!((read.mode, read.mx.as_slice(), read.max_age), (StsMode::Testing, &["mail.example.test".to_owned()][..], 86_400));
        assert_eq!(StsPolicy::parse("version: STSv1\r\nmode: none\r\nmax_age: 0\r\n").unwrap().mode, StsMode::None);
    }

    #[test]
    fn a_bad_policy_says_what_is_wrong() {
        for (bad, why) in [
            ("mode: enforce\nmx: a.test\nmax_age: 1\n", "version must be STSv1"),
            ("version: STSv2\nmode: enforce\nmx: a.test\nmax_age: 1\n", "version must be STSv1"),
            ("version: STSv1\nmode: strict\nmx: a.test\nmax_age: 1\n", "not enforce, testing or none"),
            ("version: STSv1\nmode: enforce\nmx: a.test\n", "no max_age"),
            ("version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 31557601\n", "more than 31557600"),
            ("version: STSv1\nmode: enforce\nmx: a.test\nmax_age: soon\n", "not a number"),
            ("version: STSv1\nmode: enforce\nmax_age: 1\n", "names no mx"),
            ("version: STSv1\nno colon here\n", "not a key: value line"),
        ] {
            let err = StsPolicy::parse(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }

    #[test]
    fn a_wildcard_stands_for_exactly_one_leftmost_label() {
        let policy = StsPolicy { mode: StsMode::Enforce, mx: vec!["mail.example.test".into(), "*.mx.example.test".into()], max_age: 1 };
        for (host, allowed) in [
            ("mail.example.test", true),
            ("MAIL.Example.Test.", true),
            ("a.mx.example.test", true),
            ("mx.example.test", false),
            ("a.b.mx.example.test", false),
            ("mallory.test", false),
            ("mail.example.test.mallory.test", false),
            (".mx.example.test", false),
        ] {
            assert_eq!(policy.allows_mx(host), allowed, "{host}");
        }
    }
}
