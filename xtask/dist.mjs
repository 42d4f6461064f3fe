// `cargo xtask dist`, after the lab is built into target/www: the npm package
// (target/dist/package, packed into target/dist/smtp-lab-VERSION.tgz) and the
// static site (target/dist/site, every file precompressed beside itself).
// Usage: node xtask/dist.mjs WWW OUT CSP NAME VERSION LICENSE DESCRIPTION
//
// The element's documentation lives once, in the JSDoc of www/js/smtp-lab.js:
// the custom-elements manifest is made from it (xtask/manifest.mjs, by the
// standard analyzer), and the TypeScript declaration and the README from the
// manifest.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const [www, out, csp, name, version, license, description] = process.argv.slice(2);
if (!description) throw new Error("usage: node xtask/dist.mjs WWW OUT CSP NAME VERSION LICENSE DESCRIPTION");

/** What the element needs, relative to the built lab; the same layout in the package, so its relative URLs hold. */
const ELEMENT_FILES = ["js/smtp-lab.js", "js/lab-css.js", "js/engine.js", "js/recorded.js", "js/dom.js", "pkg/smtp_lab.js", "pkg/smtp_lab_bg.wasm", "recorded"];

function walk(dir) {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
}

function fail(message) {
  console.error(`dist: ${message}`);
  process.exit(1);
}

rmSync(out, { recursive: true, force: true });

// ---- the static site ----------------------------------------------------------
const site = join(out, "site");
cpSync(www, site, { recursive: true });
// Relative links only, so the folder works from any host and any sub-path.
for (const file of walk(site).filter((f) => /\.(html|css|js)$/.test(f))) {
  const text = readFileSync(file, "utf8");
  // A tag's href or src (not the same text inside a code sample, whose "<" is "&lt;"), a CSS url(), a fetch or import.
  const absolute = /<[a-z][^<>]*\s(?:href|src)="\/(?!\/)|url\(\/(?!\/)|(?:fetch|import)\(["']\//.exec(text);
  if (absolute) fail(`${relative(site, file)} has a root-relative link (${absolute[0]}): the site must work from a sub-path`);
}
writeFileSync(join(site, "_headers"), `# Headers for static hosts that read this file (Netlify, Cloudflare Pages).
# Every page also carries this policy in a <meta> tag, so hosts that cannot set
# headers (GitHub Pages) still apply it.
/*
  Content-Security-Policy: ${csp}
  X-Content-Type-Options: nosniff
/*.wasm
  Content-Type: application/wasm
`);
const files = walk(site);
let raw = 0;
let brotli = 0;
let gzip = 0;
for (const file of files) {
  const body = readFileSync(file);
  const text = /\.(html|css|js|json|svg|txt|md)$/.test(file) || file.endsWith("_headers");
  const br = brotliCompressSync(body, { params: {
    [constants.BROTLI_PARAM_QUALITY]: 11,
    [constants.BROTLI_PARAM_MODE]: text ? constants.BROTLI_MODE_TEXT : constants.BROTLI_MODE_GENERIC,
    [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
  } });
  const gz = gzipSync(body, { level: 9 });
  writeFileSync(`${file}.br`, br);
  writeFileSync(`${file}.gz`, gz);
  raw += body.length;
  brotli += br.length;
  gzip += gz.length;
}
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`site: ${files.length} files, ${kb(raw)}; precompressed ${kb(gzip)} gzip, ${kb(brotli)} brotli → ${site}`);

// ---- the package ----------------------------------------------------------------
const pkg = join(out, "package");
for (const f of ELEMENT_FILES) cpSync(join(www, f), join(pkg, f), { recursive: true });

// The manifest `cargo xtask lab` made (xtask/manifest.mjs), which the embed page reads too.
cpSync(join(www, "custom-elements.json"), join(pkg, "custom-elements.json"));
const manifest = JSON.parse(readFileSync(join(pkg, "custom-elements.json"), "utf8"));
const element = manifest.modules.flatMap((m) => m.declarations ?? []).find((d) => d.tagName === "smtp-lab");

writeFileSync(join(pkg, "smtp-lab.d.ts"), declaration(element));
writeFileSync(join(pkg, "package.json"), `${JSON.stringify({
  name,
  version,
  description,
  license,
  type: "module",
  main: "./js/smtp-lab.js",
  module: "./js/smtp-lab.js",
  types: "./smtp-lab.d.ts",
  exports: {
    ".": { types: "./smtp-lab.d.ts", default: "./js/smtp-lab.js" },
    "./custom-elements.json": "./custom-elements.json",
    "./package.json": "./package.json",
  },
  customElements: "custom-elements.json",
  // Importing the module defines <smtp-lab>: a bundler must keep it.
  sideEffects: ["./js/smtp-lab.js"],
  files: ["js", "pkg", "recorded", "smtp-lab.d.ts", "custom-elements.json", "README.md"],
  keywords: ["smtp", "tls", "starttls", "email", "web-component", "custom-element", "webassembly"],
}, null, 2)}\n`);
writeFileSync(join(pkg, "README.md"), readme(element));
execFileSync("npm", ["pack", "--silent", "--pack-destination", ".."], { cwd: pkg, stdio: ["ignore", "ignore", "inherit"] });
const tarball = join(out, `${name}-${version}.tgz`);
console.log(`package: ${walk(pkg).length} files; ${tarball} ${kb(statSync(tarball).size)}`);

/** The TypeScript declaration, from the manifest: the element's members, attributes and events. */
function declaration(el) {
  const doc = (text, indent = "") => (text ? `${indent}/** ${text.replace(/\*\//g, "*\\/").replace(/\n/g, `\n${indent} * `)} */\n` : "");
  const type = (t, fallback) => t?.text ?? fallback;
  const fields = el.members.filter((m) => m.kind === "field").map((m) => `${doc(m.description, "  ")}  readonly ${m.name}: ${type(m.type, "unknown")};\n`);
  const methods = el.members.filter((m) => m.kind === "method").map((m) => {
    const params = (m.parameters ?? []).map((p) => `${p.name}${p.optional ? "?" : ""}: ${type(p.type, "unknown")}`).join(", ");
    return `${doc(m.description, "  ")}  ${m.name}(${params}): ${type(m.return?.type, "void")};\n`;
  });
  const events = el.events.map((e) => `${doc(e.description, "  ")}  "${e.name}": ${e.type.text};\n`);
  const attributes = el.attributes.map((a) => `${doc(a.description, "  ")}  ${a.name}?: ${a.type?.text === "boolean" ? "boolean | \"\"" : a.type?.text === "number" ? "number | string" : a.type?.text ?? "string"};\n`);
  return `// Made by \`cargo xtask dist\` from custom-elements.json (itself from the element's JSDoc).

${doc(el.description)}export declare class SmtpLab extends HTMLElement {
${fields.join("")}${methods.join("")}  addEventListener<K extends keyof SmtpLabEventMap>(type: K, listener: (this: SmtpLab, ev: SmtpLabEventMap[K]) => unknown, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof SmtpLabEventMap>(type: K, listener: (this: SmtpLab, ev: SmtpLabEventMap[K]) => unknown, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}

/** The events <smtp-lab> fires (they bubble and cross shadow roots). */
export interface SmtpLabEventMap extends HTMLElementEventMap {
${events.join("")}}

/** The attributes of <smtp-lab>, for frameworks' JSX and template typings. */
export interface SmtpLabAttributes {
${attributes.join("")}}

declare global {
  interface HTMLElementTagNameMap {
    "smtp-lab": SmtpLab;
  }
}
`;
}

function readme(el) {
  const rows = (list) => list.map((x) => `| \`${x.name}\` | ${(x.description ?? "").replace(/\|/g, "\\|").replace(/\n/g, " ")} |`).join("\n");
  return `# smtp-lab

${description}. One custom element, \`<smtp-lab>\`: a real SMTP client and server
(Rust state machines with real TLS, compiled to WebAssembly) run in the reader's
browser, and the reader steps through the session byte by byte. Nothing is sent
anywhere.

\`\`\`html
<script type="module" src="node_modules/smtp-lab/js/smtp-lab.js"></script>
<smtp-lab scenario="strip-587-opportunistic" step="4" compact></smtp-lab>
\`\`\`

or, with a bundler, \`import "smtp-lab";\`. With Vite (and VitePress, Astro), keep
the package out of dependency pre-bundling, which moves the module away from
its engine: \`optimizeDeps: { exclude: ["smtp-lab"] }\`.

Every element on a page shares one engine, loaded once on first need; an
element starts when it comes near the viewport and reserves its height until
then. The engine is about 490 KB of gzip-compressed WebAssembly; lessons show
from recordings without it until the reader does something only it can do.
The element's pages need \`script-src 'self' 'wasm-unsafe-eval'\` in a
Content-Security-Policy, and the server must send \`.wasm\` as
\`application/wasm\`.

## Attributes

| name | |
|---|---|
${rows(el.attributes)}

## Events

| name | |
|---|---|
${rows(el.events)}

## Theming

Custom properties (set them on \`smtp-lab\` or any ancestor):

| name | |
|---|---|
${rows(el.cssProperties)}

Parts, for \`smtp-lab::part(name)\`:

| name | |
|---|---|
${rows(el.cssParts)}

\`custom-elements.json\` and \`smtp-lab.d.ts\` describe all of this for editors and documentation tools.
`;
}
