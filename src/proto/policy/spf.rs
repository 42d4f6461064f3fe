//! SPF (RFC 7208): the record's grammar (§4.6.1, §5, §6, parsed with nom)
//! and `check_host()` (§4), which a receiver runs at MAIL FROM (§2.4) with
//! whatever [`Resolver`] gives it the DNS.
//!
//! The check is written here rather than taken from a crate: the one full
//! implementation that takes a pluggable resolver (viaspf) is GPL-3.0, which
//! this MIT/Apache crate cannot link, and the others either only parse
//! records or bring their own network resolver. It covers what RFC 7208
//! defines except macros (§7), which a record whose evaluation reaches one
//! makes a permerror here, said so; and `ptr` (§5.5, which records SHOULD NOT
//! publish) never matches, since the [`Resolver`] answers no reverse lookups.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use nom::branch::alt;
use nom::bytes::complete::{tag_no_case, take_while1};
use nom::character::complete::{char, digit1, one_of};
use nom::combinator::{all_consuming, map, map_res, opt};
use nom::sequence::preceded;
use nom::{IResult, Parser};
use serde::{Serialize, Serializer};

use crate::proto::policy::dns::{Data, DnsRecord};

/// Where the check reads the DNS from: the records at a name, of every type.
pub trait Resolver {
    fn records(&self, name: &str) -> Vec<DnsRecord>;
}

/// The result of `check_host()` (RFC 7208 §2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpfResult {
    None,
    Neutral,
    Pass,
    Fail,
    Softfail,
    Temperror,
    Permerror,
}

impl SpfResult {
    pub fn as_str(self) -> &'static str {
        match self {
            SpfResult::None => "none",
            SpfResult::Neutral => "neutral",
            SpfResult::Pass => "pass",
            SpfResult::Fail => "fail",
            SpfResult::Softfail => "softfail",
            SpfResult::Temperror => "temperror",
            SpfResult::Permerror => "permerror",
        }
    }
}

impl fmt::Display for SpfResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for SpfResult {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Why a check ended in an error result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpfError {
    #[error("{domain} has more than one SPF record (RFC 7208 §4.5)")]
    SeveralRecords { domain: String },
    #[error("{term:?} is not a term of RFC 7208 §4.6.1")]
    Syntax { term: String },
    #[error("{term:?} is not an address (RFC 7208 §5.6)")]
    BadAddress { term: String },
    #[error("{term:?}: bad prefix length")]
    BadPrefix { term: String },
    #[error("{term:?} appears twice; redirect and exp may appear once each (RFC 7208 §6)")]
    RepeatedModifier { term: String },
    #[error("{term:?} uses a macro, which this lab does not expand (RFC 7208 §7)")]
    Macro { term: String },
    #[error("more than {MAX_LOOKUPS} DNS-querying terms, at {term} (RFC 7208 §4.6.4)")]
    TooManyLookups { term: String },
    #[error("more than {MAX_VOID} lookups found nothing, the last for {name} (RFC 7208 §4.6.4)")]
    TooManyVoidLookups { name: String },
    #[error("includes nest too deep (RFC 7208 §4.6.4)")]
    TooDeep,
    #[error("include:{target} has no SPF record (RFC 7208 §5.2)")]
    IncludeHasNoRecord { target: String },
    #[error("redirect to {target}, which has no SPF record")]
    RedirectHasNoRecord { target: String },
}

impl Serialize for SpfError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What an SPF check concluded, and the TXT records it read on the way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpfCheck {
    /// The MAIL FROM domain checked (RFC 7208 §2.4).
    pub domain: String,
    /// The connecting client's address.
    pub client_ip: IpAddr,
    pub result: SpfResult,
    /// The term of the checked domain's record that decided it (`include:_spf.sender.test`), if one did.
    pub mechanism: Option<String>,
    /// Why the result is an error, when it is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<SpfError>,
    /// The SPF records read, in order (RFC 7208 §4.4).
    pub lookups: Vec<DnsRecord>,
}

/// The most DNS-querying terms one check may evaluate (RFC 7208 §4.6.4).
const MAX_LOOKUPS: usize = 10;
/// The most of them that may find nothing (RFC 7208 §4.6.4).
const MAX_VOID: usize = 2;

/// A qualifier (RFC 7208 §4.6.2): the result a matching mechanism gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Qualifier {
    Pass,
    Fail,
    Softfail,
    Neutral,
}

impl Qualifier {
    fn result(self) -> SpfResult {
        match self {
            Qualifier::Pass => SpfResult::Pass,
            Qualifier::Fail => SpfResult::Fail,
            Qualifier::Softfail => SpfResult::Softfail,
            Qualifier::Neutral => SpfResult::Neutral,
        }
    }
}

/// A domain-spec (RFC 7208 §7.1), as written: it may hold macros.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DomainSpec(pub String);

/// A mechanism (RFC 7208 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SpfMechanism {
    All,
    Include(DomainSpec),
    /// `a` and `mx`: the target (the checked domain when absent) and the dual CIDR lengths.
    A {
        domain: Option<DomainSpec>,
        v4: Option<u32>,
        v6: Option<u32>,
    },
    Mx {
        domain: Option<DomainSpec>,
        v4: Option<u32>,
        v6: Option<u32>,
    },
    Ptr(Option<DomainSpec>),
    Ip4 {
        net: Ipv4Addr,
        len: Option<u32>,
    },
    Ip6 {
        net: Ipv6Addr,
        len: Option<u32>,
    },
    Exists(DomainSpec),
}

/// One term of a record (RFC 7208 §4.6.1), with its text as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Term {
    Directive {
        qualifier: Qualifier,
        mechanism: SpfMechanism,
        text: String,
    },
    Redirect(DomainSpec),
    Explanation(DomainSpec),
    /// A modifier RFC 7208 does not define: ignored (§6).
    Unknown {
        name: String,
    },
}

/// An SPF record: `v=spf1` and its terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SpfRecord {
    pub terms: Vec<Term>,
}

/// Whether a TXT string is an SPF record: `v=spf1` alone or followed by a space (RFC 7208 §4.5).
pub(crate) fn is_spf(text: &str) -> bool {
    text.eq_ignore_ascii_case("v=spf1") || text.get(..7).is_some_and(|v| v.eq_ignore_ascii_case("v=spf1 "))
}

fn qualifier(input: &str) -> IResult<&str, Qualifier> {
    map(one_of("+-~?"), |c| match c {
        '-' => Qualifier::Fail,
        '~' => Qualifier::Softfail,
        '?' => Qualifier::Neutral,
        _ => Qualifier::Pass,
    })
    .parse(input)
}

/// A domain-spec runs to the end of the term or to a CIDR length's `/`.
fn domain_spec(input: &str) -> IResult<&str, DomainSpec> {
    map(take_while1(|c: char| c != '/' && !c.is_ascii_whitespace()), |d: &str| DomainSpec(d.to_owned())).parse(input)
}

/// `/N`, as digits; the range is checked against the family later.
fn cidr(input: &str) -> IResult<&str, u32> {
    preceded(char('/'), map_res(digit1, str::parse)).parse(input)
}

/// `[/v4] [//v6]` (RFC 7208 §5.6 dual-cidr-length).
fn dual_cidr(input: &str) -> IResult<&str, (Option<u32>, Option<u32>)> {
    (opt(cidr), opt(preceded(char('/'), cidr))).parse(input)
}

/// `a` and `mx`'s optional target and CIDR lengths.
type Target = (Option<DomainSpec>, Option<u32>, Option<u32>);

fn target_and_cidr(input: &str) -> IResult<&str, Target> {
    map((opt(preceded(char(':'), domain_spec)), dual_cidr), |(d, (v4, v6))| (d, v4, v6)).parse(input)
}

fn mechanism(input: &str) -> IResult<&str, SpfMechanism> {
    alt((
        map(preceded(tag_no_case("include:"), domain_spec), SpfMechanism::Include),
        map(preceded(tag_no_case("exists:"), domain_spec), SpfMechanism::Exists),
        map(preceded(tag_no_case("ptr"), opt(preceded(char(':'), domain_spec))), SpfMechanism::Ptr),
        map(preceded(tag_no_case("mx"), target_and_cidr), |(domain, v4, v6)| SpfMechanism::Mx { domain, v4, v6 }),
        map(preceded(tag_no_case("all"), nom::combinator::eof), |_| SpfMechanism::All),
        map(preceded(tag_no_case("a"), target_and_cidr), |(domain, v4, v6)| SpfMechanism::A { domain, v4, v6 }),
    ))
    .parse(input)
}

/// `ip4:` and `ip6:` take the whole address, then an optional length.
fn ip_mechanism(term: &str, body: &str) -> Result<SpfMechanism, SpfError> {
    let (kind, rest) = body.split_at(4);
    let (addr, len) = match rest.rsplit_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (rest, None),
    };
    let len = match len {
        Some(l) => Some(all_consuming(digit1::<_, ()>).parse(l).ok().and_then(|(_, d)| d.parse().ok()).ok_or_else(|| bad_prefix(term))?),
        None => None,
    };
    let bad = || SpfError::BadAddress { term: term.to_owned() };
    if kind.eq_ignore_ascii_case("ip4:") {
        Ok(SpfMechanism::Ip4 { net: addr.parse().map_err(|_| bad())?, len })
    } else {
        Ok(SpfMechanism::Ip6 { net: addr.parse().map_err(|_| bad())?, len })
    }
}

fn bad_prefix(term: &str) -> SpfError {
    SpfError::BadPrefix { term: term.to_owned() }
}

/// A modifier: `name=value` (RFC 7208 §6, §4.6.1).
fn modifier(input: &str) -> IResult<&str, (&str, &str)> {
    let name = take_while1(|c: char| c.is_ascii_alphanumeric() || "-_.".contains(c));
    (name, preceded(char('='), nom::combinator::rest)).parse(input)
}

/// Reads one term.
fn term(text: &str) -> Result<Term, SpfError> {
    let syntax = || SpfError::Syntax { term: text.to_owned() };
    if let Ok((_, (name, value))) = all_consuming(modifier).parse(text) {
        // Modifiers hold an "=" right after their name (RFC 7208 §4.6.1).
        return Ok(match name.to_ascii_lowercase().as_str() {
            "redirect" => Term::Redirect(DomainSpec(value.to_owned())),
            "exp" => Term::Explanation(DomainSpec(value.to_owned())),
            _ => Term::Unknown { name: name.to_owned() },
        });
    }
    let (body, qualifier) = opt(qualifier).parse(text).map_err(|_: nom::Err<nom::error::Error<&str>>| syntax())?;
    let qualifier = qualifier.unwrap_or(Qualifier::Pass);
    let is_ip = body.get(..4).is_some_and(|k| k.eq_ignore_ascii_case("ip4:") || k.eq_ignore_ascii_case("ip6:"));
    let mechanism =
        if is_ip { ip_mechanism(text, body)? } else { all_consuming(mechanism).parse(body).map(|(_, m)| m).map_err(|_| syntax())? };
    Ok(Term::Directive { qualifier, mechanism, text: text.to_owned() })
}

impl SpfRecord {
    /// Reads a record's text (RFC 7208 §4.5, §4.6): `v=spf1`, then terms
    /// separated by spaces. A term it cannot read, or a second `redirect` or
    /// `exp`, is a syntax error, and the record a permerror (§4.6).
    pub(crate) fn parse(text: &str) -> Result<SpfRecord, SpfError> {
        let mut words = text.split_ascii_whitespace();
        let version = words.next().unwrap_or_default();
        if !version.eq_ignore_ascii_case("v=spf1") {
            return Err(SpfError::Syntax { term: version.to_owned() });
        }
        let mut terms = Vec::new();
        let (mut redirect, mut exp) = (false, false);
        for word in words {
            let t = term(word)?;
            let seen = match &t {
                Term::Redirect(_) => std::mem::replace(&mut redirect, true),
                Term::Explanation(_) => std::mem::replace(&mut exp, true),
                _ => false,
            };
            if seen {
                return Err(SpfError::RepeatedModifier { term: word.to_owned() });
            }
            terms.push(t);
        }
        Ok(SpfRecord { terms })
    }
}

/// Runs `check_host()` for a MAIL FROM address from `client_ip` (RFC 7208
/// §4), as a receiver does at MAIL (§2.4), reading the DNS from `resolver`.
pub(crate) fn check_host(resolver: &dyn Resolver, client_ip: IpAddr, mail_from: &str) -> SpfCheck {
    let domain = mail_from.rsplit_once('@').map_or("", |(_, d)| d).to_owned();
    let mut check = Check { resolver, ip: client_ip, lookups: 0, void: 0, read: Vec::new() };
    let (result, mechanism, error) = match check.host(&domain, 0) {
        Ok(Evaluation { result, term }) => (result, term, None),
        Err((result, why)) => (result, None, Some(why)),
    };
    SpfCheck { domain, client_ip, result, mechanism, error, lookups: check.read }
}

/// A result and the top-level term that produced it.
struct Evaluation {
    result: SpfResult,
    term: Option<String>,
}

/// An error result (`permerror`, `temperror`) and why.
type Failure = (SpfResult, SpfError);

fn permerror(e: SpfError) -> Failure {
    (SpfResult::Permerror, e)
}

/// One evaluation: the resolver, the client, and the limits spent so far.
struct Check<'r> {
    resolver: &'r dyn Resolver,
    ip: IpAddr,
    lookups: usize,
    void: usize,
    read: Vec<DnsRecord>,
}

impl Check<'_> {
    /// `check_host()` for one domain (RFC 7208 §4); `depth` counts includes and redirects.
    fn host(&mut self, domain: &str, depth: usize) -> Result<Evaluation, Failure> {
        if domain.is_empty() || !domain.contains('.') {
            return Ok(Evaluation { result: SpfResult::None, term: None });
        }
        // §4.5: exactly one record starting "v=spf1", else none (zero) or permerror (several).
        let records: Vec<(DnsRecord, String)> = self
            .resolver
            .records(domain)
            .into_iter()
            .filter_map(|r| match &r.data {
                Data::Txt(t) if is_spf(t) => Some((r.clone(), t.clone())),
                _ => None,
            })
            .collect();
        let text = match records.as_slice() {
            [] => return Ok(Evaluation { result: SpfResult::None, term: None }),
            [(one, text)] => {
                self.read.push(one.clone());
                text.clone()
            }
            _ => return Err(permerror(SpfError::SeveralRecords { domain: domain.to_owned() })),
        };
        let record = SpfRecord::parse(&text).map_err(permerror)?;
        let mut redirect = None;
        for t in &record.terms {
            match t {
                Term::Redirect(target) => redirect = Some(target),
                Term::Explanation(_) | Term::Unknown { .. } => {} // they do not change the result (§6)
                Term::Directive { qualifier, mechanism, text } => {
                    if self.matches(mechanism, text, domain, depth)? {
                        return Ok(Evaluation { result: qualifier.result(), term: Some(text.clone()) });
                    }
                }
            }
        }
        match redirect {
            // §6.1: the redirect's result is the result, none becoming permerror.
            Some(target) => {
                let target = self.expand(target, &format!("redirect={}", target.0))?;
                self.spend(&target)?;
                match self.host(&target, depth + 1)? {
                    Evaluation { result: SpfResult::None, .. } => Err(permerror(SpfError::RedirectHasNoRecord { target })),
                    v => Ok(Evaluation { term: Some(format!("redirect={target}")), ..v }),
                }
            }
            None => Ok(Evaluation { result: SpfResult::Neutral, term: None }),
        }
    }

    /// A domain-spec as a name to query: macros (§7) are not expanded here.
    fn expand(&self, spec: &DomainSpec, term: &str) -> Result<String, Failure> {
        match spec.0.contains('%') {
            true => Err(permerror(SpfError::Macro { term: term.to_owned() })),
            false => Ok(spec.0.clone()),
        }
    }

    /// Counts one DNS-querying term against the limit of §4.6.4.
    fn spend(&mut self, term: &str) -> Result<(), Failure> {
        self.lookups += 1;
        if self.lookups > MAX_LOOKUPS {
            return Err(permerror(SpfError::TooManyLookups { term: term.to_owned() }));
        }
        Ok(())
    }

    /// A lookup that found nothing, against the limit of §4.6.4.
    fn found_nothing(&mut self, name: &str) -> Result<(), Failure> {
        self.void += 1;
        if self.void > MAX_VOID {
            return Err(permerror(SpfError::TooManyVoidLookups { name: name.to_owned() }));
        }
        Ok(())
    }

    /// Whether a mechanism matches the client (RFC 7208 §5); `text` is the term as written.
    fn matches(&mut self, mechanism: &SpfMechanism, text: &str, domain: &str, depth: usize) -> Result<bool, Failure> {
        let spec = |d: &Option<DomainSpec>| d.clone().unwrap_or_else(|| DomainSpec(domain.to_owned()));
        match mechanism {
            SpfMechanism::All => Ok(true),
            SpfMechanism::Ip4 { net, len } => Ok(in_network(self.ip, IpAddr::V4(*net), length(*len, 32, text)?)),
            SpfMechanism::Ip6 { net, len } => Ok(in_network(self.ip, IpAddr::V6(*net), length(*len, 128, text)?)),
            SpfMechanism::Include(target) => {
                let target = self.expand(target, text)?;
                self.spend(text)?;
                if depth >= MAX_LOOKUPS {
                    return Err(permerror(SpfError::TooDeep));
                }
                // §5.2: pass matches; fail, softfail and neutral do not; none is a permerror.
                match self.host(&target, depth + 1)?.result {
                    SpfResult::Pass => Ok(true),
                    SpfResult::None => Err(permerror(SpfError::IncludeHasNoRecord { target })),
                    _ => Ok(false),
                }
            }
            SpfMechanism::A { domain: d, v4, v6 } | SpfMechanism::Mx { domain: d, v4, v6 } => {
                let target = self.expand(&spec(d), text)?;
                self.spend(text)?;
                let hosts: Vec<String> = if matches!(mechanism, SpfMechanism::Mx { .. }) {
                    self.resolver
                        .records(&target)
                        .into_iter()
                        .filter_map(|r| match r.data {
                            Data::Mx(host) => Some(host),
                            _ => None,
                        })
                        .collect()
                } else {
                    vec![target.clone()]
                };
                let (v4, v6) = (length(*v4, 32, text)?, length(*v6, 128, text)?);
                let addresses: Vec<(IpAddr, u32)> = hosts
                    .iter()
                    .flat_map(|h| self.resolver.records(h))
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
            SpfMechanism::Exists(target) => {
                let target = self.expand(target, text)?;
                self.spend(text)?;
                let found = self.resolver.records(&target).iter().any(|r| matches!(r.data, Data::A(_)));
                if !found {
                    self.found_nothing(&target)?;
                }
                Ok(found)
            }
            // §5.5: ptr is deprecated; with no reverse DNS in the lab it never matches.
            SpfMechanism::Ptr(_) => {
                self.spend(text)?;
                Ok(false)
            }
        }
    }
}

/// A CIDR length, `max` when absent; more than `max` is a permerror (§5.6).
fn length(len: Option<u32>, max: u32, term: &str) -> Result<u32, Failure> {
    match len {
        None => Ok(max),
        Some(l) if l <= max => Ok(l),
        Some(_) => Err(permerror(bad_prefix(term))),
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
    use crate::proto::policy::dns::Zone;

    fn zone(records: &[(&str, &str)]) -> Zone {
        Zone {
            records: records.iter().map(|(n, t)| DnsRecord { name: (*n).into(), data: Data::Txt((*t).into()) }).collect(),
            dnssec: Vec::new(),
        }
    }

    fn result(z: &Zone, ip: [u8; 4], from: &str) -> SpfResult {
        check_host(z, IpAddr::from(ip), from).result
    }

    #[test]
    fn the_grammar_reads_every_mechanism_and_modifier() {
        let r = SpfRecord::parse("v=spf1 +a -mx:mx.test/24//64 ~ip4:192.0.2.0/24 ?ip6:2001:db8::/32 include:x.test exists:y.test ptr all redirect=z.test exp=e.test foo=bar").unwrap();
        let kinds: Vec<String> = r.terms.iter().map(|t| format!("{t:?}").split(['(', ' ', '{']).next().unwrap().to_owned()).collect();
        assert_eq!(kinds.iter().filter(|k| *k == "Directive").count(), 8, "{kinds:?}");
        assert!(matches!(
            &r.terms[1],
            Term::Directive { qualifier: Qualifier::Fail, mechanism: SpfMechanism::Mx { v4: Some(24), v6: Some(64), .. }, .. }
        ));
        assert!(matches!(&r.terms[3], Term::Directive { mechanism: SpfMechanism::Ip6 { len: Some(32), .. }, .. }));
        assert_eq!(r.terms[8], Term::Redirect(DomainSpec("z.test".into())));
        assert_eq!(r.terms[10], Term::Unknown { name: "foo".into() });
        for bad in [
            "v=spf1 foo:bar",
            "v=spf1 ip4:300.1.1.1",
            "v=spf1 ip4:1.2.3.4/x",
            "v=spf1 redirect=a.test redirect=b.test",
            "v=spf2 -all",
            "v=spf1 all:x",
        ] {
            assert!(SpfRecord::parse(bad).is_err(), "{bad}");
        }
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
        assert_eq!(result(&z, [192, 0, 2, 77], "x@net.test"), SpfResult::Pass);
        assert_eq!(result(&z, [192, 0, 3, 77], "x@net.test"), SpfResult::Softfail);
        assert_eq!(check_host(&z, "2001:db8::1".parse().unwrap(), "x@six.test").result, SpfResult::Pass);
        assert_eq!(check_host(&z, "2001:db9::1".parse().unwrap(), "x@six.test").result, SpfResult::Fail);
        assert_eq!(result(&z, [192, 0, 2, 1], "x@neutral.test"), SpfResult::Neutral);
        assert_eq!(result(&z, [192, 0, 2, 2], "x@neutral.test"), SpfResult::Neutral, "no match and no all: neutral (§4.7)");
        assert_eq!(result(&z, [192, 0, 2, 9], "x@redirect.test"), SpfResult::Pass);
        assert_eq!(result(&z, [192, 0, 2, 9], "x@dangling.test"), SpfResult::Permerror);
        assert_eq!(result(&z, [192, 0, 2, 9], "x@two.test"), SpfResult::Permerror, "two SPF records (§4.5)");
        let macro_check = check_host(&z, IpAddr::from([192, 0, 2, 9]), "x@macro.test");
        assert_eq!(macro_check.result, SpfResult::Permerror);
        assert!(matches!(macro_check.error, Some(SpfError::Macro { .. })));
        assert_eq!(result(&z, [192, 0, 2, 9], "x@loop.test"), SpfResult::Permerror, "the lookup limit ends a loop (§4.6.4)");
        assert_eq!(result(&z, [192, 0, 2, 9], "x@bad.test"), SpfResult::Permerror);
        assert_eq!(result(&z, [192, 0, 2, 9], "x@other.test"), SpfResult::None);
    }
}
