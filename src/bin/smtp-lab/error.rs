//! What can stop a command, by cause; the text is what the user reads.

use std::io;
use std::path::PathBuf;

use smtp_lab::lab::SettingsError;
use smtp_lab::proto::{
    codec::{Reply, ReplyError},
    TlsError,
};
use smtp_lab::sim::{world::PkiError, Attack};

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("expected USER:PASSWORD, got {0:?}")]
    NotUserAndPassword(String),
    #[error("--message-file conflicts with the attack {0}: a smuggling sender writes its own message")]
    OwnMessage(Attack),
    #[error("{}: {source}", path.display())]
    File { path: PathBuf, source: io::Error },
    #[error("{}: {source}", path.display())]
    Pem { path: PathBuf, source: rustls::pki_types::pem::Error },
    #[error("standard input: {0}")]
    Stdin(io::Error),
    #[error("{address}: {source}")]
    Socket { address: String, source: io::Error },
    #[error(transparent)]
    Certificates(#[from] PkiError),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error("--tlsrpt {}: this session has no TLS report (the recipient's domain publishes no _smtp._tls record, or this sender implements neither MTA-STS nor DANE and so sends no reports)", .0.display())]
    NoTlsReport(PathBuf),
}

impl CliError {
    /// A file that could not be read or written.
    pub fn file(path: &std::path::Path) -> impl FnOnce(io::Error) -> CliError + '_ {
        move |source| CliError::File { path: path.to_owned(), source }
    }

    /// A socket that could not be opened, bound or read.
    pub fn socket(address: &str) -> impl FnOnce(io::Error) -> CliError + '_ {
        move |source| CliError::Socket { address: address.to_owned(), source }
    }
}

/// Why one of the probe's checks could not reach its verdict.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("connect {server}: {source}")]
    Connect { server: String, source: io::Error },
    #[error("no greeting")]
    NoGreeting,
    #[error("greeting refused: {0}")]
    GreetingRefused(Reply),
    #[error("no reply to {0}")]
    NoReply(String),
    #[error("bad reply: {0}")]
    BadReply(ReplyError),
    #[error("EHLO refused: {0}")]
    EhloRefused(Reply),
    #[error("STARTTLS refused: {0}")]
    StarttlsRefused(Reply),
    #[error("AUTH failed: {0}")]
    AuthFailed(Reply),
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
    #[error("server closed the connection")]
    Closed,
    #[error("server closed during the TLS handshake")]
    ClosedInHandshake,
    #[error("{0}")]
    Io(#[from] io::Error),
}
