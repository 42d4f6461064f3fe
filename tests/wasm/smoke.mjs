// Runs the wasm build in Node: the same Rust code, with ring, rcgen and rustls
// compiled to wasm32, doing real TLS handshakes. Usage: node smoke.mjs path/to/smtp_lab.js
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import { resolve } from "node:path";

const lab = createRequire(import.meta.url)(resolve(process.argv[2]));
let passed = 0;
const check = (name, fn) => {
  fn();
  passed += 1;
  console.log(`ok - ${name}`);
};

check("presets and attacks are listed", () => {
  const presets = lab.presets();
  assert.ok(presets.length >= 20);
  assert.ok(presets.some((p) => p.id === "strip-587-opportunistic"));
  assert.ok(lab.attacks().some((a) => a.id === "cmd-inject"));
});

check("a 587 session delivers over TLS", () => {
  const l = new lab.Lab("submission-587");
  assert.ok(l.len() > 10);
  const s = l.session();
  assert.equal(s.outcomes[0].kind, "delivered_securely");
  assert.ok(s.trace.steps.some((st) => st.encrypted && st.records.length > 0));
});

check("stripping exposes the password, found in the bytes", () => {
  const l = new lab.Lab("strip-587-opportunistic");
  const found = l.outcomes().find((o) => o.kind === "credentials_exposed");
  assert.equal(found.password, "correct horse battery staple");
  l.jumpTo(found.step);
  const step = l.stepForward();
  assert.equal(step.index, found.step);
  assert.equal(l.cursor(), found.step + 1);
  assert.equal(l.stepBack().index, found.step);
});

check("full scenario settings are accepted", () => {
  const preset = lab.presets().find((p) => p.id === "submissions-465");
  const l = new lab.Lab(preset.scenario);
  assert.equal(l.outcomes()[0].kind, "delivered_securely");
});

check("the matrix runs in wasm", () => {
  const m = lab.matrix();
  assert.ok(m.rows.length >= 20);
  const strip = m.rows.find((r) => r.id === "strip");
  assert.equal(strip.cells.find((c) => c.column === "opportunistic").label, "PASSWORD");
});

console.log(`wasm smoke: ${passed} passed, 0 failed`);
