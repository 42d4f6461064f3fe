//! Dependencies point one way: codec <- machines <- session <- wire <-
//! scenario <- views/drivers. Every `crate::name` a library module mentions
//! (in a `use` or a path) must belong to a lower layer than the module itself.
//! Run alone with `cargo test --test layers`.

use std::collections::BTreeMap;
use std::path::Path;

/// Each library module and its layer, lowest first. A module may use only
/// modules with a smaller number; a new module must be placed here.
const LAYERS: &[(&str, u8)] = &[
    // Shared data and vocabulary: no imports from the crate at all.
    ("bytes", 0),
    ("names", 0),
    ("vocab", 0),
    ("tls_info", 0),
    ("dane", 0),
    ("codec", 1),
    ("dns", 1),
    ("mta_sts", 1),
    ("policy", 2),
    ("attack", 1),
    ("lesson", 1),
    // The SMTP state machines.
    ("machine", 2),
    ("client", 3),
    ("server", 3),
    ("https", 3),
    // TLS, then a machine plus TLS.
    ("entropy", 4),
    ("pki", 4),
    ("tls", 5),
    ("session", 6),
    // Two endpoints on a wire, and what it recorded.
    ("trace", 7),
    ("wire", 8),
    ("dissect", 8),
    ("attacker", 9),
    // Settings to a session.
    ("scenario", 10),
    ("outcome", 11),
    ("tlsrpt", 11),
    ("matrix", 12),
    ("settings", 13),
    ("preset", 14),
    ("assemble", 15),
    // Views of a finished session, and what the explainer proves with sessions.
    ("view", 16),
    ("claims", 16),
    ("pcap", 16),
    ("transcript", 17),
    ("explain", 17),
    ("export", 18),
    ("simulation", 19),
    // Drivers.
    ("socket", 20),
    ("wasm", 20),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

/// The crate modules a source file refers to: `crate::x`, and `use crate::{x, y}`.
/// Comments are skipped: a doc link to a module above is not a dependency.
fn references(source: &str) -> Vec<String> {
    let code: String = source.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
    let source = code.as_str();
    let mut out = Vec::new();
    for (i, _) in source.match_indices("crate::") {
        let rest = &source[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                out.push(name);
            }
        } else {
            out.push(rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect());
        }
    }
    out.retain(|n| !n.is_empty());
    out
}

/// Every library module file: `src/x.rs` or `src/x/...` belongs to module `x`.
fn modules() -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    fn walk(dir: &Path, top: Option<&str>, out: &mut BTreeMap<String, Vec<String>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "bin" {
                    walk(&path, Some(top.unwrap_or(&name)), out);
                }
            } else if path.extension().is_some_and(|e| e == "rs") && !(top.is_none() && name == "lib") {
                let module = top.map_or(name.clone(), str::to_owned);
                let source = std::fs::read_to_string(&path).unwrap();
                out.entry(module).or_default().extend(references(&source));
            }
        }
    }
    walk(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")), None, &mut out);
    out
}

#[test]
fn every_module_has_a_layer() {
    let unplaced: Vec<String> = modules().into_keys().filter(|m| layer(m).is_none()).collect();
    assert!(unplaced.is_empty(), "place these modules in LAYERS: {unplaced:?}");
    for (m, _) in LAYERS {
        assert!(modules().contains_key(*m), "LAYERS names {m}, which is not a module");
    }
}

#[test]
fn no_module_imports_from_a_module_above_it() {
    let mut wrong = Vec::new();
    for (module, refs) in modules() {
        let Some(own) = layer(&module) else { continue };
        for r in refs {
            match layer(&r) {
                Some(l) if r != module && l >= own => wrong.push(format!("{module} (layer {own}) uses {r} (layer {l})")),
                _ => {}
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(wrong.is_empty(), "imports against the layer order:\n{}", wrong.join("\n"));
}

#[test]
fn the_reference_scanner_sees_grouped_and_inline_paths() {
    let refs = references("use crate::{codec, tls::X};\nlet a = crate::wire::Link::new();");
    assert_eq!(refs, ["codec", "tls", "wire"]);
}
