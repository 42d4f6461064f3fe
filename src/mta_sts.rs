//! MTA-STS (RFC 8461) as data: the `_mta-sts` TXT record a sender looks up,
//! the policy it fetches from `https://mta-sts.<domain>/.well-known/mta-sts.txt`,
//! and whether an MX host is one the policy names. Fetching (over HTTPS, with
//! a certificate check) and caching belong to the sending MTA; this module
//! only reads what they bring and answers what the policy says.

use serde::{Deserialize, Serialize};

use crate::vocab::{choice, Choice};

/// The longest `max_age` a policy may give: about a year (RFC 8461 §3.2).
pub const MAX_AGE_LIMIT: u64 = 31_557_600;

/// The TXT record at `_mta-sts.<domain>` (RFC 8461 §3.1): its `id` changes
/// whenever the policy does, so a sender with a cached policy knows to fetch again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StsRecord {
    pub id: String,
}

choice! {
    /// What a policy tells senders to do (RFC 8461 §5).
    pub enum Mode ("MTA-STS mode") {
        Enforce = "enforce": "deliver only to a listed MX, over TLS with a valid certificate",
        Testing = "testing": "deliver as before, and report what would have failed (TLS-RPT, RFC 8460)",
        None = "none": "the domain has withdrawn its policy",
    }
}

/// A policy file (RFC 8461 §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub mode: Mode,
    /// Host names or `*.`-wildcards an MX must match (RFC 8461 §4.1).
    pub mx: Vec<String>,
    /// How long a sender may cache the policy, in seconds.
    pub max_age: u64,
}

/// Why a record or a policy could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StsError(String);

impl StsRecord {
    /// Reads a TXT string: `v=STSv1; id=20260101T000000;` (RFC 8461 §3.1).
    /// `v` must come first; other fields are ignored.
    pub fn parse(text: &str) -> Result<StsRecord, StsError> {
        let mut fields = text.split(';').map(str::trim).filter(|f| !f.is_empty()).map(|f| f.split_once('=').unwrap_or((f, "")));
        match fields.next() {
            Some(("v", "STSv1")) => {}
            _ => return Err(StsError(format!("{text:?} is not an MTA-STS record: it must start with v=STSv1"))),
        }
        let id =
            fields.find_map(|(k, v)| (k == "id").then(|| v.to_owned())).ok_or_else(|| StsError("the record has no id field".into()))?;
        if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(StsError(format!("the id {id:?} must be 1 to 32 letters and digits")));
        }
        Ok(StsRecord { id })
    }
}

impl Policy {
    /// Reads a policy file: `key: value` lines, ended by CRLF or LF
    /// (RFC 8461 §3.2). Unknown keys are ignored; `version`, `mode` and
    /// `max_age` are required. A policy that enforces or tests must also name
    /// at least one `mx`: without one it would match no host at all.
    pub fn parse(text: &str) -> Result<Policy, StsError> {
        let (mut version, mut mode, mut max_age, mut mx) = (None, None, None, Vec::new());
        for line in text.lines().map(|l| l.trim_end_matches('\r')).filter(|l| !l.trim().is_empty()) {
            let (key, value) = line.split_once(':').ok_or_else(|| StsError(format!("{line:?} is not a key: value line")))?;
            let value = value.trim();
            match key.trim() {
                "version" => version = Some(value.to_owned()),
                "mode" => {
                    mode = Some(
                        Mode::ALL
                            .iter()
                            .copied()
                            .find(|m| m.id() == value)
                            .ok_or_else(|| StsError(format!("mode {value:?} is not enforce, testing or none")))?,
                    )
                }
                "max_age" => {
                    let age: u64 = value.parse().map_err(|_| StsError(format!("max_age {value:?} is not a number of seconds")))?;
                    if age > MAX_AGE_LIMIT {
                        return Err(StsError(format!("max_age {age} is more than {MAX_AGE_LIMIT} seconds")));
                    }
                    max_age = Some(age);
                }
                "mx" => mx.push(value.to_ascii_lowercase()),
                _ => {}
            }
        }
        if version.as_deref() != Some("STSv1") {
            return Err(StsError("the policy's version must be STSv1".into()));
        }
        let mode = mode.ok_or_else(|| StsError("the policy has no mode".into()))?;
        let max_age = max_age.ok_or_else(|| StsError("the policy has no max_age".into()))?;
        if mx.is_empty() && mode != Mode::None {
            return Err(StsError("the policy names no mx".into()));
        }
        Ok(Policy { mode, mx, max_age })
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

/// Where a sender fetches `domain`'s policy from (RFC 8461 §3.3).
pub fn policy_url(domain: &str) -> String {
    format!("https://mta-sts.{}/.well-known/mta-sts.txt", domain.trim_end_matches('.'))
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
        ] {
            let err = StsRecord::parse(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn a_policy_reads_back_what_it_writes_and_ignores_unknown_keys() {
        let policy = Policy { mode: Mode::Enforce, mx: vec!["mail.example.test".into(), "*.backup.example.test".into()], max_age: 604_800 };
        assert_eq!(Policy::parse(&policy.to_text()).unwrap(), policy);
        let lf = "version: STSv1\nmode: testing\nmx: MAIL.example.test\nmax_age: 86400\nfuture: ignored\n";
        let read = Policy::parse(lf).unwrap();
        assert_eq!((read.mode, read.mx.as_slice(), read.max_age), (Mode::Testing, &["mail.example.test".to_owned()][..], 86_400));
        assert_eq!(Policy::parse("version: STSv1\r\nmode: none\r\nmax_age: 0\r\n").unwrap().mode, Mode::None);
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
            let err = Policy::parse(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }

    #[test]
    fn a_wildcard_stands_for_exactly_one_leftmost_label() {
        let policy = Policy { mode: Mode::Enforce, mx: vec!["mail.example.test".into(), "*.mx.example.test".into()], max_age: 1 };
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

    #[test]
    fn the_policy_lives_at_a_well_known_https_url() {
        assert_eq!(policy_url("example.test."), "https://mta-sts.example.test/.well-known/mta-sts.txt");
    }
}
