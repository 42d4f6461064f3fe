//! DNS as a teaching model, not wire DNS: records with their DNSSEC state
//! (RFC 4035 §4.3), and a validating resolver an attacker on its path can
//! lie to, whose forgeries of signed data become SERVFAIL (§5.5). A zone is
//! also what the SPF check reads ([`Resolver`]).

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use crate::proto::policy::dane::Tlsa;
use crate::proto::policy::spf::Resolver;
use crate::vocab::{named, Named};

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

named! {
    /// The record types the simulated resolver answers.
    pub enum Qtype ("record type") {
        A = "A",
        Aaaa = "AAAA",
        Mx = "MX",
        Txt = "TXT",
        Tlsa = "TLSA",
    }
}

named! {
    /// What a validating resolver concludes about an answer (RFC 4035 §4.3).
    #[derive(Default)]
    pub enum Dnssec ("DNSSEC state") {
        Secure = "secure",
        #[default]
        Insecure = "insecure",
        Bogus = "bogus",
    }
}

/// A record: a name and its data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsRecord {
    pub name: String,
    #[serde(flatten)]
    pub data: Data,
}

/// Every record of the simulated world.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    pub records: Vec<DnsRecord>,
    /// Zones (by apex) that are signed or broken; every other name is insecure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dnssec: Vec<(String, Dnssec)>,
}

named! {
    /// The response code of an answer (RFC 1035 §4.1.1; RFC 4035 §5.5 for SERVFAIL on bogus data).
    pub enum Rcode ("response code") {
        NoError = "NOERROR",
        ServFail = "SERVFAIL",
    }
}

/// What an attacker on the path between the resolver and the zone's servers
/// does to one answer. She can forge anything unsigned; a signed answer she
/// changes no longer validates (RFC 4035 §5.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tamper {
    /// Answer with these records instead.
    Replace(Vec<DnsRecord>),
    /// Answer with none (a removed record).
    Remove,
}

/// One query and the answer the sender's validating resolver returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lookup {
    pub name: String,
    pub qtype: Qtype,
    pub rcode: Rcode,
    pub records: Vec<DnsRecord>,
    pub dnssec: Dnssec,
    /// What the attacker did to the answer, in her words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tampered: Option<String>,
}

impl Lookup {
    /// The records of the answer a client may use: none unless NOERROR.
    pub fn usable(&self) -> &[DnsRecord] {
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

impl Zone {
    /// Adds a record.
    pub fn add(&mut self, name: &str, data: Data) {
        self.records.push(DnsRecord { name: name.to_owned(), data });
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
        let honest: Vec<DnsRecord> = self.answers(name).filter(|r| r.data.qtype() == qtype).cloned().collect();
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

    fn answers(&self, name: &str) -> impl Iterator<Item = &DnsRecord> {
        let name = name.trim_end_matches('.').to_owned();
        self.records.iter().filter(move |r| r.name.eq_ignore_ascii_case(&name))
    }
}

impl Resolver for Zone {
    fn records(&self, name: &str) -> Vec<DnsRecord> {
        self.answers(name).cloned().collect()
    }
}
