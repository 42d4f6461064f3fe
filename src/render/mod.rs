//! A trace for people and tools: the views every renderer shares (one step,
//! its events in words, its TLS records with what they mean), the transcript,
//! the exports (text, JSON, Mermaid, TLS), the packet capture and key log,
//! and the TLS dissector that opens each recorded record with the session's
//! own secrets.
//!
//! The submodules are `pub(crate)`; this is the face. The exports and the capture
//! keep their own namespaces ([`export`], [`pcap`]): their functions are
//! named for their format.

pub(crate) mod describe;
pub(crate) mod dissect;
pub mod export;
pub mod pcap;
pub(crate) mod text;
pub(crate) mod tls_view;
pub(crate) mod transcript;
pub(crate) mod view;

pub use describe::{describe, EventLine, Party, Weight};
pub use dissect::{
    dissect, verify_dissection, DissectedMessage, DissectedRecord, DissectionMismatch, Inside, MessageField, MessageKind, RecordType,
    Unopened, HEADER_NOTES,
};
pub use text::summary;
pub use tls_view::{tls_views, CertVerdict, CertificateContext, TlsRecordView};
pub use view::{has_sender_lane, lanes, ByteBlock, Change, HeldView, RecordView, StepView};
