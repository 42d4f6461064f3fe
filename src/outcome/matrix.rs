//! The outcome matrix: every attack (with the vulnerable and hardened setting
//! where one decides the result) against every client policy. Each cell is a
//! real session, and its verdict is read from that session's trace.

use std::sync::Arc;

use serde::Serialize;

use crate::outcome::{self, Finding, Outcome};
use crate::proto::policy::mta_sts::StsMode;
use crate::proto::policy::sender::{DomainSetup, SenderPolicy, SenderSetup};
use crate::proto::smtp::client::{ClientConfig, TlsPolicy};
use crate::proto::smtp::codec::{EndOfData, EodVariant};
use crate::proto::smtp::server::AuthPolicy;
use crate::sim::attack::Attack;
use crate::sim::relay::Outbound;
use crate::sim::scenario::Scenario;
use crate::sim::world::pki::Pki;
use crate::vocab::{choice, Choice, MenuItem, Named, UnknownName};

choice! {
    /// A column: a client policy, with the port and role it belongs with.
    pub enum Column ("matrix column") {
        Plain = "plain": "plain (587)",
        Opportunistic = "opportunistic": "opportunistic, no cert check (587)",
        RequireStarttls = "require-starttls": "requires STARTTLS (587)",
        ImplicitTls = "implicit-tls": "implicit TLS (465)",
        MtaPlain = "mta-plain": "MTA without TLS (25)",
        MtaOpportunistic = "mta-opportunistic": "MTA opportunistic (25)",
        DnsOpportunistic = "dns-opportunistic": "MTA opportunistic, MX from an unsigned zone (25)",
        StsTesting = "sts-testing": "MTA-STS, policy in testing mode (25)",
        StsEnforce = "sts-enforce": "MTA-STS enforce, first contact: no cached policy (25)",
        StsCached = "sts-cached": "MTA-STS enforce, policy cached on an earlier delivery (25)",
        Dane = "dane": "DANE, TLSA 3 1 1 in a DNSSEC-signed zone (25)",
        DaneUnsigned = "dane-unsigned": "DANE, TLSA 3 1 1 in an unsigned zone (25)",
        RequireTls = "requiretls": "the message carries REQUIRETLS; signed MX, no MTA-STS or TLSA (25)",
    }
}

impl Column {
    /// A mail client submitting (587/465), as against an MTA relaying (25).
    pub fn is_submission(self) -> bool {
        !matches!(self, Column::MtaPlain | Column::MtaOpportunistic) && self.sender().is_none()
    }

    /// For a sender-policy column: what the sending MTA applies and what the
    /// recipient's domain publishes. MTA-STS columns have an unsigned zone
    /// (MTA-STS is for domains without DNSSEC, RFC 8461 §1) and DANE columns
    /// no MTA-STS policy, so each column shows one mechanism alone.
    pub fn sender(self) -> Option<SenderSetup> {
        let sts = |mode: StsMode, cached: bool| SenderSetup {
            policy: SenderPolicy::MtaSts,
            sts_cached: cached,
            domain: DomainSetup { sts: Some(mode), tlsa: false, tlsa_trust_anchor: false, dnssec: false, tlsrpt: true },
        };
        let dane = |dnssec: bool| SenderSetup {
            policy: SenderPolicy::Dane,
            sts_cached: false,
            domain: DomainSetup { sts: None, tlsa: true, tlsa_trust_anchor: false, dnssec, tlsrpt: true },
        };
        Some(match self {
            Column::DnsOpportunistic => SenderSetup {
                policy: SenderPolicy::Opportunistic,
                sts_cached: false,
                domain: DomainSetup { sts: None, tlsa: false, tlsa_trust_anchor: false, dnssec: false, tlsrpt: false },
            },
            Column::StsTesting => sts(StsMode::Testing, false),
            Column::StsEnforce => sts(StsMode::Enforce, false),
            Column::StsCached => sts(StsMode::Enforce, true),
            Column::Dane => dane(true),
            Column::DaneUnsigned => dane(false),
            Column::RequireTls => SenderSetup {
                policy: SenderPolicy::Opportunistic,
                sts_cached: false,
                domain: DomainSetup { sts: None, tlsa: false, tlsa_trust_anchor: false, dnssec: true, tlsrpt: false },
            },
            _ => return None,
        })
    }

    /// The scenario for a column, before any attack or setting.
    pub fn scenario(self) -> Scenario {
        let mut s = match self {
            Column::ImplicitTls => Scenario::submissions(),
            c if c.is_submission() => Scenario::submission(),
            _ => Scenario::relay(),
        };
        match self {
            Column::Plain | Column::MtaPlain => s.client.policy = TlsPolicy::Plain,
            Column::Opportunistic => {
                s.client.policy = TlsPolicy::Opportunistic;
                s.client.validate_certificate = false;
            }
            Column::RequireTls => {
                s.client.require_tls = true;
                s.server.requiretls = true;
            }
            _ => {}
        }
        s.sender = self.sender().map(Box::new);
        s
    }
}

choice! {
    /// A row: an attack, and the setting on the victim's side that decides it.
    pub enum Row ("matrix row") {
        Eavesdrop = "eavesdrop": "passive sniffing",
        Strip = "strip": "STARTTLS stripping",
        Refuse454 = "refuse-454": "STARTTLS refused with 454",
        Refuse502 = "refuse-502": "STARTTLS refused with 502",
        RefuseBogus = "refuse-bogus": "STARTTLS answered with a bogus code",
        HideEhlo = "hide-ehlo": "EHLO refused",
        CmdInjectUnpatched = "cmd-inject/unpatched": "command injection, server keeps its buffer across STARTTLS",
        CmdInjectPatched = "cmd-inject/patched": "command injection, server discards it",
        RespInjectUnpatched = "resp-inject/unpatched": "response injection, client keeps its buffer across STARTTLS",
        RespInjectPatched = "resp-inject/patched": "response injection, client discards it",
        StateCarryUnpatched = "state-carry/unpatched": "state carried over the upgrade by both sides",
        StateCarryPatched = "state-carry/patched": "state reset by both sides",
        MitmCert = "mitm-cert": "certificate substitution",
        MitmCertTrusted = "mitm-cert-trusted": "certificate substitution, misissued certificate from a trusted CA",
        MxSpoof = "mx-spoof": "forged MX answer",
        TlsaStrip = "tlsa-strip": "TLSA answer removed, then STARTTLS stripped",
        StsStrip = "sts-strip": "_mta-sts record removed, then STARTTLS stripped",
        StsBlock = "sts-block": "policy fetch blocked, then STARTTLS stripped",
        AuthCleartextOffered = "auth-cleartext/offered": "server offers AUTH before TLS",
        AuthCleartextHidden = "auth-cleartext/hidden": "server hides AUTH until TLS",
        SmuggleLfDotCrlfPassLenient = "smuggle-lf-dot-crlf/pass/lenient": "smuggling \\n.\\r\\n: relay passes it, MX accepts it",
        SmuggleLfDotCrlfPassStrict = "smuggle-lf-dot-crlf/pass/strict": "smuggling \\n.\\r\\n: relay passes it, MX strict",
        SmuggleLfDotCrlfNormaliseLenient = "smuggle-lf-dot-crlf/normalise/lenient": "smuggling \\n.\\r\\n: relay normalises, MX accepts it",
        SmuggleLfDotCrlfNormaliseStrict = "smuggle-lf-dot-crlf/normalise/strict": "smuggling \\n.\\r\\n: relay normalises, MX strict",
        SmuggleLfDotCrlfRejectLenient = "smuggle-lf-dot-crlf/reject/lenient": "smuggling \\n.\\r\\n: relay rejects bare LF, MX accepts it",
        SmuggleLfDotCrlfRejectStrict = "smuggle-lf-dot-crlf/reject/strict": "smuggling \\n.\\r\\n: relay rejects bare LF, MX strict",
        SmuggleLfDotLfPassLenient = "smuggle-lf-dot-lf/pass/lenient": "smuggling \\n.\\n: relay passes it, MX accepts it",
        SmuggleLfDotLfPassStrict = "smuggle-lf-dot-lf/pass/strict": "smuggling \\n.\\n: relay passes it, MX strict",
        SmuggleLfDotLfNormaliseLenient = "smuggle-lf-dot-lf/normalise/lenient": "smuggling \\n.\\n: relay normalises, MX accepts it",
        SmuggleLfDotLfNormaliseStrict = "smuggle-lf-dot-lf/normalise/strict": "smuggling \\n.\\n: relay normalises, MX strict",
        SmuggleLfDotLfRejectLenient = "smuggle-lf-dot-lf/reject/lenient": "smuggling \\n.\\n: relay rejects bare LF, MX accepts it",
        SmuggleLfDotLfRejectStrict = "smuggle-lf-dot-lf/reject/strict": "smuggling \\n.\\n: relay rejects bare LF, MX strict",
        SmuggleCrDotCrlfPassLenient = "smuggle-cr-dot-crlf/pass/lenient": "smuggling \\r.\\r\\n: relay passes it, MX accepts it",
        SmuggleCrDotCrlfPassStrict = "smuggle-cr-dot-crlf/pass/strict": "smuggling \\r.\\r\\n: relay passes it, MX strict",
        SmuggleCrDotCrlfNormaliseLenient = "smuggle-cr-dot-crlf/normalise/lenient": "smuggling \\r.\\r\\n: relay normalises, MX accepts it",
        SmuggleCrDotCrlfNormaliseStrict = "smuggle-cr-dot-crlf/normalise/strict": "smuggling \\r.\\r\\n: relay normalises, MX strict",
        SmuggleCrDotCrlfRejectLenient = "smuggle-cr-dot-crlf/reject/lenient": "smuggling \\r.\\r\\n: relay rejects bare LF, MX accepts it",
        SmuggleCrDotCrlfRejectStrict = "smuggle-cr-dot-crlf/reject/strict": "smuggling \\r.\\r\\n: relay rejects bare LF, MX strict",
        SmuggleCrlfDotLfPassLenient = "smuggle-crlf-dot-lf/pass/lenient": "smuggling \\r\\n.\\n: relay passes it, MX accepts it",
        SmuggleCrlfDotLfPassStrict = "smuggle-crlf-dot-lf/pass/strict": "smuggling \\r\\n.\\n: relay passes it, MX strict",
        SmuggleCrlfDotLfNormaliseLenient = "smuggle-crlf-dot-lf/normalise/lenient": "smuggling \\r\\n.\\n: relay normalises, MX accepts it",
        SmuggleCrlfDotLfNormaliseStrict = "smuggle-crlf-dot-lf/normalise/strict": "smuggling \\r\\n.\\n: relay normalises, MX strict",
        SmuggleCrlfDotLfRejectLenient = "smuggle-crlf-dot-lf/reject/lenient": "smuggling \\r\\n.\\n: relay rejects bare LF, MX accepts it",
        SmuggleCrlfDotLfRejectStrict = "smuggle-crlf-dot-lf/reject/strict": "smuggling \\r\\n.\\n: relay rejects bare LF, MX strict",
        PortBlock = "port-block": "the ISP blocks port 25",
        PortBlockSubmission = "port-block/submission": "the ISP blocks port 25, the client submits on 587 instead",
        WrongModeImplicitTo587 = "wrong-mode-implicit-to-587": "implicit-TLS client pointed at 587",
        WrongModeStarttlsTo465 = "wrong-mode-starttls-to-465": "STARTTLS client pointed at 465",
    }
}

impl Row {
    /// For a smuggling row: the relay's outbound behaviour and whether the MX is lenient.
    fn smuggling(self) -> Option<(Outbound, bool)> {
        let id = self.id();
        let rest = id.strip_prefix("smuggle-")?;
        let mut parts = rest.split('/').skip(1);
        let outbound = parts.next()?.parse().ok()?;
        Some((outbound, parts.next()? == "lenient"))
    }

    pub fn attack(self) -> Attack {
        match self {
            Row::Eavesdrop => Attack::Eavesdrop,
            Row::Strip => Attack::Strip,
            Row::Refuse454 => Attack::Refuse454,
            Row::Refuse502 => Attack::Refuse502,
            Row::RefuseBogus => Attack::RefuseBogus,
            Row::HideEhlo => Attack::HideEhlo,
            Row::CmdInjectUnpatched | Row::CmdInjectPatched => Attack::CmdInject,
            Row::RespInjectUnpatched | Row::RespInjectPatched => Attack::RespInject,
            Row::StateCarryUnpatched | Row::StateCarryPatched => Attack::StateCarry,
            Row::MitmCert => Attack::MitmCert,
            Row::MitmCertTrusted => Attack::MitmCertTrusted,
            Row::MxSpoof => Attack::MxSpoof,
            Row::TlsaStrip => Attack::TlsaStrip,
            Row::StsStrip => Attack::StsStrip,
            Row::StsBlock => Attack::StsBlock,
            Row::AuthCleartextOffered | Row::AuthCleartextHidden => Attack::AuthCleartext,
            Row::SmuggleLfDotCrlfPassLenient
            | Row::SmuggleLfDotCrlfPassStrict
            | Row::SmuggleLfDotCrlfNormaliseLenient
            | Row::SmuggleLfDotCrlfNormaliseStrict
            | Row::SmuggleLfDotCrlfRejectLenient
            | Row::SmuggleLfDotCrlfRejectStrict => Attack::SmuggleLfDotCrlf,
            Row::SmuggleLfDotLfPassLenient
            | Row::SmuggleLfDotLfPassStrict
            | Row::SmuggleLfDotLfNormaliseLenient
            | Row::SmuggleLfDotLfNormaliseStrict
            | Row::SmuggleLfDotLfRejectLenient
            | Row::SmuggleLfDotLfRejectStrict => Attack::SmuggleLfDotLf,
            Row::SmuggleCrDotCrlfPassLenient
            | Row::SmuggleCrDotCrlfPassStrict
            | Row::SmuggleCrDotCrlfNormaliseLenient
            | Row::SmuggleCrDotCrlfNormaliseStrict
            | Row::SmuggleCrDotCrlfRejectLenient
            | Row::SmuggleCrDotCrlfRejectStrict => Attack::SmuggleCrDotCrlf,
            Row::SmuggleCrlfDotLfPassLenient
            | Row::SmuggleCrlfDotLfPassStrict
            | Row::SmuggleCrlfDotLfNormaliseLenient
            | Row::SmuggleCrlfDotLfNormaliseStrict
            | Row::SmuggleCrlfDotLfRejectLenient
            | Row::SmuggleCrlfDotLfRejectStrict => Attack::SmuggleCrlfDotLf,
            Row::PortBlock | Row::PortBlockSubmission => Attack::PortBlock,
            Row::WrongModeImplicitTo587 => Attack::WrongModeImplicitTo587,
            Row::WrongModeStarttlsTo465 => Attack::WrongModeStarttlsTo465,
        }
    }
}

/// One cell of the matrix, written `row@column` in links and on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CellId {
    pub row: Row,
    pub column: Column,
}

impl CellId {
    pub const fn new(row: Row, column: Column) -> CellId {
        CellId { row, column }
    }

    /// Every cell that applies, row by row.
    pub fn all() -> impl Iterator<Item = CellId> {
        Row::ALL.iter().flat_map(|&row| Column::ALL.iter().map(move |&column| CellId { row, column })).filter(|c| c.scenario().is_some())
    }

    /// The scenario behind the cell, or `None` where the pair makes no sense.
    pub fn scenario(self) -> Option<Scenario> {
        let (row, column) = (self.row, self.column);
        let mut s = column.scenario();
        // The sender-policy columns are about hop 2's attacks; the DNS and policy attacks need a sender that looks things up.
        let senders_row = row.attack().on_the_senders_path() || row == Row::MitmCertTrusted;
        let shared = matches!(row, Row::Strip | Row::Refuse454 | Row::MitmCert);
        match column.sender() {
            // Mallory's TLS endpoint relays the MX's cleartext EHLO reply, which offers no REQUIRETLS:
            // against a misissued certificate that, not REQUIRETLS, would decide the cell.
            Some(_) if column == Column::RequireTls && !matches!(row, Row::Strip | Row::Refuse454 | Row::MitmCert | Row::MxSpoof) => {
                return None
            }
            Some(_) if !(senders_row || shared) => return None,
            None if senders_row => return None,
            _ => {}
        }
        match row {
            Row::WrongModeImplicitTo587 if column != Column::ImplicitTls => return None,
            Row::WrongModeStarttlsTo465 if column != Column::RequireStarttls => return None,
            Row::PortBlock | Row::PortBlockSubmission if column.is_submission() => return None,
            Row::PortBlockSubmission => {
                // The blocked MTA's message goes through the provider's submission port instead.
                let credentials = Scenario::submission().client.credentials;
                s = Scenario { client: ClientConfig { credentials, ..s.client }, ..Scenario::submission() };
            }
            Row::CmdInjectUnpatched => s.server_keeps_buffer_across_tls = true,
            Row::RespInjectUnpatched => s.client_keeps_buffer_across_tls = true,
            Row::StateCarryUnpatched => {
                s.client.reuse_pre_tls_capabilities = true;
                s.server.reset_on_tls = false;
            }
            Row::AuthCleartextOffered if column.is_submission() => s.server.auth = AuthPolicy::Always,
            _ => {}
        }
        let attack = row.attack();
        if let Some((outbound, lenient)) = row.smuggling() {
            // Two hops: Mallory submits to her provider, which relays to the MX under this column's policy.
            if column != Column::MtaOpportunistic {
                return None;
            }
            let mut j = Scenario::journey(587);
            if let Some(relay) = j.relay.as_mut() {
                relay.outbound = outbound;
                if lenient {
                    relay.next.server.end_of_data = attack.smuggle_sequence().map_or(EndOfData::STRICT, lenient_for);
                }
            }
            s = j;
        }
        Some(s.with_attack(attack))
    }
}

impl std::fmt::Display for CellId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.row, self.column)
    }
}

/// Why a text names no cell of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CellError {
    #[error("a cell is ROW@COLUMN, got {0:?}")]
    NotACell(String),
    #[error(transparent)]
    Name(#[from] UnknownName),
    #[error("the matrix has no cell {0}: that attack does not apply to that column")]
    DoesNotApply(CellId),
}

impl std::str::FromStr for CellId {
    type Err = CellError;
    fn from_str(text: &str) -> Result<CellId, CellError> {
        let (row, column) = text.split_once('@').ok_or_else(|| CellError::NotACell(text.to_owned()))?;
        let cell = CellId { row: row.parse()?, column: column.parse()? };
        match cell.scenario() {
            Some(_) => Ok(cell),
            None => Err(CellError::DoesNotApply(cell)),
        }
    }
}

impl Serialize for CellId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A receiver that accepts exactly this bare-line-ending sequence.
fn lenient_for(seq: &[u8]) -> EndOfData {
    let variant: Vec<EodVariant> = EodVariant::SEQUENCES.into_iter().filter(|v| v.bytes() == Some(seq)).collect();
    EndOfData::accepting(&variant)
}

/// How a cell reads at a glance: the attacker won, the session was secure, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tone {
    /// The attacker gained something ([`crate::outcome::Outcome::is_compromise`]).
    Compromised,
    /// Delivered with everything inside TLS.
    Secure,
    /// Aborted safely, or delivered in cleartext with nobody there to read it.
    Neutral,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub column: Column,
    /// The most serious outcome's label; empty where the pair does not apply.
    pub label: &'static str,
    /// The same verdict as a colour: `None` where the pair does not apply.
    pub tone: Option<Tone>,
    pub findings: Vec<Finding>,
    /// The lab's link to this cell's session, where a driver fills it in.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub link: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MatrixRow {
    pub id: Row,
    pub title: &'static str,
    pub attack: Attack,
    /// The rows' part of the table: attacks on the wire, or SMTP smuggling.
    pub group: RowGroup,
    pub cells: Vec<Cell>,
}

/// A part of the matrix's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RowGroup {
    /// An attacker on the wire (or on the sender's lookups) of one connection.
    Wire,
    /// Two-hop journeys with no one on the wire: each row a sequence, a relay behaviour and an MX.
    Smuggling,
}

impl Row {
    /// The part of the table the row is in.
    pub fn group(self) -> RowGroup {
        match self.attack() {
            Attack::SmuggleLfDotCrlf | Attack::SmuggleLfDotLf | Attack::SmuggleCrDotCrlf => RowGroup::Smuggling,
            _ => RowGroup::Wire,
        }
    }
}

/// One entry of the matrix's legend: what a cell's colour and label mean.
#[derive(Debug, Clone, Serialize)]
pub struct LegendEntry {
    /// The cells it explains (none for a cell that does not apply).
    pub tone: Option<Tone>,
    /// The labels such cells carry.
    pub labels: &'static str,
    pub text: &'static str,
}

/// The legend: every tone and label a cell can carry, in words.
pub fn legend() -> Vec<LegendEntry> {
    vec![
        LegendEntry {
            tone: Some(Tone::Compromised),
            labels: "PASSWORD, READ, INJECTED, FORGED, TAMPERED, SPOOFED, SMUGGLED, MISROUTED, ALTERED",
            text: "the attacker gained what the label names: the password, the message's text, a command or reply of her own accepted, state she wrote used after TLS began, a forged or smuggled message accepted, the message delivered to her, or changed on its way",
        },
        LegendEntry { tone: Some(Tone::Secure), labels: "secure", text: "delivered, with everything sensitive inside TLS" },
        LegendEntry {
            tone: Some(Tone::Neutral),
            labels: "aborted",
            text: "the session ended before anything sensitive crossed (the client gave up, or never got through): nothing leaked, and the message was not delivered either",
        },
        LegendEntry { tone: Some(Tone::Neutral), labels: "cleartext", text: "delivered readable on the wire: this row's attacker did not read it, but anyone else on the path could have" },
        LegendEntry { tone: None, labels: "–", text: "does not apply: the attack needs something this client or path does not have" },
    ]
}

#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    pub columns: Vec<MenuItem>,
    pub rows: Vec<MatrixRow>,
    pub legend: Vec<LegendEntry>,
}

/// The matrix with no cell run yet: rows, columns, and which pairs apply
/// (a cell that applies has `label` "…" until [`cell`] runs it).
pub fn layout() -> Matrix {
    let rows = Row::ALL
        .iter()
        .map(|&row| MatrixRow {
            id: row,
            title: row.title(),
            attack: row.attack(),
            group: row.group(),
            cells: Column::ALL
                .iter()
                .map(|&column| {
                    let applies = (CellId { row, column }).scenario().is_some();
                    Cell { column, label: if applies { "…" } else { "" }, tone: None, findings: vec![], link: String::new() }
                })
                .collect(),
        })
        .collect();
    Matrix { columns: Column::options(), rows, legend: legend() }
}

/// Runs one cell's session; `None` where the pair does not apply.
pub fn cell(id: CellId, pki: &Arc<Pki>) -> Option<Cell> {
    Some(cell_of(id, &id.scenario()?, pki))
}

/// The cell `id` from a session set up by the caller (a cell placed in a journey, say).
pub fn cell_of(id: CellId, s: &Scenario, pki: &Arc<Pki>) -> Cell {
    let findings = outcome::analyse(s, &s.run(pki));
    let top = findings.first().map(|f| &f.outcome);
    let label = top.map_or("?", |o| o.label());
    let tone = match top {
        Some(o) if o.is_compromise() => Tone::Compromised,
        Some(Outcome::DeliveredSecurely) => Tone::Secure,
        _ => Tone::Neutral,
    };
    Cell { column: id.column, label, tone: Some(tone), findings, link: String::new() }
}

/// Runs every cell.
pub fn run(pki: &Arc<Pki>) -> Matrix {
    run_with(pki, CellId::scenario)
}

/// Runs every cell with the session `make` sets up for it (`None`: not applicable).
pub fn run_with(pki: &Arc<Pki>, make: impl Fn(CellId) -> Option<Scenario>) -> Matrix {
    let mut m = layout();
    for row in &mut m.rows {
        for c in &mut row.cells {
            let id = CellId { row: row.id, column: c.column };
            if let Some(s) = make(id) {
                *c = cell_of(id, &s, pki);
            }
        }
    }
    m
}

impl Matrix {
    /// A fixed-width text table.
    pub fn to_text(&self) -> String {
        let w = self.rows.iter().map(|r| r.id.id().len()).max().unwrap_or(10) + 2;
        let mut out = format!("{:w$}", "attack / setting");
        for c in &self.columns {
            out.push_str(&format!("{:>19}", c.id));
        }
        out.push('\n');
        for r in &self.rows {
            out.push_str(&format!("{:w$}", r.id.id()));
            for c in &r.cells {
                out.push_str(&format!("{:>19}", if c.label.is_empty() { "-" } else { c.label }));
            }
            out.push('\n');
        }
        out.push_str(
            "\nPASSWORD credentials readable · SPOOFED extra message accepted · SMUGGLED one message split in two at the MX · MISROUTED sent to Mallory's MX by a forged MX answer · INJECTED command run · FORGED reply accepted inside TLS\n",
        );
        out.push_str("TAMPERED tampered state used · READ message readable · ALTERED body changed · cleartext delivered unprotected · aborted gave up safely · secure delivered inside TLS\n");
        out
    }
}
