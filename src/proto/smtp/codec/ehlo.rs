//! EHLO capabilities (RFC 5321 §4.1.1.1): the keywords a server lists in its 250 reply.

use serde::{Deserialize, Serialize};

use super::reply::Reply;

/// One service extension line of an EHLO reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "keyword", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Extension {
    Pipelining,
    #[serde(rename = "STARTTLS")]
    StartTls,
    Auth {
        mechanisms: Vec<String>,
    },
    Size {
        limit: Option<u64>,
    },
    #[serde(rename = "8BITMIME")]
    EightBitMime,
    EnhancedStatusCodes,
    #[serde(rename = "SMTPUTF8")]
    SmtpUtf8,
    Chunking,
    Other {
        name: String,
        params: Vec<String>,
    },
}

impl Extension {
    fn parse(line: &str) -> Extension {
        let mut words = line.split_ascii_whitespace();
        let keyword = words.next().unwrap_or("").to_ascii_uppercase();
        let params: Vec<String> = words.map(str::to_owned).collect();
        match keyword.as_str() {
            "PIPELINING" => Extension::Pipelining,
            "STARTTLS" => Extension::StartTls,
            "AUTH" => Extension::Auth { mechanisms: params.iter().map(|m| m.to_ascii_uppercase()).collect() },
            "SIZE" => Extension::Size { limit: params.first().and_then(|p| p.parse().ok()) },
            "8BITMIME" => Extension::EightBitMime,
            "ENHANCEDSTATUSCODES" => Extension::EnhancedStatusCodes,
            "SMTPUTF8" => Extension::SmtpUtf8,
            "CHUNKING" => Extension::Chunking,
            _ => Extension::Other { name: keyword, params },
        }
    }

    fn to_line(&self) -> String {
        match self {
            Extension::Pipelining => "PIPELINING".into(),
            Extension::StartTls => "STARTTLS".into(),
            Extension::Auth { mechanisms } => format!("AUTH {}", mechanisms.join(" ")),
            Extension::Size { limit: Some(n) } => format!("SIZE {n}"),
            Extension::Size { limit: None } => "SIZE".into(),
            Extension::EightBitMime => "8BITMIME".into(),
            Extension::EnhancedStatusCodes => "ENHANCEDSTATUSCODES".into(),
            Extension::SmtpUtf8 => "SMTPUTF8".into(),
            Extension::Chunking => "CHUNKING".into(),
            Extension::Other { name, params } if params.is_empty() => name.clone(),
            Extension::Other { name, params } => format!("{name} {}", params.join(" ")),
        }
    }
}

/// What a server said about itself in reply to EHLO.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Capabilities {
    /// The first line: the server's name and any greeting text.
    pub greeting: String,
    pub extensions: Vec<Extension>,
}

impl Capabilities {
    /// Reads a positive EHLO reply; `None` for any other reply.
    pub fn from_reply(reply: &Reply) -> Option<Capabilities> {
        if reply.code != 250 {
            return None;
        }
        let mut lines = reply.lines.iter();
        let greeting = lines.next().cloned().unwrap_or_default();
        Some(Capabilities { greeting, extensions: lines.map(|l| Extension::parse(l)).collect() })
    }

    /// The 250 reply that advertises these capabilities.
    pub fn to_reply(&self) -> Reply {
        let mut lines = vec![self.greeting.clone()];
        lines.extend(self.extensions.iter().map(Extension::to_line));
        Reply::multi(250, None, lines)
    }

    pub fn has(&self, ext: &Extension) -> bool {
        self.extensions.contains(ext)
    }

    pub fn starttls(&self) -> bool {
        self.has(&Extension::StartTls)
    }

    pub fn pipelining(&self) -> bool {
        self.has(&Extension::Pipelining)
    }

    /// Advertised SASL mechanisms; empty when AUTH is not offered.
    pub fn auth_mechanisms(&self) -> &[String] {
        self.extensions
            .iter()
            .find_map(|e| match e {
                Extension::Auth { mechanisms } => Some(mechanisms.as_slice()),
                _ => None,
            })
            .unwrap_or(&[])
    }

    pub fn size_limit(&self) -> Option<u64> {
        self.extensions.iter().find_map(|e| match e {
            Extension::Size { limit } => *limit,
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_postfix_like_reply_and_writes_it_back() {
        let reply = Reply::multi(
            250,
            None,
            ["mx.example.test", "PIPELINING", "SIZE 10240000", "STARTTLS", "AUTH PLAIN LOGIN", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN"]
                .map(String::from)
                .to_vec(),
        );
        let caps = Capabilities::from_reply(&reply).unwrap();
        assert!(caps.starttls() && caps.pipelining());
        assert_eq!(caps.auth_mechanisms(), ["PLAIN", "LOGIN"]);
        assert_eq!(caps.size_limit(), Some(10_240_000));
        assert_eq!(caps.extensions.last(), Some(&Extension::Other { name: "DSN".into(), params: vec![] }));
        assert_eq!(caps.to_reply(), reply);
    }

    #[test]
    fn non_250_is_not_capabilities() {
        assert_eq!(Capabilities::from_reply(&Reply::new(502, None, "no")), None);
    }
}
