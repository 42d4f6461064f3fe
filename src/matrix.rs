//! The outcome matrix: every attack (with the vulnerable and hardened setting
//! where one decides the result) against every client policy. Each cell is a
//! real session, and its verdict is read from that session's trace.

use std::sync::Arc;

use serde::Serialize;

use crate::attack::Attack;
use crate::client::{ClientConfig, TlsPolicy};
use crate::codec::EndOfData;
use crate::outcome::{self, Finding};
use crate::pki::Pki;
use crate::scenario::Scenario;
use crate::server::AuthPolicy;

/// A client policy, with the port and role it belongs with.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Column {
    pub id: &'static str,
    pub title: &'static str,
}

pub const COLUMNS: [Column; 7] = [
    Column { id: "plain", title: "plain (587)" },
    Column { id: "opportunistic", title: "opportunistic, no cert check (587)" },
    Column { id: "required-starttls", title: "required STARTTLS (587)" },
    Column { id: "implicit-tls", title: "implicit TLS (465)" },
    Column { id: "mta-plain", title: "MTA without TLS (25)" },
    Column { id: "mta-opportunistic", title: "MTA opportunistic (25)" },
    Column { id: "mta-enforced", title: "MTA enforced, MTA-STS/DANE (25)" },
];

/// The scenario for a column, before any attack or setting.
pub fn column_scenario(column: &str) -> Option<Scenario> {
    let mut s = match column {
        "plain" | "opportunistic" | "required-starttls" => Scenario::submission(),
        "implicit-tls" => Scenario::submissions(),
        "mta-plain" | "mta-opportunistic" | "mta-enforced" => Scenario::relay(),
        _ => return None,
    };
    match column {
        "plain" | "mta-plain" => s.client.policy = TlsPolicy::Plain,
        "opportunistic" => {
            s.client.policy = TlsPolicy::Opportunistic;
            s.client.validate_certificate = false;
        }
        "mta-enforced" => {
            s.client.policy = TlsPolicy::RequireStartTls;
            s.client.validate_certificate = true;
        }
        _ => {}
    }
    Some(s)
}

/// An attack, and the setting on the victim's side that decides it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Row {
    pub id: &'static str,
    pub attack: Attack,
    /// What is special about the setting, or "" for the defaults.
    pub setting: &'static str,
}

const fn row(id: &'static str, attack: Attack, setting: &'static str) -> Row {
    Row { id, attack, setting }
}

pub const ROWS: [Row; 24] = [
    row("eavesdrop", Attack::Eavesdrop, ""),
    row("strip", Attack::Strip, ""),
    row("refuse-454", Attack::Refuse454, ""),
    row("refuse-502", Attack::Refuse502, ""),
    row("refuse-bogus", Attack::RefuseBogus, ""),
    row("hide-ehlo", Attack::HideEhlo, ""),
    row("cmd-inject/unpatched", Attack::CmdInject, "server keeps its buffer across STARTTLS"),
    row("cmd-inject/patched", Attack::CmdInject, "server discards it"),
    row("resp-inject/unpatched", Attack::RespInject, "client keeps its buffer across STARTTLS"),
    row("resp-inject/patched", Attack::RespInject, "client discards it"),
    row("state-carry/unpatched", Attack::StateCarry, "client reuses pre-TLS capabilities; server keeps pre-TLS state"),
    row("state-carry/patched", Attack::StateCarry, "both sides reset"),
    row("mitm-cert", Attack::MitmCert, ""),
    row("auth-cleartext/offered", Attack::AuthCleartext, "server offers AUTH before TLS"),
    row("auth-cleartext/hidden", Attack::AuthCleartext, "server hides AUTH until TLS"),
    row("smuggle-lf-dot-crlf/lenient", Attack::SmuggleLfDotCrlf, "receiver accepts \\n.\\r\\n"),
    row("smuggle-lf-dot-lf/lenient", Attack::SmuggleLfDotLf, "receiver accepts \\n.\\n"),
    row("smuggle-cr-dot-crlf/lenient", Attack::SmuggleCrDotCrlf, "receiver accepts \\r.\\r\\n"),
    row("smuggle-crlf-dot-lf/lenient", Attack::SmuggleCrlfDotLf, "receiver accepts \\r\\n.\\n"),
    row("smuggle/strict", Attack::SmuggleLfDotCrlf, "receiver accepts only \\r\\n.\\r\\n"),
    row("port-block", Attack::PortBlock, ""),
    row("port-block/submission", Attack::PortBlock, "client submits on 587/465 instead"),
    row("wrong-mode-implicit-to-587", Attack::WrongModeImplicitTo587, ""),
    row("wrong-mode-starttls-to-465", Attack::WrongModeStarttlsTo465, ""),
];

/// The scenario behind one cell, or `None` where the pair makes no sense.
pub fn cell_scenario(row_id: &str, column: &str) -> Option<Scenario> {
    let row = ROWS.iter().find(|r| r.id == row_id)?;
    let mut s = column_scenario(column)?;
    let submission = !column.starts_with("mta");
    match row.id {
        "wrong-mode-implicit-to-587" if column != "implicit-tls" => return None,
        "wrong-mode-starttls-to-465" if column != "required-starttls" => return None,
        "port-block" | "port-block/submission" if submission => return None,
        "port-block/submission" => {
            // The blocked MTA's message goes through the provider's submission port instead.
            let credentials = Scenario::submission().client.credentials;
            s = Scenario { client: ClientConfig { credentials, ..s.client }, ..Scenario::submission() };
        }
        "cmd-inject/unpatched" => s.server_keeps_buffer_across_tls = true,
        "resp-inject/unpatched" => s.client_keeps_buffer_across_tls = true,
        "state-carry/unpatched" => {
            s.client.reuse_pre_tls_capabilities = true;
            s.server.reset_on_tls = false;
        }
        "auth-cleartext/offered" if submission => s.server.auth = AuthPolicy::Always,
        _ => {}
    }
    if let Some(seq) = row.attack.smuggle_sequence() {
        s.server.end_of_data = if row.id.ends_with("/strict") { EndOfData::STRICT } else { lenient_for(seq) };
    }
    Some(s.with_attack(row.attack))
}

/// A receiver that accepts exactly this bare-line-ending variant.
pub fn lenient_for(seq: &[u8]) -> EndOfData {
    let mut e = EndOfData::STRICT;
    match seq {
        b"\n.\r\n" => e.lf_dot_crlf = true,
        b"\n.\n" => e.lf_dot_lf = true,
        b"\r.\r\n" => e.cr_dot_crlf = true,
        _ => e.crlf_dot_lf = true,
    }
    e
}

#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub column: &'static str,
    /// The most serious outcome's label; empty where the pair does not apply.
    pub label: &'static str,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MatrixRow {
    #[serde(flatten)]
    pub row: Row,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    pub columns: Vec<Column>,
    pub rows: Vec<MatrixRow>,
}

/// Runs every cell.
pub fn run(pki: &Arc<Pki>) -> Matrix {
    let rows = ROWS
        .iter()
        .map(|row| MatrixRow {
            row: *row,
            cells: COLUMNS
                .iter()
                .map(|c| match cell_scenario(row.id, c.id) {
                    Some(s) => {
                        let findings = outcome::analyse(&s, &s.run(pki));
                        let label = findings.first().map_or("?", |f| f.outcome.label());
                        Cell { column: c.id, label, findings }
                    }
                    None => Cell { column: c.id, label: "", findings: vec![] },
                })
                .collect(),
        })
        .collect();
    Matrix { columns: COLUMNS.to_vec(), rows }
}

impl Matrix {
    /// A fixed-width text table.
    pub fn to_text(&self) -> String {
        let w = self.rows.iter().map(|r| r.row.id.len()).max().unwrap_or(10) + 2;
        let mut out = format!("{:w$}", "attack / setting");
        for c in &self.columns {
            out.push_str(&format!("{:>19}", c.id));
        }
        out.push('\n');
        for r in &self.rows {
            out.push_str(&format!("{:w$}", r.row.id));
            for c in &r.cells {
                out.push_str(&format!("{:>19}", if c.label.is_empty() { "-" } else { c.label }));
            }
            out.push('\n');
        }
        out.push_str(
            "\nPASSWORD credentials readable · SPOOFED extra message accepted · INJECTED command run · FORGED reply accepted inside TLS\n",
        );
        out.push_str("TAMPERED tampered state used · READ message readable · cleartext delivered unprotected · aborted gave up safely · secure delivered inside TLS\n");
        out
    }
}
