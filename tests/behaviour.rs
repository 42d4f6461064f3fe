//! Behaviour is pinned: every lesson and every matrix cell, run by the CLI
//! with two seeds, gives the same bytes in every export as when the digests
//! in `tests/behaviour.digest` were recorded (the JSON trace and outcomes,
//! the transcript, the Mermaid diagram, the TLS dissection, the pcap and the
//! key log), and so do the catalogue listings and both matrices.
//!
//! The test drives the `smtp-lab` binary only, so that no refactoring of the
//! library can touch it. The JSON document's echo of the scenario (the
//! session's input, not its behaviour) is left out; its outcomes and trace are in.
//! A change that is meant to change behaviour re-records the file with
//! `SMTP_LAB_RECORD_DIGESTS=1 cargo test --test behaviour` and says why.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const SEEDS: [&str; 2] = ["1", "7"];

fn smtp_lab(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_smtp-lab")).args(args).output().unwrap();
    assert!(out.status.success(), "smtp-lab {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn sha256(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The ids `smtp-lab presets` lists: each lesson's first line starts with its id.
fn lessons() -> Vec<String> {
    let text = String::from_utf8(smtp_lab(&["presets"])).unwrap();
    text.lines().filter(|l| !l.is_empty() && !l.starts_with(' ')).map(|l| l.split_whitespace().next().unwrap().to_owned()).collect()
}

/// Every cell of the matrix that applies (the JSON gives the others an empty label), as `row@column`.
fn cells() -> Vec<String> {
    let m: serde_json::Value = serde_json::from_slice(&smtp_lab(&["matrix", "--format", "json"])).unwrap();
    let mut out = Vec::new();
    for row in m["rows"].as_array().unwrap() {
        for cell in row["cells"].as_array().unwrap() {
            if cell["label"].as_str() != Some("") {
                out.push(format!("{}@{}", row["id"].as_str().unwrap(), cell["column"].as_str().unwrap()));
            }
        }
    }
    out
}

/// The digests of one session's exports, each under its own key.
fn session(start: &[&str], seed: &str, dir: &Path) -> Vec<(String, String)> {
    let name: String = start.join("=").chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    let pcap = dir.join(format!("{name}-{seed}.pcap"));
    let keys = dir.join(format!("{name}-{seed}.keys"));
    let run = |extra: &[&str]| smtp_lab(&[&["run"], start, &["--seed", seed], extra].concat());
    let json = String::from_utf8(run(&["--format", "json", "--pcap", pcap.to_str().unwrap(), "--keylog", keys.to_str().unwrap()])).unwrap();
    // The document is {scenario, outcomes, trace}, pretty-printed: what follows "outcomes" is the session's behaviour.
    let (_, behaviour) = json.split_once("\n  \"outcomes\": ").expect("outcomes follow the scenario");
    let label = format!("{} seed={seed}", start.join(" "));
    vec![
        (format!("{label} json"), sha256(behaviour.as_bytes())),
        (format!("{label} text"), sha256(&run(&["--format", "text"]))),
        (format!("{label} mermaid"), sha256(&run(&["--format", "mermaid"]))),
        (format!("{label} tls"), sha256(&run(&["--format", "tls"]))),
        (format!("{label} pcap"), sha256(&std::fs::read(&pcap).unwrap())),
        (format!("{label} keylog"), sha256(&std::fs::read(&keys).unwrap())),
    ]
}

fn digests() -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let mut starts: Vec<Vec<String>> = lessons().into_iter().map(|l| vec!["--preset".to_owned(), l]).collect();
    assert!(starts.len() >= 30, "{} lessons", starts.len());
    let cells = cells();
    assert!(cells.len() >= 150, "{} cells", cells.len());
    starts.extend(cells.into_iter().map(|c| vec!["--cell".to_owned(), c]));
    let jobs: Vec<(Vec<String>, &str)> = starts.iter().flat_map(|s| SEEDS.iter().map(move |seed| (s.clone(), *seed))).collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(8);
    let chunks: Vec<Vec<(Vec<String>, &str)>> = jobs.chunks(jobs.len().div_ceil(threads)).map(<[_]>::to_vec).collect();
    let mut out: BTreeMap<String, String> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let dir = dir.path();
                scope.spawn(move || {
                    chunk
                        .iter()
                        .flat_map(|(start, seed)| session(&start.iter().map(String::as_str).collect::<Vec<_>>(), seed, dir))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    for listing in [&["presets"][..], &["attacks"], &["matrix", "--format", "json"], &["matrix", "--journey", "--format", "json"]] {
        out.insert(listing.join(" "), sha256(&smtp_lab(listing)));
    }
    out
}

fn digest_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/behaviour.digest")
}

#[test]
fn every_lesson_and_cell_gives_the_recorded_bytes() {
    let now = digests();
    let text: String = now.iter().map(|(k, v)| format!("{v}  {k}\n")).collect();
    if std::env::var_os("SMTP_LAB_RECORD_DIGESTS").is_some() {
        std::fs::write(digest_file(), text).unwrap();
        return;
    }
    let recorded = std::fs::read_to_string(digest_file()).expect("tests/behaviour.digest (record it with SMTP_LAB_RECORD_DIGESTS=1)");
    let recorded: BTreeMap<String, String> =
        recorded.lines().filter_map(|l| l.split_once("  ")).map(|(v, k)| (k.to_owned(), v.to_owned())).collect();
    let mut differ: Vec<String> = Vec::new();
    for key in recorded.keys().chain(now.keys()).collect::<std::collections::BTreeSet<_>>() {
        match (recorded.get(key), now.get(key)) {
            (Some(a), Some(b)) if a == b => {}
            (Some(_), Some(_)) => differ.push(format!("{key}: other bytes")),
            (Some(_), None) => differ.push(format!("{key}: no longer produced")),
            (None, _) => differ.push(format!("{key}: new")),
        }
    }
    assert!(differ.is_empty(), "{} of {} exports differ from tests/behaviour.digest:\n{}", differ.len(), recorded.len(), differ.join("\n"));
}
