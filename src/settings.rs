//! The knobs a learner turns, declared once. Each knob is a field of
//! [`Settings`] (or of its server and client halves, which `serve` and `send`
//! share); from that one declaration come the CLI flag (clap), the link's
//! name and value ([`Settings::from_link`], [`Settings::to_link`]), the
//! equivalent command line ([`Settings::command_line`]) and the page's menus
//! ([`Settings::fields`]). What the knobs make of a scenario is
//! [`crate::assemble`].

use serde::Serialize;

use crate::attack::Attack;
use crate::client::TlsPolicy;
use crate::codec::{EodVariant, Mechanism};
use crate::lesson::Lesson;
use crate::matrix::CellId;
use crate::mta_sts::Mode;
use crate::pki::IdentityKind;
use crate::policy::SenderPolicy;
use crate::scenario::{Drive, Outbound, ServerTls};
use crate::server::{AuthPolicy, Role};
use crate::tls::TlsVersions;
use crate::vocab::{Choice, MenuItem};

/// What is wrong with a link or a combination of settings. Names settings as
/// the command line spells them (`--policy implicit`), so the message fits
/// both the CLI and the page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SettingsError {
    #[error("unknown setting {name:?}")]
    Unknown { name: String },
    #[error("--{setting} {value:?}: {reason}")]
    BadValue { setting: String, value: String, reason: String },
    #[error("--{setting} is given twice")]
    Repeated { setting: String },
    #[error("{first} conflicts with {second}: {why}")]
    Conflict { first: String, second: String, why: String },
}

/// How a knob is set: on the command line, in a link, and in the page's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A switch: `--name`, `name=1`, a checkbox.
    Flag,
    /// A port number.
    Number,
    /// One value from a list: a menu.
    Choice,
    /// Several values from a list, comma-separated.
    List,
    /// Free text with its own syntax (a matrix cell, `row@column`).
    Text,
}

/// One knob, as the page's form and the help show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// The flag's name without dashes, and the link's name.
    pub name: String,
    /// Which half of the setup it belongs to: `session`, `server` or `client`.
    pub group: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    /// The values to choose from (for choices and lists; the usual ones for ports).
    pub options: Vec<MenuItem>,
}

/// A type a knob can have.
pub trait Knob: Sized {
    const KIND: Kind;
    fn options() -> Vec<MenuItem> {
        Vec::new()
    }
    /// Reads a link's value.
    fn parse(text: &str) -> Result<Self, String>;
    /// The link's value, or `None` when unset (left out of links and command lines).
    fn format(&self) -> Option<String>;
}

impl Knob for bool {
    const KIND: Kind = Kind::Flag;
    fn parse(text: &str) -> Result<bool, String> {
        match text {
            "" | "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err("a switch is 1 or 0".into()),
        }
    }
    fn format(&self) -> Option<String> {
        self.then(|| "1".to_owned())
    }
}

impl Knob for Option<u16> {
    const KIND: Kind = Kind::Number;
    fn parse(text: &str) -> Result<Self, String> {
        match text.parse::<u16>() {
            Ok(port) if port > 0 => Ok(Some(port)),
            _ => Err("must be a port number, 1 to 65535".into()),
        }
    }
    fn format(&self) -> Option<String> {
        self.map(|p| p.to_string())
    }
}

impl Knob for Option<u64> {
    const KIND: Kind = Kind::Text;
    fn parse(text: &str) -> Result<Self, String> {
        text.parse().map(Some).map_err(|_| format!("a seed is a whole number from 0 to {}", u64::MAX))
    }
    fn format(&self) -> Option<String> {
        self.map(|s| s.to_string())
    }
}

impl<T: Choice + std::str::FromStr<Err = String>> Knob for Option<T> {
    const KIND: Kind = Kind::Choice;
    fn options() -> Vec<MenuItem> {
        T::options()
    }
    fn parse(text: &str) -> Result<Self, String> {
        text.parse().map(Some)
    }
    fn format(&self) -> Option<String> {
        self.map(|c| c.id().to_owned())
    }
}

impl<T: Choice + std::str::FromStr<Err = String>> Knob for Vec<T> {
    const KIND: Kind = Kind::List;
    fn options() -> Vec<MenuItem> {
        T::options()
    }
    fn parse(text: &str) -> Result<Self, String> {
        text.split(',').filter(|v| !v.is_empty()).map(str::parse).collect()
    }
    fn format(&self) -> Option<String> {
        (!self.is_empty()).then(|| self.iter().map(|c| c.id()).collect::<Vec<_>>().join(","))
    }
}

impl Knob for Option<CellId> {
    const KIND: Kind = Kind::Text;
    fn parse(text: &str) -> Result<Self, String> {
        text.parse().map(Some)
    }
    fn format(&self) -> Option<String> {
        self.map(|c| c.to_string())
    }
}

/// One declaration per knob: `name: Type => "help";`, with clap attributes
/// before it when the flag needs more than `--name`. Groups listed in
/// brackets are flattened in (on the command line, in links, in the form).
macro_rules! knobs {
    (
        $(#[$meta:meta])*
        pub struct $name:ident ($group:literal) [$($gfield:ident : $gty:ty),*] {
            $( $(#[$attr:meta])* $field:ident : $ty:ty => $help:literal; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
        #[cfg_attr(feature = "cli", derive(clap::Args))]
        #[serde(rename_all = "kebab-case")]
        pub struct $name {
            $(
                #[cfg_attr(feature = "cli", arg(long, help = $help))]
                $(#[$attr])*
                #[serde(skip_serializing_if = "is_unset")]
                pub $field: $ty,
            )*
            $(
                #[cfg_attr(feature = "cli", command(flatten))]
                #[serde(flatten)]
                pub $gfield: $gty,
            )*
        }

        impl $name {
            /// Every knob, in the order of the declaration (groups last).
            pub fn fields() -> Vec<Field> {
                #[allow(unused_mut)]
                let mut out = vec![$(Field {
                    name: flag_name(stringify!($field)),
                    group: $group,
                    help: $help,
                    kind: <$ty as Knob>::KIND,
                    options: <$ty as Knob>::options(),
                },)*];
                $(out.extend(<$gty>::fields());)*
                out
            }

            /// Sets the knob a link names; `Ok(false)` when no knob has that name.
            fn set(&mut self, name: &str, value: &str) -> Result<bool, SettingsError> {
                $(
                    if name == flag_name(stringify!($field)) {
                        self.$field = <$ty as Knob>::parse(value).map_err(|reason| SettingsError::BadValue {
                            setting: name.to_owned(),
                            value: value.to_owned(),
                            reason,
                        })?;
                        return Ok(true);
                    }
                )*
                $(
                    if self.$gfield.set(name, value)? {
                        return Ok(true);
                    }
                )*
                Ok(false)
            }

            /// The knobs that are set, as (name, kind, value).
            fn pairs(&self, out: &mut Vec<(String, Kind, String)>) {
                $(
                    if let Some(v) = Knob::format(&self.$field) {
                        out.push((flag_name(stringify!($field)), <$ty as Knob>::KIND, v));
                    }
                )*
                $(self.$gfield.pairs(out);)*
            }
        }
    };
}

fn flag_name(field: &str) -> String {
    field.replace('_', "-")
}

fn is_unset<T: Knob>(value: &T) -> bool {
    value.format().is_none()
}

knobs! {
    /// How the server is set up. `smtp-lab serve` takes these too.
    pub struct ServerSettings ("server") [] {
        role: Option<Role> => "Server role (default: from the port)";
        server_tls: Option<ServerTls> => "How the server does TLS (default: from the role)";
        auth: Option<AuthPolicy> => "When the server accepts AUTH (default: from the role)";
        require_tls: bool => "Server refuses mail commands until STARTTLS, with 530";
        cert: Option<IdentityKind> => "Certificate the server presents (default: valid)";
        server_tls_versions: Option<TlsVersions> => "TLS versions the server accepts (default: 1.2 and 1.3)";
        server_keeps_buffer: bool => "Server bug CVE-2011-0411: keeps bytes that followed STARTTLS";
        server_keeps_state: bool => "Server bug: keeps HELO and AUTH state across STARTTLS";
        #[cfg_attr(feature = "cli", arg(value_delimiter = ','))]
        lenient_end_of_data: Vec<EodVariant> => "Server also ends DATA at these bare-CR/LF sequences (SMTP smuggling)";
        offer_requiretls: bool => "Server offers REQUIRETLS (RFC 8689) inside TLS";
        sts: Option<Mode> => "The MTA-STS policy mode the recipient's domain publishes, for a sending MTA with --sender (default: enforce)";
        unsigned_zone: bool => "The recipient's zone is not DNSSEC-signed, for a sending MTA with --sender";
        no_tlsa: bool => "The recipient's domain publishes no TLSA record for its MX, for a sending MTA with --sender";
        tlsa_ta: bool => "The recipient's TLSA record names the CA that issued the MX's certificate (DANE-TA, 2 0 1), not the MX's key (DANE-EE, 3 1 1)";
    }
}

knobs! {
    /// How the client behaves. `smtp-lab send` takes these too.
    pub struct ClientSettings ("client") [] {
        policy: Option<TlsPolicy> => "Client TLS policy (default: from the port)";
        validate: bool => "Client enforces certificate validation";
        no_validate: bool => "Client does not enforce certificate validation (it still checks, and reports)";
        client_tls_versions: Option<TlsVersions> => "TLS versions the client offers (default: 1.2 and 1.3)";
        #[cfg_attr(feature = "cli", arg(ignore_case = true))]
        mechanism: Option<Mechanism> => "SASL mechanism for AUTH (default: PLAIN)";
        no_auth: bool => "Client does not authenticate";
        no_pipelining: bool => "Client does not pipeline, even if the server offers PIPELINING";
        client_keeps_buffer: bool => "Client bug: keeps bytes that followed the 220 to STARTTLS";
        client_reuses_capabilities: bool => "Client bug: skips the second EHLO after STARTTLS";
        sender: Option<SenderPolicy> => "The client is a sending MTA on 25 that first looks up the recipient's MX and applies this transport policy";
        sts_cached: bool => "The sending MTA holds the domain's MTA-STS policy from an earlier delivery (not first contact)";
        requiretls: bool => "The message carries REQUIRETLS (RFC 8689): TLS on every hop, or it goes back to its sender";
    }
}

knobs! {
    /// A journey: the server is the sender's provider (hop 1), which relays
    /// what it accepts to the recipient's MX on 25 (hop 2). Setting any of
    /// these makes the session a journey.
    pub struct HopSettings ("hop2") [] {
        journey: bool => "Follow the message on: the provider relays it to the recipient's MX on 25 (hop 2)";
        outbound: Option<Outbound> => "What the provider does with bare CR and LF in a message it relays (default: normalise)";
        hop2_port: Option<u16> => "Hop 2: the MX's port (default: 25); 587 makes it the MX's submission server, which wants AUTH";
        hop2_policy: Option<TlsPolicy> => "Hop 2: the provider's MTA's TLS policy (default: opportunistic)";
        hop2_validate: bool => "Hop 2: the MTA enforces certificate validation, as MTA-STS or DANE would make it";
        hop2_cert: Option<IdentityKind> => "Hop 2: the certificate the MX presents (default: valid)";
        hop2_server_tls: Option<ServerTls> => "Hop 2: how the MX does TLS (default: starttls)";
        hop2_attack: Option<Attack> => "Hop 2: an attacker on the wire between the provider and the MX";
        hop2_mallory: bool => "Hop 2: you are Mallory between the provider and the MX: every segment waits for your decision";
        #[cfg_attr(feature = "cli", arg(value_delimiter = ','))]
        hop2_lenient_end_of_data: Vec<EodVariant> => "Hop 2: the MX also ends DATA at these bare-CR/LF sequences (SMTP smuggling)";
        hop2_sender: Option<SenderPolicy> => "Hop 2: the provider's MTA first looks up the MX and applies this transport policy";
        hop2_sts_cached: bool => "Hop 2: the MTA holds the domain's MTA-STS policy from an earlier delivery";
        hop2_offer_requiretls: bool => "Hop 2: the MX offers REQUIRETLS (RFC 8689) inside TLS";
    }
}

impl HopSettings {
    /// Whether these settings ask for a journey.
    pub fn is_set(&self) -> bool {
        *self != HopSettings::default()
    }
}

knobs! {
    /// A whole session: where to start (a lesson, a matrix cell or a port),
    /// who is on the wire, and what to change. Every knob left unset keeps
    /// the starting point's value.
    pub struct Settings ("session") [server: ServerSettings, client: ClientSettings, hop2: HopSettings] {
        preset: Option<Lesson> => "Start from a lesson (see `smtp-lab presets`); other settings change it";
        cell: Option<CellId> => "Start from a cell of the attack matrix, ROW@COLUMN (see `smtp-lab matrix`)";
        #[cfg_attr(feature = "cli", arg(value_parser = clap::value_parser!(u16).range(1..)))]
        port: Option<u16> => "Port the client connects to; alone, it picks that port's usual setup";
        attack: Option<Attack> => "Put an attacker on the wire (see `smtp-lab attacks`)";
        drive: Option<Drive> => "Who drives: watch (default), client (you type the client's lines), mallory (you decide each segment)";
        seed: Option<u64> => "Seed for every random number of the session's TLS (default: 1); the same seed gives the same bytes";
    }
}

/// A link's contents: the settings and the step to show.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Link {
    pub settings: Settings,
    pub step: Option<usize>,
}

/// The ports a learner usually picks, for the page's menu.
const USUAL_PORTS: [(&str, &str); 4] = [
    ("25", "25: relay, server to server (RFC 5321)"),
    ("587", "587: submission with STARTTLS (RFC 6409)"),
    ("465", "465: submission with implicit TLS (RFC 8314 §3.3)"),
    ("2525", "2525: no RFC assigns it to mail; some providers offer it"),
];

impl Settings {
    /// Every knob of every group, for the page's form (ports with the usual ones as options).
    pub fn all_fields() -> Vec<Field> {
        let mut fields = Settings::fields();
        for f in fields.iter_mut().filter(|f| f.kind == Kind::Number) {
            f.options = USUAL_PORTS.iter().map(|&(id, title)| MenuItem { id, title }).collect();
        }
        fields
    }

    /// Reads a link: `preset=strip-587-opportunistic&step=5`, or
    /// `port=587&policy=opportunistic&attack=strip`, or a bare lesson id.
    /// A leading `#` or `?` is ignored. Unknown names are errors, not ignored.
    pub fn from_link(text: &str) -> Result<Link, SettingsError> {
        let text = text.trim().trim_start_matches(['#', '?']);
        let mut link = Link::default();
        if text.is_empty() {
            return Ok(link);
        }
        if !text.contains('=') {
            link.settings.set("preset", &decode(text))?;
            return Ok(link);
        }
        let mut seen: Vec<String> = Vec::new();
        for pair in text.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (name, value) = (decode(name), decode(value));
            if seen.contains(&name) {
                return Err(SettingsError::Repeated { setting: name });
            }
            seen.push(name.clone());
            if name == "step" {
                let step = value.parse().map_err(|_| SettingsError::BadValue {
                    setting: name.clone(),
                    value: value.clone(),
                    reason: "a step is a number".into(),
                })?;
                link.step = Some(step);
            } else if !link.settings.set(&name, &value)? {
                return Err(SettingsError::Unknown { name });
            }
        }
        Ok(link)
    }

    /// These settings with one more set (or changed), by its link name.
    pub fn with(&self, name: &str, value: &str) -> Result<Settings, SettingsError> {
        let mut out = self.clone();
        match out.set(name, value)? {
            true => Ok(out),
            false => Err(SettingsError::Unknown { name: name.to_owned() }),
        }
    }

    /// Every setting that is set, as (name, value), in declaration order.
    pub fn values(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        self.pairs(&mut pairs);
        pairs.into_iter().map(|(name, _, value)| (name, value)).collect()
    }

    /// The link for these settings and a step, in declaration order.
    pub fn to_link(&self, step: Option<usize>) -> String {
        let mut pairs = Vec::new();
        self.pairs(&mut pairs);
        let mut parts: Vec<String> = pairs.into_iter().map(|(name, _, value)| format!("{name}={}", encode(&value))).collect();
        parts.extend(step.map(|s| format!("step={s}")));
        parts.join("&")
    }

    /// The `smtp-lab run` command that runs the same session.
    pub fn command_line(&self) -> String {
        let mut pairs = Vec::new();
        self.pairs(&mut pairs);
        let mut out = String::from("smtp-lab run");
        for (name, kind, value) in pairs {
            out.push_str(" --");
            out.push_str(&name);
            if kind != Kind::Flag {
                out.push(' ');
                out.push_str(&value);
            }
        }
        out
    }
}

/// Percent-decoding for link values (`+` is a space, as in forms).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encoding for what link values may hold beyond ids (`@`, `/`, `,` stay readable).
fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~@/,".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::{Column, Row};

    #[test]
    fn a_link_reads_and_writes_the_same_names() {
        let link =
            Settings::from_link("#port=25&policy=require-starttls&attack=strip&server-keeps-buffer=1&cert=self-signed&step=4").unwrap();
        let s = &link.settings;
        assert_eq!((s.port, s.client.policy, s.attack), (Some(25), Some(TlsPolicy::RequireStartTls), Some(Attack::Strip)));
        assert!(s.server.server_keeps_buffer);
        assert_eq!(s.server.cert, Some(IdentityKind::SelfSigned));
        assert_eq!(link.step, Some(4));
        assert_eq!(s.to_link(Some(4)), "port=25&attack=strip&cert=self-signed&server-keeps-buffer=1&policy=require-starttls&step=4");
        assert_eq!(
            s.command_line(),
            "smtp-lab run --port 25 --attack strip --cert self-signed --server-keeps-buffer --policy require-starttls"
        );
    }

    #[test]
    fn a_bare_word_is_a_lesson_and_a_cell_is_typed() {
        assert_eq!(Settings::from_link("relay-25").unwrap().settings.preset, Some(Lesson::Relay25));
        let cell = Settings::from_link("cell=strip%40opportunistic").unwrap().settings.cell;
        assert_eq!(cell, Some(CellId::new(Row::Strip, Column::Opportunistic)));
        assert_eq!(Settings { cell, ..Settings::default() }.to_link(None), "cell=strip@opportunistic");
    }

    #[test]
    fn bad_links_are_errors_that_name_the_setting() {
        let err = |link: &str| Settings::from_link(link).unwrap_err().to_string();
        assert_eq!(err("colour=red"), "unknown setting \"colour\"");
        assert!(err("attack=nope").starts_with("--attack \"nope\": no attack \"nope\"; one of: eavesdrop,"), "{}", err("attack=nope"));
        assert!(err("port=0").contains("port number"));
        assert!(err("port=x").contains("port number"));
        assert!(err("cell=strip").contains("ROW@COLUMN"));
        assert!(err("cell=port-block@plain").contains("does not apply"));
        assert!(err("lenient-end-of-data=lf-dot-crlf,x").contains("end-of-data variant"));
        assert_eq!(err("port=25&port=587"), "--port is given twice");
        assert!(err("step=-1").contains("a step is a number"));
        assert!(err("require-tls=maybe").contains("1 or 0"));
        assert!(err("seed=-1").contains("a seed is a whole number"));
        assert!(err("seed=18446744073709551616").contains("a seed is a whole number"));
        assert!(err("%ZZ=1").contains("unknown setting"));
    }

    #[test]
    fn every_field_has_a_unique_name_and_choices_have_options() {
        let fields = Settings::all_fields();
        let mut names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), fields.len());
        for f in &fields {
            assert_eq!(f.options.is_empty(), matches!(f.kind, Kind::Flag | Kind::Text), "{f:?}");
        }
    }
}
