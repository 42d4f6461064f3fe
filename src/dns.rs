//! The simulated world's DNS, as data: the records a receiving server looks
//! up, and the SPF check (RFC 7208) it runs with them. The check is the
//! `viaspf` crate's evaluation of `check_host()` against a lookup that only
//! reads the zone, so it finishes on its first poll: nothing waits, nothing
//! leaves the process.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use serde::{Deserialize, Serialize};
use viaspf::lookup::{Lookup, LookupError, LookupResult, Name};
use viaspf::{Config, Sender, SpfResultCause};

use crate::names::{CUSTOMER_DOMAIN, PROVIDER_ADDR, PROVIDER_DOMAIN};

/// One answer a resolver can give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "UPPERCASE")]
pub enum Data {
    A(Ipv4Addr),
    Txt(String),
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
    /// The mechanism of the checked record that decided it (`include:_spf.sender.test`), if one did.
    pub mechanism: Option<String>,
    /// The TXT lookups made, in order, with their answers.
    pub lookups: Vec<Record>,
}

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
        }
    }

    fn answers(&self, name: &Name) -> impl Iterator<Item = &Record> {
        let name = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        self.records.iter().filter(move |r| r.name.eq_ignore_ascii_case(&name))
    }

    /// Runs `check_host()` for a MAIL FROM address from `client_ip`
    /// (RFC 7208 §4), as a receiver does at MAIL (§2.4).
    pub fn check_spf(&self, client_ip: IpAddr, mail_from: &str, helo: &str) -> SpfCheck {
        let domain = mail_from.rsplit_once('@').map_or("", |(_, d)| d).to_owned();
        let lookup = Recorder { zone: self, seen: std::sync::Mutex::new(Vec::new()) };
        let (result, mechanism) = match Sender::from_address(mail_from) {
            Ok(sender) => {
                let helo = viaspf::DomainName::new(helo).ok();
                let config = Config::default();
                let query = viaspf::evaluate_sender(&lookup, &config, client_ip, &sender, helo.as_ref());
                match poll_once(query) {
                    Some(q) => {
                        let mechanism = match q.cause {
                            Some(SpfResultCause::Match(m)) => Some(m.to_string()),
                            _ => None,
                        };
                        (short(&q.spf_result), mechanism)
                    }
                    None => ("temperror".to_owned(), None),
                }
            }
            Err(_) => ("none".to_owned(), None),
        };
        let lookups = lookup.seen.into_inner().unwrap_or_default();
        SpfCheck { domain, client_ip, result, mechanism, lookups }
    }
}

/// The result's keyword, without a fail's explanation.
fn short(result: &viaspf::SpfResult) -> String {
    result.to_string().split(' ').next().unwrap_or("").to_owned()
}

/// Polls a future that never waits (its lookups read memory) to its end;
/// `None` if it did wait, which would be a bug here.
fn poll_once<F: Future>(f: F) -> Option<F::Output> {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}

/// The zone as a resolver, noting each TXT lookup and its answers.
struct Recorder<'z> {
    zone: &'z Zone,
    seen: std::sync::Mutex<Vec<Record>>,
}

impl Recorder<'_> {
    /// The answers of one type for a name (noting TXT lookups); no records is NXDOMAIN to SPF.
    fn found<T>(&self, name: &Name, pick: impl Fn(&Data) -> Option<T>) -> LookupResult<Vec<T>> {
        let records: Vec<&Record> = self.zone.answers(name).filter(|r| pick(&r.data).is_some()).collect();
        if let (Ok(mut seen), true) = (self.seen.lock(), records.iter().any(|r| matches!(r.data, Data::Txt(_)))) {
            seen.extend(records.iter().map(|r| (*r).clone()));
        }
        let out: Vec<T> = records.iter().filter_map(|r| pick(&r.data)).collect();
        if out.is_empty() {
            Err(LookupError::NoRecords)
        } else {
            Ok(out)
        }
    }
}

#[async_trait::async_trait]
impl Lookup for Recorder<'_> {
    async fn lookup_a<'lookup, 'a>(&'lookup self, name: &'a Name) -> LookupResult<Vec<Ipv4Addr>> {
        self.found(name, |d| match d {
            Data::A(a) => Some(*a),
            _ => None,
        })
    }
    async fn lookup_aaaa<'lookup, 'a>(&'lookup self, _: &'a Name) -> LookupResult<Vec<Ipv6Addr>> {
        Err(LookupError::NoRecords)
    }
    async fn lookup_mx<'lookup, 'a>(&'lookup self, _: &'a Name) -> LookupResult<Vec<Name>> {
        Err(LookupError::NoRecords)
    }
    async fn lookup_txt<'lookup, 'a>(&'lookup self, name: &'a Name) -> LookupResult<Vec<String>> {
        self.found(name, |d| match d {
            Data::Txt(t) => Some(t.clone()),
            _ => None,
        })
    }
    async fn lookup_ptr<'lookup>(&'lookup self, _: IpAddr) -> LookupResult<Vec<Name>> {
        Err(LookupError::NoRecords)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_providers_address_passes_for_its_customers_and_others_fail() {
        let zone = Zone::lab();
        let provider = IpAddr::from(PROVIDER_ADDR);
        let check = zone.check_spf(provider, "ceo@bank.test", "mta.sender.test");
        assert_eq!(check.result, "pass");
        assert_eq!(check.mechanism.as_deref(), Some("include:_spf.sender.test"));
        assert_eq!(check.lookups.len(), 2, "bank.test, then the included _spf.sender.test: {:?}", check.lookups);
        assert_eq!(zone.check_spf(IpAddr::from([203, 0, 113, 66]), "ceo@bank.test", "x.test").result, "fail");
        assert_eq!(zone.check_spf(provider, "ceo@example.test", "mta.sender.test").result, "fail");
        assert_eq!(zone.check_spf(provider, "someone@nowhere.test", "mta.sender.test").result, "none");
    }
}
