//! The names of the simulated world, and its start time, in one place.

/// The simulated server's host name: its EHLO greeting, its certificate's
/// name, the name the simulated client expects. `.test` is reserved for
/// testing (RFC 2606 §2), so it can never collide with a real host.
pub const SERVER_NAME: &str = "mail.example.test";

/// The sender's provider in a journey: the submission server (MSA) the mail
/// client connects to, whose outbound client (MTA) relays to the MX.
pub const PROVIDER_NAME: &str = "smtp.sender.test";

/// The provider's domain: its users' addresses and its SPF record.
pub const PROVIDER_DOMAIN: &str = "sender.test";

/// The mail client's address (documentation range, RFC 5737 §3).
pub const CLIENT_ADDR: [u8; 4] = [192, 0, 2, 10];

/// The recipient's MX's address, and the one-hop server's.
pub const SERVER_ADDR: [u8; 4] = [198, 51, 100, 25];

/// The provider's address, both as its MSA takes submissions and as its MTA
/// connects out (documentation range, RFC 5737 §3).
pub const PROVIDER_ADDR: [u8; 4] = [198, 51, 100, 10];

/// A domain that has the provider send its mail: its SPF record includes the
/// provider's (RFC 7208 §5.2), as a company's does when it outsources mail.
pub const CUSTOMER_DOMAIN: &str = "bank.test";

/// The recipient's domain: its MX is [`SERVER_NAME`], and it publishes its
/// transport policies (MTA-STS, TLSA, TLS-RPT).
pub const RECIPIENT_DOMAIN: &str = "example.test";

/// Where the recipient's domain serves its MTA-STS policy (RFC 8461 §3.3).
pub const STS_HOST: &str = "mta-sts.example.test";

/// Mallory's own mail server, under a domain she registered: a forged MX
/// answer points senders to it, and its certificate is genuinely valid for
/// its own name.
pub const MALLORY_MX: &str = "mx.mallory.test";

/// Mallory's MX's address (documentation range, RFC 5737 §3).
pub const MALLORY_ADDR: [u8; 4] = [203, 0, 113, 66];

/// Every host of the simulated world that presents a certificate.
pub const LAB_HOSTS: [&str; 4] = [SERVER_NAME, PROVIDER_NAME, STS_HOST, MALLORY_MX];

/// 2026-06-01T12:00:00Z, when every simulated session starts (its
/// certificates are valid around it).
pub const SIM_EPOCH_UNIX: u64 = 1_780_315_200;
