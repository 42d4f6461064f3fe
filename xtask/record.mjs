// Records every lesson with the engine itself, at build time, so the lab can
// show a lesson before the engine has loaded. A session is a pure function of
// its settings and seed, so a recording is exactly what the engine computes
// in the page (tests/browser/lab.test.mjs checks that byte for byte).
// Usage: node xtask/record.mjs target/www
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const dist = resolve(process.argv[2] ?? "target/www");
const wasm = await import(pathToFileURL(join(dist, "pkg/smtp_lab.js")).href);
await wasm.default({ module_or_path: readFileSync(join(dist, "pkg/smtp_lab_bg.wasm")) });
const out = join(dist, "recorded");
mkdirSync(out, { recursive: true });
const lessons = wasm.presets();
writeFileSync(join(out, "lessons.json"), JSON.stringify(lessons));
writeFileSync(join(out, "fields.json"), JSON.stringify(wasm.settingsFields()));
for (const { id } of lessons) {
  const lab = new wasm.Lab(`preset=${id}`);
  // The engine decides what a recording holds (Lab::recording): what the
  // read-only methods return, less the hex dumps, which load the engine.
  const recording = lab.recording();
  writeFileSync(join(out, `${id}.json`), JSON.stringify(recording));
  lab.free();
}
console.log(`recorded ${lessons.length} lessons in ${out}`);
