// The lab as a lecturer teaches with it (issue 27): links land on the session,
// the screen, the URL and the form agree, the keys step, no outcome is shown
// before its step, a driven session survives a reload and an exported file, a
// typo gets a suggestion, projector mode and the printed handout, feedback
// while the engine loads, the course order, and the smaller findings.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, open, labReady, seriousViolations } from "./harness.mjs";

const CLI = process.env.SMTP_LAB_CLI ?? "target/debug/smtp-lab";
const SHOTS = "target/screenshots";
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
/** A 1280×800 projector with the browser zoomed to 150 %. */
const PROJECTOR = { width: 853, height: 533 };
let context;
before(async () => { context = await launch(); mkdirSync(SHOTS, { recursive: true }); });
after(async () => { await context.close(); });

const el = (page) => page.locator("smtp-lab").first();
const cursor = (page) => page.evaluate(() => document.querySelector("smtp-lab").cursor);
const bannerText = (page) => page.evaluate(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".banner").innerText);
const shownVerdicts = (page) => page.evaluate(() => [...document.querySelector("smtp-lab").shadowRoot.querySelectorAll(".verdict:not([hidden])")].map((v) => v.dataset.kind));
const focusedKey = (page) => page.evaluate(() => document.querySelector("smtp-lab").shadowRoot.activeElement?.dataset.key ?? null);
const exported = (page) => page.evaluate(() => document.querySelector("smtp-lab").exported("json"));
/** The outcomes the CLI (the same engine, natively) finds for a link's settings. */
function cliOutcomes(link) {
  const args = ["run", "--format", "json"];
  for (const pair of link.split("&")) {
    const [name, value] = pair.split("=");
    if (name === "step") continue;
    args.push(`--${name}`);
    if (value !== "1") args.push(decodeURIComponent(value));
  }
  return JSON.parse(execFileSync(CLI, args)).outcomes.map((o) => o.kind);
}

test("1. a 'be Mallory' or 'be the client' link lands on its session, the setup folded to one line", async () => {
  for (const [size, viewport] of [["desktop", DESKTOP], ["phone", PHONE]]) {
    for (const link of ["#port=587&policy=opportunistic&auth=always&drive=mallory", "#port=587&drive=client", "#cell=strip@opportunistic"]) {
      const { page, problems } = await open(context, "index.html", viewport);
      await labReady(page);
      // Followed from the page, as a visitor does.
      await page.evaluate((l) => { location.hash = l; }, link);
      await page.waitForFunction(() => document.querySelector("smtp-lab").getAttribute("scenario") !== "preset=submission-587");
      await labReady(page);
      await page.waitForTimeout(100);
      // The first step taken, or at step 0 the line that says how to take it.
      const first = await page.evaluate(() => {
        const root = document.querySelector("smtp-lab").shadowRoot;
        const row = (root.querySelector(".seq li:not([hidden])") ?? root.querySelector(".hint:not([hidden])")).getBoundingClientRect();
        return { top: row.top, bottom: row.bottom, height: innerHeight };
      });
      assert.ok(first.top >= 0 && first.bottom <= first.height, `${size} ${link}: the first step at ${first.top}..${first.bottom} of ${first.height}`);
      assert.equal(await page.locator("#custom").getAttribute("open"), null, `${size} ${link}: the setup stays folded`);
      assert.ok((await page.locator("#setup-summary").textContent()).length > 5, "its summary says what is set");
      if (size === "phone" && link.includes("mallory")) await page.screenshot({ path: `${SHOTS}/teach-mallory-link-phone.png` });
      assert.deepEqual(problems, []);
      await page.close();
    }
  }
});

test("1. the setup form speaks the lab's words: the deciding choices up front, the rest folded by topic", async () => {
  const { page, problems } = await open(context, "index.html", DESKTOP);
  await labReady(page);
  await page.waitForSelector("#custom-fields fieldset.section-essentials", { state: "attached" });
  const form = await page.evaluate(() => ({
    up: [...document.querySelectorAll("#custom-fields > fieldset [data-field]")].map((e) => e.dataset.field),
    folded: [...document.querySelectorAll("#custom-fields > details.section > summary")].map((s) => s.textContent),
    text: document.querySelector("#custom-fields").textContent,
  }));
  for (const name of ["port", "drive", "attack", "policy", "validate", "server-tls", "auth", "cert"]) assert.ok(form.up.includes(name), name);
  assert.ok(form.folded.includes("TLS versions") && form.folded.includes("Bugs to switch on"), form.folded.join(" | "));
  assert.doesNotMatch(form.text, /smtp-lab |--[a-z]/, "no command-line words in the form");
  assert.deepEqual(problems, []);
});

test("2. after a fork, 'Run this setup' and picking the lesson again each show their own session", async () => {
  const { page, problems } = await open(context, "index.html#preset=strip-587-opportunistic&step=0", DESKTOP);
  await labReady(page);
  await page.evaluate(() => document.querySelector("smtp-lab").fork("policy", "require-starttls"));
  await page.waitForFunction(() => /policy=require-starttls/.test(location.hash));
  // The form follows the screen.
  await page.waitForFunction(() => document.querySelector("select[name=policy]").value === "require-starttls");
  await page.locator("#custom > summary").click();
  await page.getByRole("button", { name: "Run this setup" }).click();
  await page.waitForFunction(() => /^#preset=strip-587-opportunistic&policy=require-starttls&step=0$/.test(location.hash));
  await labReady(page);
  await page.evaluate(() => document.querySelector("smtp-lab").toEnd());
  assert.deepEqual(await shownVerdicts(page), cliOutcomes("preset=strip-587-opportunistic&policy=require-starttls"));
  // The lesson itself, picked again from the menu.
  await page.selectOption("#preset", "strip-587-opportunistic");
  await page.waitForFunction(() => location.hash === "#preset=strip-587-opportunistic&step=0");
  await labReady(page);
  await page.evaluate(() => document.querySelector("smtp-lab").toEnd());
  assert.deepEqual(await shownVerdicts(page), cliOutcomes("preset=strip-587-opportunistic"));
  assert.match(await page.locator("smtp-lab .title").textContent(), /^Stripping STARTTLS on 587: an opportunistic client leaks its password$/);
  assert.deepEqual(problems, []);
});

test("3. the keys step right after a lesson is picked, a clicker's Page Down too, and the first Tab lands on the controls", async () => {
  const { page, problems } = await open(context, "index.html", DESKTOP);
  await labReady(page);
  await page.waitForFunction(() => document.querySelectorAll("#preset option").length > 20);
  await page.locator("#preset").focus();
  await page.selectOption("#preset", "strip-587-opportunistic");
  await page.waitForFunction(() => location.hash === "#preset=strip-587-opportunistic&step=0");
  await labReady(page);
  await page.waitForFunction(() => document.querySelector("smtp-lab").shadowRoot.activeElement?.dataset.key === "next");
  await page.keyboard.press("ArrowRight");
  assert.equal(await cursor(page), 1);
  assert.match(page.url(), /preset=strip-587-opportunistic&step=1$/, "the lesson did not change");
  await page.keyboard.press("PageDown");
  await page.keyboard.press("PageDown");
  assert.equal(await cursor(page), 3);
  await page.keyboard.press("PageUp");
  assert.equal(await cursor(page), 2);
  // From page load, a lesson of ten steps or more is stepped through with one key press per step.
  const fresh = await open(context, "index.html#preset=strip-587-opportunistic&step=0", DESKTOP);
  await labReady(fresh.page);
  for (let i = 0; i < 10; i += 1) await fresh.page.keyboard.press("ArrowRight");
  assert.equal(await cursor(fresh.page), 10, "10 presses, 10 steps");
  // Space, Home and End belong to the page outside the lab.
  await fresh.page.locator("h1").click();
  await fresh.page.keyboard.press("End");
  await fresh.page.keyboard.press("Home");
  assert.equal(await cursor(fresh.page), 10);
  // The first Tab into the lab lands on a stepping control.
  await fresh.page.locator("#custom > summary").focus();
  await fresh.page.keyboard.press("Tab");
  assert.equal(await focusedKey(fresh.page), "start");
  assert.deepEqual([...problems, ...fresh.problems], []);
});

test("3. as Mallory, focus stays on the control used, so Enter passes segment after segment", async () => {
  const { page, problems } = await open(context, "index.html#port=587&policy=opportunistic&auth=always&drive=mallory", DESKTOP);
  await labReady(page);
  const pass = el(page).getByRole("button", { name: "Pass it on" });
  await pass.click();
  const after1 = await page.evaluate(() => document.querySelector("smtp-lab").length);
  assert.equal(await focusedKey(page), "pass");
  await page.keyboard.press("Enter");
  await page.waitForFunction((n) => document.querySelector("smtp-lab").length > n, after1);
  assert.equal(await focusedKey(page), "pass");
  assert.deepEqual(problems, []);
});

test("4. no outcome before its step: 'nothing yet', the step that reaches it announces it, 'Show the outcome' and reveal", async () => {
  const { page, problems } = await open(context, "index.html#preset=strip-587-opportunistic&step=0", DESKTOP);
  await labReady(page);
  const text = await bannerText(page);
  assert.match(text, /No outcome yet/);
  assert.doesNotMatch(text, /password|exposed|Attack worked/i, text);
  const at = await page.evaluate(() => document.querySelector("smtp-lab").verdicts[0].step);
  await page.evaluate((n) => document.querySelector("smtp-lab").jumpTo(n), at);
  assert.doesNotMatch(await bannerText(page), /exposed/i);
  await page.evaluate(() => document.querySelector("smtp-lab").stepForward());
  assert.match(await bannerText(page), /password/i);
  assert.match(await page.evaluate(() => document.querySelector("smtp-lab").shadowRoot.querySelector("[aria-live=polite]").textContent), /Outcome: /);
  // Back to the start: hidden again; the reader may ask for it.
  await page.evaluate(() => document.querySelector("smtp-lab").toStart());
  assert.deepEqual(await shownVerdicts(page), []);
  await el(page).getByRole("button", { name: "Show the outcome" }).click();
  assert.ok((await shownVerdicts(page)).length > 0);
  assert.match(await bannerText(page), /not reached yet/);
  // An embed that wants the answer on screen says so.
  await page.evaluate(() => {
    const e = document.createElement("smtp-lab");
    e.id = "revealed";
    e.setAttribute("scenario", "strip-587-opportunistic");
    e.setAttribute("step", "0");
    e.setAttribute("reveal", "");
    e.setAttribute("loading", "eager");
    document.querySelector("main").append(e);
  });
  await labReady(page, "#revealed");
  assert.ok((await page.evaluate(() => document.querySelectorAll("#revealed")[0].shadowRoot.querySelectorAll(".verdict:not([hidden])").length)) > 0);
  assert.deepEqual(problems, []);
});

/** Drives a session, then checks that its link and its exported file both give the same session back. */
async function roundTrip(start, act) {
  const { page, problems } = await open(context, `index.html#${start}`, DESKTOP);
  await labReady(page);
  await act(page);
  const json = await exported(page);
  const link = page.url();
  assert.match(link, /acts=/, "the learner's actions are in the link");
  assert.equal(JSON.parse(json).link, new URL(link).hash.slice(1).replace(/&step=\d+$/, ""));
  // A reload.
  await page.reload();
  await labReady(page);
  assert.equal(await exported(page), json, "the reloaded link gives the same session");
  // A shared link, opened by someone else.
  const other = await open(context, new URL(link).pathname + new URL(link).hash, DESKTOP);
  await labReady(other.page);
  assert.equal(await exported(other.page), json, "the shared link gives the same session");
  // The exported file, opened in a fresh page from the file picker.
  const dir = mkdtempSync(join(tmpdir(), "smtp-lab-session-"));
  writeFileSync(join(dir, "session.json"), json);
  const fresh = await open(context, "index.html", DESKTOP);
  await labReady(fresh.page);
  await el(fresh.page).locator("summary", { hasText: "Export" }).click();
  await el(fresh.page).locator("input[type=file]").setInputFiles(join(dir, "session.json"));
  await fresh.page.waitForFunction(() => /Opened session\.json/.test(document.querySelector("smtp-lab").shadowRoot.querySelector(".live-status").textContent));
  assert.equal(await exported(fresh.page), json, "the opened file gives the same session");
  await fresh.page.waitForFunction(() => /acts=/.test(location.hash));
  // A file that is not a session says so in words, next to the picker.
  writeFileSync(join(dir, "other.json"), JSON.stringify({ hello: 1 }));
  await el(fresh.page).locator("input[type=file]").setInputFiles(join(dir, "other.json"));
  await fresh.page.waitForFunction(() => /other\.json did not open\. This JSON file has no "link"/.test(document.querySelector("smtp-lab").shadowRoot.querySelector(".live-status").textContent));
  assert.deepEqual([...problems, ...other.problems, ...fresh.problems], []);
  return json;
}

test("5. a console session reloads from its link and from its exported file to the same trace", async () => {
  const json = await roundTrip("port=587&drive=client", async (page) => {
    for (const line of ["EHLO me.example.test", "STARTTLS", "EHLO me.example.test", "MAIL FROM:<alice@example.test>"]) {
      const n = await page.evaluate(() => document.querySelector("smtp-lab").length);
      await page.evaluate((l) => document.querySelector("smtp-lab").typeLine(l), line);
      await page.waitForFunction((m) => document.querySelector("smtp-lab").length > m, n);
    }
  });
  assert.ok(JSON.parse(json).actions.some((a) => /typed "STARTTLS"/.test(a)), json.slice(0, 400));
});

test("5. a Mallory session (passes, an edit, a drop) reloads from its link and its file to the same trace", async () => {
  await roundTrip("port=587&policy=opportunistic&auth=always&drive=mallory", async (page) => {
    const lab = el(page);
    for (let i = 0; i < 3; i += 1) await lab.getByRole("button", { name: "Pass it on" }).click();
    // The EHLO reply: take STARTTLS out by hand.
    for (let i = 0; i < 6; i += 1) {
      const text = await page.evaluate(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".mallory-edit")?.value ?? "");
      if (/STARTTLS/.test(text) && /^250/.test(text)) {
        await page.evaluate(() => {
          const e = document.querySelector("smtp-lab").shadowRoot.querySelector(".mallory-edit");
          e.value = e.value.split("\n").filter((l) => !/STARTTLS/.test(l)).join("\n");
        });
        await lab.getByRole("button", { name: "Send my edit" }).click();
        break;
      }
      await lab.getByRole("button", { name: "Pass it on" }).click();
    }
    await lab.getByRole("button", { name: "Pass it on" }).click();
    await lab.getByRole("button", { name: "Drop it" }).click();
  });
});

test("6. a typo gets a suggestion, the form and the lessons still work; an unknown port shows as itself", async () => {
  const { page, problems } = await open(context, "index.html#preset=strip-587", DESKTOP);
  await page.waitForSelector("#picker-error:not([hidden])");
  assert.match(await page.locator("#picker-error").textContent(), /There is no lesson “strip-587”\. Did you mean strip-587-opportunistic\?/);
  assert.doesNotMatch(await page.locator("#picker-error").textContent(), /--preset|one of:/);
  await page.waitForFunction(() => document.querySelectorAll("#preset option").length > 20 && document.querySelectorAll("#custom-fields [data-field]").length > 20);
  await page.locator("#picker-error a").click();
  await page.waitForFunction(() => location.hash.startsWith("#preset=strip-587-opportunistic"));
  await labReady(page);
  assert.equal(await page.locator("#picker-error").isHidden(), true);
  await page.goto(new URL("index.html#attack=stripp", page.url()).href);
  await page.waitForFunction(() => /Did you mean strip\?/.test(document.querySelector("#picker-error").textContent));
  assert.equal(await page.locator("select[name=attack]").getAttribute("aria-invalid"), "true");
  await page.goto(new URL("index.html#port=588", page.url()).href);
  await labReady(page);
  await page.waitForFunction(() => document.querySelector("select[name=port]").value === "588");
  assert.deepEqual(problems, []);
});

test("6. offline before the engine was ever fetched: the lab says what needs it, lessons and the form still work", async () => {
  // A browser that has never been here, with nothing that could have kept the engine (no service worker).
  const newcomer = await launch({ serviceWorkers: "block" });
  const { page } = await open(newcomer, "about:blank", DESKTOP);
  await page.route(/\/pkg\//, (route) => route.abort("internetdisconnected"));
  await page.goto(new URL("index.html#port=587&drive=client", process.env.LAB_URL ?? "http://127.0.0.1:8080/").href);
  await page.waitForSelector("#picker-error:not([hidden])");
  assert.match(await page.locator("#picker-error").textContent(), /needs the lab's engine, which could not be downloaded: you may be offline/);
  await page.waitForFunction(() => document.querySelectorAll("#preset option").length > 20);
  await page.selectOption("#preset", "strip-587-opportunistic");
  await labReady(page);
  assert.equal(await page.locator("#picker-error").isHidden(), true);
  const matrix = await page.context().newPage();
  await matrix.route(/\/pkg\//, (route) => route.abort("internetdisconnected"));
  await matrix.goto(new URL("matrix.html", page.url()).href);
  await matrix.waitForFunction(() => /could not be downloaded/.test(document.querySelector("#matrix-status").textContent));
  await newcomer.close();
});

test("6. a first visit that only watched a lesson keeps the engine in idle time: offline, a custom setup then runs", async () => {
  const visitor = await launch();
  const { page, problems } = await open(visitor, "index.html#preset=submission-587&step=0", DESKTOP);
  await labReady(page);
  // Nothing but the recording was needed to watch; the service worker fetched the engine on its own.
  await page.waitForFunction(async () => {
    const keys = await caches.keys();
    for (const key of keys) if (await (await caches.open(key)).match(new URL("pkg/smtp_lab_bg.wasm", location.href))) return true;
    return false;
  }, null, { timeout: 30_000, polling: 250 });
  assert.equal(await page.evaluate(() => performance.getEntriesByType("resource").some((r) => r.name.includes("/pkg/"))), false, "the page itself did not load the engine");
  // Later, offline: another page of the lab, then a custom setup.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15_000 }).catch(() => page.reload());
  await page.goto(new URL("ports.html", page.url()).href);
  await page.waitForSelector(".claim");
  await visitor.setOffline(true);
  await page.goto(new URL("index.html#port=587&drive=client", page.url()).href);
  await labReady(page);
  assert.ok(await page.evaluate(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".console-line")), "the console, run by the kept engine");
  assert.deepEqual(problems, []);
  await visitor.close();
});

test("7. projector mode at 1280×800 and 150 %: the steps and the bytes on one screen, no scrolling", async () => {
  const { page, problems } = await open(context, "index.html?present#preset=strip-587-opportunistic&step=5", PROJECTOR);
  await labReady(page);
  await page.waitForTimeout(200);
  const fit = await page.evaluate(() => {
    const root = document.querySelector("smtp-lab").shadowRoot;
    const box = (s) => root.querySelector(s)?.getBoundingClientRect();
    return { scroll: document.documentElement.scrollHeight - innerHeight, seq: box(".seq-wrap"), bytes: box(".detail .bytes pre"), notes: box(".detail .notes"), height: innerHeight };
  });
  assert.ok(fit.scroll <= 0, `the page scrolls by ${fit.scroll}px`);
  assert.ok(fit.seq.top >= 0 && fit.seq.top < fit.height - 100, `steps at ${fit.seq.top}`);
  assert.ok(fit.bytes && fit.bytes.top < fit.height && fit.bytes.bottom > 0, `bytes at ${fit.bytes?.top}`);
  assert.ok(fit.notes.top < fit.height);
  await page.screenshot({ path: `${SHOTS}/teach-projector.png` });
  // The clicker and Escape.
  await page.keyboard.press("PageDown");
  assert.equal(await cursor(page), 6);
  await page.keyboard.press("Escape");
  assert.equal(await page.evaluate(() => document.body.classList.contains("presenting")), false);
  assert.deepEqual(problems, []);
});

test("7. Mallory's change is marked between what the server wrote and what the wire carried", async () => {
  const { page, problems } = await open(context, "index.html#preset=strip-587-opportunistic&step=0", DESKTOP);
  await labReady(page);
  const altered = await page.evaluate(() => document.querySelector("smtp-lab").views.findIndex((v) => v.altered));
  await page.evaluate((n) => document.querySelector("smtp-lab").jumpTo(n + 1), altered);
  const marks = await page.evaluate(() => [...document.querySelector("smtp-lab").shadowRoot.querySelectorAll(".detail pre .change")].map((m) => [m.tagName, m.textContent]));
  // She took STARTTLS out of the EHLO reply and put AUTH in its place: struck in what the server
  // wrote, marked in what the wire carried and in what the client read.
  assert.deepEqual(marks, [
    ["DEL", "(taken out by Mallory) 250-STARTTLS\\r\\n\n"],
    ["INS", "(put in by Mallory) 250-AUTH PLAIN LOGIN\\r\\n\n"],
    ["INS", "(put in by Mallory) 250-AUTH PLAIN LOGIN\\r\\n\n"],
  ]);
  assert.deepEqual(problems, []);
});

test("7. the printed handout has every step's bytes and notes, with their sources", async () => {
  const { page, problems } = await open(context, "index.html#preset=strip-587-opportunistic&step=3", DESKTOP);
  await labReady(page);
  const views = await page.evaluate(() => document.querySelector("smtp-lab").views);
  await page.waitForFunction((n) => document.querySelector("smtp-lab").shadowRoot.querySelectorAll(".handout-step").length === n, views.length);
  await page.emulateMedia({ media: "print" });
  assert.deepEqual(await seriousViolations(page), [], "axe, as printed");
  const dir = mkdtempSync(join(tmpdir(), "smtp-lab-pdf-"));
  const pdf = join(dir, "handout.pdf");
  writeFileSync(pdf, await page.pdf({ format: "A4", printBackground: true }));
  execFileSync("pdftoppm", ["-png", "-r", "60", "-f", "1", "-l", "1", pdf, `${SHOTS}/teach-handout`]);
  const text = execFileSync("pdftotext", ["-layout", pdf, "-"]).toString().replace(/\s+/g, " ");
  const notes = await page.evaluate(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".handout").textContent);
  for (let i = 0; i < views.length; i += 1) assert.ok(text.includes(`Step ${i + 1}`), `step ${i + 1}`);
  for (const line of ["EHLO", "250-AUTH PLAIN", "AUTH PLAIN", "QUIT"]) assert.ok(text.includes(line), line);
  assert.match(text, /RFC 3207 §4/);
  assert.ok(notes.includes("taken out by Mallory"), "the strip is marked in print too");
  for (const hidden of ["Run this setup", "Pass it on", "Next ▶", "Choose a lesson"]) assert.ok(!text.includes(hidden), hidden);
  assert.deepEqual(problems, []);
});

test("8. while the engine loads, the session says so and 'Run this setup' waits", async () => {
  // No service worker: it would fetch the engine itself, past the slowed route.
  const newcomer = await launch({ serviceWorkers: "block" });
  const { page } = await open(newcomer, "about:blank", DESKTOP);
  await page.route(/smtp_lab_bg\.wasm$/, async (route) => { await new Promise((r) => setTimeout(r, 1500)); await route.continue(); });
  await page.goto(new URL("index.html#preset=submission-587&step=0", process.env.LAB_URL ?? "http://127.0.0.1:8080/").href);
  await labReady(page);
  await page.waitForSelector("#custom-fields [data-field=port]", { state: "attached" });
  await page.locator("#custom > summary").click();
  await page.selectOption("select[name=port]", "465");
  await page.getByRole("button", { name: "Run this setup" }).click();
  await page.waitForFunction(() => document.querySelector("#run-setup").disabled && /Loading the lab's engine/.test(document.querySelector("#run-status").textContent));
  await page.waitForFunction(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".lab").getAttribute("aria-busy") === "true");
  await page.waitForFunction(() => /port=465/.test(location.hash) && document.querySelector("smtp-lab").state === "ready" && !document.querySelector("#run-setup").disabled);
  assert.equal(await page.evaluate(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".lab").hasAttribute("aria-busy")), false);
  await newcomer.close();
});

test("9. a course: lessons grouped by topic and numbered, titles that stand alone, a next lesson", async () => {
  const { page, problems } = await open(context, "index.html", DESKTOP);
  await labReady(page);
  await page.waitForFunction(() => document.querySelectorAll("#preset optgroup").length > 0);
  const groups = await page.$$eval("#preset optgroup", (gs) => gs.map((g) => [g.label, [...g.children].map((o) => o.textContent)]));
  assert.deepEqual(groups.map(([g]) => g), ["Ports and submission", "STARTTLS and its attacks", "Certificates", "Between MTAs", "Policies: MTA-STS, DANE, REQUIRETLS", "Smuggling"]);
  const titles = groups.flatMap(([, os]) => os);
  titles.forEach((t, i) => assert.match(t, new RegExp(`^${i + 1}\\. `), t));
  assert.ok(titles.every((t) => !/^\d+\. (The )?[Ss]ame\b/.test(t)), titles.join("\n"));
  const next = page.locator("#next-lesson a");
  assert.match(await next.textContent(), /^Next lesson: 2\. /);
  await next.click();
  await page.waitForFunction(() => location.hash === "#preset=submissions-465&step=0");
  assert.deepEqual(problems, []);
});

test("9. the matrix reads without hovering: labels, a legend that explains 'aborted', sticky headers, smuggling folded", async () => {
  const { page, problems } = await open(context, "matrix.html", DESKTOP);
  await page.waitForSelector("#matrix table");
  const m = await page.evaluate(() => ({
    legend: document.querySelector(".matrix-legend")?.textContent ?? "",
    rows: [...document.querySelectorAll("#matrix > .table-wrap tbody th")].map((th) => th.textContent),
    sticky: getComputedStyle(document.querySelector("#matrix tbody th")).position,
    folded: document.querySelector("#matrix details.smuggling")?.open,
    foldedRows: document.querySelectorAll("#matrix details.smuggling tbody tr").length,
  }));
  assert.match(m.legend, /aborted/i);
  assert.match(m.legend, /does not apply/);
  assert.equal(m.sticky, "sticky");
  assert.equal(m.folded, false);
  assert.ok(m.foldedRows >= 15, `${m.foldedRows} smuggling rows folded`);
  assert.ok(m.rows.every((r) => /[A-Z ]/.test(r)), m.rows.join(" | "));
  assert.deepEqual(problems, []);
});

test("10. steps count from 1; the sending MTA's panel says MTA; a compact embed at step 0 is not an empty box", async () => {
  const { page, problems } = await open(context, "index.html#preset=strip-587-opportunistic&step=5", DESKTOP);
  await labReady(page);
  assert.match(await page.locator("smtp-lab .counter").textContent(), /^step 5 of \d+$/);
  assert.match(await page.locator("smtp-lab .detail h3").textContent(), /^Step 5\b/);
  await page.goto(new URL("index.html#preset=mta-sts-first-contact&step=20", page.url()).href);
  await labReady(page);
  const machines = await page.locator("smtp-lab .machines h4").allTextContents();
  assert.deepEqual(machines, ["MTA machine", "MX machine"]);
  const embed = await open(context, "embed.html", DESKTOP);
  const compact = embed.page.locator("smtp-lab[compact]").first();
  await compact.scrollIntoViewIfNeeded();
  await embed.page.waitForFunction((e) => e.state === "ready", await compact.elementHandle());
  const empty = await compact.evaluate((e) => {
    e.toStart();
    const box = e.getBoundingClientRect();
    const hint = e.shadowRoot.querySelector(".seq-wrap").getBoundingClientRect();
    return { below: box.bottom - hint.bottom, says: e.shadowRoot.querySelector(".hint-desc").innerText };
  });
  assert.ok(empty.below < 60, `${empty.below}px empty under a compact element's first screen`);
  assert.ok(empty.says.length > 20, `before the first step the pane says what the session is: ${empty.says}`);
  assert.deepEqual([...problems, ...embed.problems], []);
});

test("axe-core stays clean in projector mode, with the outcome revealed, and with a problem shown", async () => {
  for (const [name, path, viewport, scheme] of [
    ["projector", "index.html?present#preset=strip-587-opportunistic&step=5", PROJECTOR, "light"],
    ["projector-dark", "index.html?present#preset=strip-587-opportunistic&step=5", PROJECTOR, "dark"],
    ["typo-phone", "index.html#preset=strip-587", PHONE, "light"],
  ]) {
    const { page, problems } = await open(context, path, viewport);
    await page.emulateMedia({ colorScheme: scheme });
    if (name.startsWith("typo")) await page.waitForSelector("#picker-error:not([hidden])");
    else await labReady(page);
    if (name === "projector") await el(page).getByRole("button", { name: "Show the outcome" }).click().catch(() => {});
    assert.deepEqual(problems, []);
    assert.deepEqual(await seriousViolations(page), [], name);
    await page.screenshot({ path: `${SHOTS}/teach-${name}.png` });
    await page.close();
  }
});
