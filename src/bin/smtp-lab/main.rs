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
use smtp_lab::settings::Settings;
use smtp_lab::vocab::Choice;

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
        /// With any of these, every cell runs on its hop of a whole journey (a 25 column's as hop 2).
        #[command(flatten)]
        hop2: smtp_lab::settings::HopSettings,
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
        #[arg(long, default_value = smtp_lab::names::SERVER_NAME)]
        hostname: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    /// A Mermaid sequenceDiagram.
    Mermaid,
    /// Every TLS record dissected: what the path sees, and what is inside (opened with the session's keys).
    Tls,
}

#[derive(Clone, Copy, ValueEnum)]
enum TableFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Every knob of the session, named as in the lab's links.
    #[command(flatten)]
    settings: Settings,
    /// Client credentials, USER:PASSWORD (the server's account is set to match unless --server-user is given).
    #[arg(long)]
    user: Option<String>,
    /// The account the server knows, USER:PASSWORD.
    #[arg(long)]
    server_user: Option<String>,
    /// Envelope sender.
    #[arg(long)]
    from: Option<String>,
    /// Envelope recipients.
    #[arg(long)]
    to: Vec<String>,
    /// File with the message (headers and body); CRLF line endings are added where missing.
    #[arg(long)]
    message_file: Option<std::path::PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also write the session as a packet capture (pcap) here.
    #[arg(long)]
    pcap: Option<std::path::PathBuf>,
    /// Also write the TLS secrets here (NSS key log), for Wireshark to decrypt the capture.
    #[arg(long)]
    keylog: Option<std::path::PathBuf>,
}

fn split_user(s: &str) -> Result<(String, Secret), String> {
    s.split_once(':').map(|(u, p)| (u.to_owned(), Secret::new(p))).ok_or_else(|| format!("expected USER:PASSWORD, got {s:?}"))
}

/// Turns the flags into a scenario: the shared [`Settings`] (which the lab's
/// links use too), then what only a command line sets.
fn scenario(a: &RunArgs) -> Result<Scenario, String> {
    let mut s = smtp_lab::assemble::scenario(&a.settings).map_err(|e| e.to_string())?;
    if let Some(user) = &a.user {
        let (username, password) = split_user(user)?;
        if !a.settings.client.no_auth {
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
        if let Some(attack) = s.attack.filter(|a| a.smuggle_sequence().is_some()) {
            return Err(format!("--message-file conflicts with the attack {attack}: a smuggling sender writes its own message"));
        }
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
    let pki = Pki::lab();
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
                Format::Text => emit(&smtp_lab::export::text(&trace, &findings)),
                Format::Json => emit(&smtp_lab::export::json(&scenario, &trace, &findings)),
                Format::Mermaid => emit(&smtp_lab::export::mermaid(&trace, &findings)),
                Format::Tls => {
                    emit(&smtp_lab::export::tls(&trace, &pki.at(&scenario.server.hostname).identity(scenario.server_identity).chain))
                }
            }
        }
        Commands::Matrix { format, hop2 } => {
            let m = if hop2.is_set() {
                // Any cell shows a bad combination of settings; then every cell is sure to run.
                let first = smtp_lab::matrix::CellId::all().next().expect("the matrix has cells");
                if let Err(e) = smtp_lab::assemble::journey_cell(first, &hop2) {
                    eprintln!("smtp-lab: {e}");
                    return ExitCode::from(2);
                }
                smtp_lab::matrix::run_with(&pki, |id| smtp_lab::assemble::journey_cell(id, &hop2).ok().flatten())
            } else {
                smtp_lab::matrix::run(&pki)
            };
            match format {
                TableFormat::Text => emit(&m.to_text()),
                TableFormat::Json => emit(&format!("{}\n", serde_json::to_string_pretty(&m).unwrap_or_default())),
            }
        }
        Commands::Presets => {
            for p in smtp_lab::preset::all() {
                emit(&format!("{:28} {}\n{:28} {}\n\n", p.id, p.title, "", p.description));
            }
        }
        Commands::Serve(_) | Commands::Send(_) | Commands::Probe(_) | Commands::Cert { .. } => unreachable!("handled above"),
        Commands::Attacks => {
            for a in Attack::ALL {
                let i = a.info();
                emit(&format!(
                    "{:28} {}\n{:28} Who: {}\n{:28} {}\n{:28} {}\n\n",
                    i.id,
                    i.title,
                    "",
                    i.threat,
                    "",
                    i.explanation,
                    "",
                    i.references.join("; ")
                ));
            }
        }
    }
    ExitCode::SUCCESS
}

/// Writes to standard output; a reader that went away (`| head`) is not an error worth a panic.
fn emit(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
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
