//! Builds the browser lab into `target/www`: the wasm engine (size-optimised,
//! bound with wasm-bindgen, shrunk with binaryen's wasm-opt), the pages, and
//! a service worker that knows every file.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use crate::{ensure_tools, ensure_wasm_bindgen_cli, npm_tool, run, Result};

pub const DIST: &str = "target/www";

/// binaryen from npm: Debian's v108 corrupts wasm-bindgen's externref table.
const BINARYEN: &str = "binaryen@132";

pub fn build() -> Result {
    ensure_tools()?;
    ensure_wasm_bindgen_cli()?;
    let wasm_opt = npm_tool(BINARYEN, "wasm-opt")?;
    run("cargo", &["build", "--profile", "wasm-release", "--lib", "--target", "wasm32-unknown-unknown", "--no-default-features"])?;
    let dist = Path::new(DIST);
    if dist.exists() {
        std::fs::remove_dir_all(dist).map_err(|e| format!("{DIST}: {e}"))?;
    }
    let pkg = dist.join("pkg");
    let pkg_str = pkg.to_str().expect("utf-8 path");
    run(
        "wasm-bindgen",
        &["--target", "web", "--no-typescript", "--out-dir", pkg_str, "target/wasm32-unknown-unknown/wasm-release/smtp_lab.wasm"],
    )?;
    let wasm = pkg.join("smtp_lab_bg.wasm");
    let wasm_str = wasm.to_str().expect("utf-8 path");
    let features = [
        "--enable-bulk-memory",
        "--enable-nontrapping-float-to-int",
        "--enable-sign-ext",
        "--enable-reference-types",
        "--enable-mutable-globals",
    ];
    let mut args = vec!["-Oz", "--strip-debug", "--strip-producers"];
    args.extend(features);
    args.extend([wasm_str, "-o", wasm_str]);
    run(wasm_opt.to_str().expect("utf-8 path"), &args)?;
    copy_dir(Path::new("www"), dist)?;
    write_service_worker(dist)
}

fn copy_dir(from: &Path, to: &Path) -> Result {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).map_err(|e| format!("{}: {e}", target.display()))?;
        }
    }
    Ok(())
}

fn files(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) -> Result {
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            files(&path, base, out)?;
        } else {
            out.push(path.strip_prefix(base).expect("under base").to_path_buf());
        }
    }
    Ok(())
}

/// Puts the list of files, and a version that changes with their contents,
/// into the service worker.
fn write_service_worker(dist: &Path) -> Result {
    let mut all = Vec::new();
    files(dist, dist, &mut all)?;
    all.retain(|p| p != Path::new("sw.js"));
    all.sort();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for p in &all {
        p.hash(&mut hasher);
        std::fs::read(dist.join(p)).map_err(|e| e.to_string())?.hash(&mut hasher);
    }
    let names: Vec<String> = all.iter().map(|p| format!("{:?}", p.to_string_lossy().replace('\\', "/"))).collect();
    let line = format!("const BUILD = {{ version: \"{:016x}\", files: [\"./\", {}] }};", hasher.finish(), names.join(", "));
    let sw = dist.join("sw.js");
    let text = std::fs::read_to_string(&sw).map_err(|e| format!("{}: {e}", sw.display()))?;
    let placeholder = "const BUILD = { version: \"dev\", files: [] };";
    if !text.contains(placeholder) {
        return Err("www/sw.js lost its BUILD placeholder line".into());
    }
    std::fs::write(&sw, text.replace(placeholder, &line)).map_err(|e| e.to_string())
}
