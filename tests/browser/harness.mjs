// Shared by the browser tests: Debian's Chromium through playwright-core, the
// flags this closed network needs, and guards that fail a test on any console
// error or any request leaving the lab's own origin.
import { chromium } from "playwright-core";
import { mkdtempSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const LAB_URL = process.env.LAB_URL ?? "http://127.0.0.1:8080/";
export const ORIGIN = new URL(LAB_URL).origin;

const FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
];

/** A fresh Chromium with its own profile directory (`options`: more of Playwright's context options). */
export async function launch(options = {}) {
  const dir = mkdtempSync(join(tmpdir(), "smtp-lab-chromium-"));
  return chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
    ...options,
  });
}

/**
 * Opens a page that records console errors, page errors and requests to any
 * other origin; `problems()` lists them so a test can assert there are none.
 */
export async function open(context, path, viewport) {
  const page = await context.newPage();
  if (viewport) await page.setViewportSize(viewport);
  const problems = [];
  // `path` may also be a whole URL (another server's, as the package tests use).
  const target = new URL(path, LAB_URL);
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (!["data:", "blob:"].includes(url.protocol) && url.origin !== target.origin) problems.push(`off-origin request: ${r.url()}`);
  });
  // The tests wait for what they need themselves; "load" can lag behind on a busy machine.
  await page.goto(target.href, { waitUntil: "domcontentloaded" });
  return { page, problems };
}

/**
 * Brings an <smtp-lab> element (a Playwright selector, which pierces shadow
 * roots) near the viewport, where it starts, and waits until it has run its scenario.
 */
export async function labReady(page, selector = "smtp-lab", timeout = 30_000) {
  const el = page.locator(selector).first();
  await el.scrollIntoViewIfNeeded({ timeout });
  await page.waitForFunction((e) => e.state === "ready" && e.length > 0, await el.elementHandle(), { timeout });
}

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/**
 * axe-core's serious and critical violations on the page, one line each.
 * Evaluated over the DevTools protocol, so the page's CSP stays as it is;
 * axe.run then adds style tags inside shadow roots, which that CSP blocks, so
 * a caller checks the page's own console problems before calling this.
 */
export async function seriousViolations(page) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations
    .filter((v) => ["serious", "critical"].includes(v.impact))
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join("; ")})`);
}

/** The wasm files the page requests from now on (the engine: one download however many elements). */
export function wasmRequests(page) {
  const seen = [];
  page.on("request", (r) => { if (new URL(r.url()).pathname.endsWith(".wasm")) seen.push(r.url()); });
  return seen;
}
