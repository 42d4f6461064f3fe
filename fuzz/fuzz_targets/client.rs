//! The client machine, each policy, fed arbitrary replies in arbitrary chunks
//! with time advancing: no panic, output bounded by what it was told.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smtp_lab::proto::{Client, TlsPolicy};
use smtp_lab::sim::world;

fuzz_target!(|input: (u8, &[u8], Vec<u8>)| {
    let (policy, data, sizes) = input;
    let policy = [TlsPolicy::Plain, TlsPolicy::Opportunistic, TlsPolicy::RequireStartTls, TlsPolicy::Implicit][usize::from(policy % 4)];
    let config = if policy == TlsPolicy::Opportunistic { world::mta_client(policy) } else { world::mail_client(policy) };
    fuzz_support::feed(&mut Client::new(config), data, &sizes);
});
