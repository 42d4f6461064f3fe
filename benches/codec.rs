//! Codec throughput on a corpus of commands and replies, side by side with
//! Stalwart's smtp-proto on the same bytes.
//!
//! Both sides do the same job: split a stream into lines and parse each into a
//! typed command or reply, ours borrowed from the buffer (smtp-proto's owns
//! its strings). `cargo bench --bench codec` prints MiB/s per row, then the
//! throughput ratio smtp-lab / smtp-proto per group (the target: 1.0).

use std::hint::black_box;

use criterion::{criterion_group, Criterion, Throughput};
use smtp_lab::proto::{codec::Command, codec::CommandRef, codec::LineReader, codec::ReplyReader};

const COMMANDS: &[&str] = &[
    "EHLO client.example.test\r\n",
    "MAIL FROM:<alice@example.test> SIZE=264 BODY=8BITMIME\r\n",
    "RCPT TO:<bob@example.test>\r\n",
    "RCPT TO:<carol.long-name+tag@subdomain.example.test>\r\n",
    "DATA\r\n",
    "RSET\r\n",
    "NOOP\r\n",
    "AUTH PLAIN AGFsaWNlAGNvcnJlY3QgaG9yc2UgYmF0dGVyeSBzdGFwbGU=\r\n",
    "AUTH LOGIN\r\n",
    "VRFY postmaster\r\n",
    "HELO relay.example.test\r\n",
    "STARTTLS\r\n",
    "QUIT\r\n",
];

const REPLIES: &[&str] = &[
    "220 mail.example.test ESMTP smtp-lab\r\n",
    "250-mail.example.test Hello client.example.test\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n",
    "250 2.1.0 Ok\r\n",
    "250 2.1.5 Ok\r\n",
    "354 End data with <CR><LF>.<CR><LF>\r\n",
    "250 2.0.0 Ok: queued as 5A170001\r\n",
    "235 2.7.0 Authentication successful\r\n",
    "535 5.7.8 Error: authentication failed\r\n",
    "221 2.0.0 Bye\r\n",
];

fn corpus(items: &[&str], target: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(target + 256);
    while out.len() < target {
        for i in items {
            out.extend_from_slice(i.as_bytes());
        }
    }
    out
}

fn ours_commands(bytes: &[u8]) -> usize {
    let mut lines = LineReader::new(smtp_lab::proto::codec::limits::AUTH_LINE);
    lines.push(bytes);
    let mut n = 0;
    while let Some(line) = lines.next_line_ref() {
        // Borrowed from the framed line, as a server that acts on it and moves on would use it.
        if CommandRef::parse(line.expect("corpus is well-formed")).is_ok() {
            n += 1;
        }
    }
    n
}

fn ours_commands_owned(bytes: &[u8]) -> usize {
    let mut lines = LineReader::new(smtp_lab::proto::codec::limits::AUTH_LINE);
    lines.push(bytes);
    let mut n = 0;
    while let Some(line) = lines.next_line_ref() {
        black_box(Command::parse(line.expect("corpus is well-formed")).expect("corpus is well-formed"));
        n += 1;
    }
    n
}

fn proto_commands(bytes: &[u8]) -> usize {
    let mut iter = bytes.iter();
    let mut n = 0;
    while iter.len() > 0 {
        if smtp_proto::Request::parse(&mut iter).is_ok() {
            n += 1;
        }
    }
    n
}

fn ours_replies(bytes: &[u8]) -> usize {
    let mut r = ReplyReader::default();
    r.push(bytes);
    let mut n = 0;
    // Borrowed, as a client that acts on the code and moves on would use it.
    while let Some(reply) = r.next_reply_ref() {
        black_box(reply.expect("corpus is well-formed"));
        n += 1;
    }
    n
}

fn ours_replies_owned(bytes: &[u8]) -> usize {
    let mut r = ReplyReader::default();
    r.push(bytes);
    let mut n = 0;
    while let Some(reply) = r.next_reply() {
        black_box(reply.expect("corpus is well-formed"));
        n += 1;
    }
    n
}

fn proto_replies(bytes: &[u8]) -> usize {
    let mut iter = bytes.iter();
    let mut n = 0;
    while iter.len() > 0 {
        let mut rx = smtp_proto::response::parser::ResponseReceiver::default();
        if rx.parse(&mut iter).is_ok() {
            n += 1;
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    let commands = corpus(COMMANDS, 64 * 1024);
    let replies = corpus(REPLIES, 64 * 1024);
    // Both parsers must agree on what the corpus holds before their speed means anything.
    assert_eq!(ours_commands(&commands), proto_commands(&commands), "command counts differ");
    assert_eq!(ours_replies(&replies), proto_replies(&replies), "reply counts differ");
    assert_eq!(ours_commands_owned(&commands), ours_commands(&commands));
    assert_eq!(ours_replies_owned(&replies), ours_replies(&replies));

    let mut g = c.benchmark_group("commands");
    g.throughput(Throughput::Bytes(commands.len() as u64));
    g.bench_function("smtp-lab", |b| b.iter(|| ours_commands(black_box(&commands))));
    g.bench_function("smtp-lab-owned", |b| b.iter(|| ours_commands_owned(black_box(&commands))));
    g.bench_function("smtp-proto", |b| b.iter(|| proto_commands(black_box(&commands))));
    g.finish();

    let mut g = c.benchmark_group("replies");
    g.throughput(Throughput::Bytes(replies.len() as u64));
    g.bench_function("smtp-lab", |b| b.iter(|| ours_replies(black_box(&replies))));
    g.bench_function("smtp-lab-owned", |b| b.iter(|| ours_replies_owned(black_box(&replies))));
    g.bench_function("smtp-proto", |b| b.iter(|| proto_replies(black_box(&replies))));
    g.finish();
}

/// Criterion's median time for one row of this run, from the estimates it wrote.
fn median_ns(group: &str, row: &str, since: std::time::SystemTime) -> Option<f64> {
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let path = std::path::Path::new(&target).join("criterion").join(group).join(row).join("new/estimates.json");
    // A row this run filtered out still has an older file; it does not count.
    if std::fs::metadata(&path).and_then(|m| m.modified()).ok()? < since {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    json["median"]["point_estimate"].as_f64()
}

criterion_group!(benches, bench);

fn main() {
    let since = std::time::SystemTime::now();
    benches();
    Criterion::default().configure_from_args().final_summary();
    for group in ["commands", "replies"] {
        for (row, what) in [("smtp-lab", "borrowed"), ("smtp-lab-owned", "owned")] {
            if let (Some(ours), Some(proto)) = (median_ns(group, row, since), median_ns(group, "smtp-proto", since)) {
                println!("{group} ({what}): smtp-lab / smtp-proto throughput ratio {:.2}", proto / ours);
            }
        }
    }
}
