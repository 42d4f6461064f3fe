// Shared by the browser tests: Debian's Chromium through playwright-core, the
// flags this closed network needs, and guards that fail a test on any console
// error or any request leaving the lab's own origin.
import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const LAB_URL = process.env.LAB_URL ?? "http://127.0.0.1:8080/";
export const ORIGIN = new URL(LAB_URL).origin;

const FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
];

/** A fresh Chromium with its own profile directory. */
export async function launch() {
  const dir = mkdtempSync(join(tmpdir(), "smtp-lab-chromium-"));
  return chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
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

/** Waits until the <smtp-lab> element (by CSS selector) has run its scenario. */
export async function labReady(page, selector = "smtp-lab", timeout = 30_000) {
  // An element starts when it comes near the viewport: bring it there.
  await page.locator(selector).first().scrollIntoViewIfNeeded({ timeout });
  await page.waitForFunction((sel) => {
    const el = document.querySelector(sel);
    return el && el.length > 0 && el.shadowRoot.querySelector(".seq li");
  }, selector, { timeout });
}
