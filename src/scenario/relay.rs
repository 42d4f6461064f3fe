//! The sender's provider as a relay: its submission server (MSA) accepts a
//! message on hop 1, and its outbound client (MTA) hands it to the
//! recipient's MX on hop 2. What it changes on the way, and what it refuses,
//! is a switch with a real historical position each.

use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Scenario;
use crate::client::ClientConfig;
use crate::dns::Zone;
use crate::names::{PROVIDER_ADDR, PROVIDER_NAME, SIM_EPOCH_UNIX};
use crate::server::{Envelope, SpfSetup};
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
    /// and no certificate check (RFC 7435 §1), to an MX on 25 that checks SPF.
    pub fn usual() -> Relay {
        let mut next = Scenario::relay();
        next.client.ehlo_name = PROVIDER_NAME.to_owned();
        next.server.spf = Some(SpfSetup { zone: Zone::lab(), client_ip: IpAddr::from(PROVIDER_ADDR) });
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
pub fn normalise_line_endings(body: &[u8]) -> Vec<u8> {
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
    let client = std::net::Ipv4Addr::from(crate::names::CLIENT_ADDR);
    let to = m.envelope.to.first().map(|t| format!("\r\n\tfor <{t}>")).unwrap_or_default();
    format!(
        "Received: from {helo} (unknown [{client}])\r\n\tby {by} (smtp-lab) with {with} id {id}{to};\r\n\t{date}\r\n",
        by = hop1.server.hostname,
        id = m.queue_id,
        date = rfc5322_date(SIM_EPOCH_UNIX + at.as_secs()),
    )
}

/// A date as RFC 5322 §3.3 writes it, in UTC: `Mon, 01 Jun 2026 12:00:00 +0000`.
pub fn rfc5322_date(unix: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let c = Civil::of(unix);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} +0000",
        DAYS[((unix / 86_400) % 7) as usize],
        c.day,
        MONTHS[(c.month - 1) as usize],
        c.year,
        c.hour,
        c.minute,
        c.second
    )
}

/// A date as RFC 3339 §5.6 writes it, in UTC: `2026-06-01T12:00:00Z`.
pub fn rfc3339_date(unix: u64) -> String {
    let c = Civil::of(unix);
    format!("{}-{:02}-{:02}T{:02}:{:02}:{:02}Z", c.year, c.month, c.day, c.hour, c.minute, c.second)
}

/// A UTC instant as a civil date and time.
struct Civil {
    year: i64,
    month: i64,
    day: i64,
    hour: u64,
    minute: u64,
    second: u64,
}

impl Civil {
    fn of(unix: u64) -> Civil {
        let (days, secs) = (unix / 86_400, unix % 86_400);
        // Days since 1970 to a civil date (H. Hinnant's algorithm, era of 400 years).
        let z = days as i64 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Civil { year, month, day, hour: secs / 3600, minute: secs / 60 % 60, second: secs % 60 }
    }
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
