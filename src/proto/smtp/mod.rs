//! SMTP: the codec, and the client, console and server machines.
pub(crate) mod client;
pub mod codec;
pub(crate) mod console;
pub(crate) mod server;
