//! The sans-IO protocol cores: the SMTP client, console and server machines
//! and their codec, the HTTP machines of the MTA-STS policy fetch, rustls
//! driven without I/O, the endpoint that joins a machine to TLS, the sending
//! MTA's policies (DNS with DNSSEC, DANE, MTA-STS) and the SPF check a
//! receiving server runs. Nothing here knows the
//! lab's world: names, certificates and zones are arguments.
//!
//! The submodules are `pub(crate)`; this is the face. The SMTP syntax keeps
//! its own namespace, [`codec`].

pub(crate) mod endpoint;
pub(crate) mod http;
pub(crate) mod machine;
pub(crate) mod policy;
pub(crate) mod smtp;
pub(crate) mod tls;
pub(crate) mod tls_info;

pub use endpoint::{Endpoint, SessionEvent, SessionOptions, TlsSide, Transmit};
pub use http::{FetchError, HttpClient, HttpClientState, HttpEvent, HttpServer, HttpServerState, POLICY_PATH};
pub use machine::{Machine, Output};
pub use policy::dane::{DaneError, Matching, Selector, Tlsa, Usage};
pub use policy::dns::{Data, DnsRecord, Dnssec, Lookup, Qtype, Rcode, Tamper, Zone};
pub use policy::mta_sts::{StsError, StsMode, StsPolicy, StsRecord};
pub use policy::sender::{
    CertRule, Deviation, DomainSetup, FetchFailure, Refusal, ResultType, SenderEvent, SenderPolicy, SenderSetup, TlsaIgnoredWhy,
};
pub use policy::spf::{Resolver, SpfCheck, SpfError, SpfResult};
pub use smtp::client::{
    AbortReason, Awaited, Client, ClientConfig, ClientEvent, ClientPhase, ClientState, Credentials, NoTlsReason, ReplyProblem, TlsPolicy,
};
pub use smtp::codec;
pub use smtp::console::{Console, ConsoleError};
pub use smtp::server::{
    Account, AuthFailure, AuthPolicy, CommandProblem, Envelope, Rejection, Role, Server, ServerConfig, ServerEvent, ServerPhase,
    ServerState, SpfSetup, REQUIRETLS,
};
pub use tls::entropy::Entropy;
pub use tls::{ClientTls, ContentType, KeyLogLines, RecordInfo, ServerIdentity, SimClock, TlsStream, TlsVersions};
pub use tls_info::{
    CertCheck, CertFailure, CertFailureKind, DaneMatch, DaneMiss, DaneVerdict, TlsError, TlsErrorKind, TlsInfo, TlsVersion,
};
