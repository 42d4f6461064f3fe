//! What an attack needs of the rest of the setup, and what it does to the
//! sending MTA's lookups: the links between an attack and the world it is
//! played in, kept beside the attack rather than in the protocol cores.

use crate::proto::policy::dns::{Data, DnsRecord, Qtype, Tamper};
use crate::proto::policy::mta_sts::StsMode;
use crate::proto::policy::sender::{DomainSetup, SenderPolicy, SenderSetup};
use crate::proto::smtp::client::TlsPolicy;
use crate::sim::attack::Attack;
use crate::sim::scenario::ServerTls;
use crate::sim::world::names::{MALLORY_MX, RECIPIENT_DOMAIN};

impl Attack {
    /// What the attack needs of the setup to be the attack it is, as a reason
    /// when `policy` or `tls` would make it something else; `None` when it fits.
    pub fn misfit(self, policy: Option<TlsPolicy>, tls: Option<ServerTls>) -> Option<&'static str> {
        match self {
            Attack::WrongModeImplicitTo587 if policy.is_some_and(|p| p != TlsPolicy::Implicit) => {
                Some("that attack is an implicit-TLS client, so the client policy must be implicit")
            }
            Attack::WrongModeImplicitTo587 if tls == Some(ServerTls::Implicit) => {
                Some("that attack needs a server that greets in cleartext, not one with implicit TLS")
            }
            Attack::WrongModeStarttlsTo465 if policy == Some(TlsPolicy::Implicit) => {
                Some("that attack is a client that waits for a cleartext greeting, so its policy cannot be implicit")
            }
            Attack::WrongModeStarttlsTo465 if tls.is_some_and(|t| t != ServerTls::Implicit) => {
                Some("that attack needs a server with implicit TLS")
            }
            _ => None,
        }
    }

    /// The sender an attack on the sender's lookups meets when nothing else
    /// is set: the one it defeats (an MTA-STS sender on first contact, DANE
    /// in an unsigned zone, an opportunistic sender trusting unsigned DNS).
    pub fn sender_it_defeats(self) -> Option<SenderSetup> {
        let unsigned = |sts| DomainSetup { sts, tlsa: true, tlsa_trust_anchor: false, dnssec: false, tlsrpt: true };
        let (policy, domain) = match self {
            Attack::MxSpoof => (SenderPolicy::Opportunistic, unsigned(None)),
            Attack::StsStrip | Attack::StsBlock => (SenderPolicy::MtaSts, unsigned(Some(StsMode::Enforce))),
            Attack::TlsaStrip => (SenderPolicy::Dane, unsigned(None)),
            _ => return None,
        };
        Some(SenderSetup { policy, sts_cached: false, domain })
    }

    /// What the attacker does to the answer to one of the sender's queries, if anything.
    pub fn tamper(self, name: &str, qtype: Qtype) -> Option<Tamper> {
        match (self, qtype) {
            (Attack::MxSpoof, Qtype::Mx) if name == RECIPIENT_DOMAIN => {
                Some(Tamper::Replace(vec![DnsRecord { name: name.to_owned(), data: Data::Mx(MALLORY_MX.to_owned()) }]))
            }
            (Attack::TlsaStrip, Qtype::Tlsa) => Some(Tamper::Remove),
            (Attack::StsStrip, Qtype::Txt) if name.starts_with("_mta-sts.") => Some(Tamper::Remove),
            _ => None,
        }
    }
}
