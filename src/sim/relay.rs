//! The sender's provider as a relay: its submission server (MSA) accepts a
//! message on hop 1, and its outbound client (MTA) hands it to the
//! recipient's MX on hop 2. What it changes on the way, and what it refuses,
//! is a switch with a real historical position each.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::format_description::well_known::{Rfc2822, Rfc3339};
use time::formatting::Formattable;
use time::OffsetDateTime;

use crate::proto::smtp::client::ClientConfig;
use crate::proto::smtp::server::Envelope;
use crate::sim::scenario::Scenario;
use crate::sim::world::names::{PROVIDER_NAME, SIM_EPOCH_UNIX};
use crate::vocab::choice;

choice! {
    /// What the provider does with bare CR and LF in a message it relays.
    #[derive(Default)]
    pub enum Outbound ("relay behaviour") {
        #[default]
        Normalise = "normalise": "turns each bare CR and bare LF into CRLF before relaying, then dot-stuffs every line (RFC 5321 §2.3.8, §4.5.2)",
        Pass = "pass": "relays bare CR and LF unchanged (RFC 5321 §2.3.8 forbids it; outlook.com did it until Microsoft's 2023 fix, per SEC Consult)",
        Reject = "reject": "refuses at submission a message with a bare LF, with 550 (Postfix smtpd_forbid_bare_newline = reject); bare CR still passes",
    }
}

/// Hop 2 of a journey: how the provider relays what its MSA accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relay {
    pub outbound: Outbound,
    /// The provider's MTA and the recipient's MX. The client's envelope and
    /// message are filled in from what the MSA accepted ([`Relay::forward`]).
    pub next: Scenario,
}

/// A message the MSA accepted, as its trace records it.
#[derive(Debug, Clone, Copy)]
pub struct Accepted<'a> {
    pub queue_id: &'a str,
    pub envelope: &'a Envelope,
    pub body: &'a [u8],
    pub under_tls: bool,
    pub authenticated: bool,
    /// The name the client gave in EHLO or HELO.
    pub helo: &'a str,
}

impl Relay {
    /// The usual second hop: the provider's MTA with opportunistic STARTTLS
    /// and no certificate check (RFC 7435 §4), to an MX on 25 that checks SPF.
    pub fn usual() -> Relay {
        let mut next = Scenario::relay();
        next.client.ehlo_name = PROVIDER_NAME.to_owned();
        // Scenario::relay puts the sending MTA at the provider's address, which the MX checks.
        next.check_spf = true;
        Relay { outbound: Outbound::default(), next }
    }

    /// Hop 2 for one accepted message: the MTA sends the envelope it accepted,
    /// the body as the outbound behaviour leaves it, under a Received header
    /// (RFC 5321 §4.4). `at` is when the MSA accepted it; `hop1` says who
    /// submitted it.
    pub fn forward(&self, hop1: &Scenario, message: Accepted<'_>, at: Duration) -> Scenario {
        let mut next = self.next.clone();
        let body = match self.outbound {
            Outbound::Normalise => normalise_line_endings(message.body),
            Outbound::Pass | Outbound::Reject => message.body.to_vec(),
        };
        let mut out = received(hop1, message, at).into_bytes();
        out.extend_from_slice(&body);
        next.client = ClientConfig {
            from: message.envelope.from.clone(),
            to: message.envelope.to.clone(),
            message: out,
            stuff_dots: true,
            // The sender's REQUIRETLS binds every later hop (RFC 8689 §4.2).
            require_tls: message.envelope.require_tls,
            ..next.client
        };
        next.seed = hop1.seed;
        next.hop = hop1.hop + 1;
        next
    }
}

/// Every bare CR and bare LF as CRLF.
pub(crate) fn normalise_line_endings(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 16);
    let mut i = 0;
    while i < body.len() {
        match (body[i], body.get(i + 1)) {
            (b'\r', Some(b'\n')) => i += 1,
            (b'\r' | b'\n', _) => {}
            (b, _) => {
                out.push(b);
                i += 1;
                continue;
            }
        }
        out.extend_from_slice(b"\r\n");
        i += 1;
    }
    out
}

/// The trace header the MSA adds (RFC 5321 §4.4): the name the client gave,
/// its address (`unknown`: the simulated world has no reverse DNS), and the
/// protocol type of RFC 3848 §1 (ESMTP, plus S for TLS and A for AUTH).
fn received(hop1: &Scenario, m: Accepted<'_>, at: Duration) -> String {
    let with = match (m.under_tls, m.authenticated) {
        (true, true) => "ESMTPSA",
        (true, false) => "ESMTPS",
        (false, true) => "ESMTPA",
        (false, false) => "ESMTP",
    };
    let helo = m.helo;
    let client = std::net::Ipv4Addr::from(crate::sim::world::names::CLIENT_ADDR);
    let to = m.envelope.to.first().map(|t| format!("\r\n\tfor <{t}>")).unwrap_or_default();
    format!(
        "Received: from {helo} (unknown [{client}])\r\n\tby {by} (smtp-lab) with {with} id {id}{to};\r\n\t{date}\r\n",
        by = hop1.server.hostname,
        id = m.queue_id,
        date = rfc5322_date(SIM_EPOCH_UNIX + at.as_secs()),
    )
}

/// A date as RFC 5322 §3.3 writes it, in UTC: `Mon, 01 Jun 2026 12:00:00 +0000`.
pub(crate) fn rfc5322_date(unix: u64) -> String {
    format_date(unix, &Rfc2822)
}

/// A date as RFC 3339 §5.6 writes it, in UTC: `2026-06-01T12:00:00Z`.
pub(crate) fn rfc3339_date(unix: u64) -> String {
    format_date(unix, &Rfc3339)
}

/// The simulated clock's times are seconds after its start in 2026, well
/// inside the years both formats can write (1900 to 9999).
fn format_date(unix: u64, format: &impl Formattable) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| t.format(format).ok())
        .expect("a simulated time is within the years 1900 to 9999")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_as_rfc_5322_says() {
        assert_eq!(rfc5322_date(SIM_EPOCH_UNIX), "Mon, 01 Jun 2026 12:00:00 +0000");
        assert_eq!(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc5322_date(951_825_600), "Tue, 29 Feb 2000 12:00:00 +0000");
        assert_eq!(rfc3339_date(SIM_EPOCH_UNIX), "2026-06-01T12:00:00Z");
        assert_eq!(rfc3339_date(951_825_600), "2000-02-29T12:00:00Z");
    }

    #[test]
    fn normalising_turns_every_bare_ending_into_crlf() {
        assert_eq!(normalise_line_endings(b"a\n.\r\nb\r.\rc\r\n"), b"a\r\n.\r\nb\r\n.\r\nc\r\n");
        assert_eq!(normalise_line_endings(b"\r"), b"\r\n");
    }
}
