//! `serve` and `send`: the machines on real sockets.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use smtp_lab::client::{Client, ClientConfig, ClientEvent, Credentials, TlsPolicy};
use smtp_lab::codec::Mechanism;
use smtp_lab::pki::{IdentityKind, Pki};
use smtp_lab::server::{Account, AuthPolicy, Role, Server, ServerConfig, ServerEvent};
use smtp_lab::session::{Endpoint, SessionEvent, SessionOptions, TlsSide};
use smtp_lab::socket::{drive, unix_now, Side};
use smtp_lab::tls::ClientTls;
use smtp_lab::trace::Event;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free one (printed on the first line).
    #[arg(long, default_value = "127.0.0.1:2525")]
    listen: String,
    /// The server's job: relay (an MX on 25), submission (587, STARTTLS), submissions (465, implicit TLS).
    #[arg(long, value_enum, default_value_t = crate::RoleArg::Submission)]
    role: crate::RoleArg,
    /// Offer STARTTLS (default: yes unless --implicit-tls).
    #[arg(long)]
    starttls: bool,
    /// Do not offer STARTTLS.
    #[arg(long, conflicts_with = "starttls")]
    no_starttls: bool,
    /// TLS from the first byte (the 465 way).
    #[arg(long)]
    implicit_tls: bool,
    /// When AUTH is accepted (default: from the role).
    #[arg(long, value_enum)]
    auth: Option<crate::AuthArg>,
    /// Accounts, USER:PASSWORD (repeatable). Default: alice:correct horse battery staple.
    #[arg(long)]
    user: Vec<String>,
    /// Refuse mail commands before STARTTLS (530).
    #[arg(long)]
    require_tls: bool,
    /// Domains accepted without AUTH (comma-separated).
    #[arg(long, value_delimiter = ',')]
    local_domain: Vec<String>,
    /// Name the server uses and has a certificate for.
    #[arg(long, default_value = smtp_lab::pki::SERVER_NAME)]
    hostname: String,
    /// Write the test CA's certificate here, so a client can trust the server.
    #[arg(long)]
    write_ca: Option<PathBuf>,
    /// Write each accepted message here as <connection>-<queue id>.eml.
    #[arg(long)]
    deliver_dir: Option<PathBuf>,
    /// Write each session's trace here as <connection>.json.
    #[arg(long)]
    trace_dir: Option<PathBuf>,
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    max_message_size: usize,
    /// Connections served at once; more are turned away with 421.
    #[arg(long, default_value_t = 256)]
    max_connections: usize,
    /// CVE-2011-0411: keep bytes that followed STARTTLS.
    #[arg(long)]
    keeps_buffer: bool,
    /// Keep HELO and AUTH state across STARTTLS.
    #[arg(long)]
    keeps_state: bool,
    /// Accept bare-CR/LF end-of-data (SMTP smuggling): lf-dot-crlf, lf-dot-lf, cr-dot-crlf, crlf-dot-lf, all.
    #[arg(long, value_delimiter = ',')]
    lenient_end_of_data: Vec<String>,
}

pub fn serve(a: &ServeArgs) -> Result<(), String> {
    let role = a.role.into();
    let mut config = ServerConfig::for_role(role);
    config.hostname = a.hostname.clone();
    let implicit = a.implicit_tls || role == Role::Submissions;
    config.starttls = if a.no_starttls { false } else { a.starttls || !implicit };
    if let Some(auth) = a.auth {
        config.auth = auth.into();
    }
    config.require_tls = a.require_tls;
    if !a.user.is_empty() {
        config.accounts = a
            .user
            .iter()
            .map(|u| crate::split_user(u).map(|(username, password)| Account { username, password }))
            .collect::<Result<_, _>>()?;
    }
    if !a.local_domain.is_empty() {
        config.local_domains = a.local_domain.clone();
    }
    config.max_message_size = a.max_message_size;
    config.reset_on_tls = !a.keeps_state;
    config.end_of_data = smtp_lab::settings::end_of_data(&a.lenient_end_of_data)?;

    let pki = Pki::generate(&a.hostname).map_err(|e| e.to_string())?;
    if let Some(path) = &a.write_ca {
        std::fs::write(path, &pki.ca_pem).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    for dir in [&a.deliver_dir, &a.trace_dir].into_iter().flatten() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let listener = TcpListener::bind(&a.listen).map_err(|e| format!("{}: {e}", a.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    println!(
        "listening on {local} ({role:?}{}, STARTTLS {})",
        if implicit { ", implicit TLS" } else { "" },
        if config.starttls { "offered" } else { "not offered" }
    );
    let _ = std::io::stdout().flush();

    let active = Arc::new(AtomicUsize::new(0));
    let counter = AtomicU64::new(0);
    let stdout = Arc::new(Mutex::new(()));
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let n = counter.fetch_add(1, Ordering::Relaxed) + 1;
        if active.load(Ordering::Relaxed) >= a.max_connections {
            let _ = stream.write_all(b"421 4.3.2 Too many connections, try again later\r\n");
            continue;
        }
        active.fetch_add(1, Ordering::Relaxed);
        let (config, pki, active, stdout) = (config.clone(), pki.clone(), active.clone(), stdout.clone());
        let (deliver_dir, trace_dir, keeps_buffer) = (a.deliver_dir.clone(), a.trace_dir.clone(), a.keeps_buffer);
        std::thread::spawn(move || {
            let options = SessionOptions {
                implicit_tls: implicit,
                keep_buffer_across_tls: keeps_buffer,
                epoch_unix: unix_now(),
                ..SessionOptions::default()
            };
            let endpoint = Endpoint::new(Server::new(config), TlsSide::Server { pki, identity: IdentityKind::Valid }, options);
            let trace = drive(endpoint, stream, Side::Server, local.port(), |e| {
                if let Event::Server(SessionEvent::Smtp(ServerEvent::MessageAccepted {
                    queue_id,
                    envelope,
                    body,
                    under_tls,
                    authenticated_as,
                })) = e
                {
                    if let Some(dir) = &deliver_dir {
                        let _ = std::fs::write(dir.join(format!("{n}-{queue_id}.eml")), &body.0);
                    }
                    let _guard = stdout.lock();
                    println!(
                        "accepted {n}-{queue_id} from <{}> to {} ({} bytes{}{})",
                        envelope.from,
                        envelope.to.iter().map(|t| format!("<{t}>")).collect::<Vec<_>>().join(", "),
                        body.0.len(),
                        if *under_tls { ", TLS" } else { ", cleartext" },
                        authenticated_as.as_ref().map(|u| format!(", auth {u}")).unwrap_or_default()
                    );
                    let _ = std::io::stdout().flush();
                }
            });
            if let Some(dir) = trace_dir {
                if let Ok(json) = serde_json::to_vec(&trace) {
                    let _ = std::fs::write(dir.join(format!("{n}.json")), json);
                }
            }
            active.fetch_sub(1, Ordering::Relaxed);
        });
    }
    Ok(())
}

pub fn write_cert(dir: &std::path::Path, hostname: &str) -> Result<(), String> {
    let pki = Pki::generate(hostname).map_err(|e| e.to_string())?;
    let id = pki.identity(IdentityKind::Valid);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (name, pem) in [("ca.pem", &pki.ca_pem), ("server.pem", &id.chain_pem), ("server.key", &id.key_pem)] {
        std::fs::write(dir.join(name), pem).map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(())
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum SendMode {
    Plain,
    Starttls,
    RequireStarttls,
    ImplicitTls,
}

#[derive(clap::Args)]
pub struct SendArgs {
    /// HOST:PORT of the server.
    #[arg(long)]
    server: String,
    #[arg(long, value_enum, default_value_t = SendMode::RequireStarttls)]
    mode: SendMode,
    /// Trust this CA (PEM) for the server's certificate.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Do not enforce certificate validation (the check still runs and is reported).
    #[arg(long)]
    insecure: bool,
    /// The name the certificate must carry.
    #[arg(long, default_value = smtp_lab::pki::SERVER_NAME)]
    server_name: String,
    /// USER:PASSWORD to authenticate with.
    #[arg(long)]
    user: Option<String>,
    #[arg(long, value_enum, default_value_t = crate::MechArg::Plain)]
    mechanism: crate::MechArg,
    #[arg(long, default_value = "client.example.test")]
    ehlo: String,
    #[arg(long)]
    from: String,
    #[arg(long, required = true)]
    to: Vec<String>,
    /// The message (headers and body); `-` reads standard input. Default: a short test message.
    message: Option<PathBuf>,
    /// Print the trace as JSON instead of a transcript.
    #[arg(long)]
    json: bool,
}

pub fn send(a: &SendArgs) -> Result<bool, String> {
    let policy = match a.mode {
        SendMode::Plain => TlsPolicy::Plain,
        SendMode::Starttls => TlsPolicy::Opportunistic,
        SendMode::RequireStarttls => TlsPolicy::RequireStartTls,
        SendMode::ImplicitTls => TlsPolicy::Implicit,
    };
    let mut config = ClientConfig::submission(policy);
    config.validate_certificate = !a.insecure;
    config.server_name = a.server_name.clone();
    config.ehlo_name = a.ehlo.clone();
    config.from = a.from.clone();
    config.to = a.to.clone();
    config.credentials = match &a.user {
        Some(u) => {
            let (username, password) = crate::split_user(u)?;
            Some(Credentials { username, password, mechanism: a.mechanism.into(), initial_response: true })
        }
        None => None,
    };
    config.message = match &a.message {
        None => smtp_lab::client::default_message(),
        Some(p) if p.as_os_str() == "-" => {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf).map_err(|e| e.to_string())?;
            crate::to_crlf(&buf)
        }
        Some(p) => crate::to_crlf(&std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?),
    };
    let roots: Vec<CertificateDer<'static>> = match &a.ca {
        Some(path) => CertificateDer::pem_file_iter(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{}: {e}", path.display()))?,
        None => vec![],
    };
    let tls = ClientTls { roots, server_name: a.server_name.clone(), enforce_validation: !a.insecure };
    let options = SessionOptions { implicit_tls: policy == TlsPolicy::Implicit, epoch_unix: unix_now(), ..SessionOptions::default() };
    let stream = TcpStream::connect(&a.server).map_err(|e| format!("{}: {e}", a.server))?;
    let port = stream.peer_addr().map(|p| p.port()).unwrap_or(0);
    let endpoint = Endpoint::new(Client::new(config), TlsSide::Client(tls), options);
    let mut accepted = false;
    let trace = drive(endpoint, stream, Side::Client, port, |e| {
        accepted |= matches!(e, Event::Client(SessionEvent::Smtp(ClientEvent::MessageAccepted { .. })));
    });
    if a.json {
        println!("{}", serde_json::to_string_pretty(&trace).map_err(|e| e.to_string())?);
    } else {
        print!("{}", smtp_lab::transcript::render(&trace));
    }
    Ok(accepted)
}

impl From<crate::MechArg> for Mechanism {
    fn from(m: crate::MechArg) -> Self {
        match m {
            crate::MechArg::Plain => Mechanism::Plain,
            crate::MechArg::Login => Mechanism::Login,
        }
    }
}

impl From<crate::RoleArg> for Role {
    fn from(r: crate::RoleArg) -> Self {
        match r {
            crate::RoleArg::Relay => Role::Relay,
            crate::RoleArg::Submission => Role::Submission,
            crate::RoleArg::Submissions => Role::Submissions,
        }
    }
}

impl From<crate::PolicyArg> for TlsPolicy {
    fn from(p: crate::PolicyArg) -> Self {
        match p {
            crate::PolicyArg::Plain => TlsPolicy::Plain,
            crate::PolicyArg::Opportunistic => TlsPolicy::Opportunistic,
            crate::PolicyArg::RequireStarttls => TlsPolicy::RequireStartTls,
            crate::PolicyArg::Implicit => TlsPolicy::Implicit,
        }
    }
}

impl From<crate::CertArg> for IdentityKind {
    fn from(c: crate::CertArg) -> Self {
        match c {
            crate::CertArg::Valid => IdentityKind::Valid,
            crate::CertArg::SelfSigned => IdentityKind::SelfSigned,
            crate::CertArg::WrongName => IdentityKind::WrongName,
            crate::CertArg::UntrustedCa => IdentityKind::UntrustedCa,
            crate::CertArg::Expired => IdentityKind::Expired,
        }
    }
}

impl From<crate::AuthArg> for AuthPolicy {
    fn from(a: crate::AuthArg) -> Self {
        match a {
            crate::AuthArg::Never => AuthPolicy::Never,
            crate::AuthArg::AfterTls => AuthPolicy::AfterTls,
            crate::AuthArg::Always => AuthPolicy::Always,
        }
    }
}
