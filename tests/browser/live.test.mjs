// The live lab in Chromium: the learner types a whole session at the console,
// plays Mallory by hand, and forks a session with one setting changed. Every
// outcome checked here is the engine's, read from the bytes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { launch, open, labReady } from "./harness.mjs";

const CLI = process.env.SMTP_LAB_CLI ?? "target/debug/smtp-lab";
let context;
before(async () => { context = await launch(); });
after(async () => { await context.close(); });

const lab = (page) => page.locator("smtp-lab");
const verdictKinds = (page) => page.evaluate(() => [...document.querySelector("smtp-lab").shadowRoot.querySelectorAll(".verdict")].map((v) => v.dataset.kind));
const replyCodes = (page) => page.evaluate(async () => JSON.parse(await document.querySelector("smtp-lab").exported("json")).trace.steps
  .flatMap((s) => s.events).filter((e) => e.side === "client" && e.event?.type === "reply_received").map((e) => e.event.reply.code));

/** Types one line into the console and waits for the session to answer. */
async function type(page, text) {
  const before = await page.evaluate(() => document.querySelector("smtp-lab").length);
  const input = lab(page).locator(".console-line");
  await input.fill(text);
  await input.press("Enter");
  await page.waitForFunction((n) => document.querySelector("smtp-lab").length > n, before);
}

test("a whole 587 session typed at the console delivers exactly what was typed", async () => {
  const { page, problems } = await open(context, "index.html#port=587&drive=client");
  await labReady(page);
  assert.match(await lab(page).locator(".console h3").textContent(), /You are the client/);
  for (const line of ["EHLO me.example.test", "STARTTLS", "EHLO me.example.test"]) await type(page, line);
  // The helper fills in AUTH PLAIN from a username and password.
  await lab(page).locator(".helper summary").click();
  await lab(page).getByRole("button", { name: "Fill in the AUTH PLAIN line" }).click();
  await page.waitForFunction(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".console-line").value.startsWith("AUTH PLAIN "));
  await lab(page).locator(".console-line").press("Enter");
  await page.waitForFunction(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".console-line")?.value === "");
  const message = ["From: Alice <alice@example.test>", "To: Bob <bob@example.test>", "Subject: typed by hand", "", "Hello Bob,", "I typed this one myself."];
  for (const line of ["MAIL FROM:<alice@example.test>", "RCPT TO:<bob@example.test>", "DATA", ...message, ".", "QUIT"]) await type(page, line);
  assert.deepEqual(await replyCodes(page), [220, 250, 220, 250, 235, 250, 250, 354, 250, 221]);
  await page.waitForFunction(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".verdict[data-kind=delivered_securely]"));
  const doc = JSON.parse(await page.evaluate(() => document.querySelector("smtp-lab").exported("json")));
  const accepted = doc.trace.steps.flatMap((s) => s.events).find((e) => e.event?.type === "message_accepted" && e.side === "server").event;
  assert.equal(Buffer.from(accepted.body, "base64").toString(), message.map((l) => `${l}\r\n`).join(""));
  assert.equal(accepted.under_tls, true);
  assert.match(await lab(page).locator(".console .hint").textContent(), /closed/);
  assert.deepEqual(problems, []);
});

test("a sequence error at the console gets the server's 503 and a note on what it means", async () => {
  const { page, problems } = await open(context, "index.html#port=587&drive=client");
  await labReady(page);
  await type(page, "EHLO me.example.test");
  await type(page, "RCPT TO:<bob@example.test>");
  assert.deepEqual(await replyCodes(page), [220, 250, 503]);
  // The step shown is the server's reply, with its note and source.
  await page.waitForFunction(() => /503: bad sequence of commands/.test(document.querySelector("smtp-lab").shadowRoot.querySelector(".detail .notes").textContent));
  assert.match(await lab(page).locator(".detail .notes").textContent(), /RFC 5321 §4\.2\.2/);
  // Keys typed into the console are typing, not stepping.
  const cursor = await page.evaluate(() => document.querySelector("smtp-lab").cursor);
  await lab(page).locator(".console-line").fill("");
  await lab(page).locator(".console-line").press("ArrowLeft");
  await lab(page).locator(".console-line").type("jk");
  assert.equal(await page.evaluate(() => document.querySelector("smtp-lab").cursor), cursor);
  assert.deepEqual(problems, []);
});

/** Plays Mallory until the session ends; `choose(held)` may return a decision, otherwise the segment passes. */
async function playMallory(page, choose) {
  for (let i = 0; i < 200; i += 1) {
    const panel = lab(page).locator(".mallory-panel");
    if (/has ended|Nothing is waiting/.test(await panel.textContent())) return;
    const text = await panel.locator(".mallory-edit").count() ? await panel.locator(".mallory-edit").inputValue() : null;
    const header = await panel.locator("p").first().textContent();
    const before = await page.evaluate(() => document.querySelector("smtp-lab").length);
    if (!(await choose({ text, header, panel }))) await panel.getByRole("button", { name: "Pass it on" }).click();
    await page.waitForFunction((n) => document.querySelector("smtp-lab").length > n || /has ended|Nothing is waiting/.test(document.querySelector("smtp-lab").shadowRoot.querySelector(".mallory-panel").textContent), before);
  }
  assert.fail("Mallory's session did not end");
}

/**
 * Plays Mallory to the end, deleting the `250-STARTTLS` line from the EHLO reply by hand and passing
 * everything else; says whether she edited, and the header of every segment she was shown.
 */
async function deleteStarttlsByHand(page) {
  let edited = false;
  const headers = [];
  await playMallory(page, async ({ text, header, panel }) => {
    headers.push(header);
    if (text === null || !text.includes("250-STARTTLS")) return false;
    await panel.locator(".mallory-edit").fill(text.split("\n").filter((l) => !l.startsWith("250-STARTTLS")).join("\n"));
    await panel.getByRole("button", { name: "Send my edit" }).click();
    edited = true;
    return true;
  });
  return { edited, headers };
}

test("as Mallory, deleting STARTTLS from the EHLO reply by hand finds what the strip preset finds", async () => {
  const setup = ["--port", "587", "--policy", "opportunistic", "--auth", "always"];
  const preset = JSON.parse(execFileSync(CLI, ["run", ...setup, "--attack", "strip", "--format", "json"])).outcomes.map((o) => o.kind);
  const { page, problems } = await open(context, "index.html#port=587&policy=opportunistic&auth=always&drive=mallory");
  await labReady(page);
  const { edited } = await deleteStarttlsByHand(page);
  assert.ok(edited);
  assert.deepEqual(await verdictKinds(page), preset);
  assert.ok(preset.includes("credentials_exposed"));
  assert.deepEqual(problems, []);
});

test("as Mallory, flipping a bit of an encrypted record makes its receiver end TLS with bad_record_mac", async () => {
  const { page, problems } = await open(context, "index.html#port=465&drive=mallory");
  await labReady(page);
  let flipped = false;
  await playMallory(page, async ({ header, panel }) => {
    if (flipped || !/application data/.test(header)) return false;
    await panel.getByRole("button", { name: "Flip a bit" }).click();
    flipped = true;
    return true;
  });
  assert.ok(flipped);
  const events = await page.evaluate(() => document.querySelector("smtp-lab").views.flatMap((v) => v.events.map((e) => e.text)).join("\n"));
  assert.match(events, /BadRecordMac/);
  assert.deepEqual(await verdictKinds(page), ["aborted_safely"]);
  assert.deepEqual(problems, []);
});

test("forking a strip session at the EHLO step to a client that requires STARTTLS ends safely", async () => {
  const strip = JSON.parse(execFileSync(CLI, ["run", "--preset", "strip-587-opportunistic", "--format", "json"]));
  const ehlo = strip.trace.steps.findIndex((s) => s.middlebox);
  const { page, problems } = await open(context, `index.html#preset=strip-587-opportunistic&step=${ehlo + 1}`);
  await labReady(page);
  assert.deepEqual((await verdictKinds(page))[0], "credentials_exposed");
  await lab(page).locator(".what-if summary").click();
  await lab(page).getByLabel("Setting to change").selectOption("policy");
  await lab(page).getByLabel("Its new value").selectOption("require-starttls");
  await lab(page).getByRole("button", { name: "Fork" }).click();
  await page.waitForFunction(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".verdict[data-kind=aborted_safely]"));
  assert.deepEqual(await verdictKinds(page), ["aborted_safely"]);
  assert.match(await lab(page).locator(".forked").textContent(), new RegExp(`^What if: Client TLS policy: STARTTLS or nothing\\b.*part at step ${ehlo + 1}\\.`));
  await page.waitForFunction(() => /policy=require-starttls/.test(location.hash));
  assert.deepEqual(problems, []);
});

test("as Mallory on hop 2 of a journey, the same edit reads the relayed message and no password", async () => {
  const preset = JSON.parse(execFileSync(CLI, ["run", "--journey", "--hop2-attack", "strip", "--format", "json"])).outcomes.map((o) => `${o.kind} ${o.hop}`).sort();
  const { page, problems } = await open(context, "index.html#journey=1&hop2-mallory=1");
  await labReady(page);
  // Hop 1 ran by itself; the first segment waiting for Mallory is on hop 2.
  const lastHop = await page.evaluate(() => { const el = document.querySelector("smtp-lab"); return el.views[el.views.length - 1].hop; });
  assert.equal(lastHop, 1);
  const { edited, headers } = await deleteStarttlsByHand(page);
  assert.ok(edited);
  assert.ok(headers.length > 0 && headers.every((h) => /^(MTA → MX|MX → MTA): /.test(h)), headers.join("\n"));
  const shown = await page.evaluate(() => [...document.querySelector("smtp-lab").shadowRoot.querySelectorAll(".verdict")].map((v) => v.dataset.kind));
  const json = JSON.parse(await page.evaluate(() => document.querySelector("smtp-lab").exported("json")));
  assert.deepEqual(json.outcomes.map((o) => `${o.kind} ${o.hop}`).sort(), preset);
  assert.ok(shown.includes("message_read") && !shown.includes("credentials_exposed"), shown.join());
  assert.deepEqual(problems, []);
});
