// The lab page end to end in Debian's Chromium: every lesson's outcome as the
// engine computes it, keyboard stepping, deep links, exports, offline use.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { launch, open, labReady } from "./harness.mjs";

const CLI = process.env.SMTP_LAB_CLI ?? "target/debug/smtp-lab";
let context;
before(async () => { context = await launch(); });
after(async () => { await context.close(); });

/** The element's visible state. */
const state = (page, sel = "smtp-lab") => page.evaluate((s) => {
  const el = document.querySelector(s);
  const root = el.shadowRoot;
  return {
    cursor: el.cursor,
    length: el.length,
    verdicts: [...root.querySelectorAll(".verdict")].map((v) => ({ kind: v.dataset.kind, step: Number(v.dataset.step) })),
    detail: root.querySelector(".detail h3")?.textContent ?? "",
    visibleRows: [...root.querySelectorAll(".seq li")].filter((li) => !li.hidden).length,
    hash: location.hash,
  };
}, sel);

/** The outcomes the CLI (the same engine, natively) finds for a lesson. */
function engineOutcomes(preset) {
  const doc = JSON.parse(execFileSync(CLI, ["run", "--preset", preset, "--format", "json"]));
  return doc.outcomes.map((o) => ({ kind: o.kind, step: o.step }));
}

test("every lesson shows the outcome the engine computes, and its step link works", async () => {
  const { page, problems } = await open(context, "index.html#preset=submission-587");
  await labReady(page);
  await page.waitForFunction(() => document.querySelectorAll("#preset option").length > 1);
  const ids = await page.$$eval("#preset option", (os) => os.map((o) => o.value).filter(Boolean));
  assert.ok(ids.length >= 20, `only ${ids.length} lessons in the picker`);
  for (const id of ids) {
    await page.selectOption("#preset", id);
    await page.waitForFunction((want) => document.querySelector("smtp-lab").getAttribute("scenario") === `preset=${want}`, id);
    await labReady(page);
    await page.waitForFunction(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".verdict"));
    const shown = await state(page);
    assert.deepEqual(shown.verdicts, engineOutcomes(id), `lesson ${id}`);
    // No outcome shows before its step; asked for, "see step N" selects that step (counted from 1).
    const first = shown.verdicts[0];
    await page.locator("smtp-lab").getByRole("button", { name: "Show the outcome" }).click();
    await page.locator("smtp-lab .verdict button").first().click();
    const after = await state(page);
    assert.equal(after.cursor, first.step + 1, id);
    assert.match(after.detail, new RegExp(`^Step ${first.step + 1}\\b`), id);
    assert.match(after.hash, new RegExp(`preset=${id}&step=${first.step + 1}$`));
  }
  assert.deepEqual(problems, []);
});

test("the keyboard steps forward and back, to the start and the end", async () => {
  const { page, problems } = await open(context, "index.html#preset=strip-587-opportunistic&step=0");
  await labReady(page);
  assert.equal((await state(page)).cursor, 0);
  for (const key of ["ArrowRight", "ArrowRight", "j"]) await page.keyboard.press(key);
  let s = await state(page);
  assert.equal(s.cursor, 3);
  assert.equal(s.visibleRows, 3);
  assert.match(s.detail, /^Step 3/);
  assert.match(s.hash, /step=3$/);
  await page.keyboard.press("ArrowLeft");
  await page.keyboard.press("k");
  assert.equal((await state(page)).cursor, 1);
  // Home and End step within the lab (elsewhere they scroll the page).
  await page.evaluate(() => document.querySelector("smtp-lab").focusControls());
  await page.keyboard.press("End");
  s = await state(page);
  assert.equal(s.cursor, s.length);
  await page.keyboard.press("Home");
  assert.equal((await state(page)).cursor, 0);
  // The controls are reachable with Tab and work with Enter.
  const next = page.locator("smtp-lab").getByRole("button", { name: "Next ▶" });
  await next.focus();
  await page.keyboard.press("Enter");
  assert.equal((await state(page)).cursor, 1);
  // Play runs to the end by itself.
  await page.keyboard.press("p");
  await page.waitForFunction(() => { const el = document.querySelector("smtp-lab"); return el.cursor === el.length; }, null, { timeout: 20_000 });
  assert.deepEqual(problems, []);
});

test("a deep link opens exactly that scenario and step, and survives a reload", async () => {
  const link = "index.html#port=587&policy=opportunistic&attack=strip&step=4";
  const { page, problems } = await open(context, link);
  await labReady(page);
  let s = await state(page);
  assert.equal(s.cursor, 4);
  assert.match(s.detail, /^Step 4/);
  assert.equal(s.verdicts[0].kind, "credentials_exposed");
  // The session is what the link is for: its setup is folded, and filled in.
  assert.equal(await page.locator("#custom").getAttribute("open"), null);
  assert.equal(await page.locator("select[name=policy]").inputValue(), "opportunistic");
  assert.equal(await page.locator("select[name=attack]").inputValue(), "strip");
  const cli = await page.locator("smtp-lab .cli code").textContent();
  assert.equal(cli, "smtp-lab run --port 587 --attack strip --policy opportunistic");
  await page.reload();
  await labReady(page);
  s = await state(page);
  assert.equal(s.cursor, 4);
  // A matrix cell link, and the command line that names the same cell.
  await page.goto(new URL("index.html#cell=cmd-inject%2Funpatched%40require-starttls&step=2", page.url()).href);
  await page.waitForFunction(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".verdict[data-kind=command_injected]"));
  assert.equal((await state(page)).cursor, 2);
  assert.equal(await page.locator("smtp-lab .cli code").textContent(), "smtp-lab run --cell cmd-inject/unpatched@require-starttls");
  // A combination the engine cannot honour names both settings.
  await page.goto(new URL("index.html#policy=plain&attack=wrong-mode-implicit-to-587", page.url()).href);
  await page.waitForFunction(() => /These two settings cannot go together: policy = plain and attack = wrong-mode-implicit-to-587\. That attack is an implicit-TLS client/.test(document.querySelector("smtp-lab").shadowRoot.querySelector(".error").textContent));
  // A bad link is explained, not a blank page.
  await page.goto(new URL("index.html#colour=red", page.url()).href);
  await page.waitForSelector("#picker-error:not([hidden])");
  assert.match(await page.locator("#picker-error").textContent(), /The lab has no setting “colour”/);
  await page.goto(new URL("index.html#port=abc", page.url()).href);
  await page.waitForFunction(() => /port number/.test(document.querySelector("#picker-error").textContent));
  assert.deepEqual(problems, []);
});

test("the custom setup form runs what it says", async () => {
  const { page, problems } = await open(context, "index.html");
  await labReady(page);
  // No lesson underneath: the settings below alone (the form otherwise sits on top of the lesson shown).
  await page.waitForFunction(() => document.querySelectorAll("#preset option").length > 1);
  await page.selectOption("#preset", "");
  await page.locator("#custom > summary").click();
  await page.selectOption("select[name=port]", "25");
  await page.selectOption("select[name=policy]", "plain");
  await page.getByRole("button", { name: "Run this setup" }).click();
  await page.waitForFunction(() => location.hash.includes("port=25"));
  await page.waitForFunction(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".verdict[data-kind=delivered_in_cleartext]"));
  // Every value each menu offers is one the engine accepts.
  for (const name of ["policy", "server-tls", "auth", "cert", "attack"]) {
    const values = await page.$$eval(`select[name=${name}] option`, (os) => os.map((o) => o.value).filter(Boolean));
    for (const value of values) {
      await page.selectOption(`select[name=${name}]`, value);
      await page.getByRole("button", { name: "Run this setup" }).click();
      await page.waitForFunction(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".verdict"));
      assert.equal(await page.locator("smtp-lab .error").isVisible(), false, `${name}=${value}`);
    }
    await page.selectOption(`select[name=${name}]`, "");
  }
  // A validating client against an untrusted certificate aborts.
  await page.selectOption("select[name=port]", "587");
  await page.selectOption("select[name=policy]", "require-starttls");
  await page.selectOption("select[name=cert]", "untrusted-ca");
  await page.selectOption("select[name=validate]", "enforce");
  await page.getByRole("button", { name: "Run this setup" }).click();
  await page.waitForFunction(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".verdict[data-kind=aborted_safely]"));
  assert.match(page.url(), /port=587&cert=untrusted-ca&policy=require-starttls&validate=enforce/);
  assert.deepEqual(problems, []);
});

test("the page renders each step exactly as the engine's step view says", async () => {
  const { page, problems } = await open(context, "index.html#preset=submission-587");
  await labReady(page);
  await page.waitForFunction(() => document.querySelectorAll("#preset option").length > 1);
  const ids = await page.$$eval("#preset option", (os) => os.map((o) => o.value).filter(Boolean));
  for (const id of ids) {
    await page.goto(new URL(`index.html#preset=${id}&step=0`, page.url()).href);
    await page.waitForFunction((want) => document.querySelector("smtp-lab").link.startsWith(`preset=${want}&`), id);
    await labReady(page);
    const mismatches = await page.evaluate(() => {
      const el = document.querySelector("smtp-lab");
      const root = el.shadowRoot;
      const rows = [...root.querySelectorAll(".seq li")];
      const out = [];
      if (rows.length !== el.views.length) out.push(`rows ${rows.length} vs views ${el.views.length}`);
      el.views.forEach((v, i) => {
        const row = rows[i];
        const where = `step ${i}`;
        if (row.querySelector(".label").textContent !== v.label) out.push(`${where}: label`);
        if (row.classList.contains("altered") !== v.altered) out.push(`${where}: altered`);
        if (Boolean(row.querySelector(".tls-badge")) !== v.tls_text) out.push(`${where}: TLS badge`);
        if (row.querySelectorAll(".rec").length !== v.records.length) out.push(`${where}: records`);
        if (Boolean(row.querySelector(".mallory")) !== v.attacker_acted) out.push(`${where}: Mallory badge`);
        el.jumpTo(i + 1);
        const shown = [...root.querySelectorAll(".detail .byte-views pre")].map((p) => p.dataset.shown);
        const want = v.blocks.map((b) => (b.text === null ? "hex" : "text"));
        if (shown.join() !== want.join()) out.push(`${where}: text/hex ${shown} vs ${want}`);
        const lines = [...root.querySelectorAll(".detail .events li")].map((li) => li.textContent);
        // An event's text comes with its citations as pieces: the page shows their words.
        const words = (t) => (Array.isArray(t) ? t.map((p) => (typeof p === "string" ? p : p.cite)).join("") : t);
        const events = ["client", "server"].flatMap((side) => v.events.filter((e) => e.side === side).map((e) => words(e.text)));
        if (lines.join("\n") !== events.join("\n")) out.push(`${where}: event lines`);
      });
      return out;
    });
    assert.deepEqual(mismatches, [], id);
  }
  assert.deepEqual(problems, []);
});

test("exports download from the page: pcap, key log, JSON, text, and Mermaid text", async () => {
  const { page, problems } = await open(context, "index.html#preset=submission-587");
  await labReady(page);
  const lab = page.locator("smtp-lab");
  await lab.getByText("Export", { exact: true }).click();
  const grab = async (name) => {
    const [download] = await Promise.all([page.waitForEvent("download"), lab.getByRole("button", { name }).click()]);
    const stream = await download.createReadStream();
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    return { name: download.suggestedFilename(), bytes: Buffer.concat(chunks) };
  };
  const pcap = await grab("Capture (.pcap)");
  assert.equal(pcap.name, "submission-587.pcap");
  assert.equal(pcap.bytes.readUInt32LE(0), 0xa1b2c3d4);
  const keys = await grab("TLS key log");
  assert.match(keys.bytes.toString(), /^CLIENT_HANDSHAKE_TRAFFIC_SECRET [0-9a-f]{64} /m);
  const json = JSON.parse((await grab("JSON trace")).bytes.toString());
  assert.equal(json.outcomes[0].kind, "delivered_securely");
  const text = (await grab("Transcript (.txt)")).bytes.toString();
  assert.match(text, /=== outcome \(step \d+\): delivered/);
  await lab.getByRole("button", { name: "Copy Mermaid" }).click();
  const mermaid = await lab.locator("textarea.mermaid-text").inputValue();
  assert.match(mermaid, /^sequenceDiagram\n/);
  assert.deepEqual(problems, []);
});

test("the embed page: compact and full elements, each steppable on its own", async () => {
  const { page, problems } = await open(context, "embed.html");
  await labReady(page, "#embed-compact");
  await labReady(page, "#embed-full");
  assert.equal((await state(page, "#embed-full")).cursor, 3);
  const compact = page.locator("#embed-compact");
  assert.equal(await compact.locator(".detail").isVisible(), false, "compact mode hides the detail panel");
  assert.equal((await state(page, "#embed-compact")).cursor, 0);
  await compact.getByRole("button", { name: "Next ▶" }).click();
  await page.keyboard.press("ArrowRight");
  assert.equal((await state(page, "#embed-compact")).cursor, 2);
  assert.equal((await state(page, "#embed-full")).cursor, 3, "the other element did not move");
  assert.equal((await state(page, "#embed-compact")).verdicts[0].kind, "credentials_exposed");
  assert.deepEqual(problems, []);
});

test("autoplay plays from the start while on screen, pauses off screen, and does not play under reduced motion", async () => {
  const { page, problems } = await open(context, "embed.html");
  await labReady(page, "#embed-autoplay");
  const cursor = () => page.evaluate(() => document.getElementById("embed-autoplay").cursor);
  await page.waitForFunction(() => document.getElementById("embed-autoplay").cursor >= 3, null, { timeout: 15_000 });
  // controls="step": stepping only.
  const el = page.locator("#embed-autoplay");
  assert.equal(await el.locator(".export").isVisible(), false);
  assert.equal(await el.locator(".controls").isVisible(), true);
  // Off screen it waits where it was (a paused timer does not step).
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForFunction(() => !document.getElementById("embed-autoplay").shadowRoot.querySelector("[aria-pressed=true]"));
  const paused = await cursor();
  await page.waitForTimeout(2000);
  assert.equal(await cursor(), paused);
  assert.ok(paused < (await page.evaluate(() => document.getElementById("embed-autoplay").length)));
  // A reader who asks for reduced motion gets the whole session, still.
  await page.emulateMedia({ reducedMotion: "reduce" });
  await page.reload();
  await labReady(page, "#embed-autoplay");
  const still = await page.evaluate(() => ({ cursor: document.getElementById("embed-autoplay").cursor, length: document.getElementById("embed-autoplay").length }));
  assert.equal(still.cursor, still.length);
  await page.waitForTimeout(1000);
  assert.equal(await cursor(), still.length);
  assert.equal(await el.locator("[aria-pressed=true]").count(), 0, "nothing is playing");
  assert.deepEqual(problems, []);
});

test("explainer and matrix: every 'run it' link opens a working session", async () => {
  const { page, problems } = await open(context, "ports.html");
  await page.waitForSelector(".claim");
  const links = await page.$$eval("main a[href^='index.html#']", (as) => [...new Set(as.map((a) => a.getAttribute("href")))]);
  assert.ok(links.length >= 12, `only ${links.length} distinct links`);
  await page.waitForSelector(".claim");
  const claims = await page.locator(".claim").count();
  assert.equal(claims, 27);
  // Every claim a session can show is proved in the page; the others say why not.
  const unproved = await page.$$eval(".claim[data-proved=false]", (cs) => cs.filter((c) => !c.querySelector(".status")).map((c) => c.id));
  assert.deepEqual(unproved, []);
  assert.match(await page.locator("#claims-proved").textContent(), /^2[0-4] of 27 claims are shown by a session/);
  await page.fill("#claim-search", "465");
  assert.match(await page.locator("#claim-count").textContent(), /^\d+ of 27 claims$/);
  for (const href of links) {
    await page.goto(new URL(href, page.url()).href, { waitUntil: "domcontentloaded" });
    await labReady(page);
    await page.waitForFunction(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".verdict"));
  }
  await page.goto(new URL("matrix.html", page.url()).href);
  await page.waitForSelector("#matrix table");
  // The sessions run in a worker: while cells are still being filled in, the page answers at once.
  const busy = await page.evaluate(() => document.querySelectorAll("#matrix td[aria-busy]").length);
  const answered = await page.evaluate(() => new Promise((ok) => { const t = performance.now(); setTimeout(() => ok(performance.now() - t), 0); }));
  assert.ok(answered < 250, `the page took ${answered} ms to answer while the matrix ran (${busy} cells pending)`);
  await page.waitForSelector("#matrix[data-ms]", { timeout: 120_000 });
  assert.equal(await page.locator("#matrix td[aria-busy]").count(), 0);
  // Red exactly where the engine's is_compromise says the attacker won (the CLI's matrix, natively).
  const native = JSON.parse(execFileSync(CLI, ["matrix", "--format", "json"]));
  const want = native.rows.flatMap((r) => r.cells.filter((c) => c.tone).map((c) => `${r.id}@${c.column}:${c.tone === "compromised"}`));
  const shown = await page.$$eval("td a", (as) => as.map((a) => `${decodeURIComponent(a.getAttribute("href").split("cell=")[1].split("&")[0])}:${a.classList.contains("bad")}`));
  assert.deepEqual(shown.sort(), want.sort());
  const cell = page.locator("td a", { hasText: "PASSWORD" }).first();
  await cell.click();
  await labReady(page);
  await page.waitForFunction(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".verdict[data-kind=credentials_exposed]"));
  assert.deepEqual(problems, []);
});

test("the page keeps working offline once loaded, under a strict CSP", async () => {
  const { page, problems } = await open(context, "index.html#preset=relay-25");
  await labReady(page);
  const response = await page.request.get(page.url());
  const csp = response.headers()["content-security-policy"];
  for (const policy of [csp, await page.locator("meta[http-equiv=Content-Security-Policy]").getAttribute("content")]) {
    assert.ok(policy.includes("script-src 'self' 'wasm-unsafe-eval'"), policy);
    assert.ok(!policy.includes("unsafe-inline") && !policy.includes("'unsafe-eval'"), policy);
  }
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15_000 }).catch(() => page.reload());
  await page.evaluate(() => navigator.serviceWorker.ready);
  // The first visit cached every lesson's recording; the engine is cached once a page loads it.
  await page.goto(new URL("ports.html", page.url()).href);
  await page.waitForSelector(".claim");
  await context.setOffline(true);
  try {
    for (const path of ["index.html#preset=strip-465", "ports.html", "embed.html", "index.html#port=25&policy=plain"]) {
      await page.goto(new URL(path, page.url()).href);
      if (path !== "ports.html") await labReady(page);
      else await page.waitForSelector(".claim");
    }
    await page.waitForFunction(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".verdict[data-kind=delivered_in_cleartext]"));
  } finally {
    await context.setOffline(false);
  }
  assert.deepEqual(problems, []);
});

test("a TLS step shows what the path sees beside what is inside", async () => {
  // Step 7 of the 587 lesson is the ClientHello (step=7 shows steps 0 to 6).
  const { page, problems } = await open(context, "index.html#preset=submission-587&step=7");
  await labReady(page);
  const records = (root) => root.locator(".tls .tls-record");
  const root = page.locator("smtp-lab");
  const hello = records(root).filter({ hasText: "ClientHello" }).first();
  const path = hello.locator(".tls-side").first();
  assert.match(await path.locator("h5").textContent(), /What anyone on the path sees/);
  assert.match(await path.textContent(), /server_name \(RFC 6066 §3\)mail\.example\.test/);
  // The server's flight: the certificate is only inside.
  await page.keyboard.press("ArrowRight");
  const flight = records(root).filter({ hasText: "Certificate" }).first();
  const inside = flight.locator(".tls-side.inside");
  assert.match(await inside.locator("h5").textContent(), /What is inside/);
  assert.match(await inside.textContent(), /subject#0: CN=mail\.example\.test/);
  assert.doesNotMatch(await flight.locator(".tls-side").first().textContent(), /mail\.example\.test/);
  assert.deepEqual(problems, []);
});

test("a link's seed decides the bytes: the same on reload, other ones after 'New seed'", async () => {
  // Step 7 of the 587 lesson shows the ClientHello: its random and key share come from the seed.
  const { page, problems } = await open(context, "index.html#preset=submission-587&step=7");
  await labReady(page);
  const bytes = () => page.locator("smtp-lab .detail pre").first().textContent();
  const hello = await bytes();
  await page.reload();
  await labReady(page);
  assert.equal(await bytes(), hello, "the same link, the same bytes");
  await page.getByRole("button", { name: "New seed" }).click();
  await page.waitForFunction(() => /seed=\d+&step=7$/.test(location.hash));
  await page.waitForFunction(() => document.querySelector("smtp-lab").cursor === 7);
  const seed = page.url().match(/seed=(\d+)/)[1];
  const other = await bytes();
  assert.notEqual(other, hello, "another seed, other random bytes");
  assert.equal(await page.locator("smtp-lab .cli code").textContent(), `smtp-lab run --preset submission-587 --seed ${seed}`);
  // That link, opened fresh, shows exactly those bytes again.
  const fresh = await open(context, `index.html#preset=submission-587&seed=${seed}&step=7`);
  await labReady(fresh.page);
  assert.equal(await fresh.page.locator("smtp-lab .detail pre").first().textContent(), other);
  assert.deepEqual([...problems, ...fresh.problems], []);
});

test("a lesson shown from its recording is exactly what the engine computes in the page", async () => {
  const { page, problems } = await open(context, "index.html#preset=submission-587&step=3");
  await labReady(page);
  // Shown before the engine has loaded: no request for it yet.
  const loadedEngine = await page.evaluate(() => performance.getEntriesByType("resource").some((r) => r.name.includes("/pkg/")));
  assert.equal(loadedEngine, false, "the first session needs no engine");
  const mismatches = await page.evaluate(async () => {
    const wasm = await (await import("./js/engine.js")).engine();
    const lessons = await (await fetch("recorded/lessons.json")).json();
    const out = [];
    for (const { id } of lessons) {
      const recorded = await (await fetch(`recorded/${id}.json`)).json();
      const lab = new wasm.Lab(`preset=${id}`);
      const live = lab.recording();
      for (const key of Object.keys(live)) if (JSON.stringify(live[key]) !== JSON.stringify(recorded[key])) out.push(`${id}: ${key}`);
      // A recording is the engine's session less the hex dumps: every other field of every view is the same.
      const views = lab.views().map((v) => ({ ...v, blocks: v.blocks.map((b) => ({ ...b, hex: null })) }));
      if (JSON.stringify(views) !== JSON.stringify(recorded.views)) out.push(`${id}: views`);
      if (JSON.stringify(lab.heading()) !== JSON.stringify(recorded.heading) || JSON.stringify(lab.verdicts()) !== JSON.stringify(recorded.verdicts)) out.push(`${id}: heading or verdicts`);
      if (lab.link(3) !== `${recorded.link}&step=3`) out.push(`${id}: link with a step`);
      lab.free();
    }
    return out;
  });
  assert.deepEqual(mismatches, []);
  // Exporting swaps in the engine at the same step; its JSON is the session shown.
  const json = JSON.parse(await page.evaluate(() => document.querySelector("smtp-lab").exported("json")));
  assert.equal(json.trace.steps.length, await page.evaluate(() => document.querySelector("smtp-lab").length));
  assert.deepEqual(problems, []);
});

test("a note's RFC citation is a link to its section, with the section's heading as its title", async () => {
  const { page, problems } = await open(context, "index.html#preset=submission-587&step=5");
  await labReady(page);
  await page.waitForFunction(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".notes cite a"));
  const links = await page.evaluate(() => [...document.querySelector("smtp-lab").shadowRoot.querySelectorAll(".notes cite a")]
    .map((a) => ({ text: a.textContent, href: a.href, title: a.title })));
  assert.ok(links.length > 0, "no citation link in the step's notes");
  for (const l of links) {
    const m = l.text.match(/^(?:RFC (\d+) )?§([0-9A-Z.]+)$/);
    assert.ok(m, `a citation link reads like a citation: ${l.text}`);
    const anchor = /^[A-Z]/.test(m[2]) ? `appendix-${m[2]}` : `section-${m[2]}`;
    assert.match(l.href, new RegExp(`^https://www\\.rfc-editor\\.org/rfc/rfc\\d+#${anchor.replace(/\./g, "\\.")}$`), l.text);
    assert.match(l.title, /^RFC \d+ §[0-9A-Z.]+: \S/, `the title carries the heading: ${l.title}`);
  }
  // Step 4 of this 587 session is the client's STARTTLS, whose note cites RFC 3207 §4.2.
  const starttls = links.find((l) => l.text === "RFC 3207 §4.2");
  assert.ok(starttls, `no RFC 3207 §4.2 among ${links.map((l) => l.text)}`);
  assert.equal(starttls.href, "https://www.rfc-editor.org/rfc/rfc3207#section-4.2");
  assert.equal(starttls.title, "RFC 3207 §4.2: Result of the STARTTLS Command");
  assert.deepEqual(problems, []);
});
