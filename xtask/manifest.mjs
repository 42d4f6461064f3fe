// The element's custom-elements.json, written into the built lab: the
// standard analyzer reads the JSDoc of www/js/smtp-lab.js (the one place the
// element's attributes, events, custom properties and parts are described),
// and the build fails when the element and its description disagree: a
// --smtp-lab-* property in the stylesheet, a part or an observed attribute
// that the JSDoc does not name, or the other way round. The embed page renders
// its reference tables from this file; `cargo xtask dist` ships it in the
// package and makes the TypeScript declaration from it.
// Usage: node xtask/manifest.mjs WWW CEM_BIN
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [www, cem] = process.argv.slice(2);
if (!cem) throw new Error("usage: node xtask/manifest.mjs WWW CEM_BIN");

function fail(message) {
  console.error(`manifest: ${message}`);
  process.exit(1);
}

execFileSync(cem, ["analyze", "--globs", "js/smtp-lab.js", "--outdir", "."], { cwd: www, stdio: ["ignore", "ignore", "inherit"] });
const path = join(www, "custom-elements.json");
const manifest = JSON.parse(readFileSync(path, "utf8"));
const element = manifest.modules.flatMap((m) => m.declarations ?? []).find((d) => d.tagName === "smtp-lab");
if (!element) fail("the analyzer found no <smtp-lab> in js/smtp-lab.js");
// Private members are not the element's interface; events are those the JSDoc names (the
// analyzer also reports the helper that dispatches them).
element.members = element.members.filter((m) => m.privacy !== "private" && !m.name.startsWith("#"));
element.events = element.events.filter((e) => e.description);
writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`);

const css = readFileSync(join(www, "css/lab.css"), "utf8");
const js = readFileSync(join(www, "js/smtp-lab.js"), "utf8");
const same = (what, real, documented) => {
  const missing = [...real].filter((x) => !documented.has(x));
  const extra = [...documented].filter((x) => !real.has(x));
  if (missing.length || extra.length) fail(`${what}: not in the JSDoc: ${missing.join(", ") || "none"}; in the JSDoc only: ${extra.join(", ") || "none"}`);
};
same("custom properties", new Set(css.match(/--smtp-lab-[a-z-]+/g)), new Set(element.cssProperties.map((p) => p.name)));
// Every value given to `part` (a string, or either string of a conditional).
const parts = new Set([...js.matchAll(/part(?::|",) ([^,)]*)/g)].flatMap((m) => [...m[1].matchAll(/"([^"]*)"/g)].flatMap((q) => q[1].split(" "))));
same("parts", parts, new Set(element.cssParts.map((p) => p.name)));
// Observed attributes, and those read only once (compact is CSS's, loading is read at start).
const observed = JSON.parse(/observedAttributes = (\[[^\]]*\])/.exec(js)[1]);
same("attributes", new Set([...observed, "compact", "loading"]), new Set(element.attributes.map((a) => a.name)));
