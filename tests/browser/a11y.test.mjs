// Accessibility (axe-core: no serious or critical violations) and layout at
// phone and desktop widths, and in the dark colour scheme, with screenshots
// in target/screenshots.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { launch, open, labReady, seriousViolations } from "./harness.mjs";

const SHOTS = "target/screenshots";
const PAGES = [
  ["lab", "index.html#preset=strip-587-opportunistic&step=5"],
  ["console", "index.html#port=587&drive=client"],
  ["mallory", "index.html#port=587&policy=opportunistic&auth=always&drive=mallory"],
  ["journey", "index.html#preset=smuggling&step=40"],
  ["policy", "index.html#preset=mta-sts-first-contact&step=9"],
  ["explainer", "ports.html"],
  ["matrix", "matrix.html"],
  ["embed", "embed.html"],
];
const SIZES = [
  ["phone", { width: 390, height: 844 }, "light"],
  ["desktop", { width: 1280, height: 900 }, "light"],
  ["desktop-dark", { width: 1280, height: 900 }, "dark"],
];

let context;
before(async () => { context = await launch(); mkdirSync(SHOTS, { recursive: true }); });
after(async () => { await context.close(); });

async function settle(page, path) {
  if (path.startsWith("index")) await labReady(page);
  // Every element of the embed page, each started by scrolling to it; then back to the top.
  if (path.startsWith("embed")) {
    for (const id of await page.locator("smtp-lab").evaluateAll((els) => els.map((el) => el.id))) await labReady(page, `#${id}`);
    await page.evaluate(() => window.scrollTo(0, 0));
  }
  if (path.startsWith("matrix")) await page.waitForSelector("#matrix table");
  if (path.startsWith("ports")) await page.waitForSelector(".claim"), await page.waitForSelector("#path svg");
}

for (const [name, path] of PAGES) {
  for (const [size, viewport, scheme] of SIZES) {
    test(`${name}, ${size}: no serious accessibility problems, no sideways scrolling`, async () => {
      const { page, problems } = await open(context, path, viewport);
      // The dark palette needs the same contrast as the light one.
      await page.emulateMedia({ colorScheme: scheme });
      await settle(page, path);
      assert.deepEqual(problems, [], "the page itself logged no errors");
      // Only the problems from before axe count (axe's own style tags meet the CSP).
      assert.deepEqual(await seriousViolations(page), []);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${overflow}px of sideways scrolling`);
      // caret: "initial", or Playwright injects a style tag that the CSP (rightly) refuses.
      await page.screenshot({ path: `${SHOTS}/${name}-${size}.png`, caret: "initial" });
    });
  }
}
