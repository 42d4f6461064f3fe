//! The sending MTA's security policies (DNS with DNSSEC, DANE, MTA-STS), and
//! the SPF check a receiving server runs on the same DNS model.
pub(crate) mod dane;
pub(crate) mod dns;
pub(crate) mod mta_sts;
pub(crate) mod sender;
pub(crate) mod spf;
