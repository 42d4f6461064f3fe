//! The simulated world's DNS, as data: the records a receiving server looks
//! up, and the SPF check (RFC 7208 §4, `check_host()`) it runs with them.
//!
//! The check is written here rather than taken from a crate: the one full
//! implementation that takes a pluggable resolver (viaspf) is GPL-3.0, which
//! this MIT/Apache crate cannot link, and the others either only parse
//! records or bring their own network resolver. It covers what RFC 7208
//! defines except macros (§7), which no record of the lab uses: a record
//! with one is a permerror here, said so.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use crate::dane::Tlsa;
use crate::names::{CUSTOMER_DOMAIN, PROVIDER_ADDR, PROVIDER_DOMAIN};
use crate::vocab::{choice, Choice};

/// One answer a resolver can give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "UPPERCASE")]
pub enum Data {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Mx(String),
    Txt(String),
    /// A TLSA record (RFC 6698 §2), at `_25._tcp.<mx host>` for SMTP (RFC 7672 §2.2).
    Tlsa(Tlsa),
}

impl Data {
    /// The record type's name, as a query asks for it.
    pub fn qtype(&self) -> Qtype {
        match self {
            Data::A(_) => Qtype::A,
            Data::Aaaa(_) => Qtype::Aaaa,
            Data::Mx(_) => Qtype::Mx,
            Data::Txt(_) => Qtype::Txt,
            Data::Tlsa(_) => Qtype::Tlsa,
        }
    }
}

impl std::fmt::Display for Data {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Data::A(a) => write!(f, "A {a}"),
            Data::Aaaa(a) => write!(f, "AAAA {a}"),
            Data::Mx(host) => write!(f, "MX 10 {host}"),
            Data::Txt(text) => write!(f, "TXT {text:?}"),
            Data::Tlsa(t) => write!(f, "TLSA {t}"),
        }
    }
}

choice! {
    /// The record types the simulated resolver answers.
    pub enum Qtype ("record type") {
        A = "A": "an IPv4 address",
        Aaaa = "AAAA": "an IPv6 address",
        Mx = "MX": "a mail exchanger (RFC 5321 §5.1)",
        Txt = "TXT": "text: SPF (RFC 7208), MTA-STS (RFC 8461 §3.1), TLS-RPT (RFC 8460 §3)",
        Tlsa = "TLSA": "a certificate association (RFC 6698 §2)",
    }
}

choice! {
    /// What a validating resolver concludes about an answer (RFC 4035 §4.3).
    #[derive(Default)]
    pub enum Dnssec ("DNSSEC state") {
        Secure = "secure": "signed, with a chain of signatures from a trust anchor (RFC 4035 §4.3)",
        #[default]
        Insecure = "insecure": "unsigned: nothing in the answer can be checked (RFC 4035 §4.3)",
        Bogus = "bogus": "signed, but the signatures do not check out; the resolver answers SERVFAIL (RFC 4035 §4.3, §5.5)",
    }
}

/// A record: a name and its data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub name: String,
    #[serde(flatten)]
    pub data: Data,
}

/// Every record of the simulated world.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    pub records: Vec<Record>,
    /// Zones (by apex) that are signed or broken; every other name is insecure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dnssec: Vec<(String, Dnssec)>,
}

choice! {
    /// The response code of an answer (RFC 1035 §4.1.1; RFC 4035 §5.5 for SERVFAIL on bogus data).
    pub enum Rcode ("response code") {
        NoError = "NOERROR": "an answer, possibly with no records of the type asked for",
        ServFail = "SERVFAIL": "the resolver could not give a trustworthy answer",
    }
}

/// What an attacker on the path between the resolver and the zone's servers
/// does to one answer. She can forge anything unsigned; a signed answer she
/// changes no longer validates (RFC 4035 §5.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tamper {
    /// Answer with these records instead.
    Replace(Vec<Record>),
    /// Answer with none (a removed record).
    Remove,
}

/// One query and the answer the sender's validating resolver returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lookup {
    pub name: String,
    pub qtype: Qtype,
    pub rcode: Rcode,
    pub records: Vec<Record>,
    pub dnssec: Dnssec,
    /// What the attacker did to the answer, in her words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tampered: Option<String>,
}

impl Lookup {
    /// The records of the answer a client may use: none unless NOERROR.
    pub fn usable(&self) -> &[Record] {
        match self.rcode {
            Rcode::NoError => &self.records,
            Rcode::ServFail => &[],
        }
    }

    /// The usable records' data, each as `pick` reads it (`None` for other types).
    fn each<'a, T>(&'a self, pick: impl Fn(&'a Data) -> Option<T> + 'a) -> impl Iterator<Item = T> + 'a {
        self.usable().iter().filter_map(move |r| pick(&r.data))
    }

    /// The MX hosts of a usable answer.
    pub fn mx_hosts(&self) -> impl Iterator<Item = &str> {
        self.each(|d| match d {
            Data::Mx(host) => Some(host.as_str()),
            _ => None,
        })
    }

    /// The IPv4 addresses of a usable answer.
    pub fn addresses(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.each(|d| match d {
            Data::A(a) => Some(*a),
            _ => None,
        })
    }

    /// The TXT strings of a usable answer.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.each(|d| match d {
            Data::Txt(t) => Some(t.as_str()),
            _ => None,
        })
    }

    /// The TLSA records of a usable answer.
    pub fn tlsa(&self) -> impl Iterator<Item = &Tlsa> {
        self.each(|d| match d {
            Data::Tlsa(t) => Some(t),
            _ => None,
        })
    }

    /// The answer in one line: `MX 10 mail.example.test (secure)`.
    pub fn summary(&self) -> String {
        let answer = match (self.rcode, self.records.as_slice()) {
            (Rcode::ServFail, _) => "SERVFAIL".to_owned(),
            (Rcode::NoError, []) => "no records".to_owned(),
            (Rcode::NoError, records) => records.iter().map(|r| r.data.to_string()).collect::<Vec<_>>().join(", "),
        };
        format!("{answer} ({})", self.dnssec.id())
    }
}

/// What an SPF check concluded, and the TXT records it read on the way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpfCheck {
    /// The MAIL FROM domain checked (RFC 7208 §2.4).
    pub domain: String,
    /// The connecting client's address.
    pub client_ip: IpAddr,
    /// `pass`, `fail`, `softfail`, `neutral`, `none`, `temperror` or `permerror` (RFC 7208 §2.6).
    pub result: String,
    /// The term of the checked domain's record that decided it (`include:_spf.sender.test`), if one did.
    pub mechanism: Option<String>,
    /// Why the result is an error, when it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The SPF records read, in order (RFC 7208 §4.4).
    pub lookups: Vec<Record>,
}

/// The most DNS-querying terms one check may evaluate (RFC 7208 §4.6.4).
const MAX_LOOKUPS: usize = 10;
/// The most of them that may find nothing (RFC 7208 §4.6.4).
const MAX_VOID: usize = 2;

impl Zone {
    /// The lab's records: the provider authorises its own address, and its
    /// customer's record includes the provider's (RFC 7208 §5.2).
    pub fn lab() -> Zone {
        let spf = format!("_spf.{PROVIDER_DOMAIN}");
        let txt = |name: &str, text: String| Record { name: name.to_owned(), data: Data::Txt(text) };
        Zone {
            records: vec![
                txt(&spf, format!("v=spf1 ip4:{} -all", Ipv4Addr::from(PROVIDER_ADDR))),
                txt(PROVIDER_DOMAIN, format!("v=spf1 include:{spf} -all")),
                txt(CUSTOMER_DOMAIN, format!("v=spf1 include:{spf} -all")),
                txt("example.test", "v=spf1 ip4:198.51.100.25 -all".to_owned()),
            ],
            dnssec: Vec::new(),
        }
    }

    /// Adds a record.
    pub fn add(&mut self, name: &str, data: Data) {
        self.records.push(Record { name: name.to_owned(), data });
    }

    /// Marks the zone at `apex` (and every name under it) as signed, unsigned or broken.
    pub fn sign(&mut self, apex: &str, state: Dnssec) {
        self.dnssec.retain(|(a, _)| !a.eq_ignore_ascii_case(apex));
        self.dnssec.push((apex.to_owned(), state));
    }

    /// The DNSSEC state of a name: that of the closest enclosing zone listed, else insecure.
    pub fn dnssec_of(&self, name: &str) -> Dnssec {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.dnssec
            .iter()
            .filter(|(apex, _)| {
                let apex = apex.to_ascii_lowercase();
                name == apex || name.ends_with(&format!(".{apex}"))
            })
            .max_by_key(|(apex, _)| apex.len())
            .map_or(Dnssec::Insecure, |(_, state)| *state)
    }

    /// What a validating resolver answers for `name`/`qtype`, with an
    /// attacker's `tamper` on the answer if any. Bogus data, forged or
    /// broken, becomes SERVFAIL (RFC 4035 §5.5); an unsigned answer is
    /// taken as it comes, forged or not.
    pub fn resolve(&self, name: &str, qtype: Qtype, tamper: Option<&Tamper>) -> Lookup {
        let honest: Vec<Record> = self.answers(name).filter(|r| r.data.qtype() == qtype).cloned().collect();
        let mut dnssec = self.dnssec_of(name);
        let (records, tampered) = match tamper {
            None => (honest, None),
            Some(Tamper::Remove) => (Vec::new(), Some(format!("Mallory removed the {qtype} answer"))),
            Some(Tamper::Replace(forged)) => {
                let text = forged.iter().map(|r| r.data.to_string()).collect::<Vec<_>>().join(", ");
                (forged.clone(), Some(format!("Mallory forged the answer: {text}")))
            }
        };
        if tampered.is_some() && dnssec == Dnssec::Secure {
            // A changed or missing RRset has no signature that validates (RFC 4035 §5.5).
            dnssec = Dnssec::Bogus;
        }
        let rcode = if dnssec == Dnssec::Bogus { Rcode::ServFail } else { Rcode::NoError };
        Lookup { name: name.to_owned(), qtype, rcode, records, dnssec, tampered }
    }

    fn answers(&self, name: &str) -> impl Iterator<Item = &Record> {
        let name = name.trim_end_matches('.').to_owned();
        self.records.iter().filter(move |r| r.name.eq_ignore_ascii_case(&name))
    }

    /// Runs `check_host()` for a MAIL FROM address from `client_ip`
    /// (RFC 7208 §4), as a receiver does at MAIL (§2.4).
    pub fn check_spf(&self, client_ip: IpAddr, mail_from: &str) -> SpfCheck {
        let domain = mail_from.rsplit_once('@').map_or("", |(_, d)| d).to_owned();
        let mut check = Check { zone: self, ip: client_ip, lookups: 0, void: 0, read: Vec::new() };
        let (result, mechanism, error) = match check.host(&domain, 0) {
            Ok(Verdict { result, term }) => (result, term, None),
            Err((result, why)) => (result, None, Some(why)),
        };
        SpfCheck { domain, client_ip, result: result.to_owned(), mechanism, error, lookups: check.read }
    }
}

/// A result and the top-level term that produced it.
struct Verdict {
    result: &'static str,
    term: Option<String>,
}

/// An error result (`permerror`, `temperror`) and why.
type Failure = (&'static str, String);

/// One evaluation: the zone, the client, and the limits spent so far.
struct Check<'z> {
    zone: &'z Zone,
    ip: IpAddr,
    lookups: usize,
    void: usize,
    read: Vec<Record>,
}

impl Check<'_> {
    /// `check_host()` for one domain (RFC 7208 §4); `depth` counts includes and redirects.
    fn host(&mut self, domain: &str, depth: usize) -> Result<Verdict, Failure> {
        if domain.is_empty() || !domain.contains('.') {
            return Ok(Verdict { result: "none", term: None });
        }
        // §4.5: exactly one record starting "v=spf1", else none (zero) or permerror (several).
        let records: Vec<&Record> = self
            .zone
            .answers(domain)
            .filter(
                |r| matches!(&r.data, Data::Txt(t) if t.eq_ignore_ascii_case("v=spf1") || t.to_ascii_lowercase().starts_with("v=spf1 ")),
            )
            .collect();
        let text = match records.as_slice() {
            [] => return Ok(Verdict { result: "none", term: None }),
            [one] => {
                self.read.push((*one).clone());
                match &one.data {
                    Data::Txt(t) => t.clone(),
                    _ => unreachable!("filtered to TXT"),
                }
            }
            _ => return Err(("permerror", format!("{domain} has more than one SPF record (RFC 7208 §4.5)"))),
        };
        let mut redirect = None;
        for term in text.split_ascii_whitespace().skip(1) {
            if term.contains('%') {
                return Err(("permerror", format!("{term:?} uses a macro, which this lab does not expand (RFC 7208 §7)")));
            }
            if let Some(target) = term.strip_prefix("redirect=") {
                redirect = Some(target.to_owned());
                continue;
            }
            if term.contains('=') {
                continue; // exp= and unknown modifiers do not change the result (§6).
            }
            let (qualifier, mechanism) = match term.as_bytes()[0] {
                b'+' | b'-' | b'~' | b'?' => (term.as_bytes()[0], &term[1..]),
                _ => (b'+', term),
            };
            if self.matches(mechanism, domain, depth)? {
                let result = match qualifier {
                    b'-' => "fail",
                    b'~' => "softfail",
                    b'?' => "neutral",
                    _ => "pass",
                };
                return Ok(Verdict { result, term: Some(term.to_owned()) });
            }
        }
        match redirect {
            // §6.1: the redirect's result is the result, none becoming permerror.
            Some(target) => {
                self.spend(&target)?;
                match self.host(&target, depth + 1)? {
                    Verdict { result: "none", .. } => Err(("permerror", format!("redirect to {target}, which has no SPF record"))),
                    v => Ok(Verdict { term: Some(format!("redirect={target}")), ..v }),
                }
            }
            None => Ok(Verdict { result: "neutral", term: None }),
        }
    }

    /// Counts one DNS-querying term against the limit of §4.6.4.
    fn spend(&mut self, term: &str) -> Result<(), Failure> {
        self.lookups += 1;
        if self.lookups > MAX_LOOKUPS {
            return Err(("permerror", format!("more than {MAX_LOOKUPS} DNS-querying terms, at {term} (RFC 7208 §4.6.4)")));
        }
        Ok(())
    }

    /// A lookup that found nothing, against the limit of §4.6.4.
    fn found_nothing(&mut self, name: &str) -> Result<(), Failure> {
        self.void += 1;
        if self.void > MAX_VOID {
            return Err(("permerror", format!("more than {MAX_VOID} lookups found nothing, the last for {name} (RFC 7208 §4.6.4)")));
        }
        Ok(())
    }

    /// Whether a mechanism matches the client (RFC 7208 §5).
    fn matches(&mut self, mechanism: &str, domain: &str, depth: usize) -> Result<bool, Failure> {
        let (name, arg) = match mechanism.split_once([':', '/']) {
            Some((n, _)) => (n, &mechanism[n.len()..]),
            None => (mechanism, ""),
        };
        let lower = name.to_ascii_lowercase();
        // "a:host/24" → target host and prefix lengths.
        let (target, prefix) = match arg.strip_prefix(':') {
            Some(rest) => match rest.split_once('/') {
                Some((host, p)) => (host.to_owned(), Some(p)),
                None => (rest.to_owned(), None),
            },
            None => (domain.to_owned(), arg.strip_prefix('/')),
        };
        match lower.as_str() {
            "all" => Ok(true),
            "ip4" | "ip6" => {
                let (addr, len) = target.split_once('/').map_or((target.as_str(), prefix), |(a, l)| (a, Some(l)));
                let net: IpAddr = addr.parse().map_err(|_| ("permerror", format!("{mechanism:?} is not an address (RFC 7208 §5.6)")))?;
                let max = if net.is_ipv4() { 32 } else { 128 };
                let len = match len {
                    Some(l) => {
                        l.parse::<u32>().ok().filter(|l| *l <= max).ok_or(("permerror", format!("{mechanism:?}: bad prefix length")))?
                    }
                    None => max,
                };
                Ok(in_network(self.ip, net, len))
            }
            "include" => {
                self.spend(mechanism)?;
                if target == domain && arg.is_empty() {
                    return Err(("permerror", "include needs a domain (RFC 7208 §5.2)".into()));
                }
                if depth >= MAX_LOOKUPS {
                    return Err(("permerror", "includes nest too deep (RFC 7208 §4.6.4)".into()));
                }
                // §5.2: pass matches; fail, softfail and neutral do not; none is a permerror.
                match self.host(&target, depth + 1)?.result {
                    "pass" => Ok(true),
                    "none" => Err(("permerror", format!("include:{target} has no SPF record (RFC 7208 §5.2)"))),
                    _ => Ok(false),
                }
            }
            "a" | "mx" => {
                self.spend(mechanism)?;
                let hosts: Vec<String> = if lower == "mx" {
                    self.zone
                        .answers(&target)
                        .filter_map(|r| match &r.data {
                            Data::Mx(host) => Some(host.clone()),
                            _ => None,
                        })
                        .collect()
                } else {
                    vec![target.clone()]
                };
                let (v4, v6) = prefix.map_or((32, 128), |p| {
                    let mut parts = p.split('/');
                    (parts.next().and_then(|x| x.parse().ok()).unwrap_or(32), parts.nth(1).and_then(|x| x.parse().ok()).unwrap_or(128))
                });
                let addresses: Vec<(IpAddr, u32)> = hosts
                    .iter()
                    .flat_map(|h| self.zone.answers(h))
                    .filter_map(|r| match r.data {
                        Data::A(a) => Some((IpAddr::V4(a), v4)),
                        Data::Aaaa(a) => Some((IpAddr::V6(a), v6)),
                        _ => None,
                    })
                    .collect();
                if addresses.is_empty() {
                    self.found_nothing(&target)?;
                }
                Ok(addresses.into_iter().any(|(net, len)| in_network(self.ip, net, len)))
            }
            "exists" => {
                self.spend(mechanism)?;
                let found = self.zone.answers(&target).any(|r| matches!(r.data, Data::A(_)));
                if !found {
                    self.found_nothing(&target)?;
                }
                Ok(found)
            }
            // §5.5: ptr is deprecated; with no reverse DNS in the lab it never matches.
            "ptr" => {
                self.spend(mechanism)?;
                Ok(false)
            }
            _ => Err(("permerror", format!("unknown mechanism {mechanism:?} (RFC 7208 §4.6.1)"))),
        }
    }
}

/// Whether `ip` is in `net`/`len` (same family only).
fn in_network(ip: IpAddr, net: IpAddr, len: u32) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(records: &[(&str, &str)]) -> Zone {
        Zone {
            records: records.iter().map(|(n, t)| Record { name: (*n).into(), data: Data::Txt((*t).into()) }).collect(),
            dnssec: Vec::new(),
        }
    }

    fn result(z: &Zone, ip: [u8; 4], from: &str) -> String {
        z.check_spf(IpAddr::from(ip), from).result
    }

    #[test]
    fn the_providers_address_passes_for_its_customers_and_others_fail() {
        let zone = Zone::lab();
        let provider = IpAddr::from(PROVIDER_ADDR);
        let check = zone.check_spf(provider, "ceo@bank.test");
        assert_eq!(check.result, "pass");
        assert_eq!(check.mechanism.as_deref(), Some("include:_spf.sender.test"));
        let read: Vec<&str> = check.lookups.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(read, ["bank.test", "_spf.sender.test"], "the record, then the included one");
        assert_eq!(zone.check_spf(IpAddr::from([203, 0, 113, 66]), "ceo@bank.test").result, "fail");
        assert_eq!(zone.check_spf(provider, "ceo@example.test").result, "fail");
        assert_eq!(zone.check_spf(provider, "someone@nowhere.test").result, "none");
    }

    #[test]
    fn mechanisms_qualifiers_and_modifiers_follow_rfc_7208() {
        let z = zone(&[
            ("net.test", "v=spf1 ip4:192.0.2.0/24 ~all"),
            ("six.test", "v=spf1 ip6:2001:db8::/32 -all"),
            ("neutral.test", "v=spf1 ?ip4:192.0.2.1"),
            ("redirect.test", "v=spf1 redirect=net.test"),
            ("dangling.test", "v=spf1 redirect=nowhere.test"),
            ("two.test", "v=spf1 -all"),
            ("two.test", "v=spf1 +all"),
            ("macro.test", "v=spf1 exists:%{i}.x.test -all"),
            ("loop.test", "v=spf1 include:loop.test -all"),
            ("bad.test", "v=spf1 foo:bar -all"),
            ("other.test", "not spf at all"),
        ]);
        assert_eq!(result(&z, [192, 0, 2, 77], "x@net.test"), "pass");
        assert_eq!(result(&z, [192, 0, 3, 77], "x@net.test"), "softfail");
        assert_eq!(z.check_spf("2001:db8::1".parse().unwrap(), "x@six.test").result, "pass");
        assert_eq!(z.check_spf("2001:db9::1".parse().unwrap(), "x@six.test").result, "fail");
        assert_eq!(result(&z, [192, 0, 2, 1], "x@neutral.test"), "neutral");
        assert_eq!(result(&z, [192, 0, 2, 2], "x@neutral.test"), "neutral", "no match and no all: neutral (§4.7)");
        assert_eq!(result(&z, [192, 0, 2, 9], "x@redirect.test"), "pass");
        assert_eq!(result(&z, [192, 0, 2, 9], "x@dangling.test"), "permerror");
        assert_eq!(result(&z, [192, 0, 2, 9], "x@two.test"), "permerror", "two SPF records (§4.5)");
        let macro_check = z.check_spf(IpAddr::from([192, 0, 2, 9]), "x@macro.test");
        assert_eq!(macro_check.result, "permerror");
        assert!(macro_check.error.unwrap().contains("macro"));
        assert_eq!(result(&z, [192, 0, 2, 9], "x@loop.test"), "permerror", "the lookup limit ends a loop (§4.6.4)");
        assert_eq!(result(&z, [192, 0, 2, 9], "x@bad.test"), "permerror");
        assert_eq!(result(&z, [192, 0, 2, 9], "x@other.test"), "none");
    }
}
