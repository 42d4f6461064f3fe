//! The command-line driver: runs sessions in memory and prints what happened,
//! or puts the machines on real sockets.

mod error;
mod net;
mod probe;
mod socket;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use error::CliError;
use smtp_lab::cite::Prose;
use smtp_lab::lab::Settings;
use smtp_lab::proto::{codec::Secret, Account};
use smtp_lab::sim::{world::Pki, Attack, Scenario};
use smtp_lab::vocab::Named;

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
        journey: smtp_lab::lab::JourneySettings,
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
        #[arg(long, default_value = smtp_lab::sim::world::SERVER_NAME)]
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
    /// The lab's notes on each step, each with the section it cites and that section's heading.
    Notes,
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
    /// Also write the TLS report (RFC 8460 §4.4) the sender would send here, when the domain asks for one.
    #[arg(long)]
    tlsrpt: Option<std::path::PathBuf>,
}

fn split_user(s: &str) -> Result<(String, Secret), CliError> {
    s.split_once(':').map(|(u, p)| (u.to_owned(), Secret::new(p))).ok_or_else(|| CliError::NotUserAndPassword(s.to_owned()))
}

/// Turns the flags into a scenario: the shared [`Settings`] (which the lab's
/// links use too), then what only a command line sets.
fn scenario(a: &RunArgs) -> Result<Scenario, CliError> {
    let mut s = smtp_lab::lab::assemble::scenario(&a.settings)?;
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
            return Err(CliError::OwnMessage(attack));
        }
        let raw = std::fs::read(path).map_err(CliError::file(path))?;
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

/// For `serve` and `send`, a flag that is a knob of `run` but not of that
/// command's side says so, instead of clap's "unexpected argument".
fn not_this_sides(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    use smtp_lab::lab::{ClientSettings, Knobs, ServerSettings, Settings};
    if e.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else { return None };
    let name = arg.strip_prefix("--")?.split('=').next()?;
    let (side, knobs) = match std::env::args().nth(1)?.as_str() {
        "serve" => ("server", ServerSettings::fields()),
        "send" => ("client", ClientSettings::fields()),
        _ => return None,
    };
    let knob = Settings::fields().into_iter().find(|f| f.name == name)?;
    (!knobs.iter().any(|f| f.name == name)).then(|| {
        format!(
            "--{name} is not a {side} setting: it belongs to {} ({}), which `smtp-lab run` simulates",
            knob.group.id(),
            knob.group_title
        )
    })
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => match not_this_sides(&e) {
            Some(why) => {
                eprintln!("smtp-lab: {why}");
                return ExitCode::from(2);
            }
            None => e.exit(),
        },
    };
    report(run_command(cli.command))
}

/// Runs one command: `Ok(false)` when a session on a socket did not deliver.
fn run_command(command: Commands) -> Result<bool, CliError> {
    match command {
        Commands::Serve(args) => net::serve(&args).map(|()| true),
        Commands::Send(args) => net::send(&args),
        Commands::Probe(args) => probe::probe(&args),
        Commands::Cert { out, hostname } => net::write_cert(&out, &hostname).map(|()| true),
        Commands::Run(args) => {
            let pki = Pki::lab();
            let scenario = scenario(&args)?;
            let trace = scenario.run(&pki);
            let report = smtp_lab::outcome::tlsrpt::report(&trace).map(|r| r.to_json() + "\n");
            if let (Some(path), None) = (&args.tlsrpt, &report) {
                return Err(CliError::NoTlsReport(path.clone()));
            }
            let writes = [
                (&args.pcap, smtp_lab::render::pcap::capture(&trace)),
                (&args.keylog, smtp_lab::render::pcap::key_log_file(&trace).into_bytes()),
                (&args.tlsrpt, report.unwrap_or_default().into_bytes()),
            ];
            for (path, bytes) in writes {
                if let Some(path) = path {
                    std::fs::write(path, bytes).map_err(CliError::file(path))?;
                }
            }
            let findings = smtp_lab::outcome::analyse(&scenario, &trace);
            match args.format {
                Format::Text => emit(&smtp_lab::render::export::text(&trace, &findings)),
                Format::Json => {
                    // The lab's link re-runs the same session, unless flags outside the link changed it.
                    let linkable = args.user.is_none() && args.server_user.is_none() && args.from.is_none() && args.to.is_empty();
                    let session =
                        linkable.then(|| smtp_lab::render::export::SessionLink { link: args.settings.to_link(None), actions: Vec::new() });
                    emit(&smtp_lab::render::export::json(&scenario, &trace, &findings, session.as_ref()))
                }
                Format::Mermaid => emit(&smtp_lab::render::export::mermaid(&trace, &findings)),
                Format::Tls => emit(&smtp_lab::render::export::tls(
                    &trace,
                    pki.at(&scenario.server.hostname).identity(scenario.server_identity).chain(),
                )),
                Format::Notes => emit(&notes_text(&scenario, &trace)),
            }
            Ok(true)
        }
        Commands::Matrix { format, journey } => {
            let pki = Pki::lab();
            let m = if journey.is_set() {
                // Any cell shows a bad combination of settings; then every cell is sure to run.
                let first = smtp_lab::outcome::matrix::CellId::all().next().expect("the matrix has cells");
                smtp_lab::lab::assemble::journey_cell(first, &journey)?;
                smtp_lab::outcome::matrix::run_with(&pki, |id| smtp_lab::lab::assemble::journey_cell(id, &journey).ok().flatten())
            } else {
                smtp_lab::outcome::matrix::run(&pki)
            };
            match format {
                TableFormat::Text => emit(&m.to_text()),
                TableFormat::Json => emit(&format!("{}\n", serde_json::to_string_pretty(&m)?)),
            }
            Ok(true)
        }
        Commands::Presets => {
            for p in smtp_lab::lab::Lesson::catalogue() {
                emit(&format!("{:28} {}\n{:28} {}\n\n", p.id, p.title, "", Prose::new(p.description).with_headings()));
            }
            Ok(true)
        }
        Commands::Attacks => {
            for a in Attack::ALL {
                let i = a.info();
                emit(&format!(
                    "{:28} {}\n{:28} Who: {}\n{:28} {}\n{:28} {}\n\n",
                    i.id,
                    i.title,
                    "",
                    Prose::new(i.threat).with_headings(),
                    "",
                    Prose::new(i.explanation).with_headings(),
                    "",
                    Prose::from(i.references.join("; ")).with_headings()
                ));
            }
            Ok(true)
        }
    }
}

/// `--format notes`: each step that has notes, then its notes, every citation followed by its heading.
fn notes_text(scenario: &Scenario, trace: &smtp_lab::Trace) -> String {
    let mut out = String::new();
    for (step, notes) in trace.steps.iter().zip(smtp_lab::lab::session_notes(scenario, trace)) {
        if notes.is_empty() {
            continue;
        }
        // Counted from 1, as the page and the transcript count steps.
        out.push_str(&format!("step {} ({:?}, {:.3} s)\n", step.index + 1, step.kind(), step.at_ms as f64 / 1000.0));
        for n in notes {
            let mark = if n.warning { "!" } else { "-" };
            out.push_str(&format!("  {mark} {} [{}]\n", n.text, n.rfc.with_headings()));
        }
    }
    out
}

/// Writes to standard output; a reader that went away (`| head`) is not an error worth a panic.
fn emit(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Exit status for the socket commands: 0 on success, 1 when the session did not deliver, 2 on an error.
fn report(result: Result<bool, CliError>) -> ExitCode {
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("smtp-lab: {e}");
            ExitCode::from(2)
        }
    }
}
