// Runs the wasm build in Node: the same Rust code, with ring and rustls
// compiled to wasm32, doing real TLS handshakes; and its exports against the
// CLI's. Usage: node smoke.mjs path/to/smtp_lab.js path/to/smtp-lab
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  assert.ok(s.trace.steps.some((st) => st.tls && st.records.some((r) => r.encrypted)));
  assert.ok(s.trace.steps.some((st) => st.tls && st.records.every((r) => !r.encrypted)), "the ClientHello is cleartext");
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

check("links with the CLI's names are accepted, bad ones are errors", () => {
  const l = new lab.Lab("port=587&policy=opportunistic&attack=strip");
  assert.equal(l.verdicts()[0].kind, "credentials_exposed");
  assert.ok(l.verdicts()[0].compromise);
  assert.match(l.verdicts()[0].text, /password exposed/);
  assert.throws(() => new lab.Lab("attack=nope"), /no attack/);
  assert.throws(() => new lab.Lab("no-such-preset"), /no lesson/);
  assert.throws(() => new lab.Lab("policy=plain&attack=wrong-mode-implicit-to-587"), /--policy plain conflicts with --attack/);
});

check("every step has notes, with RFC references", () => {
  const notes = new lab.Lab("submission-587").notes();
  assert.ok(notes.every((n) => n.length > 0));
  // A note's source comes as pieces: its words, and each citation as a link with its heading.
  const cites = notes.flat().flatMap((n) => (Array.isArray(n.rfc) ? n.rfc.filter((p) => typeof p === "object") : []));
  const starttls = cites.find((c) => c.cite === "RFC 3207 §4");
  assert.ok(starttls, "the STARTTLS reply's note cites RFC 3207 §4");
  assert.equal(starttls.href, "https://www.rfc-editor.org/rfc/rfc3207#section-4");
  assert.equal(starttls.title, "RFC 3207 §4: The STARTTLS Command");
});

// A session is a pure function of its settings and seed (the TLS randoms, key
// shares and signatures all come from the seed), so the browser's build and
// the CLI must agree on every byte of every export, TLS sessions included.
const cli = process.argv[3];
const parity = (link, args) => {
  const dir = mkdtempSync(join(tmpdir(), "parity-"));
  const run = (format, extra = []) => execFileSync(cli, ["run", ...args, "--format", format, ...extra]);
  const l = new lab.Lab(link);
  assert.equal(l.heading().command, `smtp-lab run ${args.join(" ")}`);
  assert.equal(run("text", ["--pcap", join(dir, "s.pcap"), "--keylog", join(dir, "s.keys")]).toString(), l.text(), `${link}: text`);
  assert.equal(run("json").toString(), l.json(), `${link}: json`);
  assert.equal(run("mermaid").toString(), l.mermaid(), `${link}: mermaid`);
  assert.deepEqual(new Uint8Array(readFileSync(join(dir, "s.pcap"))), l.pcap(), `${link}: pcap`);
  assert.equal(readFileSync(join(dir, "s.keys"), "utf8"), l.keylog(), `${link}: key log`);
  return l;
};

check("every lesson with TLS exports the same bytes as the CLI", () => {
  assert.ok(cli, "pass the smtp-lab binary as the second argument");
  let tls = 0;
  for (const { id } of lab.presets()) {
    const l = parity(`preset=${id}`, ["--preset", id]);
    if (l.session().trace.steps.some((st) => st.tls)) tls += 1;
  }
  assert.ok(tls >= 10, `only ${tls} lessons with TLS`);
});

check("another seed: the same bytes as the CLI, other bytes than the default seed", () => {
  const l = parity("preset=submission-587&seed=12345", ["--preset", "submission-587", "--seed", "12345"]);
  assert.notDeepEqual(l.pcap(), new lab.Lab("preset=submission-587").pcap());
});

check("a cleartext session with an attacker matches the CLI too", () => {
  parity("port=25&policy=plain&attack=strip", ["--port", "25", "--attack", "strip", "--policy", "plain"]);
});

check("Mallory's presets are the attacks that act on the wire, from the engine", () => {
  const ids = lab.malloryPresets().map((p) => p.id);
  assert.ok(ids.includes("strip") && ids.includes("mitm-cert"));
  assert.ok(!ids.includes("eavesdrop") && !ids.some((id) => id.startsWith("smuggle") || id.startsWith("wrong-mode")));
  const l = new lab.Lab("port=587&policy=opportunistic&auth=always&drive=mallory");
  for (let i = 0; i < 100 && l.held(); i += 1) l.decide({ kind: "preset", arg: "strip" });
  assert.ok(l.isFinished());
  assert.equal(l.verdicts()[0].kind, "credentials_exposed");
});

check("the matrix runs in wasm, cell by cell, as the CLI's", () => {
  const m = lab.matrixLayout();
  assert.ok(m.rows.length >= 20);
  const native = JSON.parse(execFileSync(cli, ["matrix", "--format", "json"]));
  for (const row of m.rows) {
    for (const c of row.cells.filter((c) => c.label === "…")) {
      const cell = lab.matrixCell(`${row.id}@${c.column}`);
      const want = native.rows.find((r) => r.id === row.id).cells.find((n) => n.column === c.column);
      assert.equal(cell.label, want.label, `${row.id}@${c.column}`);
    }
  }
});

console.log(`wasm smoke: ${passed} passed, 0 failed`);
