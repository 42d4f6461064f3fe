//! The names of the simulated world, in one place.

/// The simulated server's host name: its EHLO greeting, its certificate's
/// name, the name the simulated client expects. `.test` is reserved for
/// testing (RFC 2606 §2), so it can never collide with a real host.
pub const SERVER_NAME: &str = "mail.example.test";
