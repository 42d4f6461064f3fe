//! The DATA reader: the same body and summary in any chunking; strict mode
//! ends only on CRLF "." CRLF; an oversize body is a prefix of the message.
#![no_main]
use libfuzzer_sys::fuzz_target;
use smtp_lab::proto::{codec::DataReader, codec::EndOfData};

fn read(policy: EndOfData, max: usize, parts: &[&[u8]]) -> (usize, bool, Vec<u8>, String) {
    let mut r = DataReader::new(policy, max);
    let mut used = 0;
    for p in parts {
        used += r.feed(p);
        if r.is_done() {
            break;
        }
    }
    let done = r.is_done();
    let (body, summary) = r.finish();
    (used, done, body, format!("{summary:?}"))
}

fuzz_target!(|input: (u8, u16, &[u8], Vec<u8>)| {
    let (flags, max, data, sizes) = input;
    let policy =
        EndOfData { lf_dot_crlf: flags & 1 != 0, lf_dot_lf: flags & 2 != 0, cr_dot_crlf: flags & 4 != 0, crlf_dot_lf: flags & 8 != 0 };
    let max = usize::from(max);
    let whole = read(policy, max, &[data]);
    assert_eq!(whole, read(policy, max, &fuzz_support::chunks(data, &sizes)), "chunking changed the result");
    let (used, done, body, _) = whole;
    if done && policy.is_strict() {
        let eaten = &data[..used];
        assert!(eaten == b".\r\n" || eaten.ends_with(b"\r\n.\r\n"), "strict mode ended on {:?}", String::from_utf8_lossy(eaten));
    }
    assert!(body.len() <= max, "body over the limit");
});
