//! `serve` and `send`: the machines on real sockets.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::CliError;
use crate::socket::{over_tcp, unix_now, Keep, Plays};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use smtp_lab::lab::{ClientSettings, ServerSettings};
use smtp_lab::proto::{
    codec::Mechanism, Account, Client, ClientEvent, ClientTls, Credentials, Endpoint, Entropy, Server, ServerEvent, SessionEvent,
    SessionOptions, TlsPolicy, TlsSide,
};
use smtp_lab::sim::{
    world::{IdentityKind, Pki},
    Event, Scenario,
};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free one (printed on the first line).
    #[arg(long, default_value = "127.0.0.1:2525")]
    listen: String,
    /// The server's setup, named as in `run` and the lab's links.
    #[command(flatten)]
    server: ServerSettings,
    /// Accounts, USER:PASSWORD (repeatable). Default: alice:correct horse battery staple.
    #[arg(long)]
    user: Vec<String>,
    /// Domains accepted without AUTH (comma-separated).
    #[arg(long, value_delimiter = ',')]
    local_domain: Vec<String>,
    /// Name the server uses and has a certificate for.
    #[arg(long, default_value = smtp_lab::sim::world::SERVER_NAME)]
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
    /// Seconds a connection may wait between commands before the server says
    /// 421 and closes. Default: 300, the five minutes of RFC 5321 §4.5.3.2.7.
    #[arg(long, default_value_t = 300)]
    idle_timeout: u64,
}

pub fn serve(a: &ServeArgs) -> Result<(), CliError> {
    let setup = smtp_lab::lab::assemble::server_for(&a.server)?;
    let mut config = setup.server.clone();
    config.hostname = a.hostname.clone();
    let role = config.role;
    let implicit = setup.server_implicit_tls;
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
    config.idle_timeout = std::time::Duration::from_secs(a.idle_timeout);

    let pki = Pki::generate_at(&a.hostname, unix_now())?;
    if let Some(path) = &a.write_ca {
        std::fs::write(path, pki.ca_pem()).map_err(CliError::file(path))?;
    }
    for dir in [&a.deliver_dir, &a.trace_dir].into_iter().flatten() {
        std::fs::create_dir_all(dir).map_err(CliError::file(dir))?;
    }
    let listener = TcpListener::bind(&a.listen).map_err(CliError::socket(&a.listen))?;
    let local = listener.local_addr().map_err(CliError::socket(&a.listen))?;
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
        let (deliver_dir, trace_dir) = (a.deliver_dir.clone(), a.trace_dir.clone());
        let (keeps_buffer, identity, versions) = (setup.server_keeps_buffer_across_tls, setup.server_identity, setup.server_tls_versions);
        std::thread::spawn(move || {
            let options = SessionOptions {
                implicit_tls: implicit,
                keep_buffer_across_tls: keeps_buffer,
                // Real peers: the real time, and the system's randomness, never a seed.
                ..SessionOptions::new(unix_now(), Entropy::System)
            };
            let hostname = config.hostname.clone();
            let endpoint =
                Endpoint::new(Server::new(config), TlsSide::Server { identity: pki.identity(identity).tls.clone(), versions }, options);
            let keep = if trace_dir.is_some() { Keep::Steps } else { Keep::Events };
            let trace = over_tcp(endpoint, stream, Plays::Server, (&hostname, local.port()), keep, |e| {
                if let Event::Server(SessionEvent::Machine(ServerEvent::MessageAccepted {
                    queue_id,
                    envelope,
                    body,
                    under_tls,
                    authenticated_as,
                    ..
                })) = e
                {
                    if let Some(dir) = &deliver_dir {
                        let _ = std::fs::write(dir.join(format!("{n}-{queue_id}.eml")), &body.0);
                    }
                    let _guard = stdout.lock();
                    // A reader that went away (the log piped into something that quit)
                    // must not take the connection down with it.
                    crate::emit(&format!(
                        "accepted {n}-{queue_id} from <{}> to {} ({} bytes{}{})\n",
                        envelope.from,
                        envelope.to.iter().map(|t| format!("<{t}>")).collect::<Vec<_>>().join(", "),
                        body.0.len(),
                        if *under_tls { ", TLS" } else { ", cleartext" },
                        authenticated_as.as_ref().map(|u| format!(", auth {u}")).unwrap_or_default()
                    ));
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

pub fn write_cert(dir: &std::path::Path, hostname: &str) -> Result<(), CliError> {
    let pki = Pki::generate_at(hostname, unix_now())?;
    let id = pki.identity(IdentityKind::Valid);
    std::fs::create_dir_all(dir).map_err(CliError::file(dir))?;
    for (name, pem) in [("ca.pem", pki.ca_pem()), ("server.pem", id.chain_pem()), ("server.key", id.key_pem())] {
        let path = dir.join(name);
        std::fs::write(&path, pem).map_err(CliError::file(&path))?;
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct SendArgs {
    /// HOST:PORT of the server.
    #[arg(long)]
    server: String,
    /// The client's behaviour, named as in `run` and the lab's links (default policy: require-starttls).
    #[command(flatten)]
    client: ClientSettings,
    /// Trust this CA (PEM) for the server's certificate.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// The name the certificate must carry.
    #[arg(long, default_value = smtp_lab::sim::world::SERVER_NAME)]
    server_name: String,
    /// USER:PASSWORD to authenticate with.
    #[arg(long)]
    user: Option<String>,
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
    /// Send the message this many times, one session each, and print sessions
    /// per second instead of a transcript: a load generator with this client,
    /// STARTTLS included (Postfix's smtp-source has no TLS).
    #[arg(long, default_value_t = 1)]
    sessions: u32,
    /// Sessions at once when --sessions is more than 1.
    #[arg(long, default_value_t = 1)]
    concurrency: u32,
}

pub fn send(a: &SendArgs) -> Result<bool, CliError> {
    let mut setup = Scenario::submission();
    setup.client.credentials = match &a.user {
        Some(u) => {
            let (username, password) = crate::split_user(u)?;
            Some(Credentials { username, password, mechanism: Mechanism::Plain, initial_response: true })
        }
        None => None,
    };
    smtp_lab::lab::assemble::apply_client(&a.client, &mut setup, "", "")?;
    let mut config = setup.client;
    let policy = config.policy;
    config.server_name = a.server_name.clone();
    config.ehlo_name = a.ehlo.clone();
    config.from = a.from.clone();
    config.to = a.to.clone();
    config.message = match &a.message {
        None => smtp_lab::sim::world::message(),
        Some(p) if p.as_os_str() == "-" => {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf).map_err(CliError::Stdin)?;
            crate::to_crlf(&buf)
        }
        Some(p) => crate::to_crlf(&std::fs::read(p).map_err(CliError::file(p))?),
    };
    let roots: Vec<CertificateDer<'static>> = match &a.ca {
        Some(path) => CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|source| CliError::Pem { path: path.clone(), source })?,
        None => vec![],
    };
    let tls = ClientTls {
        roots,
        server_name: a.server_name.clone(),
        enforce_validation: config.validate_certificate,
        versions: setup.client_tls_versions,
        dane: None,
    };
    let options = SessionOptions {
        implicit_tls: policy == TlsPolicy::Implicit,
        keep_buffer_across_tls: setup.client_keeps_buffer_across_tls,
        ..SessionOptions::new(unix_now(), Entropy::System)
    };
    let host = a.server.rsplit_once(':').map_or(a.server.as_str(), |(h, _)| h);
    // One session: connect, drive the client to the end, and whether the message was accepted.
    let session = |keep| {
        let stream = TcpStream::connect(&a.server).map_err(CliError::socket(&a.server))?;
        let port = stream.peer_addr().map(|p| p.port()).unwrap_or(0);
        let endpoint = Endpoint::new(Client::new(config.clone()), TlsSide::Client(tls.clone()), options.clone());
        let mut accepted = false;
        let trace = over_tcp(endpoint, stream, Plays::Client, (host, port), keep, |e| {
            accepted |= matches!(e, Event::Client(SessionEvent::Machine(ClientEvent::MessageAccepted { .. })));
        });
        Ok::<_, CliError>((accepted, trace))
    };
    if a.sessions > 1 {
        return load(a, || session(Keep::Events).map(|(accepted, _)| accepted));
    }
    let (accepted, trace) = session(Keep::Steps)?;
    if a.json {
        crate::emit(&format!("{}\n", serde_json::to_string_pretty(&trace)?));
    } else {
        crate::emit(&smtp_lab::render::export::transcript(&trace));
    }
    Ok(accepted)
}

/// `send --sessions N --concurrency C`: N sessions from C threads; prints
/// sessions per second, and succeeds when every message was accepted.
fn load(a: &SendArgs, session: impl Fn() -> Result<bool, CliError> + Sync) -> Result<bool, CliError> {
    let next = AtomicU64::new(0);
    let (accepted, failed) = (AtomicU64::new(0), AtomicU64::new(0));
    let first_error = Mutex::new(None::<CliError>);
    let started = std::time::Instant::now();
    std::thread::scope(|s| {
        for _ in 0..a.concurrency.clamp(1, a.sessions) {
            s.spawn(|| {
                while next.fetch_add(1, Ordering::Relaxed) < u64::from(a.sessions) {
                    match session() {
                        Ok(true) => accepted.fetch_add(1, Ordering::Relaxed),
                        Ok(false) => failed.fetch_add(1, Ordering::Relaxed),
                        Err(e) => {
                            first_error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
                            failed.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
            });
        }
    });
    let secs = started.elapsed().as_secs_f64();
    let (accepted, failed) = (accepted.into_inner(), failed.into_inner());
    crate::emit(&format!(
        "{} sessions, {accepted} accepted, {failed} failed, concurrency {}, {secs:.2} s, {:.0} sessions/s\n",
        a.sessions,
        a.concurrency,
        f64::from(a.sessions) / secs
    ));
    if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        eprintln!("smtp-lab: first error: {e}");
    }
    Ok(failed == 0)
}
