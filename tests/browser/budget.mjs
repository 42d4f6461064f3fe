// The lab's budget, measured: the bytes a first visit downloads (every file the
// server sends until the network is quiet, the service worker's caching
// included, the engine it keeps in idle time on a line of its own; gzip -9,
// as a server would send them), the time from navigation
// to the first session on screen (median of cold loads in headless Chromium)
// beside a static page of the same size served alone, the engine that loads
// when the learner first needs it, and the matrix page's time beside native.
import { gzipSync } from "node:zlib";
import { spawn, execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { launch } from "./harness.mjs";

const LOADS = 7;
const SIZE_TARGET = 250 * 1024;
const TIME_TARGET_MS = 200;
const ROOT = "target/www";
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// A server of our own, which says what it serves.
const csp = (await fetch(process.env.LAB_URL)).headers.get("content-security-policy");
const server = spawn("node", ["xtask/serve.mjs", ROOT, "0", csp], { env: { ...process.env, SERVE_LOG: "1" }, stdio: ["ignore", "pipe", "pipe"] });
const url = (await once(createInterface({ input: server.stdout }), "line"))[0].trim();
let served = [];
createInterface({ input: server.stderr }).on("line", (l) => { if (l.startsWith("served ")) served.push(l.slice(7)); });
const sizeOf = (path) => {
  const body = readFileSync(join(ROOT, path.endsWith("/") ? `${path}index.html` : path));
  return { raw: body.length, gzip: gzipSync(body, { level: 9 }).length };
};
const quiet = async () => {
  for (let n = -1; n !== served.length;) { n = served.length; await new Promise((r) => setTimeout(r, 1500)); }
};

async function visit(path, ready) {
  const context = await launch();
  const page = await context.newPage();
  served = [];
  await page.goto(new URL(path, url).href, { waitUntil: "domcontentloaded" });
  const ms = await ready(page);
  // The service worker's first caching is part of the first visit.
  await page.evaluate(async () => (await navigator.serviceWorker?.getRegistration()) && navigator.serviceWorker.ready);
  await quiet();
  const files = [...new Set(served)];
  await context.close();
  return { ms, files };
}

const labReady = async (page) => {
  await page.waitForFunction(() => performance.getEntriesByName("smtp-lab-first-session").length > 0, null, { timeout: 30_000 });
  return page.evaluate(() => performance.getEntriesByName("smtp-lab-first-session")[0].startTime);
};

const times = [];
let first;
for (let i = 0; i < LOADS; i += 1) {
  const v = await visit("index.html#preset=submission-587", labReady);
  times.push(v.ms);
  first ??= v.files;
}
// The engine, which the service worker keeps in idle time after the first session (so that custom
// setups later work offline), is counted on a line of its own: the learner does not wait for it.
const kept = first.filter((f) => f.includes("/pkg/"));
const sizes = first.filter((f) => !f.includes("/pkg/")).map((f) => [f, sizeOf(f)]).sort((a, b) => b[1].gzip - a[1].gzip);
const total = sizes.reduce((s, [, f]) => s + f.gzip, 0);
const raw = sizes.reduce((s, [, f]) => s + f.raw, 0);
console.log("\nlab budget (first visit to index.html#preset=submission-587, until the network is quiet)");
for (const [path, f] of sizes.slice(0, 12)) console.log(`  ${path.padEnd(34)} ${kb(f.raw).padStart(10)} raw ${kb(f.gzip).padStart(10)} gzip`);
if (sizes.length > 12) console.log(`  … and ${sizes.length - 12} more files, ${kb(sizes.slice(12).reduce((s, [, f]) => s + f.gzip, 0))} gzip`);
console.log(`  total transfer (gzip -9):    ${kb(total)} in ${sizes.length} files  (target <= ${kb(SIZE_TARGET)}: ${total <= SIZE_TARGET ? "met" : "MISSED"})`);
console.log(`  kept in idle time afterwards:  ${kept.length ? `${kept.join(", ")}, ${kb(kept.reduce((t, f) => t + sizeOf(f).gzip, 0))} gzip` : "nothing"}`);
console.log(`  the engine, when first needed: ${["pkg/smtp_lab_bg.wasm", "pkg/smtp_lab.js"].map((f) => `${f} ${kb(sizeOf(`/${f}`).gzip)}`).join(", ")} gzip`);

// A static page of the same size, alone: what the network and browser cost by themselves.
const padding = "<p>" + "static baseline text ".repeat(Math.ceil(raw / 21)).slice(0, Math.max(0, raw - 200)) + "</p>";
writeFileSync(join(ROOT, "budget-baseline.html"), `<!doctype html><html lang="en"><title>baseline</title><body>${padding}</body></html>`);
const baseline = [];
for (let i = 0; i < LOADS; i += 1) {
  baseline.push((await visit("budget-baseline.html", (page) => page.evaluate(async () => {
    await new Promise((r) => (document.readyState === "complete" ? r() : addEventListener("load", r)));
    return performance.getEntriesByType("navigation")[0].loadEventEnd;
  }))).ms);
}
rmSync(join(ROOT, "budget-baseline.html"));
const m = median(times);
console.log(`  navigation -> first session: median ${m.toFixed(0)} ms of ${LOADS} cold loads (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}); target < ${TIME_TARGET_MS} ms: ${m < TIME_TARGET_MS ? "met" : "MISSED"}`);
console.log(`  a static page of the same size (${kb(raw)} raw), alone: median ${median(baseline).toFixed(0)} ms to its load event`);

// The matrix page runs every session in a worker; beside the same sessions natively.
const matrixMs = [];
for (let i = 0; i < 3; i += 1) {
  matrixMs.push((await visit("matrix.html", async (page) => {
    await page.waitForSelector("#matrix[data-ms]", { timeout: 180_000 });
    return Number(await page.locator("#matrix").getAttribute("data-ms"));
  })).ms);
}
const cli = process.env.SMTP_LAB_RELEASE;
const native = [];
if (cli) {
  for (let i = 0; i < 5; i += 1) {
    const t = process.hrtime.bigint();
    execFileSync(cli, ["matrix", "--format", "json"]);
    native.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
}
const pageMs = median(matrixMs);
console.log(`  matrix page (worker, cell by cell): median ${pageMs.toFixed(0)} ms of 3 loads` + (cli ? `; natively (release CLI, whole process) median ${median(native).toFixed(0)} ms: ${(pageMs / median(native)).toFixed(1)}x (goal <= 4x)` : ""));
server.kill();
