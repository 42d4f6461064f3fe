//! The names of the simulated world, and its start time, in one place.

/// The simulated server's host name: its EHLO greeting, its certificate's
/// name, the name the simulated client expects. `.test` is reserved for
/// testing (RFC 2606 §2), so it can never collide with a real host.
pub const SERVER_NAME: &str = "mail.example.test";

/// 2026-06-01T12:00:00Z, when every simulated session starts (its
/// certificates are valid around it).
pub const SIM_EPOCH_UNIX: u64 = 1_780_315_200;
