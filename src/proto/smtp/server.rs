//! The SMTP server machine (RFC 5321, with PIPELINING RFC 2920, STARTTLS
//! RFC 3207, AUTH RFC 4954, and the port roles of RFC 6409 and RFC 8314).
//!
//! Input is processed strictly in order, one line (or DATA body) at a time, so
//! pipelined commands get their replies in order and whatever follows STARTTLS
//! stays buffered for the endpoint to discard.

use std::collections::VecDeque;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::bytes::Bytes;
use crate::proto::machine::{Machine, Output};
use crate::proto::policy::spf::{check_host, Resolver, SpfCheck};
use crate::proto::smtp::codec::sasl::SaslError;
use crate::proto::smtp::codec::EodVariant;
use crate::proto::smtp::codec::{
    limits, sasl, AuthLine, Capabilities, Command, CommandError, DataReader, DataSummary, EndOfData, EnhancedCode, Extension, LineError,
    LineReader, Mechanism, Reply, Secret, Verb,
};
use crate::proto::tls_info::{TlsError, TlsInfo};
use crate::vocab::as_text;
use crate::vocab::named;

named! {
    /// Which job the server does, and so which port it normally listens on.
    pub enum Role ("server role") {
        Relay = "relay",
        Submission = "submission",
        Submissions = "submissions",
    }
}

impl Role {
    pub fn default_port(self) -> u16 {
        match self {
            Role::Relay => 25,
            Role::Submission => 587,
            Role::Submissions => 465,
        }
    }
}

named! {
    /// When the server accepts AUTH.
    pub enum AuthPolicy ("AUTH policy") {
        Never = "never",
        /// Before TLS the server answers AUTH with 538 (RFC 4954 §6).
        AfterTls = "after-tls",
        Always = "always",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub username: String,
    pub password: Secret,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerConfig {
    pub hostname: String,
    pub role: Role,
    /// Offer STARTTLS (port 25 and 587 roles).
    pub starttls: bool,
    pub auth: AuthPolicy,
    /// Refuse everything but EHLO/HELO/STARTTLS/NOOP/RSET/QUIT until TLS (530).
    pub require_tls: bool,
    /// Refuse MAIL until AUTH succeeded (submission).
    pub require_auth: bool,
    pub accounts: Vec<Account>,
    /// Domains this server accepts mail for without AUTH (relay role).
    pub local_domains: Vec<String>,
    pub max_message_size: usize,
    /// Which end-of-data sequences are accepted; strict unless a lesson says otherwise.
    pub end_of_data: EndOfData,
    /// Refuse a message with a line ending in a bare LF, with 550 (Postfix's
    /// `smtpd_forbid_bare_newline = reject`, postconf(5)).
    #[serde(default)]
    pub reject_bare_lf: bool,
    /// Offer REQUIRETLS (RFC 8689) in the EHLO reply inside TLS, and take the MAIL parameter.
    #[serde(default)]
    pub requiretls: bool,
    /// Forget HELO and AUTH at STARTTLS, as RFC 3207 §4.2 requires.
    pub reset_on_tls: bool,
    pub idle_timeout: Duration,
    /// Close after this many bad commands.
    pub max_errors: u32,
}

impl ServerConfig {
    /// The usual configuration for a role, as `hostname`: STARTTLS offered
    /// unless the role's TLS is implicit (RFC 8314 §3.3); a submission server
    /// takes AUTH inside TLS and wants it before MAIL (RFC 6409 §4.3), a relay
    /// takes no AUTH. It knows no accounts and takes mail for no domain until
    /// told ([`ServerConfig::accounts`], [`ServerConfig::local_domains`]).
    pub fn new(hostname: impl Into<String>, role: Role) -> Self {
        let submission = role != Role::Relay;
        ServerConfig {
            hostname: hostname.into(),
            role,
            starttls: role != Role::Submissions,
            auth: if submission { AuthPolicy::AfterTls } else { AuthPolicy::Never },
            require_tls: false,
            require_auth: submission,
            accounts: Vec::new(),
            local_domains: Vec::new(),
            max_message_size: 10 * 1024 * 1024,
            end_of_data: EndOfData::STRICT,
            reject_bare_lf: false,
            requiretls: false,
            reset_on_tls: true,
            idle_timeout: Duration::from_secs(300),
            max_errors: 20,
        }
    }
}

/// What a receiver needs to check SPF (RFC 7208 §2.4): the DNS, and who is connecting.
#[derive(Clone)]
pub struct SpfSetup {
    pub resolver: Arc<dyn Resolver + Send + Sync>,
    pub client_ip: IpAddr,
}

impl std::fmt::Debug for SpfSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpfSetup").field("client_ip", &self.client_ip).finish_non_exhaustive()
    }
}

/// A message the server took responsibility for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub from: String,
    pub to: Vec<String>,
    /// The client asked, with MAIL FROM's REQUIRETLS parameter, that every
    /// hop of this message use TLS (RFC 8689 §4.1).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_tls: bool,
}

/// What the server did, for traces and lessons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerEvent {
    CommandReceived {
        command: Command,
        under_tls: bool,
    },
    /// A line in answer to a 334 challenge.
    AuthLineReceived {
        line: AuthLine,
    },
    BadCommand {
        #[serde(serialize_with = "as_text")]
        error: CommandProblem,
    },
    ReplySent {
        reply: Reply,
    },
    StartTlsAccepted,
    AuthSucceeded {
        username: String,
        mechanism: Mechanism,
        under_tls: bool,
    },
    AuthFailed {
        username: Option<String>,
        #[serde(serialize_with = "as_text")]
        reason: AuthFailure,
    },
    MessageAccepted {
        queue_id: String,
        envelope: Envelope,
        body: Bytes,
        under_tls: bool,
        authenticated_as: Option<String>,
        /// The non-standard sequence that ended the data, when one did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ended_by: Option<EodVariant>,
    },
    /// The receiver checked the MAIL FROM domain's SPF record.
    SpfChecked {
        check: SpfCheck,
    },
    MessageRejected {
        #[serde(serialize_with = "as_text")]
        reason: Rejection,
        summary: DataSummary,
    },
    /// The peer closed the connection during DATA: the partial message is dropped.
    AbortedMidData {
        received: u64,
    },
    TimedOut,
    Closed,
}

/// Why a command line was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandProblem {
    #[error(transparent)]
    Command(#[from] CommandError),
    /// A command line over RFC 5321's limit (§4.5.3.1.4), with its length in octets.
    #[error("{octets} octets")]
    CommandTooLong { octets: usize },
    /// A line the framer cut for being over its limit.
    #[error("line over {limit} octets")]
    LineTooLong { limit: usize },
    #[error("AUTH line too long")]
    AuthLineTooLong,
    #[error("line ended with bare LF")]
    BareLf,
}

/// Why an AUTH exchange did not log anyone in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("cancelled by client")]
    Cancelled,
    #[error(transparent)]
    Undecodable(#[from] SaslError),
    #[error("wrong username or password")]
    WrongCredentials,
}

/// Why the server refused a message at the end of DATA; its text is the reply's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("Error: message file too big")]
    TooBig,
    #[error("Error: message line longer than 1000 octets")]
    LongLine,
    #[error("Error: bare <LF> received")]
    BareLf,
}

impl Rejection {
    /// The reply that says so.
    fn reply(self) -> Reply {
        let (code, e) = match self {
            Rejection::TooBig => (552, esc(5, 3, 4)),
            Rejection::LongLine => (500, esc(5, 5, 2)),
            Rejection::BareLf => (550, esc(5, 5, 2)),
        };
        Reply::new(code, e, self.to_string())
    }
}

/// Where the server machine is, for traces (its text is how every view shows it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerState {
    pub phase: ServerPhase,
    pub under_tls: bool,
    /// Whom AUTH logged in.
    pub user: Option<String>,
}

/// What the server is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerPhase {
    /// Before the greeting (with implicit TLS, before the handshake).
    NotStarted,
    AwaitingEhlo,
    Ready,
    InTransaction,
    AuthExchange,
    ReceivingData,
    TlsHandshake,
    Closed,
}

impl fmt::Display for ServerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.phase {
            ServerPhase::NotStarted => "not started",
            ServerPhase::InTransaction => "in transaction",
            ServerPhase::Ready => "ready",
            ServerPhase::AwaitingEhlo => "awaiting EHLO",
            ServerPhase::AuthExchange => "AUTH exchange",
            ServerPhase::ReceivingData => "receiving DATA",
            ServerPhase::TlsHandshake => "TLS handshake",
            ServerPhase::Closed => "closed",
        })?;
        if self.under_tls {
            f.write_str(" · TLS")?;
        }
        if let Some(u) = &self.user {
            write!(f, " · auth as {u}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
enum AuthStep {
    Plain,
    LoginUser,
    LoginPassword { username: String },
}

#[derive(Debug)]
enum ServerStage {
    /// Waiting for `connected` (implicit TLS: for the handshake).
    NotStarted,
    Command,
    Auth(AuthStep),
    Data(Box<DataReader>),
    /// 220 sent to STARTTLS; input is held until the endpoint takes it.
    TlsPending,
    Closed,
}

#[derive(Debug, Default)]
struct Transaction {
    from: String,
    to: Vec<String>,
    require_tls: bool,
}

/// The text RFC 3207 §4 gives the 530 a server sends before STARTTLS.
pub(crate) const MUST_STARTTLS: &str = "Must issue a STARTTLS command first";

/// The EHLO keyword and MAIL parameter of RFC 8689 (the same word).
pub const REQUIRETLS: &str = "REQUIRETLS";

/// The server machine. See [`Machine`] for how to drive it.
#[derive(Debug)]
pub struct Server {
    config: ServerConfig,
    /// Checks each MAIL FROM's SPF record, when set ([`Server::checking_spf`]).
    spf: Option<SpfSetup>,
    phase: ServerStage,
    lines: LineReader,
    out: VecDeque<Output<ServerEvent>>,
    helo: Option<String>,
    tls: bool,
    user: Option<String>,
    tx: Option<Transaction>,
    errors: u32,
    last_input: Duration,
    messages: u64,
}

const fn esc(class: u8, subject: u16, detail: u16) -> Option<EnhancedCode> {
    Some(EnhancedCode::new(class, subject, detail))
}

impl Server {
    pub fn new(config: ServerConfig) -> Self {
        Server {
            config,
            spf: None,
            phase: ServerStage::NotStarted,
            lines: LineReader::new(limits::AUTH_LINE),
            out: VecDeque::new(),
            helo: None,
            tls: false,
            user: None,
            tx: None,
            errors: 0,
            last_input: Duration::ZERO,
            messages: 0,
        }
    }

    /// The same server, checking the SPF record of each MAIL FROM domain for
    /// the client `setup` names (RFC 7208 §2.4), and reporting it ([`ServerEvent::SpfChecked`]).
    pub fn checking_spf(self, setup: SpfSetup) -> Self {
        Server { spf: Some(setup), ..self }
    }

    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Input bytes held but not yet processed; bounded by the line limit.
    pub fn buffered_input(&self) -> usize {
        self.lines.buffered_len()
    }

    /// The capabilities this server advertises right now.
    pub fn capabilities(&self) -> Capabilities {
        let c = &self.config;
        let mut ext = vec![Extension::Pipelining, Extension::Size { limit: Some(c.max_message_size as u64) }];
        if c.starttls && !self.tls {
            ext.push(Extension::StartTls);
        }
        let auth_now = match c.auth {
            AuthPolicy::Never => false,
            AuthPolicy::AfterTls => self.tls,
            AuthPolicy::Always => true,
        };
        if auth_now && self.user.is_none() {
            ext.push(Extension::Auth { mechanisms: vec!["PLAIN".into(), "LOGIN".into()] });
        }
        ext.extend([Extension::EnhancedStatusCodes, Extension::EightBitMime]);
        if c.requiretls && self.tls {
            ext.push(Extension::Other { name: REQUIRETLS.into(), params: Vec::new() });
        }
        Capabilities { greeting: c.hostname.clone(), extensions: ext }
    }

    fn reply(&mut self, reply: Reply) {
        // Replies echo the client's text (its EHLO name, an unknown parameter): keep every line legal.
        let reply = reply.fitted();
        self.out.push_back(Output::Send(reply.to_bytes()));
        self.out.push_back(Output::Event(ServerEvent::ReplySent { reply }));
    }

    fn say(&mut self, code: u16, e: Option<EnhancedCode>, text: &str) {
        self.reply(Reply::new(code, e, text));
    }

    fn event(&mut self, e: ServerEvent) {
        self.out.push_back(Output::Event(e));
    }

    fn close(&mut self) {
        self.phase = ServerStage::Closed;
        self.lines.take_buffered(); // nothing more will be read
        self.event(ServerEvent::Closed);
        self.out.push_back(Output::Close);
    }

    /// A protocol error from the client; too many of them end the session.
    fn error(&mut self, code: u16, e: Option<EnhancedCode>, text: &str, why: impl Into<CommandProblem>) {
        let why = why.into();
        self.event(ServerEvent::BadCommand { error: why });
        self.say(code, e, text);
        self.errors += 1;
        if self.errors >= self.config.max_errors {
            self.say(421, esc(4, 7, 0), &format!("{} Error: too many errors", self.config.hostname));
            self.close();
        }
    }

    fn process_lines(&mut self) {
        loop {
            match self.phase {
                ServerStage::Command | ServerStage::Auth(_) => {}
                ServerStage::Data(_) => {
                    let rest = self.lines.take_buffered();
                    let used = self.feed_data(&rest);
                    self.lines.push(&rest[used..]);
                    if matches!(self.phase, ServerStage::Data(_)) {
                        return;
                    }
                    continue;
                }
                ServerStage::NotStarted | ServerStage::TlsPending | ServerStage::Closed => return,
            }
            let Some(line) = self.lines.next_line() else { return };
            match line {
                Ok(line) => self.handle_line(&line),
                Err(LineError::TooLong { .. }) if matches!(self.phase, ServerStage::Auth(_)) => {
                    self.phase = ServerStage::Command;
                    self.error(500, esc(5, 5, 6), "Authentication Exchange line is too long", CommandProblem::AuthLineTooLong);
                }
                Err(LineError::TooLong { limit }) => {
                    self.error(500, esc(5, 5, 2), "Error: line too long", CommandProblem::LineTooLong { limit })
                }
                Err(LineError::BareLf) => self.error(500, esc(5, 5, 2), "Error: bare <LF> received", CommandProblem::BareLf),
            }
        }
    }

    fn handle_line(&mut self, line: &[u8]) {
        if let ServerStage::Auth(step) = &self.phase {
            let step = step.clone();
            self.phase = ServerStage::Command;
            return self.auth_line(step, line);
        }
        let is_auth = line.len() >= 5 && line[..5].eq_ignore_ascii_case(b"AUTH ");
        if line.len() + 2 > limits::COMMAND_LINE && !is_auth {
            return self.error(500, esc(5, 5, 2), "Error: line too long", CommandProblem::CommandTooLong { octets: line.len() + 2 });
        }
        match Command::parse(line) {
            Ok(cmd) => {
                self.event(ServerEvent::CommandReceived { command: cmd.clone(), under_tls: self.tls });
                self.command(cmd);
            }
            Err(e @ (CommandError::Unrecognized(_) | CommandError::NotText)) => {
                self.error(500, esc(5, 5, 2), "Error: command not recognized", e)
            }
            Err(e @ CommandError::BadAddress { verb }) => {
                let (d, what) = if verb == Verb::Mail { (7, "sender") } else { (3, "recipient") };
                self.error(501, esc(5, 1, d), &format!("Error: bad {what} address syntax"), e)
            }
            Err(e @ CommandError::Syntax { .. }) => self.error(501, esc(5, 5, 4), &format!("Syntax error: {e}"), e),
        }
    }

    fn command(&mut self, cmd: Command) {
        let tls_gate = self.config.require_tls && !self.tls;
        match cmd {
            Command::Ehlo { domain } => {
                self.helo = Some(domain.clone());
                self.tx = None;
                let mut reply = self.capabilities().to_reply();
                reply.lines[0] = format!("{} Hello {domain}", self.config.hostname);
                self.reply(reply);
            }
            Command::Helo { domain } => {
                self.helo = Some(domain);
                self.tx = None;
                let name = self.config.hostname.clone();
                self.say(250, None, &name);
            }
            Command::StartTls => self.starttls(),
            Command::Noop { .. } => self.say(250, esc(2, 0, 0), "Ok"),
            Command::Rset => {
                self.tx = None;
                self.say(250, esc(2, 0, 0), "Ok");
            }
            Command::Quit => {
                self.say(221, esc(2, 0, 0), "Bye");
                self.close();
            }
            Command::Help { .. } => self.say(214, esc(2, 0, 0), "See RFC 5321"),
            _ if tls_gate => self.say(530, esc(5, 7, 0), MUST_STARTTLS),
            Command::Vrfy { .. } => self.say(252, esc(2, 0, 0), "Cannot VRFY user, but will accept message"),
            Command::Auth { mechanism, initial_response } => self.auth(&mechanism, initial_response),
            Command::Mail { from, params } => self.mail(from, &params),
            Command::Rcpt { to, .. } => self.rcpt(to),
            Command::Data => self.data(),
        }
    }

    fn starttls(&mut self) {
        if !self.config.starttls {
            return self.say(502, esc(5, 5, 1), "Error: command not implemented");
        }
        if self.tls {
            return self.say(554, esc(5, 5, 1), "Error: TLS already active");
        }
        self.say(220, esc(2, 0, 0), "Ready to start TLS");
        self.event(ServerEvent::StartTlsAccepted);
        self.phase = ServerStage::TlsPending;
        self.out.push_back(Output::StartTls);
    }

    fn auth(&mut self, mechanism: &str, initial: Option<String>) {
        if self.helo.is_none() {
            return self.say(503, esc(5, 5, 1), "Error: send HELO/EHLO first");
        }
        match self.config.auth {
            AuthPolicy::Never => return self.say(503, esc(5, 5, 1), "Error: authentication not enabled"),
            AuthPolicy::AfterTls if !self.tls => {
                return self.say(538, esc(5, 7, 11), "Encryption required for requested authentication mechanism")
            }
            _ => {}
        }
        if self.user.is_some() {
            return self.say(503, esc(5, 5, 1), "Error: already authenticated");
        }
        if self.tx.is_some() {
            return self.say(503, esc(5, 5, 1), "Error: MAIL transaction in progress");
        }
        match (Mechanism::from_name(mechanism), initial) {
            (Some(Mechanism::Plain), Some(ir)) => self.auth_line(AuthStep::Plain, ir.as_bytes()),
            (Some(Mechanism::Plain), None) => {
                self.phase = ServerStage::Auth(AuthStep::Plain);
                self.say(334, None, "");
            }
            (Some(Mechanism::Login), Some(ir)) => self.auth_line(AuthStep::LoginUser, ir.as_bytes()),
            (Some(Mechanism::Login), None) => {
                self.phase = ServerStage::Auth(AuthStep::LoginUser);
                self.say(334, None, sasl::LOGIN_USERNAME_PROMPT);
            }
            (None, _) => self.say(504, esc(5, 5, 4), "Unrecognized authentication type"),
        }
    }

    fn auth_line(&mut self, step: AuthStep, line: &[u8]) {
        let b64 = match AuthLine::parse(line) {
            Ok(AuthLine::Cancel) => {
                self.event(ServerEvent::AuthLineReceived { line: AuthLine::Cancel });
                self.event(ServerEvent::AuthFailed { username: None, reason: AuthFailure::Cancelled });
                return self.say(501, esc(5, 7, 0), "Authentication aborted");
            }
            Ok(AuthLine::Response(b64)) => b64,
            Err(_) => return self.say(501, esc(5, 5, 2), "Cannot decode response"),
        };
        self.event(ServerEvent::AuthLineReceived { line: AuthLine::Response(b64.clone()) });
        let (mechanism, decoded) = match step {
            AuthStep::Plain => (Mechanism::Plain, sasl::parse_plain(&b64)),
            AuthStep::LoginUser => {
                return match sasl::decode_text(&b64) {
                    Ok(username) => {
                        self.phase = ServerStage::Auth(AuthStep::LoginPassword { username });
                        self.say(334, None, sasl::LOGIN_PASSWORD_PROMPT)
                    }
                    Err(_) => self.say(501, esc(5, 5, 2), "Cannot decode response"),
                };
            }
            AuthStep::LoginPassword { username } => (Mechanism::Login, sasl::decode_text(&b64).map(|p| (username, Secret::new(p)))),
        };
        let (username, password) = match decoded {
            Ok(pair) => pair,
            Err(e) => {
                self.event(ServerEvent::AuthFailed { username: None, reason: e.into() });
                return self.say(501, esc(5, 5, 2), "Cannot decode response");
            }
        };
        let ok = self.config.accounts.iter().any(|a| a.username == username && a.password == password);
        if ok {
            self.user = Some(username.clone());
            self.event(ServerEvent::AuthSucceeded { username, mechanism, under_tls: self.tls });
            self.say(235, esc(2, 7, 0), "Authentication successful");
        } else {
            self.event(ServerEvent::AuthFailed { username: Some(username), reason: AuthFailure::WrongCredentials });
            self.say(535, esc(5, 7, 8), "Error: authentication failed");
        }
    }

    fn mail(&mut self, from: String, params: &[crate::proto::smtp::codec::Param]) {
        if self.helo.is_none() {
            return self.say(503, esc(5, 5, 1), "Error: send HELO/EHLO first");
        }
        if self.config.require_auth && self.user.is_none() {
            return self.say(530, esc(5, 7, 0), "Authentication required");
        }
        if self.tx.is_some() {
            return self.say(503, esc(5, 5, 1), "Error: nested MAIL command");
        }
        let mut require_tls = false;
        for p in params {
            match (p.keyword.as_str(), p.value.as_deref()) {
                // Only inside TLS, where this server offers it.
                (REQUIRETLS, None) if self.config.requiretls && self.tls => require_tls = true,
                ("SIZE", Some(v)) => match v.parse::<u64>() {
                    Ok(n) if n > self.config.max_message_size as u64 => {
                        return self.say(552, esc(5, 3, 4), "Message size exceeds fixed limit")
                    }
                    Ok(_) => {}
                    Err(_) => return self.say(501, esc(5, 5, 4), "Bad SIZE parameter"),
                },
                ("BODY", Some(v)) if v.eq_ignore_ascii_case("7BIT") || v.eq_ignore_ascii_case("8BITMIME") => {}
                ("AUTH", Some(_)) => {}
                (k, _) => return self.say(555, esc(5, 5, 4), &format!("Unsupported option: {k}")),
            }
        }
        if let Some(spf) = &self.spf {
            let check = check_host(spf.resolver.as_ref(), spf.client_ip, &from);
            self.event(ServerEvent::SpfChecked { check });
        }
        self.tx = Some(Transaction { from, to: Vec::new(), require_tls });
        self.say(250, esc(2, 1, 0), "Ok");
    }

    fn rcpt(&mut self, to: String) {
        let Some(tx) = &self.tx else {
            return self.say(503, esc(5, 5, 1), "Error: need MAIL command");
        };
        if tx.to.len() >= limits::MAX_RECIPIENTS {
            return self.say(452, esc(4, 5, 3), "Error: too many recipients");
        }
        let domain = to.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase());
        let local = match &domain {
            Some(d) => self.config.local_domains.iter().any(|l| l.eq_ignore_ascii_case(d)),
            None => true, // <Postmaster>
        };
        if !local && self.user.is_none() {
            return self.say(554, esc(5, 7, 1), &format!("<{to}>: Relay access denied"));
        }
        if let Some(tx) = &mut self.tx {
            tx.to.push(to);
        }
        self.say(250, esc(2, 1, 5), "Ok");
    }

    fn data(&mut self) {
        match &self.tx {
            None => self.say(503, esc(5, 5, 1), "Error: need RCPT command"),
            Some(tx) if tx.to.is_empty() => self.say(554, esc(5, 5, 1), "Error: no valid recipients"),
            Some(_) => {
                self.say(354, None, "End data with <CR><LF>.<CR><LF>");
                let reader = DataReader::new(self.config.end_of_data, self.config.max_message_size);
                self.phase = ServerStage::Data(Box::new(reader));
            }
        }
    }

    /// Feeds body bytes; returns how many were part of the body.
    fn feed_data(&mut self, bytes: &[u8]) -> usize {
        let ServerStage::Data(reader) = &mut self.phase else { return 0 };
        let used = reader.feed(bytes);
        if reader.is_done() {
            let ServerStage::Data(reader) = std::mem::replace(&mut self.phase, ServerStage::Command) else { unreachable!() };
            self.finish_message(*reader);
        }
        used
    }

    fn finish_message(&mut self, reader: DataReader) {
        let (body, summary) = reader.finish();
        let tx = self.tx.take().unwrap_or_default();
        let reject = if summary.oversize {
            Some(Rejection::TooBig)
        } else if summary.long_line {
            Some(Rejection::LongLine)
        } else if summary.bare_lf && self.config.reject_bare_lf {
            Some(Rejection::BareLf)
        } else {
            None
        };
        if let Some(reason) = reject {
            self.event(ServerEvent::MessageRejected { reason, summary });
            return self.reply(reason.reply());
        }
        self.messages += 1;
        let queue_id = format!("{:08X}", 0x5A17_0000 + self.messages);
        self.event(ServerEvent::MessageAccepted {
            queue_id: queue_id.clone(),
            envelope: Envelope { from: tx.from, to: tx.to, require_tls: tx.require_tls },
            body: Bytes(body),
            under_tls: self.tls,
            authenticated_as: self.user.clone(),
            ended_by: summary.ended_by,
        });
        self.say(250, esc(2, 0, 0), &format!("Ok: queued as {queue_id}"));
    }
}

impl Machine for Server {
    type Event = ServerEvent;
    type State = ServerState;

    fn connected(&mut self, now: Duration) {
        self.last_input = now;
        self.phase = ServerStage::Command;
        let greeting = format!("{} ESMTP smtp-lab", self.config.hostname);
        self.say(220, None, &greeting);
    }

    fn handle_input(&mut self, mut bytes: &[u8], now: Duration) {
        self.last_input = now;
        // Commands go through the line framer one line at a time, so that the
        // bytes after DATA reach the DATA reader as they came: the framer's
        // length cap must not cut a body line (the body may not depend on how
        // the bytes were read).
        loop {
            match self.phase {
                ServerStage::Closed => return,
                ServerStage::Data(_) if !bytes.is_empty() => {
                    let used = self.feed_data(bytes);
                    bytes = &bytes[used..];
                    if used == 0 {
                        return;
                    }
                }
                ServerStage::Command | ServerStage::Auth(_) if !bytes.is_empty() => {
                    let cut = bytes.iter().position(|&b| b == b'\n').map_or(bytes.len(), |i| i + 1);
                    self.lines.push(&bytes[..cut]);
                    bytes = &bytes[cut..];
                }
                // Before the greeting, or waiting for TLS: kept for take_buffered_input.
                _ => {
                    self.lines.push(bytes);
                    bytes = &[];
                }
            }
            self.process_lines();
            if bytes.is_empty() {
                return;
            }
        }
    }

    fn handle_timeout(&mut self, now: Duration) {
        if self.poll_timeout().is_some_and(|t| now >= t) {
            self.event(ServerEvent::TimedOut);
            let text = format!("{} Error: timeout exceeded", self.config.hostname);
            self.say(421, esc(4, 4, 2), &text);
            self.close();
        }
    }

    fn poll_timeout(&self) -> Option<Duration> {
        match self.phase {
            ServerStage::NotStarted | ServerStage::Closed | ServerStage::TlsPending => None,
            _ => Some(self.last_input + self.config.idle_timeout),
        }
    }

    fn poll_output(&mut self) -> Option<Output<ServerEvent>> {
        self.out.pop_front()
    }

    fn tls_started(&mut self, _info: &TlsInfo, now: Duration) {
        self.tls = true;
        self.last_input = now;
        if self.config.reset_on_tls {
            self.helo = None;
            self.user = None;
            self.tx = None;
        }
        if matches!(self.phase, ServerStage::TlsPending) {
            self.phase = ServerStage::Command;
            self.process_lines();
        }
    }

    fn tls_failed(&mut self, _error: &TlsError, _now: Duration) {
        if !matches!(self.phase, ServerStage::Closed) {
            self.close();
        }
    }

    fn peer_closed(&mut self, _now: Duration) {
        if let ServerStage::Data(reader) = &self.phase {
            let received = reader.received();
            self.event(ServerEvent::AbortedMidData { received });
        }
        if !matches!(self.phase, ServerStage::Closed) {
            self.close();
        }
    }

    fn take_buffered_input(&mut self) -> Vec<u8> {
        self.lines.take_buffered()
    }

    fn state(&self) -> ServerState {
        let phase = match &self.phase {
            ServerStage::NotStarted => ServerPhase::NotStarted,
            ServerStage::Command if self.tx.is_some() => ServerPhase::InTransaction,
            ServerStage::Command if self.helo.is_some() => ServerPhase::Ready,
            ServerStage::Command => ServerPhase::AwaitingEhlo,
            ServerStage::Auth(_) => ServerPhase::AuthExchange,
            ServerStage::Data(_) => ServerPhase::ReceivingData,
            ServerStage::TlsPending => ServerPhase::TlsHandshake,
            ServerStage::Closed => ServerPhase::Closed,
        };
        ServerState { phase, under_tls: self.tls, user: self.user.clone() }
    }

    fn is_closed(&self) -> bool {
        matches!(self.phase, ServerStage::Closed)
    }
}
