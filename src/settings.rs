//! The knobs a learner turns, as one flat set of named values. The CLI's
//! `run` flags, the lab's scenario picker and its deep links all speak this
//! shape (same kebab-case names), so a link in the browser and a command line
//! describe the same session.

use serde::{Deserialize, Serialize};

use crate::attack::Attack;
use crate::client::TlsPolicy;
use crate::codec::{EndOfData, Mechanism};
use crate::pki::IdentityKind;
use crate::scenario::Scenario;
use crate::server::{AuthPolicy, Role, ServerConfig};

/// How the server does TLS. (Also the CLI's `--server-tls` values.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum ServerTls {
    /// Offer STARTTLS.
    Starttls,
    /// TLS from the first byte.
    Implicit,
    /// No TLS at all.
    None,
}

/// Changes to a starting scenario: a preset, a matrix cell, or a port's usual setup.
/// Every field left out keeps the starting scenario's value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default, deny_unknown_fields)]
pub struct Settings {
    /// Start from a named lesson.
    pub preset: Option<String>,
    /// Start from a cell of the attack matrix, `row@column`.
    pub cell: Option<String>,
    /// Port the client connects to; without a preset or cell it picks the usual setup.
    pub port: Option<u16>,
    pub role: Option<Role>,
    pub policy: Option<TlsPolicy>,
    pub server_tls: Option<ServerTls>,
    pub auth: Option<AuthPolicy>,
    pub require_tls: bool,
    /// Whether the client enforces certificate validation.
    pub validate: Option<bool>,
    pub cert: Option<IdentityKind>,
    /// An attack id from the catalogue.
    pub attack: Option<String>,
    /// Server bug CVE-2011-0411: keep bytes that followed STARTTLS.
    pub server_keeps_buffer: bool,
    /// Server bug: keep HELO and AUTH state across STARTTLS.
    pub server_keeps_state: bool,
    /// End-of-data variants the server accepts besides CRLF.CRLF.
    pub lenient_end_of_data: Vec<String>,
    /// Client bug: keep bytes that followed the 220 to STARTTLS.
    pub client_keeps_buffer: bool,
    /// Client bug: skip the second EHLO after STARTTLS.
    pub client_reuses_capabilities: bool,
    pub no_auth: bool,
    pub mechanism: Option<Mechanism>,
    pub no_pipelining: bool,
}

impl Settings {
    /// The scenario these settings describe, or what is wrong with them.
    pub fn scenario(&self) -> Result<Scenario, String> {
        let mut s = match (&self.preset, &self.cell) {
            (Some(id), _) => crate::preset::find(id).ok_or_else(|| format!("no preset {id:?}"))?.scenario,
            (None, Some(cell)) => {
                let (row, column) = cell.split_once('@').ok_or_else(|| format!("a cell is row@column, got {cell:?}"))?;
                crate::matrix::cell_scenario(row, column).ok_or_else(|| format!("no matrix cell {cell:?}"))?
            }
            (None, None) => Scenario::for_port(self.port.unwrap_or(587)),
        };
        if let Some(port) = self.port {
            s.port = port;
        }
        // The role replaces the whole server setup, so it comes before the switches that adjust it.
        if let Some(role) = self.role {
            s.server = ServerConfig::for_role(role);
            s.server_implicit_tls = role == Role::Submissions;
        }
        if let Some(tls) = self.server_tls {
            s.server.starttls = tls == ServerTls::Starttls;
            s.server_implicit_tls = tls == ServerTls::Implicit;
        }
        if let Some(id) = &self.attack {
            s = s.with_attack(Attack::from_id(id).ok_or_else(|| format!("no attack {id:?}"))?);
        }
        s.server_keeps_buffer_across_tls |= self.server_keeps_buffer;
        s.server.reset_on_tls &= !self.server_keeps_state;
        s.client_keeps_buffer_across_tls |= self.client_keeps_buffer;
        s.client.reuse_pre_tls_capabilities |= self.client_reuses_capabilities;
        if !self.lenient_end_of_data.is_empty() {
            s.server.end_of_data = end_of_data(&self.lenient_end_of_data)?;
        }
        if let Some(auth) = self.auth {
            s.server.auth = auth;
        }
        s.server.require_tls |= self.require_tls;
        if let Some(policy) = self.policy {
            s.client.policy = policy;
        }
        if let Some(validate) = self.validate {
            s.client.validate_certificate = validate;
        }
        if let Some(cert) = self.cert {
            s.server_identity = cert;
        }
        if self.no_auth {
            s.client.credentials = None;
        }
        if let (Some(c), Some(m)) = (&mut s.client.credentials, self.mechanism) {
            c.mechanism = m;
        }
        s.client.pipelining &= !self.no_pipelining;
        Ok(s)
    }
}

/// The end-of-data rule for a list of accepted bare-CR/LF variants (or `all`).
pub fn end_of_data(variants: &[String]) -> Result<EndOfData, String> {
    let mut e = EndOfData::STRICT;
    for v in variants {
        match v.as_str() {
            "lf-dot-crlf" => e.lf_dot_crlf = true,
            "lf-dot-lf" => e.lf_dot_lf = true,
            "cr-dot-crlf" => e.cr_dot_crlf = true,
            "crlf-dot-lf" => e.crlf_dot_lf = true,
            "all" => e = EndOfData::LENIENT,
            other => return Err(format!("unknown end-of-data variant {other:?}")),
        }
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_settings_are_the_587_submission() {
        assert_eq!(Settings::default().scenario().unwrap(), Scenario::submission());
    }

    #[test]
    fn a_cell_is_the_matrix_scenario() {
        let s = Settings { cell: Some("strip@opportunistic".into()), ..Settings::default() };
        assert_eq!(s.scenario().unwrap(), crate::matrix::cell_scenario("strip", "opportunistic").unwrap());
    }

    #[test]
    fn deep_link_names_parse() {
        let json = r#"{"port":25,"policy":"require-starttls","attack":"strip","server-keeps-buffer":true,"cert":"self-signed"}"#;
        let s: Settings = serde_json::from_str(json).unwrap();
        let scenario = s.scenario().unwrap();
        assert_eq!((scenario.port, scenario.client.policy), (25, TlsPolicy::RequireStartTls));
        assert!(scenario.server_keeps_buffer_across_tls);
        assert_eq!(scenario.attack, Some(Attack::Strip));
        assert_eq!(scenario.server_identity, IdentityKind::SelfSigned);
    }

    #[test]
    fn bad_values_are_errors_not_panics() {
        for json in [r#"{"attack":"nope"}"#, r#"{"cell":"strip"}"#, r#"{"preset":"nope"}"#, r#"{"lenient-end-of-data":["x"]}"#] {
            let s: Settings = serde_json::from_str(json).unwrap();
            assert!(s.scenario().is_err(), "{json}");
        }
        assert!(serde_json::from_str::<Settings>(r#"{"colour":"red"}"#).is_err());
    }
}
