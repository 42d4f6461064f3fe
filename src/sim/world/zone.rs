//! The simulated world's DNS: the SPF records of the provider and its
//! customers, and what the recipient's domain publishes for its MX (MX and
//! address records, an MTA-STS record and policy, TLSA, TLS-RPT), as its
//! [`DomainSetup`] says.

use std::net::Ipv4Addr;
use std::sync::Arc;

use crate::proto::policy::dane::{tlsa_name, Matching, Selector, Tlsa, Usage};
use crate::proto::policy::dns::{Data, DnsRecord, Dnssec, Zone};
use crate::proto::policy::mta_sts::{StsMode, StsPolicy};
use crate::proto::policy::sender::DomainSetup;
use crate::sim::world::names::{
    CUSTOMER_DOMAIN, MALLORY_ADDR, MALLORY_MX, PROVIDER_ADDR, PROVIDER_DOMAIN, RECIPIENT_DOMAIN, SERVER_ADDR, SERVER_NAME, STS_HOST,
};
use crate::sim::world::pki::{IdentityKind, Pki};

/// The policy id the domain publishes in its `_mta-sts` record (RFC 8461 §3.1).
pub(crate) const STS_ID: &str = "20260601T000000";
/// The policy's `max_age`: a week, in seconds.
const STS_MAX_AGE: u64 = 604_800;

/// The SPF records: the provider authorises its own address, and its
/// customer's record includes the provider's (RFC 7208 §5.2).
pub(crate) fn spf_zone() -> Zone {
    let spf = format!("_spf.{PROVIDER_DOMAIN}");
    let txt = |name: &str, text: String| DnsRecord { name: name.to_owned(), data: Data::Txt(text) };
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

/// The policy file the recipient's domain serves in `mode`.
pub(crate) fn published_policy(mode: StsMode) -> StsPolicy {
    StsPolicy { mode, mx: vec![SERVER_NAME.to_owned()], max_age: STS_MAX_AGE }
}

/// The record the domain publishes for the certificate its MX presents
/// (`identity`): DANE-EE (3 1 1) of its key, whoever issued it; or, with
/// `trust_anchor`, DANE-TA (2 0 1) of the CA certificate that issued it.
pub(crate) fn published_tlsa(pki: &Arc<Pki>, identity: IdentityKind, trust_anchor: bool) -> Option<Tlsa> {
    let mx = pki.at(SERVER_NAME);
    let chain = mx.identity(identity).chain();
    match trust_anchor {
        false => Tlsa::for_certificate(Usage::DaneEe, Selector::Spki, Matching::Sha256, chain.first()?).ok(),
        true => Tlsa::for_certificate(Usage::DaneTa, Selector::Cert, Matching::Sha256, &pki.ca_cert).ok(),
    }
}

/// Every record of the simulated world that the sender may query, as the
/// recipient's domain has set it up for an MX presenting `mx_identity`.
pub fn world(domain: &DomainSetup, pki: &Arc<Pki>, mx_identity: IdentityKind) -> Zone {
    let mut zone = spf_zone();
    zone.add(RECIPIENT_DOMAIN, Data::Mx(SERVER_NAME.to_owned()));
    zone.add(SERVER_NAME, Data::A(Ipv4Addr::from(SERVER_ADDR)));
    zone.add(STS_HOST, Data::A(Ipv4Addr::from(SERVER_ADDR)));
    zone.add(MALLORY_MX, Data::A(Ipv4Addr::from(MALLORY_ADDR)));
    if domain.sts.is_some() {
        zone.add(&format!("_mta-sts.{RECIPIENT_DOMAIN}"), Data::Txt(format!("v=STSv1; id={STS_ID};")));
    }
    if domain.tlsrpt {
        zone.add(&format!("_smtp._tls.{RECIPIENT_DOMAIN}"), Data::Txt(format!("v=TLSRPTv1; rua=mailto:tlsrpt@{RECIPIENT_DOMAIN}")));
    }
    if let Some(tlsa) = published_tlsa(pki, mx_identity, domain.tlsa_trust_anchor).filter(|_| domain.tlsa) {
        zone.add(&tlsa_name(SERVER_NAME), Data::Tlsa(tlsa));
    }
    if domain.dnssec {
        zone.sign(RECIPIENT_DOMAIN, Dnssec::Secure);
    }
    zone
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;
    use crate::proto::policy::spf::{check_host, SpfResult};

    #[test]
    fn the_providers_address_passes_for_its_customers_and_others_fail() {
        let zone = spf_zone();
        let provider = IpAddr::from(PROVIDER_ADDR);
        let check = check_host(&zone, provider, "ceo@bank.test");
        assert_eq!(check.result, SpfResult::Pass);
        assert_eq!(check.mechanism.as_deref(), Some("include:_spf.sender.test"));
        let read: Vec<&str> = check.lookups.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(read, ["bank.test", "_spf.sender.test"], "the record, then the included one");
        assert_eq!(check_host(&zone, IpAddr::from(MALLORY_ADDR), "ceo@bank.test").result, SpfResult::Fail);
        assert_eq!(check_host(&zone, provider, "ceo@example.test").result, SpfResult::Fail);
        assert_eq!(check_host(&zone, provider, "someone@nowhere.test").result, SpfResult::None);
    }
}
