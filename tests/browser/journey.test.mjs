// A message's journey in Chromium: the path diagram on the explainer opens
// each hop in the lab, by mouse and by keyboard, and the lab draws a
// journey's rows between its nodes. What each hop did is the engine's.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, open, labReady } from "./harness.mjs";

let context;
before(async () => { context = await launch(); });
after(async () => { await context.close(); });

/** The lab's state: its lanes, the current row's classes, and the journey's hops from its JSON export. */
const labState = (page) => page.evaluate(async () => {
  const el = document.querySelector("smtp-lab");
  const root = el.shadowRoot;
  const current = root.querySelector(".step.current");
  const trace = JSON.parse(await el.exported("json")).trace;
  return {
    lanes: [...root.querySelectorAll(".lanes span")].map((s) => s.textContent),
    current: current ? [...current.classList] : [],
    detail: root.querySelector(".detail h3")?.textContent ?? "",
    ports: trace.hops.map((h) => h.server_port),
    verdicts: [...root.querySelectorAll(".verdict")].map((v) => v.textContent),
  };
});

test("each SMTP port on the path diagram is reachable by keyboard and opens its hop in the lab", async () => {
  const { page, problems } = await open(context, "ports.html");
  await page.waitForSelector("#path svg a.port-link");
  const ports = await page.$$eval("#path a.port-link", (as) => as.map((a) => a.dataset.port));
  assert.deepEqual(ports, ["587", "465", "25"]);
  // Reading ports are on the diagram, but the lab does not run them: no links.
  const shown = await page.$$eval("#path .port text", (ts) => ts.map((t) => t.textContent));
  assert.deepEqual(shown, ["587", "465", "25", "143", "993", "110", "995"]);
  // Tab reaches the three links in path order.
  await page.focus("#path-title").catch(() => {});
  const reached = [];
  for (let i = 0; i < 40 && reached.length < 3; i += 1) {
    await page.keyboard.press("Tab");
    const port = await page.evaluate(() => document.activeElement?.closest?.("a.port-link")?.dataset.port ?? null);
    if (port && !reached.includes(port)) reached.push(port);
  }
  assert.deepEqual(reached, ["587", "465", "25"], "every port link takes the keyboard focus, in path order");

  const expected = { 587: { hop: 0, ports: [587, 25] }, 465: { hop: 0, ports: [465, 25] }, 25: { hop: 1, ports: [587, 25] } };
  for (const port of ports) {
    await page.goto(new URL("ports.html", page.url()).href);
    await page.waitForSelector("#path svg a.port-link");
    if (port === "465") {
      // By keyboard: focus the link and press Enter.
      await page.focus(`#path a.port-link[data-port="${port}"]`);
      await page.keyboard.press("Enter");
    } else {
      await page.click(`#path a.port-link[data-port="${port}"]`);
    }
    await page.waitForURL(/index\.html#/);
    await labReady(page);
    await page.waitForFunction(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".step.current"));
    const s = await labState(page);
    assert.deepEqual(s.lanes, ["MUA", "hop 1", "MSA/MTA", "hop 2", "MX"], port);
    assert.deepEqual(s.ports, expected[port].ports, port);
    assert.ok(s.current.includes(`hop-${expected[port].hop}`) && s.current.includes("kind-connect"), `${port}: ${s.current}`);
    assert.match(s.detail, expected[port].hop === 0 ? /^Step 1\b/ : /^Step \d+/, port);
  }
  assert.deepEqual(problems, []);
});

test("smuggling in the lab: the MX's hop shows the split and the SPF pass, hop 1 stays Mallory's own submission", async () => {
  const { page, problems } = await open(context, "index.html#preset=smuggling");
  await labReady(page);
  await page.evaluate(() => document.querySelector("smtp-lab").jumpTo(1000));
  const s = await labState(page);
  const smuggled = s.verdicts.find((v) => v.includes("second message"));
  assert.ok(smuggled, s.verdicts.join("\n"));
  assert.match(smuggled, /hop 2 \(MTA → MX, port 25\): the server ended the message at \\n\.\\r\\n .* from <ceo@bank\.test>; its SPF check: pass/);
  const rows = await page.evaluate(() => [...document.querySelector("smtp-lab").shadowRoot.querySelectorAll(".step")].map((r) => r.classList.contains("hop-1")));
  const firstHop2 = rows.indexOf(true);
  assert.ok(firstHop2 > 0 && rows.slice(firstHop2).every(Boolean), "hop 2's rows follow hop 1's");
  assert.deepEqual(problems, []);
});

test("a recording leaves hex dumps to the engine: stepping onto TLS bytes loads it and shows them", async () => {
  const { page, problems } = await open(context, "index.html#preset=submission-587");
  await labReady(page);
  const engineLoaded = () => page.evaluate(() => performance.getEntriesByType("resource").some((r) => r.name.includes("/pkg/")));
  assert.equal(await engineLoaded(), false, "text steps need no engine");
  // The first step whose bytes are not text (the ClientHello) needs a hex dump.
  const step = await page.evaluate(() => {
    const el = document.querySelector("smtp-lab");
    return el.views.findIndex((v) => v.blocks.some((b) => b.text === null));
  });
  assert.ok(step > 0);
  await page.evaluate((n) => document.querySelector("smtp-lab").jumpTo(n + 1), step);
  await page.waitForFunction(() => {
    const pre = document.querySelector("smtp-lab").shadowRoot.querySelector(".byte-views pre[data-shown=hex]");
    return pre && !pre.hasAttribute("data-pending") && pre.textContent.startsWith("000000  16 03");
  });
  assert.equal(await engineLoaded(), true);
  assert.deepEqual(problems, []);
});
