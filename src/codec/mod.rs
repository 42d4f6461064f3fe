//! The SMTP codec: types, parsers and encoders, with no session state.
//!
//! Framing ([`line`]) comes first and bounds every buffer; [`command`] and
//! [`reply`] parse one framed line each; [`data`] handles the message body.

pub mod command;
pub mod data;
pub mod ehlo;
pub mod limits;
pub mod line;
pub mod reply;
pub mod sasl;

pub use command::{AuthLine, Command, CommandError, CommandRef, Param, Params};
pub use data::{dot_stuff, DataReader, DataSummary, EndOfData, EodVariant};
pub use ehlo::{Capabilities, Extension};
pub use line::{LineError, LineReader};
pub use reply::{EnhancedCode, Reply, ReplyError, ReplyReader, ReplyRef};
pub use sasl::{Mechanism, Secret};
