//! The simulated world: its names and addresses, its people (alice, bob,
//! mallory) and their mail, its certificates, and the zone its DNS serves.
//! Everything the protocol core takes as an argument, the lab finds here.

pub(crate) mod names;
pub(crate) mod people;
pub(crate) mod pki;
pub(crate) mod zone;

pub use names::{
    CLIENT_ADDR, CUSTOMER_DOMAIN, LAB_HOSTS, MALLORY_ADDR, MALLORY_MX, PROVIDER_ADDR, PROVIDER_DOMAIN, PROVIDER_NAME, RECIPIENT_DOMAIN,
    SERVER_ADDR, SERVER_NAME, SIM_EPOCH_UNIX, STS_HOST,
};
pub use people::{credentials, mail_client, message, mta_client, server, ALICE, ALICE_PASSWORD, MALLORY, MALLORY_PASSWORD};
pub use pki::{Identity, IdentityKind, Pki};
// Certificates made at run time (`serve`, `cert`) are native only.
#[cfg(not(target_arch = "wasm32"))]
pub use pki::{max_validity_days, PkiError};
pub use zone::world;
