//! Replies: any bytes in any chunking give the same replies, each of which
//! serialises to legal lines and parses back to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smtp_lab::proto::{codec::limits, codec::ReplyReader};

fn replies(parts: &[&[u8]]) -> Vec<Result<smtp_lab::proto::codec::Reply, String>> {
    let mut r = ReplyReader::default();
    let mut out = Vec::new();
    for p in parts {
        r.push(p);
        while let Some(x) = r.next_reply() {
            out.push(x.map_err(|e| e.to_string()));
        }
    }
    out
}

fuzz_target!(|input: (&[u8], Vec<u8>)| {
    let (data, sizes) = input;
    let whole = replies(&[data]);
    assert_eq!(whole, replies(&fuzz_support::chunks(data, &sizes)), "chunking changed the replies");
    for reply in whole.into_iter().flatten() {
        let bytes = reply.to_bytes();
        for line in bytes.split_inclusive(|&b| b == b'\n') {
            assert!(line.len() <= limits::REPLY_LINE, "a {}-octet line", line.len());
        }
        let again = replies(&[&bytes]);
        assert_eq!(again, vec![Ok(reply)], "a reply did not survive its round trip");
    }
});
