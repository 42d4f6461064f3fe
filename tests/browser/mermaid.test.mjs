// Every lesson's Mermaid export, taken from the lab page, must be accepted by
// Mermaid's own parser (the npm package, loaded into a blank page).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { launch, open, labReady } from "./harness.mjs";

const MERMAID = createRequire(import.meta.url).resolve("mermaid/dist/mermaid.min.js");
let context;
before(async () => { context = await launch(); });
after(async () => { await context.close(); });

test("Mermaid's parser accepts the diagram of every lesson", async () => {
  const { page, problems } = await open(context, "index.html#preset=submission-587");
  await labReady(page);
  await page.waitForFunction(() => document.querySelectorAll("#preset option").length > 1);
  const ids = await page.$$eval("#preset option", (os) => os.map((o) => o.value).filter(Boolean));
  const diagrams = {};
  const lab = page.locator("smtp-lab");
  await lab.getByText("Export", { exact: true }).click();
  for (const id of ids) {
    await page.selectOption("#preset", id);
    await page.waitForFunction((want) => document.querySelector("smtp-lab").getAttribute("scenario") === `preset=${want}`, id);
    await labReady(page);
    await lab.locator("textarea.mermaid-text").evaluate((t) => { t.value = ""; });
    await lab.getByRole("button", { name: "Copy Mermaid" }).click();
    // The first export loads the engine; the text arrives when it has run the session.
    await page.waitForFunction(() => document.querySelector("smtp-lab").shadowRoot.querySelector("textarea.mermaid-text").value.startsWith("sequenceDiagram"));
    diagrams[id] = await lab.locator("textarea.mermaid-text").inputValue();
  }
  assert.deepEqual(problems, []);

  const checker = await context.newPage();
  await checker.setContent("<!doctype html><title>mermaid parse</title>");
  await checker.addScriptTag({ path: MERMAID });
  const results = await checker.evaluate(async (all) => {
    window.mermaid.initialize({ startOnLoad: false });
    const out = {};
    for (const [id, text] of Object.entries(all)) {
      try {
        const ok = await window.mermaid.parse(text);
        out[id] = ok ? "ok" : "rejected";
      } catch (e) {
        out[id] = String(e.message ?? e).slice(0, 300);
      }
    }
    return out;
  }, diagrams);
  for (const [id, verdict] of Object.entries(results)) assert.equal(verdict, "ok", `${id}:\n${diagrams[id]}`);
  assert.equal(Object.keys(results).length, ids.length);
  // And a diagram really renders: an attack shows Mallory as a participant.
  const svg = await checker.evaluate(async (text) => (await window.mermaid.render("d", text)).svg, diagrams["strip-587-opportunistic"]);
  assert.match(svg, /Mallory/);
});
