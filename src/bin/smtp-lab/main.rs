//! The command-line driver: runs sessions in memory and prints what happened,
//! or puts the machines on real sockets.

mod net;
mod probe;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use smtp_lab::attack::Attack;
use smtp_lab::codec::Secret;
use smtp_lab::pki::Pki;
use smtp_lab::scenario::Scenario;
use smtp_lab::server::Account;
use smtp_lab::settings::{ServerTls, Settings};

#[derive(Parser)]
#[command(name = "smtp-lab", version, about = "See how email is secured on the wire")]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// Run one SMTP session between the simulated client and server and print it.
    Run(Box<RunArgs>),
    /// Run every attack against every client policy and print the outcomes.
    Matrix {
        #[arg(long, value_enum, default_value_t = TableFormat::Text)]
        format: TableFormat,
    },
    /// List the named lessons (use one with `run --preset ID`).
    Presets,
    /// List the attacks (use one with `run --attack ID`).
    Attacks,
    /// Run the server machine on a real TCP socket.
    Serve(Box<net::ServeArgs>),
    /// Send one message to a real SMTP server with the client machine.
    Send(Box<net::SendArgs>),
    /// Check a real server for STARTTLS, AUTH-before-TLS, command injection and smuggling.
    Probe(Box<probe::ProbeArgs>),
    /// Write a test CA and a server certificate and key as PEM files (for real servers).
    Cert {
        /// Directory for ca.pem, server.pem (chain) and server.key.
        #[arg(long)]
        out: std::path::PathBuf,
        #[arg(long, default_value = smtp_lab::pki::SERVER_NAME)]
        hostname: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    /// A Mermaid sequenceDiagram.
    Mermaid,
}

#[derive(Clone, Copy, ValueEnum)]
enum TableFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Start from a named lesson (see `presets`); other flags then change it.
    #[arg(long)]
    preset: Option<String>,
    /// Put an attacker on the wire (see `attacks`).
    #[arg(long)]
    attack: Option<String>,
    /// Server bug CVE-2011-0411: keep bytes that followed STARTTLS.
    #[arg(long)]
    server_keeps_buffer: bool,
    /// Server bug: keep HELO and AUTH state across STARTTLS.
    #[arg(long)]
    server_keeps_state: bool,
    /// Server accepts these bare-CR/LF end-of-data variants (smuggling): lf-dot-crlf, lf-dot-lf, cr-dot-crlf, crlf-dot-lf, all.
    #[arg(long, value_delimiter = ',')]
    lenient_end_of_data: Vec<String>,
    /// Client bug: keep bytes that followed the 220 to STARTTLS.
    #[arg(long)]
    client_keeps_buffer: bool,
    /// Client bug: skip the second EHLO after STARTTLS.
    #[arg(long)]
    client_reuses_capabilities: bool,
    /// Port the client connects to; picks the usual setup (25 relay, 587/2525 submission, 465 implicit TLS).
    #[arg(long)]
    port: Option<u16>,
    /// Server role (default: from the port).
    #[arg(long, value_enum)]
    role: Option<RoleArg>,
    /// Client TLS policy (default: from the port).
    #[arg(long, value_enum)]
    policy: Option<PolicyArg>,
    /// How the server does TLS (default: from the port).
    #[arg(long, value_enum)]
    server_tls: Option<ServerTls>,
    /// When the server accepts AUTH (default: from the role).
    #[arg(long, value_enum)]
    auth: Option<AuthArg>,
    /// Server refuses mail commands until STARTTLS (530).
    #[arg(long)]
    require_tls: bool,
    /// Client validates the server certificate.
    #[arg(long, overrides_with = "no_validate")]
    validate: bool,
    /// Client does not enforce certificate validation.
    #[arg(long)]
    no_validate: bool,
    /// Certificate the server presents (default: a valid one, or the preset's).
    #[arg(long, value_enum)]
    cert: Option<CertArg>,
    /// Client credentials, USER:PASSWORD (the server's account is set to match unless --server-user is given).
    #[arg(long)]
    user: Option<String>,
    /// The account the server knows, USER:PASSWORD.
    #[arg(long)]
    server_user: Option<String>,
    /// Client does not authenticate.
    #[arg(long)]
    no_auth: bool,
    /// SASL mechanism (default: PLAIN, or the preset's).
    #[arg(long, value_enum)]
    mechanism: Option<MechArg>,
    /// Envelope sender.
    #[arg(long)]
    from: Option<String>,
    /// Envelope recipients.
    #[arg(long)]
    to: Vec<String>,
    /// File with the message (headers and body); CRLF line endings are added where missing.
    #[arg(long)]
    message_file: Option<std::path::PathBuf>,
    /// Do not pipeline even if the server offers PIPELINING.
    #[arg(long)]
    no_pipelining: bool,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also write the session as a packet capture (pcap) here.
    #[arg(long)]
    pcap: Option<std::path::PathBuf>,
    /// Also write the TLS secrets here (NSS key log), for Wireshark to decrypt the capture.
    #[arg(long)]
    keylog: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Relay,
    Submission,
    Submissions,
}
#[derive(Clone, Copy, ValueEnum)]
enum PolicyArg {
    Plain,
    Opportunistic,
    RequireStarttls,
    Implicit,
}
#[derive(Clone, Copy, ValueEnum)]
enum AuthArg {
    Never,
    AfterTls,
    Always,
}
#[derive(Clone, Copy, ValueEnum)]
enum CertArg {
    Valid,
    SelfSigned,
    WrongName,
    UntrustedCa,
    Expired,
}
#[derive(Clone, Copy, ValueEnum)]
enum MechArg {
    Plain,
    Login,
}

fn split_user(s: &str) -> Result<(String, Secret), String> {
    s.split_once(':').map(|(u, p)| (u.to_owned(), Secret::new(p))).ok_or_else(|| format!("expected USER:PASSWORD, got {s:?}"))
}

/// Turns the flags into a scenario: the shared [`Settings`] (which the lab's
/// deep links use too), then what only a command line sets.
fn scenario(a: &RunArgs) -> Result<Scenario, String> {
    let settings = Settings {
        preset: a.preset.clone(),
        cell: None,
        port: a.port,
        role: a.role.map(Into::into),
        policy: a.policy.map(Into::into),
        server_tls: a.server_tls,
        auth: a.auth.map(Into::into),
        require_tls: a.require_tls,
        validate: if a.no_validate { Some(false) } else { a.validate.then_some(true) },
        cert: a.cert.map(Into::into),
        attack: a.attack.clone(),
        server_keeps_buffer: a.server_keeps_buffer,
        server_keeps_state: a.server_keeps_state,
        lenient_end_of_data: a.lenient_end_of_data.clone(),
        client_keeps_buffer: a.client_keeps_buffer,
        client_reuses_capabilities: a.client_reuses_capabilities,
        no_auth: a.no_auth,
        mechanism: a.mechanism.map(Into::into),
        no_pipelining: a.no_pipelining,
    };
    let mut s = settings.scenario().map_err(|e| format!("{e}; see `smtp-lab presets` and `smtp-lab attacks`"))?;
    if let Some(user) = &a.user {
        let (username, password) = split_user(user)?;
        if !a.no_auth {
            let creds =
                s.client.credentials.get_or_insert_with(|| Scenario::submission().client.credentials.expect("submission has credentials"));
            creds.username = username.clone();
            creds.password = password.clone();
        }
        s.server.accounts = vec![Account { username, password }];
    }
    if let Some(user) = &a.server_user {
        let (username, password) = split_user(user)?;
        s.server.accounts = vec![Account { username, password }];
    }
    if let Some(from) = &a.from {
        s.client.from = from.clone();
    }
    if !a.to.is_empty() {
        s.client.to = a.to.clone();
    }
    if let Some(path) = &a.message_file {
        let raw = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        s.client.message = to_crlf(&raw);
    }
    Ok(s)
}

/// Normalises line endings to CRLF, as a mail client does before sending.
fn to_crlf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 32);
    for (i, &b) in raw.iter().enumerate() {
        if b == b'\n' && (i == 0 || raw[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Commands::Serve(args) => return report(net::serve(args).map(|()| true)),
        Commands::Send(args) => return report(net::send(args)),
        Commands::Probe(args) => return report(probe::probe(args)),
        Commands::Cert { out, hostname } => return report(net::write_cert(out, hostname).map(|()| true)),
        _ => {}
    }
    let pki = match Pki::generate(smtp_lab::pki::SERVER_NAME) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("smtp-lab: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Commands::Run(args) => {
            let scenario = match scenario(&args) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("smtp-lab: {e}");
                    return ExitCode::from(2);
                }
            };
            let trace = scenario.run(&pki);
            let writes = [(&args.pcap, smtp_lab::pcap::capture(&trace)), (&args.keylog, smtp_lab::pcap::key_log_file(&trace).into_bytes())];
            for (path, bytes) in writes {
                if let Some(path) = path {
                    if let Err(e) = std::fs::write(path, bytes) {
                        eprintln!("smtp-lab: {}: {e}", path.display());
                        return ExitCode::from(2);
                    }
                }
            }
            let findings = smtp_lab::outcome::analyse(&scenario, &trace);
            match args.format {
                Format::Text => print!("{}", smtp_lab::export::text(&trace, &findings)),
                Format::Json => print!("{}", smtp_lab::export::json(&scenario, &trace, &findings)),
                Format::Mermaid => print!("{}", smtp_lab::export::mermaid(&trace, &findings)),
            }
        }
        Commands::Matrix { format } => {
            let m = smtp_lab::matrix::run(&pki);
            match format {
                TableFormat::Text => print!("{}", m.to_text()),
                TableFormat::Json => println!("{}", serde_json::to_string_pretty(&m).expect("serialisable")),
            }
        }
        Commands::Presets => {
            for p in smtp_lab::preset::all() {
                println!("{:28} {}\n{:28} {}\n", p.id, p.title, "", p.description);
            }
        }
        Commands::Serve(_) | Commands::Send(_) | Commands::Probe(_) | Commands::Cert { .. } => unreachable!("handled above"),
        Commands::Attacks => {
            for a in Attack::ALL {
                let i = a.info();
                println!("{:28} {}\n{:28} {}\n{:28} {}\n", i.id, i.title, "", i.explanation, "", i.references.join("; "));
            }
        }
    }
    ExitCode::SUCCESS
}

/// Exit status for the socket commands: 0 on success, 1 when the session did not deliver, 2 on an error.
fn report(result: Result<bool, String>) -> ExitCode {
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("smtp-lab: {e}");
            ExitCode::from(2)
        }
    }
}
