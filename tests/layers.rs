//! The folders are the layers, and the arrows point one way: a module of
//! `src/` may name only its own layer and the layers below it. The check
//! parses every file with syn and resolves every path it contains (each leaf
//! of every `use` tree, nested groups included; paths in expressions, types
//! and patterns; `super::` and `self::` relative to the file's own module;
//! `crate::` inside macro bodies), skipping `#[cfg(test)]` items, whose
//! fixtures may come from any layer. Two more rules: nothing under
//! `proto/smtp` or `proto/http` names `proto::tls` (the SMTP and HTTP
//! machines never see a TLS record; `proto::tls_info` is what TLS tells
//! them), and the crate's users (tests, benches, fuzz targets, examples, the
//! CLI, the wasm binding) name only a layer's face: what its `mod.rs`
//! re-exports, and the few modules it exposes whole as namespaces.
//! Run alone with `cargo test --test layers`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// The layers, lowest first: a module may use only its own layer and lower ones.
const LAYERS: &[(&str, u8)] =
    &[("vocab", 0), ("bytes", 0), ("cite", 0), ("proto", 1), ("sim", 2), ("outcome", 3), ("render", 4), ("lab", 5)];

fn layer(name: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == name).map(|(_, l)| *l)
}

/// Every path a file names, as segments from the crate root (relative paths
/// resolved against `module`, the file's own module path). Paths that start
/// elsewhere (another crate, a local item) are left out: without `crate`,
/// `super` or `self` a path cannot leave its own module's subtree.
#[derive(Default)]
struct Paths {
    module: Vec<String>,
    /// How the file names the library: `crate` inside it, `smtp_lab` outside.
    root: &'static str,
    found: BTreeSet<Vec<String>>,
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg") && a.parse_args::<syn::Meta>().is_ok_and(|m| matches!(&m, syn::Meta::Path(p) if p.is_ident("test")))
    })
}

impl Paths {
    /// Inside the library, `#[cfg(test)]` items are fixtures and may use any layer; outside, nothing is skipped.
    fn skips(&self, attrs: &[syn::Attribute]) -> bool {
        self.root == "crate" && is_cfg_test(attrs)
    }

    /// Resolves `segments` (as written) to a path from the crate root.
    fn add(&mut self, segments: Vec<String>) {
        let mut out: Vec<String> = Vec::new();
        let mut rest = segments.as_slice();
        match rest.first().map(String::as_str) {
            Some(root) if root == self.root => rest = &rest[1..],
            Some("self") | Some("super") if self.root == "crate" => {
                out = self.module.clone();
                while let Some(first) = rest.first() {
                    match first.as_str() {
                        "self" => rest = &rest[1..],
                        "super" => {
                            out.pop();
                            rest = &rest[1..];
                        }
                        _ => break,
                    }
                }
            }
            _ => return,
        }
        out.extend(rest.iter().cloned());
        if !out.is_empty() {
            self.found.insert(out);
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut path = prefix.clone();
                if n.ident != "self" {
                    path.push(n.ident.to_string());
                }
                self.add(path);
            }
            syn::UseTree::Rename(r) => {
                let mut path = prefix.clone();
                path.push(r.ident.to_string());
                self.add(path);
            }
            syn::UseTree::Glob(_) => self.add(prefix.clone()),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        if self.skips(&u.attrs) {
            return;
        }
        let mut prefix = Vec::new();
        if u.leading_colon.is_some() {
            return; // ::extern_crate::…
        }
        self.use_tree(&mut prefix, &u.tree);
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        self.add(p.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        // `crate::a::b` written inside a macro's tokens (`$crate` is the macro's own crate).
        let tokens: Vec<proc_macro2::TokenTree> = flatten(m.tokens.clone());
        for (i, t) in tokens.iter().enumerate() {
            let proc_macro2::TokenTree::Ident(id) = t else { continue };
            if id != self.root || i > 0 && matches!(&tokens[i - 1], proc_macro2::TokenTree::Punct(p) if p.as_char() == '$') {
                continue;
            }
            let mut path = vec![self.root.to_owned()];
            let mut j = i + 1;
            while let (
                Some(proc_macro2::TokenTree::Punct(a)),
                Some(proc_macro2::TokenTree::Punct(b)),
                Some(proc_macro2::TokenTree::Ident(next)),
            ) = (tokens.get(j), tokens.get(j + 1), tokens.get(j + 2))
            {
                if a.as_char() != ':' || b.as_char() != ':' {
                    break;
                }
                path.push(next.to_string());
                j += 3;
            }
            self.add(path);
        }
        syn::visit::visit_macro(self, m);
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if self.skips(&m.attrs) {
            return;
        }
        self.module.push(m.ident.to_string());
        syn::visit::visit_item_mod(self, m);
        self.module.pop();
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if !self.skips(&f.attrs) {
            syn::visit::visit_item_fn(self, f);
        }
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        if !self.skips(&i.attrs) {
            syn::visit::visit_item_impl(self, i);
        }
    }
}

fn flatten(tokens: proc_macro2::TokenStream) -> Vec<proc_macro2::TokenTree> {
    let mut out = Vec::new();
    for t in tokens {
        match t {
            proc_macro2::TokenTree::Group(g) => out.extend(flatten(g.stream())),
            other => out.push(other),
        }
    }
    out
}

/// The paths a source file names, resolved from the crate root; `module` is the file's module path.
fn paths_in(source: &str, module: &[String]) -> BTreeSet<Vec<String>> {
    let file = syn::parse_file(source).expect("every source file parses");
    let mut v = Paths { module: module.to_vec(), root: "crate", found: BTreeSet::new() };
    v.visit_file(&file);
    v.found
}

/// The library paths a file outside it names (`smtp_lab::…`), from the crate root.
fn library_paths_in(source: &str) -> BTreeSet<Vec<String>> {
    let file = syn::parse_file(source).expect("every source file parses");
    let mut v = Paths { module: Vec::new(), root: "smtp_lab", found: BTreeSet::new() };
    v.visit_file(&file);
    v.found
}

/// Every library source file with its module path (`src/sim/attack/mod.rs` is `sim::attack`).
fn library_files() -> Vec<(PathBuf, Vec<String>)> {
    fn walk(dir: &Path, module: &[String], out: &mut Vec<(PathBuf, Vec<String>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if !(module.is_empty() && name == "bin") {
                    walk(&path, &[module, &[name]].concat(), out);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                let m = if name == "mod" || (module.is_empty() && name == "lib") { module.to_vec() } else { [module, &[name]].concat() };
                out.push((path, m));
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &[], &mut out);
    out
}

/// What a file of module `module` names against the layer order and the inner rule.
fn violations(module: &[String], paths: &BTreeSet<Vec<String>>) -> Vec<String> {
    let Some(own) = module.first().and_then(|m| layer(m)) else { return Vec::new() };
    let machines_without_tls = module.starts_with(&["proto".into(), "smtp".into()]) || module.starts_with(&["proto".into(), "http".into()]);
    let mut out = Vec::new();
    for p in paths {
        let Some(l) = layer(&p[0]) else { continue };
        if l > own {
            out.push(format!("{} (layer {own}) names {} (layer {l})", module.join("::"), p.join("::")));
        }
        if machines_without_tls && p.starts_with(&["proto".into(), "tls".into()]) {
            out.push(format!("{} names {}: the SMTP and HTTP machines never see TLS", module.join("::"), p.join("::")));
        }
    }
    out
}

/// The modules a layer exposes whole, as namespaces of its face: the SMTP
/// syntax, the simulated world, the matrix and the TLS-RPT report, the
/// export formats and the capture, turning settings into scenarios, and the
/// explainer's claims. Every other submodule of a layer is `pub(crate)`.
const NAMESPACES: &[&str] =
    &["proto::codec", "sim::world", "outcome::matrix", "outcome::tlsrpt", "render::export", "render::pcap", "lab::assemble", "lab::claims"];

/// What a module file declares public, by name: its `pub use` leaves (or their
/// new names), its `pub mod`s and its own `pub` items. Globs are not a face.
fn face_of(source: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    fn leaves(tree: &syn::UseTree, out: &mut BTreeSet<String>) {
        match tree {
            syn::UseTree::Path(p) => leaves(&p.tree, out),
            syn::UseTree::Name(n) => drop(out.insert(n.ident.to_string())),
            syn::UseTree::Rename(r) => drop(out.insert(r.rename.to_string())),
            syn::UseTree::Glob(_) => panic!("a glob re-export is not a curated face"),
            syn::UseTree::Group(g) => g.items.iter().for_each(|t| leaves(t, out)),
        }
    }
    let file = syn::parse_file(source).expect("every source file parses");
    let (mut names, mut modules) = (BTreeSet::new(), BTreeSet::new());
    for item in &file.items {
        let public = |v: &syn::Visibility| matches!(v, syn::Visibility::Public(_));
        let ident = match item {
            syn::Item::Use(u) if public(&u.vis) => {
                leaves(&u.tree, &mut names);
                continue;
            }
            syn::Item::Mod(m) if public(&m.vis) => {
                modules.insert(m.ident.to_string());
                Some(&m.ident)
            }
            syn::Item::Struct(i) if public(&i.vis) => Some(&i.ident),
            syn::Item::Enum(i) if public(&i.vis) => Some(&i.ident),
            syn::Item::Fn(i) if public(&i.vis) => Some(&i.sig.ident),
            syn::Item::Const(i) if public(&i.vis) => Some(&i.ident),
            syn::Item::Trait(i) if public(&i.vis) => Some(&i.ident),
            syn::Item::Type(i) if public(&i.vis) => Some(&i.ident),
            syn::Item::Static(i) if public(&i.vis) => Some(&i.ident),
            _ => None,
        };
        names.extend(ident.map(|i| i.to_string()));
    }
    (names, modules)
}

/// A layer's face, read from its `mod.rs`.
fn layer_face(layer: &str) -> BTreeSet<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let file = if src.join(layer).is_dir() { src.join(layer).join("mod.rs") } else { src.join(format!("{layer}.rs")) };
    face_of(&std::fs::read_to_string(file).unwrap()).0
}

/// Where a path outside the library goes past its layer's face.
fn beyond_the_face(file: &str, paths: &BTreeSet<Vec<String>>, root: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    for p in paths {
        let [first, rest @ ..] = p.as_slice() else { continue };
        if layer(first).is_none() {
            if !root.contains(first) {
                out.push(format!("{file} names smtp_lab::{first}, which the crate root does not export"));
            }
            continue;
        }
        let Some(name) = rest.first() else { continue };
        if !layer_face(first).contains(name) {
            out.push(format!("{file} names smtp_lab::{}: {first}'s face has no {name}", p.join("::")));
        }
    }
    out
}

/// Every file outside the library that uses it: tests, benches, fuzz
/// targets, examples, the CLI and the wasm binding.
fn user_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("target") && !path.ends_with("corpus") && !path.ends_with("artifacts") {
                    walk(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["tests", "benches", "fuzz", "examples", "src/bin", "crates"] {
        walk(&root.join(dir), &mut out);
    }
    out
}

#[test]
fn the_crate_s_users_name_only_the_layers_faces() {
    let root = face_of(&std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap()).0;
    let mut wrong = Vec::new();
    let users = user_files();
    assert!(users.len() > 30, "found only {} files using the crate", users.len());
    for path in users {
        let source = std::fs::read_to_string(&path).unwrap();
        wrong.extend(beyond_the_face(&path.display().to_string(), &library_paths_in(&source), &root));
    }
    assert!(wrong.is_empty(), "paths past a layer's face:\n{}", wrong.join("\n"));
}

#[test]
fn a_layer_exposes_only_its_namespaces_whole() {
    for (l, _) in LAYERS.iter().filter(|(l, _)| *l != "vocab" && *l != "bytes") {
        let source = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(l).join("mod.rs")).unwrap();
        for m in face_of(&source).1 {
            assert!(
                NAMESPACES.contains(&format!("{l}::{m}").as_str()),
                "{l}/mod.rs has `pub mod {m}`: make it pub(crate) and re-export its items"
            );
        }
        for n in NAMESPACES.iter().filter_map(|n| n.strip_prefix(&format!("{l}::"))) {
            assert!(layer_face(l).contains(n), "{l} does not expose the namespace {n}");
        }
    }
}

#[test]
fn every_module_lives_in_a_layer_folder() {
    for (path, module) in library_files() {
        if module.is_empty() {
            continue; // lib.rs
        }
        assert!(layer(&module[0]).is_some(), "{} is in no layer: {:?}", path.display(), LAYERS);
    }
}

#[test]
fn no_module_names_a_layer_above_it() {
    let mut wrong = Vec::new();
    for (path, module) in library_files() {
        let source = std::fs::read_to_string(&path).unwrap();
        wrong.extend(violations(&module, &paths_in(&source, &module)));
    }
    assert!(wrong.is_empty(), "paths against the layer order:\n{}", wrong.join("\n"));
}

#[test]
fn the_checker_sees_nested_groups_super_and_macros() {
    let module: Vec<String> = vec!["proto".into(), "smtp".into(), "client".into()];
    let planted = "use crate::{vocab::{Choice, MenuItem}, proto::smtp::{codec::{Reply}, server}, lab::{settings::{Settings}}};\n\
                   use super::super::super::render::view;\n\
                   fn f() { let _ = crate::sim::trace::Trace::default(); m!(crate::outcome::analyse); }\n\
                   fn g() -> super::super::tls::TlsStream { todo!() }\n\
                   #[cfg(test)] mod tests { use crate::lab::claims; }";
    let found = violations(&module, &paths_in(planted, &module));
    for expected in [
        "names lab::settings::Settings",
        "names render::view",
        "names sim::trace::Trace",
        "names outcome::analyse",
        "names proto::tls::TlsStream",
    ] {
        assert!(found.iter().any(|f| f.contains(expected)), "{expected} not reported in {found:#?}");
    }
    assert!(!found.iter().any(|f| f.contains("claims")), "a #[cfg(test)] module may use any layer: {found:#?}");
    assert!(!found.iter().any(|f| f.contains("vocab")), "a lower layer is allowed: {found:#?}");

    // Outside the library: only the faces, nested groups and inline paths included.
    let user = "use smtp_lab::{proto::{codec::Command, smtp::client::Client}, sim::Trace};\n\
                fn f() { let _ = smtp_lab::render::view::StepView::of; let _ = smtp_lab::proto::Client::new; m!(smtp_lab::lab::settings::Settings); }";
    let root = BTreeSet::new();
    let found = beyond_the_face("planted.rs", &library_paths_in(user), &root);
    for expected in ["proto::smtp::client::Client", "render::view::StepView", "lab::settings::Settings"] {
        assert!(found.iter().any(|f| f.contains(expected)), "{expected} not reported in {found:#?}");
    }
    assert_eq!(found.len(), 3, "codec (a namespace), Trace and Client are on the faces: {found:#?}");
}
