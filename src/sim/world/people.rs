//! Who lives in the simulated world, and what they send: alice, a user of
//! the provider who submits a message to bob; the provider's MTA, which
//! relays to bob's MX; mallory, a customer of the provider like any other.
//! The machines know none of them: these are their configurations.

use crate::proto::smtp::client::{ClientConfig, Credentials, TlsPolicy};
use crate::proto::smtp::codec::{Mechanism, Secret};
use crate::proto::smtp::server::{Account, Role, ServerConfig};
use crate::sim::world::names::{PROVIDER_DOMAIN, SERVER_NAME};

/// alice's account at the server she submits to.
pub const ALICE: &str = "alice";
pub const ALICE_PASSWORD: &str = "correct horse battery staple";

/// Mallory's account at the provider, where she is a customer like any other.
pub const MALLORY: &str = "mallory";
pub const MALLORY_PASSWORD: &str = "mallory's own password";

/// alice's mail client, submitting one message to bob with `policy`.
pub fn mail_client(policy: TlsPolicy) -> ClientConfig {
    ClientConfig {
        ehlo_name: "client.example.test".into(),
        credentials: Some(credentials(ALICE, ALICE_PASSWORD)),
        ..ClientConfig::new(policy, SERVER_NAME).sending("alice@example.test", &["bob@example.test"], &message())
    }
}

/// A sending MTA relaying the same message to an MX: no credentials, and
/// (as usual between MTAs) no certificate check.
pub fn mta_client(policy: TlsPolicy) -> ClientConfig {
    ClientConfig {
        validate_certificate: false,
        ehlo_name: "mta.sender.test".into(),
        from: "carol@sender.test".into(),
        credentials: None,
        ..mail_client(policy)
    }
}

/// AUTH PLAIN with the first response on the AUTH line (RFC 4954 §4).
pub fn credentials(username: &str, password: &str) -> Credentials {
    Credentials { username: username.into(), password: Secret::new(password), mechanism: Mechanism::Plain, initial_response: true }
}

/// The server in `role` at [`SERVER_NAME`], which knows alice and takes mail for example.test.
pub fn server(role: Role) -> ServerConfig {
    ServerConfig {
        accounts: vec![Account { username: ALICE.into(), password: Secret::new(ALICE_PASSWORD) }],
        local_domains: vec!["example.test".into()],
        ..ServerConfig::new(SERVER_NAME, role)
    }
}

/// The message every default session sends: short, and with lines that need dot-stuffing.
pub fn message() -> Vec<u8> {
    b"From: Alice <alice@example.test>\r\n\
To: Bob <bob@example.test>\r\n\
Subject: Lunch on Friday?\r\n\
Date: Mon, 01 Jun 2026 12:00:00 +0000\r\n\
Message-ID: <lunch-1@example.test>\r\n\
\r\n\
Hi Bob,\r\n\
.the line above this one starts with a dot.\r\n\
..and this one with two.\r\n\
See you at noon.\r\n"
        .to_vec()
}

/// Mallory's message to bob: behind `seq` hides a second transaction from
/// the CEO of `spoofed` (in a journey, a company whose SPF record includes
/// the provider's: SEC Consult, "SMTP Smuggling", 2023).
pub(crate) fn smuggling_message(seq: &[u8], spoofed: &str) -> Vec<u8> {
    let mut m = format!(
        "From: Mallory <mallory@{PROVIDER_DOMAIN}>\r\nTo: Bob <bob@example.test>\r\nSubject: Newsletter\r\n\r\nNothing to see here."
    )
    .into_bytes();
    m.extend_from_slice(seq);
    m.extend_from_slice(
        format!(
            "MAIL FROM:<ceo@{spoofed}>\r\n\
RCPT TO:<bob@example.test>\r\n\
DATA\r\n\
From: CEO <ceo@{spoofed}>\r\n\
To: Bob <bob@example.test>\r\n\
Subject: Urgent: pay the invoice today\r\n\
\r\n\
Please wire the money to Mallory.\r\n"
        )
        .as_bytes(),
    );
    m
}
