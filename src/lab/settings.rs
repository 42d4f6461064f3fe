//! The knobs a learner turns, declared once. Each knob is a field of
//! [`Settings`] or of one of its groups (the server's, the client's, what the
//! recipient's domain publishes, the journey's, and hop 2's: the same server
//! and client knobs again, under `hop2-`). From that one declaration come the
//! link's name and value ([`Settings::from_link`], [`Settings::to_link`]),
//! the command line (its clap arguments are built from the knob list, and a
//! flag's value is read by the same parser as a link's), the equivalent
//! command line ([`Settings::command_line`]) and the page's form
//! ([`Settings::all_fields`]). What the knobs make of a scenario is
//! [`crate::lab::assemble`].

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;

use crate::lab::actions::{self, Acted, ActsError};
use crate::lab::lessons::Lesson;
use crate::outcome::matrix::{CellError, CellId};
use crate::proto::policy::mta_sts::StsMode;
use crate::proto::policy::sender::SenderPolicy;
use crate::proto::smtp::client::TlsPolicy;
use crate::proto::smtp::codec::{EodVariant, Mechanism};
use crate::proto::smtp::server::{AuthPolicy, Role};
use crate::proto::tls::TlsVersions;
use crate::sim::attack::Attack;
use crate::sim::relay::Outbound;
use crate::sim::scenario::{Drive, ServerTls};
use crate::sim::world::pki::IdentityKind;
use crate::vocab::{as_text, choice, named, Choice, MenuItem, UnknownName};

/// What is wrong with a link or a combination of settings. Names settings as
/// the command line spells them (`--policy implicit`), so the message fits
/// both the CLI and the page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SettingsError {
    #[error("unknown setting {name:?}")]
    Unknown { name: String },
    #[error("--{setting} {value:?}: {reason}")]
    BadValue {
        setting: String,
        value: String,
        #[serde(serialize_with = "as_text")]
        reason: BadValue,
    },
    #[error("--{setting} is given twice")]
    Repeated { setting: String },
    #[error("{first} conflicts with {second}: {why}")]
    Conflict { first: String, second: String, why: String },
    /// The learner's actions (`acts=`) could not be read.
    #[error("--acts: {0}")]
    Acts(
        #[from]
        #[serde(serialize_with = "as_text")]
        ActsError,
    ),
}

/// A link's problem as the page says it: in the lab's words, next to the
/// setting that caused it, with the nearest valid value and the same link
/// without the pair that failed (so the page can still show a session).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkProblem {
    /// The setting the problem is in (its link name), when there is one.
    pub setting: Option<String>,
    /// The value given, when the problem is a value.
    pub value: Option<String>,
    pub message: String,
    /// The nearest valid value (or setting name) to what was given.
    pub suggestion: Option<String>,
    /// The same link with the suggestion in place of what failed, when there is one.
    pub suggested_link: Option<String>,
}

impl SettingsError {
    /// The problem in the lab's words (the [`std::fmt::Display`] text is the command line's).
    pub fn problem(&self, link: &str) -> LinkProblem {
        let fields = Settings::all_fields();
        let label = |name: &str| -> String {
            match fields.iter().find(|f| f.name == name) {
                Some(f) if f.name == "preset" => "lesson".to_owned(),
                Some(f) => format!("setting \u{201c}{}\u{201d} ({})", f.name, f.help),
                None => format!("setting \u{201c}{name}\u{201d}"),
            }
        };
        let mut problem = LinkProblem { setting: None, value: None, message: String::new(), suggestion: None, suggested_link: None };
        match self {
            SettingsError::Unknown { name } => {
                problem.message = format!("The lab has no setting \u{201c}{name}\u{201d}.");
                problem.suggestion =
                    crate::vocab::nearest(name, fields.iter().map(|f| f.name.as_str()).chain(["step", "acts"])).map(str::to_owned);
                problem.setting = Some(name.clone());
            }
            SettingsError::BadValue { setting, value, reason } => {
                problem.message = match reason {
                    BadValue::Name(u) => {
                        problem.suggestion = u.nearest().map(str::to_owned);
                        format!("There is no {} \u{201c}{value}\u{201d}.", u.what)
                    }
                    other => format!("\u{201c}{value}\u{201d} does not work for the {}: {other}.", label(setting)),
                };
                problem.setting = Some(setting.clone());
                problem.value = Some(value.clone());
            }
            SettingsError::Repeated { setting } => {
                problem.message = format!("The link gives the {} twice.", label(setting));
                problem.setting = Some(setting.clone());
            }
            SettingsError::Conflict { first, second, why } => {
                let plain = |flag: &str| flag.trim_start_matches("--").replacen(' ', " = ", 1);
                let mut why = why.to_string();
                if let Some(first) = why.get(..1) {
                    why.replace_range(..1, &first.to_uppercase());
                }
                problem.message = format!("These two settings cannot go together: {} and {}. {why}.", plain(first), plain(second));
                problem.setting = first.trim_start_matches("--").split(' ').next().map(str::to_owned);
            }
            SettingsError::Acts(e) => {
                problem.message = format!("The learner's actions in this link cannot be read ({e}).");
                problem.setting = Some("acts".to_owned());
            }
        }
        if let (Some(setting), Some(suggestion)) = (&problem.setting, &problem.suggestion) {
            let text = link.trim().trim_start_matches(['#', '?']);
            let fixed: Vec<String> = if text.contains('=') {
                text.split('&')
                    .map(|pair| {
                        let name = decode(pair.split_once('=').map_or(pair, |(n, _)| n));
                        match (&problem.value, name == *setting) {
                            (Some(_), true) => format!("{setting}={suggestion}"),
                            (None, true) => pair.replacen(setting.as_str(), suggestion, 1),
                            _ => pair.to_owned(),
                        }
                    })
                    .collect()
            } else {
                vec![format!("preset={suggestion}")]
            };
            problem.suggested_link = Some(fixed.join("&"));
        }
        problem
    }
}

/// Why a value is not one its knob takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadValue {
    #[error("a switch is 1 or 0")]
    Switch,
    #[error("must be a port number, 1 to 65535")]
    Port,
    #[error("a seed is a whole number from 0 to {}", u64::MAX)]
    Seed,
    #[error("a step is a number")]
    Step,
    #[error(transparent)]
    Name(#[from] UnknownName),
    #[error(transparent)]
    Cell(#[from] CellError),
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

choice! {
    /// Which part of the setup a knob belongs to.
    pub enum Group ("setting group") {
        Session = "session": "Connection and attacker",
        Server = "server": "Server",
        Client = "client": "Client",
        Domain = "domain": "The recipient's domain, as a sending MTA finds it",
        Journey = "journey": "Journey: the provider relays the message on",
        Hop2 = "hop2": "Journey: hop 2, the provider to the MX",
    }
}

/// One knob, as the page's form and the help show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// The flag's name without dashes, and the link's name.
    pub name: String,
    pub group: Group,
    /// The group as the form's heading says it.
    pub group_title: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    /// The values to choose from (for choices and lists; the usual ones for ports).
    pub options: Vec<MenuItem>,
    /// What the flag alone means, for a choice that has such a value (`--validate`).
    #[serde(skip)]
    pub bare: Option<&'static str>,
    /// Where the page's setup form puts it: the few choices that decide a
    /// session up front, the rest folded by what they are about.
    pub section: Section,
    pub section_title: &'static str,
}

choice! {
    /// A part of the page's setup form. The first is always open; the others are folded.
    pub enum Section ("form section") {
        Essentials = "essentials": "The session: port, who drives, attacker, client, server",
        TlsVersions = "tls-versions": "TLS versions",
        Bugs = "bugs": "Bugs to switch on",
        Server = "server": "More about the server",
        Client = "client": "More about the client",
        Domain = "domain": "The recipient's domain and its policies (for a sending MTA)",
        Hop2 = "hop2": "Follow the message on: hop 2, the provider to the recipient's MX",
        Replay = "replay": "Random numbers",
    }
}

impl Section {
    /// The section a knob (by its link name) belongs in.
    pub fn of(name: &str) -> Section {
        match name {
            "port" | "drive" | "attack" | "policy" | "validate" | "server-tls" | "auth" | "cert" => Section::Essentials,
            "server-tls-versions" | "client-tls-versions" => Section::TlsVersions,
            "server-keeps-buffer" | "server-keeps-state" | "client-keeps-buffer" | "client-reuses-capabilities" | "lenient-end-of-data" => {
                Section::Bugs
            }
            "role" | "require-tls" | "offer-requiretls" => Section::Server,
            "sts" | "unsigned-zone" | "no-tlsa" | "tlsa-ta" => Section::Domain,
            "journey" | "outbound" => Section::Hop2,
            "seed" | "preset" | "cell" => Section::Replay,
            other if other.starts_with("hop2-") => Section::Hop2,
            _ => Section::Client,
        }
    }
}

/// A type a knob can have.
pub trait Knob: Sized {
    const KIND: Kind;
    fn options() -> Vec<MenuItem> {
        Vec::new()
    }
    /// Reads a link's value (and a flag's, on the command line).
    fn parse(text: &str) -> Result<Self, BadValue>;
    /// The link's value, or `None` when unset (left out of links and command lines).
    fn format(&self) -> Option<String>;
    /// The value a bare `--name` stands for, for a choice that has one.
    fn bare() -> Option<&'static str> {
        None
    }
}

impl Knob for bool {
    const KIND: Kind = Kind::Flag;
    fn parse(text: &str) -> Result<bool, BadValue> {
        match text {
            "" | "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(BadValue::Switch),
        }
    }
    fn format(&self) -> Option<String> {
        self.then(|| "1".to_owned())
    }
}

impl Knob for Option<u16> {
    const KIND: Kind = Kind::Number;
    fn parse(text: &str) -> Result<Self, BadValue> {
        match text.parse::<u16>() {
            Ok(port) if port > 0 => Ok(Some(port)),
            _ => Err(BadValue::Port),
        }
    }
    fn format(&self) -> Option<String> {
        self.map(|p| p.to_string())
    }
}

impl Knob for Option<u64> {
    const KIND: Kind = Kind::Text;
    fn parse(text: &str) -> Result<Self, BadValue> {
        text.parse().map(Some).map_err(|_| BadValue::Seed)
    }
    fn format(&self) -> Option<String> {
        self.map(|s| s.to_string())
    }
}

impl<T: Choice> Knob for Option<T> {
    const KIND: Kind = Kind::Choice;
    fn options() -> Vec<MenuItem> {
        T::options()
    }
    fn parse(text: &str) -> Result<Self, BadValue> {
        Ok(Some(T::parse_id(text)?))
    }
    fn format(&self) -> Option<String> {
        self.map(|c| c.id().to_owned())
    }
    fn bare() -> Option<&'static str> {
        T::bare().map(|c| c.id())
    }
}

impl<T: Choice> Knob for Vec<T> {
    const KIND: Kind = Kind::List;
    fn options() -> Vec<MenuItem> {
        T::options()
    }
    fn parse(text: &str) -> Result<Self, BadValue> {
        text.split(',').filter(|v| !v.is_empty()).map(|v| T::parse_id(v).map_err(BadValue::from)).collect()
    }
    fn format(&self) -> Option<String> {
        (!self.is_empty()).then(|| self.iter().map(|c| c.id()).collect::<Vec<_>>().join(","))
    }
}

impl Knob for Option<CellId> {
    const KIND: Kind = Kind::Text;
    fn parse(text: &str) -> Result<Self, BadValue> {
        Ok(Some(text.parse()?))
    }
    fn format(&self) -> Option<String> {
        self.map(|c| c.to_string())
    }
}

named! {
    /// Whether the client enforces its certificate check. It runs the check
    /// either way, and the trace records the verdict.
    pub enum Validation ("certificate check") {
        Enforce = "enforce",
        Report = "report",
    }
}

impl Choice for Validation {
    fn title(self) -> &'static str {
        match self {
            Validation::Enforce => "refuses a certificate that does not verify: it ends the handshake",
            Validation::Report => "checks the certificate and reports what it found, but carries on",
        }
    }

    /// `--validate` alone enforces the check.
    fn bare() -> Option<Validation> {
        Some(Validation::Enforce)
    }
}

/// The knobs of a group, for the CLI and the form: implemented by `knobs!`.
pub trait Knobs {
    /// Every knob, in the order of the declaration (nested groups last).
    fn fields() -> Vec<Field>;
    /// Sets the knob a link names; `Ok(false)` when no knob of this group has that name.
    fn set(&mut self, name: &str, value: &str) -> Result<bool, SettingsError>;
    /// The knobs that are set, as (name, kind, value).
    fn pairs(&self, out: &mut Vec<(String, Kind, String)>);
}

/// One declaration per knob group: `name: Type => "help";`, in the group and
/// with the prefix given; groups in brackets are nested in (on the command
/// line, in links and in the form).
macro_rules! knobs {
    (
        $(#[$meta:meta])*
        pub struct $name:ident ($group:ident, $prefix:literal) [$($gfield:ident : $gty:ty),*] {
            $( $(#[$attr:meta])* $field:ident : $ty:ty => $help:literal; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name {
            $(
                #[doc = $help]
                $(#[$attr])*
                pub $field: $ty,
            )*
            $(
                pub $gfield: $gty,
            )*
        }

        /// As a link holds them: each knob that is set, by its name, with its value's text.
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut pairs = Vec::new();
                self.pairs(&mut pairs);
                s.collect_map(pairs.into_iter().map(|(name, _, value)| (name, value)))
            }
        }

        impl Knobs for $name {
            fn fields() -> Vec<Field> {
                #[allow(unused_mut)]
                let mut out = vec![$(Field {
                    name: format!("{}{}", $prefix, flag_name(stringify!($field))),
                    group: Group::$group,
                    group_title: Group::$group.title(),
                    help: $help,
                    kind: <$ty as Knob>::KIND,
                    options: <$ty as Knob>::options(),
                    bare: <$ty as Knob>::bare(),
                    section: Section::Essentials,
                    section_title: "",
                },)*];
                $(out.extend(<$gty as Knobs>::fields().into_iter().map(|f| Field {
                    name: format!("{}{}", $prefix, f.name),
                    group: if $prefix.is_empty() { f.group } else { Group::$group },
                    group_title: if $prefix.is_empty() { f.group_title } else { Group::$group.title() },
                    ..f
                }));)*
                out
            }

            fn set(&mut self, name: &str, value: &str) -> Result<bool, SettingsError> {
                let Some(name) = name.strip_prefix($prefix) else { return Ok(false) };
                $(
                    if name == flag_name(stringify!($field)) {
                        self.$field = <$ty as Knob>::parse(value).map_err(|reason| SettingsError::BadValue {
                            setting: format!("{}{name}", $prefix),
                            value: value.to_owned(),
                            reason,
                        })?;
                        return Ok(true);
                    }
                )*
                $(
                    if self.$gfield.set(name, value).map_err(|e| prefixed($prefix, e))? {
                        return Ok(true);
                    }
                )*
                Ok(false)
            }

            fn pairs(&self, out: &mut Vec<(String, Kind, String)>) {
                $(
                    if let Some(v) = Knob::format(&self.$field) {
                        out.push((format!("{}{}", $prefix, flag_name(stringify!($field))), <$ty as Knob>::KIND, v));
                    }
                )*
                $(
                    let mut inner = Vec::new();
                    self.$gfield.pairs(&mut inner);
                    out.extend(inner.into_iter().map(|(n, k, v)| (format!("{}{n}", $prefix), k, v)));
                )*
            }
        }

        #[cfg(feature = "cli")]
        impl clap::FromArgMatches for $name {
            fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
                let mut out = Self::default();
                out.update_from_arg_matches(matches)?;
                Ok(out)
            }

            fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
                cli::read(self, matches, &Self::fields())
            }
        }

        #[cfg(feature = "cli")]
        impl clap::Args for $name {
            fn augment_args(cmd: clap::Command) -> clap::Command {
                cli::augment(cmd, Self::fields())
            }

            fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
                Self::augment_args(cmd)
            }
        }
    };
}

/// A nested group's error, naming the setting with the prefix its group has.
fn prefixed(prefix: &str, e: SettingsError) -> SettingsError {
    match e {
        SettingsError::BadValue { setting, value, reason } if !prefix.is_empty() => {
            SettingsError::BadValue { setting: format!("{prefix}{setting}"), value, reason }
        }
        other => other,
    }
}

fn flag_name(field: &str) -> String {
    field.replace('_', "-")
}

knobs! {
    /// How the server is set up. `smtp-lab serve` takes these too.
    pub struct ServerSettings (Server, "") [] {
        role: Option<Role> => "Server role (default: from the port)";
        server_tls: Option<ServerTls> => "How the server does TLS (default: from the role)";
        auth: Option<AuthPolicy> => "When the server accepts AUTH (default: from the role)";
        require_tls: bool => "Server refuses mail commands until STARTTLS, with 530";
        cert: Option<IdentityKind> => "Certificate the server presents (default: valid)";
        server_tls_versions: Option<TlsVersions> => "TLS versions the server accepts (default: 1.2 and 1.3)";
        server_keeps_buffer: bool => "Server bug CVE-2011-0411: keeps bytes that followed STARTTLS";
        server_keeps_state: bool => "Server bug: keeps HELO and AUTH state across STARTTLS";
        lenient_end_of_data: Vec<EodVariant> => "Server also ends DATA at these bare-CR/LF sequences (SMTP smuggling)";
        offer_requiretls: bool => "Server offers REQUIRETLS (RFC 8689) inside TLS";
    }
}

knobs! {
    /// How the client behaves. `smtp-lab send` takes these too.
    pub struct ClientSettings (Client, "") [] {
        policy: Option<TlsPolicy> => "Client TLS policy (default: from the port)";
        validate: Option<Validation> => "Whether the client enforces its certificate check (default: from the port)";
        client_tls_versions: Option<TlsVersions> => "TLS versions the client offers (default: 1.2 and 1.3)";
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
    /// What the recipient's domain publishes, as a sending MTA (with
    /// `--sender` or `--hop2-sender`) looks it up. Not a server setting:
    /// `smtp-lab serve` does not take these.
    pub struct DomainSettings (Domain, "") [] {
        sts: Option<StsMode> => "The MTA-STS policy mode the recipient's domain publishes, as a sending MTA that looks it up finds it (default: enforce)";
        unsigned_zone: bool => "The recipient's zone is not DNSSEC-signed (for a sending MTA that looks it up)";
        no_tlsa: bool => "The recipient's domain publishes no TLSA record for its MX (for a sending MTA that looks it up)";
        tlsa_ta: bool => "The recipient's TLSA record names the CA that issued the MX's certificate (DANE-TA, 2 0 1), not the MX's key (DANE-EE, 3 1 1)";
    }
}

knobs! {
    /// Hop 2 of a journey, the provider's MTA to the recipient's MX: where it
    /// connects, who sits on its wire, and the same server and client knobs as
    /// hop 1's, each under `hop2-`.
    pub struct Hop2Settings (Hop2, "hop2-") [server: ServerSettings, client: ClientSettings] {
        port: Option<u16> => "Hop 2: the MX's port (default: 25); 587 makes it the MX's submission server, which wants AUTH";
        attack: Option<Attack> => "Hop 2: an attacker on the wire between the provider and the MX";
        mallory: bool => "Hop 2: you are Mallory between the provider and the MX: every segment waits for your decision";
    }
}

knobs! {
    /// A journey: the server is the sender's provider (hop 1), which relays
    /// what it accepts to the recipient's MX on 25 (hop 2). Setting any of
    /// these makes the session a journey.
    pub struct JourneySettings (Journey, "") [hop2: Hop2Settings] {
        journey: bool => "Follow the message on: the provider relays it to the recipient's MX on 25 (hop 2)";
        outbound: Option<Outbound> => "What the provider does with bare CR and LF in a message it relays (default: normalise)";
    }
}

impl JourneySettings {
    /// Whether these settings ask for a journey.
    pub fn is_set(&self) -> bool {
        *self != JourneySettings::default()
    }
}

knobs! {
    /// A whole session: where to start (a lesson, a matrix cell or a port),
    /// who is on the wire, and what to change. Every knob left unset keeps
    /// the starting point's value.
    pub struct Settings (Session, "") [server: ServerSettings, client: ClientSettings, domain: DomainSettings, journey: JourneySettings] {
        preset: Option<Lesson> => "Start from a lesson (the lessons are listed by `smtp-lab presets`); other settings change it";
        cell: Option<CellId> => "Start from a cell of the attack matrix, ROW@COLUMN (the cells are shown by `smtp-lab matrix`)";
        port: Option<u16> => "Port the client connects to; alone, it picks that port's usual setup";
        attack: Option<Attack> => "An attacker on the wire, and what she does";
        drive: Option<Drive> => "Who drives: watch (default), client (you type the client's lines), mallory (you decide each segment)";
        seed: Option<u64> => "Seed for every random number of the session's TLS (default: 1); the same seed gives the same bytes";
    }
}

/// The command line's side of the knobs: clap arguments built from the
/// knob list, whose values go through the same parser as a link's.
#[cfg(feature = "cli")]
mod cli {
    use super::{Field, Kind, Knobs};

    /// Adds one argument per knob.
    pub(super) fn augment(mut cmd: clap::Command, fields: Vec<Field>) -> clap::Command {
        for f in fields {
            let mut arg = clap::Arg::new(f.name.clone()).long(f.name.clone()).help(f.help);
            arg = match f.kind {
                Kind::Flag => arg.action(clap::ArgAction::SetTrue),
                Kind::List => arg.action(clap::ArgAction::Append).value_delimiter(','),
                Kind::Number | Kind::Choice | Kind::Text => arg.action(clap::ArgAction::Set),
            };
            if !f.options.is_empty() && f.kind != Kind::Number {
                let values: Vec<String> = f.options.iter().map(|o| format!("  {}: {}", o.id, o.title)).collect();
                arg = arg.long_help(format!("{}\n\nOne of:\n{}", f.help, values.join("\n"))).value_name("VALUE");
            }
            if let Some(value) = f.bare {
                arg = arg.num_args(0..=1).default_missing_value(value);
            }
            cmd = cmd.arg(arg);
        }
        cmd
    }

    /// Reads every knob given on the command line into `settings`, through [`Knobs::set`].
    pub(super) fn read<K: Knobs>(settings: &mut K, matches: &clap::ArgMatches, fields: &[Field]) -> Result<(), clap::Error> {
        for f in fields {
            let value = match f.kind {
                Kind::Flag => matches.get_flag(&f.name).then(|| "1".to_owned()),
                Kind::List => matches.get_many::<String>(&f.name).map(|v| v.cloned().collect::<Vec<_>>().join(",")),
                Kind::Number | Kind::Choice | Kind::Text => matches.get_one::<String>(&f.name).cloned(),
            };
            if let Some(value) = value {
                settings.set(&f.name, &value).map_err(|e| clap::Error::raw(clap::error::ErrorKind::ValueValidation, format!("{e}\n")))?;
            }
        }
        Ok(())
    }
}

/// A link's contents: the settings, what the learner did (in a session
/// they drive), and the step to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkText {
    pub settings: Settings,
    pub actions: Vec<Acted>,
    pub step: Option<usize>,
}

impl LinkText {
    /// The link in its usual order: the settings, then `acts=`, then the step.
    pub fn to_link(&self) -> String {
        link_of(&self.settings, &self.actions, self.step)
    }
}

/// A session's link: its settings, the learner's actions and a step.
pub fn link_of(settings: &Settings, actions: &[Acted], step: Option<usize>) -> String {
    let mut parts: Vec<String> = vec![settings.to_link(None)];
    if !actions.is_empty() {
        parts.push(format!("acts={}", actions::to_link(actions)));
    }
    parts.extend(step.map(|s| format!("step={s}")));
    parts.retain(|p| !p.is_empty());
    parts.join("&")
}

/// The ports a learner usually picks, for the page's menu.
const USUAL_PORTS: [(&str, &str); 4] = [
    ("25", "25: relay, server to server (RFC 5321)"),
    ("587", "587: submission with STARTTLS (RFC 6409)"),
    ("465", "465: submission with implicit TLS (RFC 8314 §3.3)"),
    ("2525", "2525: no RFC assigns it to mail; some providers offer it"),
];

/// What a link value may hold beyond letters and digits without being escaped (`@`, `/`, `,` stay readable).
const LINK_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'@').remove(b'/').remove(b',');

impl Settings {
    /// Every knob of every group, for the page's form (ports with the usual ones as options).
    pub fn all_fields() -> Vec<Field> {
        let mut fields = Settings::fields();
        for f in &mut fields {
            f.section = Section::of(&f.name);
            f.section_title = f.section.title();
        }
        for f in fields.iter_mut().filter(|f| f.kind == Kind::Number) {
            f.options = USUAL_PORTS.iter().map(|&(id, title)| MenuItem { id, title }).collect();
        }
        fields
    }

    /// Reads a link: `preset=strip-587-opportunistic&step=5`, or
    /// `port=587&policy=opportunistic&attack=strip`, or a bare lesson id.
    /// A leading `#` or `?` is ignored. Unknown names are errors, not ignored.
    pub fn from_link(text: &str) -> Result<LinkText, SettingsError> {
        let text = text.trim().trim_start_matches(['#', '?']);
        let mut link = LinkText::default();
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
                    reason: BadValue::Step,
                })?;
                link.step = Some(step);
            } else if name == "acts" {
                link.actions = actions::from_link(&value)?;
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
        let mut parts: Vec<String> =
            pairs.into_iter().map(|(name, _, value)| format!("{name}={}", utf8_percent_encode(&value, LINK_VALUE))).collect();
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

/// A link's text decoded: percent-escapes, and `+` as a space (as forms send it).
fn decode(text: &str) -> String {
    percent_decode_str(&text.replace('+', " ")).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::matrix::{Column, Row};

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
    fn hop_two_has_the_same_knobs_as_hop_one_under_a_prefix() {
        let s =
            Settings::from_link("journey=1&hop2-policy=require-starttls&hop2-validate=enforce&hop2-cert=expired&hop2-auth=always").unwrap();
        let hop2 = &s.settings.journey.hop2;
        assert_eq!((hop2.client.policy, hop2.client.validate), (Some(TlsPolicy::RequireStartTls), Some(Validation::Enforce)));
        assert_eq!((hop2.server.cert, hop2.server.auth), (Some(IdentityKind::Expired), Some(AuthPolicy::Always)));
        assert_eq!(
            s.settings.to_link(None),
            "journey=1&hop2-auth=always&hop2-cert=expired&hop2-policy=require-starttls&hop2-validate=enforce"
        );
        let names: Vec<String> = Settings::fields().into_iter().map(|f| f.name).collect();
        for f in ServerSettings::fields().into_iter().chain(ClientSettings::fields()) {
            assert!(names.contains(&format!("hop2-{}", f.name)), "hop2-{}", f.name);
        }
        let err = Settings::from_link("hop2-policy=nope").unwrap_err().to_string();
        assert!(err.starts_with("--hop2-policy \"nope\": no client policy"), "{err}");
    }

    #[test]
    fn bad_links_are_errors_that_name_the_setting() {
        let err = |link: &str| Settings::from_link(link).unwrap_err();
        let bad = |link: &str| match err(link) {
            SettingsError::BadValue { setting, reason, .. } => (setting, reason),
            other => panic!("{link}: {other:?}"),
        };
        assert_eq!(err("colour=red").to_string(), "unknown setting \"colour\"");
        assert!(
            err("attack=nope").to_string().starts_with("--attack \"nope\": no attack \"nope\"; one of: eavesdrop,"),
            "{}",
            err("attack=nope")
        );
        assert_eq!(bad("port=0"), ("port".into(), BadValue::Port));
        assert_eq!(bad("port=x"), ("port".into(), BadValue::Port));
        assert!(matches!(bad("cell=strip").1, BadValue::Cell(CellError::NotACell(_))));
        assert!(matches!(bad("cell=port-block@plain").1, BadValue::Cell(CellError::DoesNotApply(_))));
        assert!(matches!(bad("lenient-end-of-data=lf-dot-crlf,x").1, BadValue::Name(UnknownName { what: "end-of-data variant", .. })));
        assert_eq!(err("port=25&port=587").to_string(), "--port is given twice");
        assert_eq!(bad("step=-1").1, BadValue::Step);
        assert_eq!(bad("require-tls=maybe").1, BadValue::Switch);
        assert_eq!(bad("seed=-1").1, BadValue::Seed);
        assert_eq!(bad("seed=18446744073709551616").1, BadValue::Seed);
        assert!(matches!(err("%ZZ=1"), SettingsError::Unknown { .. }));
        assert!(matches!(bad("validate=sometimes").1, BadValue::Name(UnknownName { what: "certificate check", .. })));
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

    #[test]
    fn link_values_are_escaped_as_they_always_were() {
        assert_eq!(utf8_percent_encode("a b&c=d@e/f,g~h", LINK_VALUE).to_string(), "a%20b%26c%3Dd@e/f,g~h");
        assert_eq!(decode("a+b%26c%zz"), "a b&c%zz");
    }
}
