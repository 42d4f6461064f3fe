//! Builds the browser lab into `target/www`: the wasm engine (size-optimised,
//! bound with wasm-bindgen, shrunk with binaryen's wasm-opt), the pages, the
//! element's custom-elements.json, and a service worker that knows every file;
//! and for `cargo xtask dist`, the npm package and the static site.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use crate::{ensure_tools, ensure_wasm_bindgen_cli, npm_tool, package, run, Result};

pub const DIST: &str = "target/www";

/// The crate that binds the engine for JavaScript (wasm-bindgen), and what its build is called.
pub const WASM_CRATE: &str = "smtp-lab-wasm";

/// The engine as cargo builds it for the browser, in `profile`.
pub fn wasm_file(profile: &str) -> String {
    format!("target/wasm32-unknown-unknown/{profile}/{}.wasm", WASM_CRATE.replace('-', "_"))
}

/// The pages' Content-Security-Policy: stamped into each page's head and sent
/// by the lab server as a header. No `unsafe-inline`, no `unsafe-eval`;
/// `wasm-unsafe-eval` only, which compiling the engine needs.
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

/// The site's pages in navigation order, with their link text.
const NAV: [(&str, &str); 4] =
    [("index.html", "Lab"), ("ports.html", "Which port, and why"), ("matrix.html", "Attack matrix"), ("embed.html", "Embed")];

/// The shared head, nav and body frame; `_`-prefixed files are build inputs, not served.
const SHELL: &str = "www/_shell.html";

/// binaryen from npm: Debian's v108 corrupts wasm-bindgen's externref table.
const BINARYEN: &str = "binaryen@132";

pub fn build() -> Result {
    ensure_tools()?;
    ensure_wasm_bindgen_cli()?;
    let wasm_opt = npm_tool(BINARYEN, "wasm-opt")?;
    run("cargo", &["build", "--profile", "wasm-release", "-p", WASM_CRATE, "--lib", "--target", "wasm32-unknown-unknown"])?;
    let dist = Path::new(DIST);
    if dist.exists() {
        std::fs::remove_dir_all(dist).map_err(|e| format!("{DIST}: {e}"))?;
    }
    let pkg = dist.join("pkg");
    let pkg_str = pkg.to_str().expect("utf-8 path");
    run(
        "wasm-bindgen",
        &["--target", "web", "--no-typescript", "--out-name", "smtp_lab", "--out-dir", pkg_str, &wasm_file("wasm-release")],
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
    write_css_module(dist)?;
    // Every lesson, recorded by the engine just built: the page shows a lesson
    // before the engine has loaded (and offline).
    run("node", &["xtask/record.mjs", DIST])?;
    // The element's custom-elements.json, from its JSDoc (the embed page's reference tables read it).
    let cem = npm_tool(CEM_ANALYZER, "cem")?;
    run("node", &["xtask/manifest.mjs", DIST, cem.to_str().expect("utf-8 path")])?;
    for (page, _) in NAV {
        stamp_page(dist, page)?;
    }
    write_service_worker(dist)
}

/// The analyzer that writes the element's custom-elements.json from its JSDoc.
const CEM_ANALYZER: &str = "@custom-elements-manifest/analyzer@0.11.0";

/// `cargo xtask dist`: the lab, then the npm package and the static site
/// (`target/dist`, by `xtask/dist.mjs`).
pub fn dist() -> Result {
    build()?;
    let core = package("smtp-lab")?;
    let field = |name: &str| core[name].as_str().map(str::to_owned).ok_or_else(|| format!("Cargo.toml has no {name}"));
    let (name, version, license, description) = (field("name")?, field("version")?, field("license")?, field("description")?);
    run("node", &["xtask/dist.mjs", DIST, DIST_OUT, CSP, &name, &version, &license, &description])?;
    downloads(&name, &version)
}

/// The static site as a zip, for a lecturer without Rust: unpacked, any web
/// server (or `python3 -m http.server`) serves the lab. The zip and the npm
/// tarball are also put in the site's own `downloads/` (without their version
/// in the name), which the embed page links to.
fn downloads(name: &str, version: &str) -> Result {
    use std::io::Write;
    let out = Path::new(DIST_OUT);
    let site = out.join("site");
    let zip_name = format!("{name}-site-{version}.zip");
    let zip_path = out.join(&zip_name);
    let mut all = Vec::new();
    files(&site, &site, &mut all)?;
    // The precompressed twins are for servers; a zip's own deflate does their work.
    all.retain(|p| !p.starts_with("downloads") && !matches!(p.extension().and_then(|e| e.to_str()), Some("br" | "gz")));
    all.sort();
    let file = std::fs::File::create(&zip_path).map_err(|e| format!("{}: {e}", zip_path.display()))?;
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let folder = format!("{name}-site-{version}");
    for p in &all {
        let entry = format!("{folder}/{}", p.to_string_lossy().replace('\\', "/"));
        zip.start_file(entry, options).map_err(|e| e.to_string())?;
        zip.write_all(&std::fs::read(site.join(p)).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    }
    zip.finish().map_err(|e| e.to_string())?;
    let shelf = site.join("downloads");
    std::fs::create_dir_all(&shelf).map_err(|e| e.to_string())?;
    let tarball = format!("{name}-{version}.tgz");
    // Named without the version, so that the page's links stay true from one release to the next.
    for (f, as_name) in [(&zip_name, format!("{name}-site.zip")), (&tarball, format!("{name}.tgz"))] {
        std::fs::copy(out.join(f), shelf.join(&as_name)).map_err(|e| format!("{f}: {e}"))?;
    }
    eprintln!("downloads: {} ({} files) and {tarball}, also in {}", zip_path.display(), all.len(), shelf.display());
    Ok(())
}

/// Where `cargo xtask dist` puts the package, its tarball and the static site.
pub const DIST_OUT: &str = "target/dist";

/// `js/lab-css.js`: the stylesheet as a module's default export, which the
/// element adopts as a constructed stylesheet (one for every element on a
/// page; bundlers carry it as code instead of a `.css` asset).
fn write_css_module(dist: &Path) -> Result {
    let css = std::fs::read_to_string("www/css/lab.css").map_err(|e| format!("www/css/lab.css: {e}"))?;
    // Rust's string Debug form is a valid JavaScript string literal: quotes,
    // backslashes and control characters escaped, others as `\u{…}` (ES2015).
    let module = format!("// Made by cargo xtask from css/lab.css: the element's stylesheet, as a module.\nexport default {css:?};\n");
    let path = dist.join("js/lab-css.js");
    std::fs::write(&path, module).map_err(|e| format!("{}: {e}", path.display()))
}

fn copy_dir(from: &Path, to: &Path) -> Result {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        if entry.file_name().to_string_lossy().starts_with('_') {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).map_err(|e| format!("{}: {e}", target.display()))?;
        }
    }
    Ok(())
}

/// Wraps a page's own part (a front-matter comment, then `<main>`) in the
/// shell: title, description, CSP, nav with the current page marked, and
/// module preloads for every module the page's script imports.
fn stamp_page(dist: &Path, page: &str) -> Result {
    let path = dist.join(page);
    let source = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (front, main) = source
        .strip_prefix("<!--")
        .and_then(|rest| rest.split_once("-->"))
        .ok_or_else(|| format!("www/{page} must start with its front-matter comment"))?;
    let field = |name: &str| -> std::result::Result<String, String> {
        front
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
            .ok_or_else(|| format!("www/{page} has no {name}: line"))
    };
    let script = field("script")?;
    let mut modules = Vec::new();
    imports(dist, &script, &mut modules)?;
    let mut preloads: Vec<String> = modules.iter().map(|m| format!("<link rel=\"modulepreload\" href=\"{m}\">")).collect();
    if modules.iter().any(|m| m == "pkg/smtp_lab.js") {
        preloads.push("<link rel=\"preload\" href=\"pkg/smtp_lab_bg.wasm\" as=\"fetch\" type=\"application/wasm\" crossorigin>".into());
    }
    let nav: Vec<String> = NAV
        .iter()
        .map(|(href, text)| {
            let current = if *href == page { " aria-current=\"page\"" } else { "" };
            format!("      <li><a href=\"{href}\"{current}>{text}</a></li>")
        })
        .collect();
    let shell = std::fs::read_to_string(SHELL).map_err(|e| format!("{SHELL}: {e}"))?;
    let html = shell
        .replace("{{csp}}", CSP)
        .replace("{{title}}", &field("title")?)
        .replace("{{description}}", &field("description")?)
        .replace("{{preloads}}", &preloads.join("\n"))
        .replace("{{script}}", &script)
        .replace("{{nav}}", &nav.join("\n"))
        .replace("{{main}}", &format!("{}{}", main.trim(), inline_recording(dist, front)?));
    std::fs::write(&path, html).map_err(|e| format!("{}: {e}", path.display()))
}

/// For a page whose front matter says `inline: LESSON`, that lesson's
/// recording as a JSON data block (not code, so the CSP lets it be): the page
/// shows it without waiting for a fetch.
fn inline_recording(dist: &Path, front: &str) -> std::result::Result<String, String> {
    let Some(id) = front.lines().find_map(|l| l.strip_prefix("inline: ")) else { return Ok(String::new()) };
    let path = dist.join("recorded").join(format!("{id}.json"));
    let json = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    // "</" cannot end the block early once written "<\/", which JSON reads as "</".
    Ok(format!("\n<script type=\"application/json\" id=\"recording-{id}\">{}</script>", json.replace("</", "<\\/")))
}

/// Every module `module` imports, directly or not (relative `import`s only),
/// as paths relative to the site root, in first-seen order.
fn imports(dist: &Path, module: &str, out: &mut Vec<String>) -> Result {
    let source = std::fs::read_to_string(dist.join(module)).map_err(|e| format!("{module}: {e}"))?;
    let base = Path::new(module).parent().unwrap_or(Path::new(""));
    for line in source.lines().map(str::trim_start).filter(|l| l.starts_with("import ")) {
        let Some(spec) = line.split('"').nth(1).filter(|s| s.starts_with("./") || s.starts_with("../")) else { continue };
        let mut parts: Vec<String> = base.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        for piece in spec.split('/') {
            match piece {
                "." => {}
                ".." => {
                    parts.pop();
                }
                p => parts.push(p.to_owned()),
            }
        }
        let target = parts.join("/");
        if !out.contains(&target) {
            out.push(target.clone());
            imports(dist, &target, out)?;
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
/// into the service worker. Everything but the engine (pkg/) is cached on the
/// first visit; the engine is cached when a page first loads it.
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
    let names: Vec<String> = names.into_iter().filter(|n| !n.starts_with("\"pkg/")).collect();
    let line = format!("const BUILD = {{ version: \"{:016x}\", files: [\"./\", {}] }};", hasher.finish(), names.join(", "));
    let sw = dist.join("sw.js");
    let text = std::fs::read_to_string(&sw).map_err(|e| format!("{}: {e}", sw.display()))?;
    let placeholder = "const BUILD = { version: \"dev\", files: [] };";
    if !text.contains(placeholder) {
        return Err("www/sw.js lost its BUILD placeholder line".into());
    }
    std::fs::write(&sw, text.replace(placeholder, &line)).map_err(|e| e.to_string())
}
