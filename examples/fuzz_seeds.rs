//! Writes seed corpora from the lessons' own traces: what each client and
//! server said (cleartext and decrypted), as whole streams and as lines.
//! Usage: `cargo run --example fuzz_seeds -- fuzz/corpus` (or `cargo xtask fuzz-seeds`).

use std::path::Path;

use smtp_lab::lab::Lesson;
use smtp_lab::sim::Direction;
use smtp_lab::vocab::Named;

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "fuzz/corpus".into());
    let pki = smtp_lab::sim::world::Pki::lab();
    let write = |target: &str, name: String, bytes: &[u8]| {
        let d = Path::new(&dir).join(target);
        std::fs::create_dir_all(&d).expect("corpus directory");
        std::fs::write(d.join(name), bytes).expect("seed file");
    };
    for &lesson in Lesson::ALL {
        let scenario = smtp_lab::lab::assemble::lesson(lesson).expect("every lesson assembles");
        let trace = scenario.run(&pki);
        let (mut to_server, mut to_client) = (Vec::new(), Vec::new());
        for step in &trace.steps {
            let Some(bytes) = step.receiver_plaintext().or(step.wire().filter(|_| !step.tls())) else { continue };
            match step.direction() {
                Some(Direction::ClientToServer) => to_server.extend_from_slice(&bytes.0),
                Some(Direction::ServerToClient) => to_client.extend_from_slice(&bytes.0),
                None => {}
            }
        }
        let id = lesson.id();
        write("server", id.to_owned(), &[&[0u8, 7][..], &to_server].concat());
        write("client", id.to_owned(), &[&[1u8, 7][..], &to_client].concat());
        write("reply", id.to_owned(), &to_client);
        write("data", id.to_owned(), &to_server);
        for (i, line) in to_server.split_inclusive(|&b| b == b'\n').enumerate() {
            write("command", format!("{id}-{i}"), line.strip_suffix(b"\r\n").unwrap_or(line));
        }
        write("link", id.to_owned(), format!("preset={id}&step=3").as_bytes());
        if lesson == Lesson::Submission587 {
            // The dissect target replaces step `which`'s record bytes: seed it with real records.
            for (which, step) in trace.steps.iter().filter(|s| s.tls()).enumerate() {
                if let Some(wire) = &step.wire() {
                    write("dissect", format!("{id}-{which}"), &[&[which as u8][..], &wire.0].concat());
                }
            }
        }
    }
    println!("seeds written to {dir}");
}
