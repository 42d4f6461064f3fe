//! The sender's parsers: MTA-STS records and policy files, TLSA records, and
//! the policy fetch's HTTP exchange. Any input is an answer or a clear error,
//! never a panic; what parses prints back to itself; the HTTP machines read
//! the same thing in any chunking.
#![no_main]
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use smtp_lab::proto::{HttpClient, HttpServer, Machine, Output, StsPolicy, StsRecord, Tlsa, POLICY_PATH};

/// What a machine reported after reading `parts` (and, for the client, the server closing).
fn events<M: Machine>(mut m: M, parts: &[&[u8]], close: bool) -> Vec<String>
where
    M::Event: std::fmt::Debug,
{
    m.connected(Duration::ZERO);
    for p in parts {
        m.handle_input(p, Duration::ZERO);
    }
    if close {
        m.peer_closed(Duration::ZERO);
    }
    std::iter::from_fn(|| m.poll_output())
        .filter_map(|o| match o {
            Output::Event(e) => Some(format!("{e:?}")),
            _ => None,
        })
        .collect()
}

fuzz_target!(|input: (&[u8], Vec<u8>)| {
    let (data, sizes) = input;
    let text = String::from_utf8_lossy(data);
    if let Ok(policy) = StsPolicy::parse(&text) {
        assert_eq!(StsPolicy::parse(&policy.to_text()), Ok(policy.clone()), "a policy did not survive its round trip");
    }
    let _ = StsRecord::parse(&text);
    if let Ok(tlsa) = text.parse::<Tlsa>() {
        assert_eq!(tlsa.to_string().parse::<Tlsa>(), Ok(tlsa.clone()), "a TLSA record did not survive its round trip");
    }
    let chunks = fuzz_support::chunks(data, &sizes);
    let client = || HttpClient::get("mta-sts.example.test", POLICY_PATH);
    assert_eq!(events(client(), &[data], true), events(client(), &chunks, true), "chunking changed the response");
    let server = || HttpServer::serving(POLICY_PATH, "version: STSv1\r\nmode: enforce\r\nmx: mail.example.test\r\nmax_age: 86400\r\n");
    assert_eq!(events(server(), &[data], false), events(server(), &chunks, false), "chunking changed the request");
});
