//! The SMTP codec: types, parsers and encoders, with no session state.
//!
//! Framing ([`LineReader`]) comes first and bounds every buffer; commands
//! ([`CommandRef`]) and replies ([`ReplyReader`]) parse one framed line each;
//! [`DataReader`] handles the message body.

pub(crate) mod command;
pub(crate) mod data;
pub(crate) mod ehlo;
pub mod limits;
pub(crate) mod line;
pub(crate) mod reply;
pub mod sasl;

pub use command::{AuthLine, Command, CommandError, CommandRef, Param, Params, Verb};
pub use data::{dot_stuff, DataReader, DataSummary, EndOfData, EodVariant};
pub use ehlo::{Capabilities, Extension};
pub use line::{LineError, LineReader};
pub use reply::{EnhancedCode, Reply, ReplyError, ReplyReader, ReplyRef};
pub use sasl::{Mechanism, Secret};
