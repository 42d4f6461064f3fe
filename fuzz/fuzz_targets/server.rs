//! The server machine, every role, fed arbitrary bytes in arbitrary chunks
//! with time advancing: no panic, output bounded, every reply line legal.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smtp_lab::proto::{codec::limits, Role, Server};
use smtp_lab::sim::world;

fuzz_target!(|input: (u8, &[u8], Vec<u8>)| {
    let (role, data, sizes) = input;
    let role = [Role::Relay, Role::Submission, Role::Submissions][usize::from(role % 3)];
    let mut config = world::server(role);
    config.max_message_size = 4096;
    let said = fuzz_support::feed(&mut Server::new(config), data, &sizes);
    for line in said.split_inclusive(|&b| b == b'\n') {
        assert!(line.len() <= limits::REPLY_LINE, "a {}-octet reply line", line.len());
    }
});
