//! The two SASL mechanisms SMTP clients use in practice: PLAIN (RFC 4616) and
//! LOGIN (draft-murchison-sasl-login). Both only encode the password in base64,
//! which is why they are safe only inside TLS.

use std::fmt;

use base64::{engine::general_purpose::STANDARD, Engine};
use serde::{Deserialize, Serialize};

use crate::vocab::{named, Named};

/// A password that never shows up in `Debug` output or logs by accident.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The cleartext, for the places that really need it (encoding, checking).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

named! {
    /// Mechanisms this crate speaks, by their SASL names.
    pub enum Mechanism ("SASL mechanism") {
        Plain = "PLAIN",
        /// Never standardised; it survives in draft-murchison-sasl-login.
        Login = "LOGIN",
    }
}

impl Mechanism {
    pub fn name(self) -> &'static str {
        self.id()
    }

    pub fn from_name(name: &str) -> Option<Mechanism> {
        Mechanism::from_id(name)
    }
}

/// The LOGIN mechanism's prompts, base64 of "Username:" and "Password:".
pub const LOGIN_USERNAME_PROMPT: &str = "VXNlcm5hbWU6";
pub const LOGIN_PASSWORD_PROMPT: &str = "UGFzc3dvcmQ6";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaslError {
    #[error("not valid base64")]
    Base64,
    #[error("PLAIN response is not authzid NUL authcid NUL passwd")]
    PlainFormat,
    #[error("not valid UTF-8")]
    Utf8,
}

pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes a response line; `=` is the empty response.
pub fn decode(b64: &str) -> Result<Vec<u8>, SaslError> {
    if b64 == "=" {
        return Ok(Vec::new());
    }
    STANDARD.decode(b64).map_err(|_| SaslError::Base64)
}

pub fn decode_text(b64: &str) -> Result<String, SaslError> {
    String::from_utf8(decode(b64)?).map_err(|_| SaslError::Utf8)
}

/// `message = [authzid] UTF8NUL authcid UTF8NUL passwd`, base64-encoded.
pub fn plain_response(user: &str, password: &Secret) -> String {
    encode(format!("\0{user}\0{}", password.expose()).as_bytes())
}

/// Splits a PLAIN response into (authcid, password); the authzid is ignored.
pub fn parse_plain(b64: &str) -> Result<(String, Secret), SaslError> {
    let raw = decode(b64)?;
    let mut parts = raw.split(|&b| b == 0);
    let (Some(_authz), Some(user), Some(pass), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(SaslError::PlainFormat);
    };
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| SaslError::Utf8);
    Ok((text(user)?, Secret(text(pass)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_round_trip_and_rfc_example() {
        let r = plain_response("tim", &Secret::new("tanstaaftanstaaf"));
        assert_eq!(r, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
        assert_eq!(parse_plain(&r).unwrap(), ("tim".to_owned(), Secret::new("tanstaaftanstaaf")));
        assert_eq!(parse_plain("dGlt"), Err(SaslError::PlainFormat));
        assert_eq!(parse_plain("!!"), Err(SaslError::Base64));
    }

    #[test]
    fn secret_is_redacted() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(***)");
        assert_eq!(decode_text(LOGIN_USERNAME_PROMPT).unwrap(), "Username:");
        assert_eq!(decode_text(LOGIN_PASSWORD_PROMPT).unwrap(), "Password:");
    }
}
