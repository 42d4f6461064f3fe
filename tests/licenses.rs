//! Every crate linked into the library and the CLI may be shipped under this
//! crate's own licence (MIT OR Apache-2.0): no copyleft licence may come in
//! with a new dependency (viaspf, GPL-3.0, was turned away for this).

use std::process::Command;

#[test]
fn no_dependency_is_copyleft_only() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--manifest-path", concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")])
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let permissive = [
        "MIT",
        // MIT without the attribution clause (borrow-or-share, under jsonschema, a test dependency).
        "MIT-0",
        "Apache-2.0",
        "BSD-2-Clause",
        "BSD-3-Clause",
        "ISC",
        "Zlib",
        "Unicode-3.0",
        "Unicode-DFS-2016",
        "CC0-1.0",
        "Unlicense",
        "0BSD",
        "MPL-2.0",
        "BSL-1.0",
        "Apache-2.0 WITH LLVM-exception",
    ];
    let mut bad = Vec::new();
    for p in meta["packages"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap_or("");
        if name == "xtask" || name == "smtp-lab" {
            continue;
        }
        // Old crates write "MIT/Apache-2.0" for "MIT OR Apache-2.0".
        let license = p["license"].as_str().unwrap_or("").replace(" / ", " OR ").replace('/', " OR ");
        // An SPDX expression: fine when one alternative of an OR is entirely permissive.
        let ok = license.split(" OR ").any(|alt| {
            alt.trim_matches(|c| c == '(' || c == ')')
                .split(" AND ")
                .all(|l| permissive.contains(&l.trim_matches(|c| c == '(' || c == ')').trim()))
        });
        if !ok {
            bad.push(format!("{name} {}: {license:?}", p["version"]));
        }
    }
    assert!(bad.is_empty(), "licences this crate cannot ship under MIT OR Apache-2.0: {bad:#?}");
}
