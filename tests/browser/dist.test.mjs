// What `cargo xtask dist` makes, in the hosts documentation writers use: the
// packed tarball installed into a fresh Vite project (types checked, built,
// served under /docs/) and into a plain static page under a sub-path (ten
// elements: one engine download, each starting only near the viewport), a
// docs theme restyling the element through its custom properties alone
// (light and dark, axe-clean, one element inside another component's shadow
// root), and the static site served from /docs/lab/, precompressed, under its
// CSP and offline. Needs `cargo xtask dist` first (`cargo xtask test` runs it).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { labReady, launch, open, seriousViolations, wasmRequests } from "./harness.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "../..");
const DIST = join(REPO, "target/dist");
const WORK = join(REPO, "target/hosts");
const SHOTS = join(HERE, "target/screenshots");

const tarball = existsSync(DIST) && readdirSync(DIST).find((f) => /^smtp-lab-.*\.tgz$/.test(f));
if (!tarball) throw new Error("no package in target/dist: run `cargo xtask dist` first");
/** The policy the site ships in its _headers file (and in every page's meta tag). */
const CSP = /Content-Security-Policy: (.*)/.exec(readFileSync(join(DIST, "site/_headers"), "utf8"))[1];

const servers = [];
/** xtask/serve.mjs on a free port: `dir` under `prefix`, with the CSP header; resolves to its URL. */
async function serve(dir, env = {}, csp = CSP) {
  const server = spawn("node", [join(REPO, "xtask/serve.mjs"), dir, "0", csp], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  servers.push(server);
  const [line] = await createInterface({ input: server.stdout })[Symbol.asyncIterator]().next().then((r) => [r.value]);
  return new URL(env.SERVE_PREFIX ?? "/", line).href;
}

function npm(cwd, ...args) {
  execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, stdio: ["ignore", "inherit", "inherit"] });
}

/** A host's first load may compile the engine on a busy machine: a longer wait than the lab's. */
const readyOf = (page, selector) => labReady(page, selector, 60_000);

let context;
before(async () => {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  context = await launch();
});
after(async () => {
  await context?.close();
  for (const s of servers) s.kill();
});

test("the tarball installs into a fresh Vite project: its types check, and the built page steps an embedded session", async () => {
  const dir = join(WORK, "vite");
  cpSync(join(HERE, "hosts/vite"), dir, { recursive: true });
  copyFileSync(join(DIST, tarball), join(dir, tarball));
  npm(dir, "install");
  npm(dir, "install", `./${tarball}`);
  const installed = JSON.parse(readFileSync(join(dir, "node_modules/smtp-lab/package.json"), "utf8"));
  assert.equal(installed.customElements, "custom-elements.json");
  execFileSync(join(dir, "node_modules/.bin/tsc"), ["-p", "."], { cwd: dir, stdio: "inherit" });
  execFileSync(join(dir, "node_modules/.bin/vite"), ["build", "--logLevel", "warn"], { cwd: dir, stdio: "inherit" });
  const url = await serve(join(dir, "dist"), { SERVE_PREFIX: "/docs/" });

  const { page, problems } = await open(context, url);
  const wasm = wasmRequests(page);
  await readyOf(page, "#embedded");
  // A lesson shows from its recording, which Vite shipped with the module.
  const embedded = page.locator("#embedded");
  assert.equal(await embedded.evaluate((el) => el.cursor), 2);
  await embedded.locator("button", { hasText: "Next ▶" }).click();
  assert.equal(await embedded.evaluate((el) => el.cursor), 3);
  await embedded.locator("button", { hasText: "End ▶|" }).click();
  const events = await page.evaluate(() => window.smtpLabEvents.filter((e) => e.id === "embedded"));
  assert.ok(events.some((e) => e.type === "step-change" && e.detail.shown === 3), JSON.stringify(events.slice(0, 5)));
  const outcome = events.find((e) => e.type === "outcome" && e.detail.compromise);
  assert.ok(outcome, "stepping to the end revealed the attack's outcome");
  assert.match(outcome.detail.text, /password/i);
  // A custom setup needs the engine: Vite bundled its glue and shipped the wasm.
  await readyOf(page, "#custom");
  const custom = page.locator("#custom");
  assert.match(await custom.evaluate((el) => el.link), /seed=7/);
  assert.equal(await custom.locator(".export").isVisible(), false, "controls=step hides the export menu");
  assert.equal(wasm.length, 1, wasm.join(", "));
  assert.deepEqual(problems, []);
  await page.close();
});

test("the same Vite project's dev server (what docs writers run while writing) steps the embedded sessions too", async () => {
  const dir = join(WORK, "vite");
  const port = await new Promise((done) => {
    const probe = createServer().listen(0, "127.0.0.1", () => { const p = probe.address().port; probe.close(() => done(p)); });
  });
  const dev = spawn(join(dir, "node_modules/.bin/vite"), ["--host", "127.0.0.1", "--port", String(port), "--strictPort"], { cwd: dir, stdio: ["ignore", "pipe", "inherit"] });
  servers.push(dev);
  for await (const line of createInterface({ input: dev.stdout })) if (line.includes(`:${port}/`)) break;
  const { page, problems } = await open(context, `http://127.0.0.1:${port}/docs/`);
  const wasm = wasmRequests(page);
  await readyOf(page, "#embedded");
  await page.locator("#embedded").locator("button", { hasText: "Next ▶" }).click();
  assert.equal(await page.locator("#embedded").evaluate((el) => el.cursor), 3);
  await readyOf(page, "#custom");
  assert.equal(wasm.length, 1, wasm.join(", "));
  assert.deepEqual(problems, []);
  await page.close();
  dev.kill();
});

test("the tarball in a VitePress site set up as the embed page says: built, themed by its mapping, stepped", async () => {
  const dir = join(WORK, "vitepress");
  cpSync(join(HERE, "hosts/vitepress"), dir, { recursive: true });
  npm(dir, "install");
  npm(dir, "install", join(DIST, tarball));
  execFileSync(join(dir, "node_modules/.bin/vitepress"), ["build", "docs"], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
  // VitePress's pages carry inline scripts of their own: the host's policy, not the lab's.
  const url = await serve(join(dir, "docs/.vitepress/dist"), {}, "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'");
  const { page, problems } = await open(context, url);
  await readyOf(page, "#vp");
  const vp = page.locator("#vp");
  assert.equal(await vp.evaluate((el) => el.cursor), 4);
  await vp.locator("button", { hasText: "Next ▶" }).click();
  assert.equal(await vp.evaluate((el) => el.cursor), 5);
  // The mapping carried VitePress's own colours and font inside.
  const seen = await vp.evaluate((el) => {
    const root = getComputedStyle(document.documentElement);
    const probe = document.createElement("span");
    probe.style.color = root.getPropertyValue("--vp-c-text-1");
    document.body.append(probe);
    const want = getComputedStyle(probe).color;
    probe.remove();
    const title = getComputedStyle(el.shadowRoot.querySelector(".title"));
    // VitePress sets its body in --vp-font-family-base.
    return { want, color: title.color, font: title.fontFamily, base: getComputedStyle(document.body).fontFamily };
  });
  assert.equal(seen.color, seen.want);
  assert.match(seen.font, /^Inter\b/);
  assert.equal(seen.font, seen.base);
  assert.deepEqual(problems, []);
  await page.close();
});

test("the module imports where there is no DOM (a generator's server-side render) and defines nothing there", async () => {
  const dir = join(WORK, "vite/node_modules/smtp-lab");
  const out = execFileSync("node", ["--input-type=module", "-e",
    `const m = await import(${JSON.stringify(join(dir, "js/smtp-lab.js"))}); console.log(typeof m.SmtpLab, typeof globalThis.customElements);`]);
  assert.equal(String(out).trim(), "function undefined");
});

test("ten elements on a plain page under a sub-path: one engine download, each starting only near the viewport, nothing moving", async () => {
  const root = join(WORK, "static");
  const dir = join(root, "docs/guide");
  cpSync(join(HERE, "hosts/static"), dir, { recursive: true });
  npm(dir, "install", join(DIST, tarball));
  const url = await serve(root);

  const { page, problems } = await open(context, new URL("docs/guide/index.html", url).href);
  const wasm = wasmRequests(page);
  await readyOf(page, "#s0");
  const states = () => page.evaluate(() => [...document.querySelectorAll("smtp-lab")].map((el) => el.state));
  // The last one is eager: it starts at once, far below the fold.
  await page.waitForFunction(() => document.getElementById("s9").state === "ready");
  const before = await states();
  for (let i = 3; i < 9; i += 1) assert.equal(before[i], "idle", `s${i} (below the fold) has not started: ${before}`);
  // The same, as custom states a page's CSS can select.
  assert.deepEqual(await page.evaluate(() => ["s0", "s5"].map((id) => document.getElementById(id).matches(id === "s0" ? ":state(ready)" : ":state(idle)"))), [true, true]);
  // Where the last element sits, and the height an idle one reserves.
  const top = () => page.evaluate(() => document.getElementById("s9").getBoundingClientRect().top + window.scrollY);
  const heightOf = (id) => page.evaluate((i) => document.getElementById(i).getBoundingClientRect().height, id);
  const lastTop = await top();
  const reserved = await heightOf("s5");
  for (let i = 1; i < 10; i += 1) {
    await readyOf(page, `#s${i}`);
  }
  assert.deepEqual(await states(), Array(10).fill("ready"));
  assert.equal(await heightOf("s5"), reserved, "an element keeps the height it reserved");
  assert.equal(await top(), lastTop, "nothing below moved when the elements above started");
  assert.equal(wasm.length, 1, `one engine download for ten elements: ${wasm.join(", ")}`);
  // The ninth asked for another seed than its lesson's recording; the tenth is that recording.
  assert.match(await page.evaluate(() => document.getElementById("s8").link), /seed=5/);
  assert.deepEqual(problems, []);
  await page.close();
});

test("a docs theme restyles the element through custom properties alone, light and dark, axe-clean, also inside another component's shadow root", async () => {
  const url = new URL("docs/guide/themed.html", await serve(join(WORK, "static"))).href;
  for (const scheme of ["light", "dark"]) {
    const { page, problems } = await open(context, url);
    if (scheme === "dark") await page.evaluate(() => document.documentElement.classList.add("dark"));
    await readyOf(page, "#themed");
    await readyOf(page, "docs-card #in-shadow");
    // The element inside the host component's shadow root steps like any other.
    const nested = page.locator("docs-card smtp-lab");
    const from = await nested.evaluate((el) => el.cursor);
    await nested.locator("button", { hasText: "Next ▶" }).click();
    assert.equal(await nested.evaluate((el) => el.cursor), from + 1);
    // The theme's font and colours reached inside, through the properties.
    const seen = await page.locator("#themed").evaluate((el) => {
      const title = getComputedStyle(el.shadowRoot.querySelector(".title"));
      const panel = getComputedStyle(el.shadowRoot.querySelector(".detail"));
      return { font: title.fontFamily, color: title.color, panel: panel.backgroundColor, radius: panel.borderTopLeftRadius };
    });
    assert.match(seen.font, /Iowan Old Style/);
    assert.equal(seen.color, scheme === "dark" ? "rgb(232, 232, 236)" : "rgb(31, 35, 40)");
    assert.equal(seen.panel, scheme === "dark" ? "rgb(32, 33, 39)" : "rgb(246, 246, 247)");
    assert.equal(seen.radius, "2px");
    assert.deepEqual(problems, []);
    assert.deepEqual(await seriousViolations(page), []);
    await page.screenshot({ path: join(SHOTS, `themed-${scheme}.png`), caret: "initial", fullPage: true });
    await page.close();
  }
});

test("the static site served from /docs/lab/ works precompressed, under its CSP, and offline", async () => {
  const url = await serve(join(DIST, "site"), { SERVE_PREFIX: "/docs/lab/", SERVE_PRECOMPRESSED: "1" });
  const { page, problems } = await open(context, new URL("index.html#preset=relay-25", url).href);
  const encodings = new Map();
  page.on("response", async (r) => encodings.set(new URL(r.url()).pathname, (await r.allHeaders())["content-encoding"]));
  await readyOf(page, "smtp-lab");
  const policy = await page.locator("meta[http-equiv=Content-Security-Policy]").getAttribute("content");
  assert.equal(policy, CSP);
  const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
  assert.equal(new URL(scope).pathname, "/docs/lab/");
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15_000 }).catch(() => page.reload());
  await page.evaluate(() => navigator.serviceWorker.ready);
  // The explainer loads the engine, which the service worker then keeps.
  await page.goto(new URL("ports.html", url).href);
  await page.waitForSelector(".claim");
  assert.equal(encodings.get("/docs/lab/pkg/smtp_lab_bg.wasm"), "br", [...encodings].join(" "));
  await context.setOffline(true);
  try {
    for (const path of ["index.html#preset=strip-465", "ports.html", "embed.html", "index.html#port=25&policy=plain"]) {
      await page.goto(new URL(path, url).href);
      if (path === "ports.html") await page.waitForSelector(".claim");
      else await readyOf(page, "smtp-lab");
    }
    await page.waitForFunction(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".verdict[data-kind=delivered_in_cleartext]"));
  } finally {
    await context.setOffline(false);
  }
  assert.deepEqual(problems, []);
  await page.close();
});

test("a lecturer without Rust: the embed page's downloads are there, and the site's zip unpacks to a lab that runs", async () => {
  const site = join(DIST, "site");
  const url = await serve(site);
  const { page, problems } = await open(context, new URL("embed.html", url).href);
  const links = (await page.$$eval("a[download]", (as) => as.map((a) => a.getAttribute("href")))).sort();
  assert.deepEqual(links, ["downloads/smtp-lab-site.zip", "downloads/smtp-lab.tgz"]);
  for (const href of links) assert.equal((await page.request.get(new URL(href, page.url()).href)).status(), 200, href);
  // Unpacked anywhere and served by any static server, the zip is the whole lab, engine included.
  const dir = join(WORK, "unzipped-site");
  rmSync(dir, { recursive: true, force: true });
  execFileSync("python3", ["-m", "zipfile", "-e", join(site, "downloads/smtp-lab-site.zip"), dir]);
  const [folder] = readdirSync(dir);
  assert.match(folder, /^smtp-lab-site-\d+\.\d+\.\d+/);
  const there = await serve(join(dir, folder));
  const lab = await open(context, new URL("index.html#port=587&drive=client", there).href);
  await readyOf(lab.page, "smtp-lab");
  assert.ok(await lab.page.evaluate(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".console-line")), "the console, run by the zip's engine");
  assert.deepEqual([...problems, ...lab.problems], []);
  await page.close();
  await lab.page.close();
});
