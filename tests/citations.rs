//! Every citation the lab writes names a section that exists, and the page can link it.
//!
//! `src/cite/rfc_sections.tsv` is every section of every RFC in the
//! project's library, generated from the texts by `cargo xtask
//! rfc-sections`; `src/cite/external.tsv` adds, by hand and with where each
//! was read, the few RFCs outside it. This test needs neither the texts nor
//! the network: it finds every citation (as `smtp_lab::cite` reads them) in
//! src/, www/, crates/ and README.md and fails on one whose section is in neither
//! table. It also keeps `src/cite/cited.tsv`, the rows the library carries for
//! its links and headings, equal to the sections cited (re-written with
//! `SMTP_LAB_RECORD_CITATIONS=1 cargo test --test citations`), and checks that
//! every note of every lesson cites a section the page can link.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use smtp_lab::cite::{citations, Citation};
use smtp_lab::lab::claims::claims;
use smtp_lab::vocab::Named;
use smtp_lab::{Lesson, Simulation};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// (rfc, section) → heading, from a table's rows (an empty section is the RFC's title).
fn table(path: &Path) -> BTreeMap<(u16, String), String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            ((cols[0].parse().unwrap(), cols[1].to_owned()), cols[2].to_owned())
        })
        .collect()
}

fn known() -> BTreeMap<(u16, String), String> {
    let mut all = table(&root().join("src/cite/rfc_sections.tsv"));
    all.extend(table(&root().join("src/cite/external.tsv")));
    all
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !["target", "node_modules", ".git"].contains(&name.as_str()) {
                files(&path, out);
            }
        } else if [".rs", ".js", ".mjs", ".html", ".md", ".json", ".css"].iter().any(|x| name.ends_with(x)) {
            out.push(path);
        }
    }
}

/// Every citation in the tree, with the first place it is written.
fn cited_in_tree() -> BTreeMap<(u16, String), String> {
    let mut paths = vec![root().join("README.md")];
    files(&root().join("src"), &mut paths);
    files(&root().join("www"), &mut paths);
    // The wasm binding writes a sentence or two of its own.
    files(&root().join("crates"), &mut paths);
    let mut out = BTreeMap::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            for Citation { rfc, section } in citations(line) {
                let place = format!("{}:{}", path.strip_prefix(root()).unwrap().display(), n + 1);
                out.entry((rfc, section.unwrap_or("").to_owned())).or_insert(place);
            }
        }
    }
    out
}

#[test]
fn every_citation_in_the_tree_names_a_section_that_exists() {
    let known = known();
    let cited = cited_in_tree();
    assert!(cited.len() > 150, "{} citations found: the reader of citations has stopped finding them", cited.len());
    let missing: Vec<String> = cited
        .iter()
        .filter(|(key, _)| !known.contains_key(*key))
        .map(|((rfc, s), place)| format!("{place}: RFC {rfc}{}", if s.is_empty() { String::new() } else { format!(" §{s}") }))
        .collect();
    assert!(
        missing.is_empty(),
        "citations of sections that do not exist (or of RFCs outside the library and external.tsv):\n{}",
        missing.join("\n")
    );

    // Every RFC cited in part is also there whole (its title), for the row a whole-RFC citation needs.
    let mut rows: BTreeSet<(u16, String)> = cited.keys().cloned().collect();
    rows.extend(cited.keys().map(|(rfc, _)| (*rfc, String::new())));
    let mut want = String::from(
        "# rfc\tsection\theading (the sections the tree cites; written by `SMTP_LAB_RECORD_CITATIONS=1 cargo test --test citations`)\n",
    );
    for key in &rows {
        want.push_str(&format!("{}\t{}\t{}\n", key.0, key.1, known[key]));
    }
    let path = root().join("src/cite/cited.tsv");
    if std::env::var_os("SMTP_LAB_RECORD_CITATIONS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap();
    assert!(
        have == want,
        "src/cite/cited.tsv is not the table of the sections the tree cites: run `SMTP_LAB_RECORD_CITATIONS=1 cargo test --test citations`"
    );
}

#[test]
fn the_library_links_and_heads_what_it_cites() {
    let c = Citation { rfc: 3207, section: Some("4") };
    assert_eq!(c.heading(), Some("The STARTTLS Command"));
    assert_eq!(c.url(), "https://www.rfc-editor.org/rfc/rfc3207#section-4");
    let prose = smtp_lab::cite::Prose::new("forget it (RFC 3207 §4.2, §6)");
    assert_eq!(
        prose.with_headings().to_string(),
        "forget it (RFC 3207 §4.2 (Result of the STARTTLS Command), §6 (Security Considerations))"
    );
    let json = serde_json::to_value(&prose).unwrap();
    assert_eq!(json[1]["href"], "https://www.rfc-editor.org/rfc/rfc3207#section-4.2");
    assert_eq!(json[1]["title"], "RFC 3207 §4.2: Result of the STARTTLS Command");
    assert_eq!(json[3]["cite"], "§6");
    assert_eq!(serde_json::to_value(smtp_lab::cite::Prose::new("no citation")).unwrap(), "no citation");
}

/// A note's source is an RFC section the page links, or an advisory it names.
#[test]
fn every_note_of_every_lesson_cites_a_section_the_page_links() {
    let mut bad = Vec::new();
    for lesson in Lesson::ALL {
        let sim = Simulation::from_settings(&lesson.recipe()).unwrap();
        for (step, notes) in sim.notes().iter().enumerate() {
            for n in notes {
                let cites: Vec<Citation> = citations(n.rfc.as_str()).collect();
                let unresolved = n.rfc.unresolved();
                let advisory = n.rfc.contains("CVE-");
                if (cites.is_empty() && !advisory) || !unresolved.is_empty() {
                    bad.push(format!("{} step {step}: {:?} cites {:?}", lesson.id(), n.text, n.rfc.as_str()));
                }
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn every_claim_cites_sections_the_page_links() {
    for c in claims() {
        for text in [c.claim, c.truth, c.sources] {
            assert!(smtp_lab::cite::Prose::new(text).unresolved().is_empty(), "{}: {text}", c.id);
        }
    }
}

/// The terminal shows each note's citation with its section's heading after it.
#[test]
fn the_cli_prints_each_notes_heading_after_its_citation() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_smtp-lab"))
        .args(["run", "--preset", "submission-587", "--format", "notes"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("[RFC 3207 §4.2 (Result of the STARTTLS Command)]"), "{text}");
    let attacks = std::process::Command::new(env!("CARGO_BIN_EXE_smtp-lab")).arg("attacks").output().unwrap();
    assert!(String::from_utf8_lossy(&attacks.stdout).contains("RFC 3207 §6 (Security Considerations)"));
}
