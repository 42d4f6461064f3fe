// The sending MTA's lookups in Chromium: an MTA-STS first contact, stepped
// by keyboard from the first DNS query through the HTTPS fetch of the policy
// (its TLS handshake, then the request inside TLS) to the refused strip. The
// rows, their lane and what they say are the engine's step views.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, open, labReady } from "./harness.mjs";

let context;
before(async () => { context = await launch(); });
after(async () => { await context.close(); });

/** The rows shown so far: lane, kind, label, and the record types a TLS row carries. */
const rows = (page) => page.evaluate(() => {
  const root = document.querySelector("smtp-lab").shadowRoot;
  return [...root.querySelectorAll(".seq li")].filter((li) => !li.hidden).map((li) => ({
    lane: [...li.classList].find((c) => c.startsWith("lane-")),
    kind: [...li.classList].find((c) => c.startsWith("kind-")),
    label: li.querySelector(".label").textContent,
    records: [...li.querySelectorAll(".rec")].map((r) => r.textContent),
  }));
});

const detail = (page) => page.evaluate(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".detail").textContent);

test("an MTA-STS first contact shows the DNS lane, the policy fetch and its HTTPS handshake, step by step", async () => {
  const { page, problems } = await open(context, "index.html#preset=mta-sts-first-contact&step=0");
  await labReady(page);
  const lanes = await page.evaluate(() => [...document.querySelector("smtp-lab").shadowRoot.querySelectorAll(".lanes span")].map((s) => s.textContent));
  assert.deepEqual(lanes, ["MTA", "Wire · attacker", "MX", "DNS · HTTPS"]);
  // The keys step once focus is in the lab (its stepping controls), as after a Tab into it.
  await page.evaluate(() => document.querySelector("smtp-lab").focusControls());

  // Step 0: where to send TLS reports (RFC 8460 §3); step 1: the MX, each in the DNS lane, with its answer and DNSSEC state in the panel.
  await page.keyboard.press("ArrowRight");
  let shown = await rows(page);
  assert.equal(shown.length, 1);
  assert.equal(shown[0].lane, "lane-dns");
  assert.match(shown[0].label, /^DNS TXT _smtp\._tls\.example\.test\? → TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example\.test" \(insecure\)$/);
  await page.keyboard.press("ArrowRight");
  shown = await rows(page);
  assert.equal(shown[1].lane, "lane-dns");
  assert.match(shown[1].label, /^DNS MX example\.test\? → MX 10 mail\.example\.test \(insecure\)$/);
  assert.match(await detail(page), /DNS query and answer[\s\S]*query\s+MX example\.test[\s\S]*DNSSEC\s+insecure/);

  // On through the _mta-sts record to the fetch: a TLS handshake with the policy host, then the GET inside TLS.
  const seen = [];
  for (let i = 0; i < 30; i += 1) {
    await page.keyboard.press("ArrowRight");
    shown = await rows(page);
    const last = shown.at(-1);
    seen.push(last);
    if (last.lane === "lane-https" && last.records.some((r) => r.startsWith("handshake") && r.endsWith("cleartext")) && !seen.some((s) => s.handshakeSeen)) {
      last.handshakeSeen = true;
      // The path sees the ClientHello in clear, SNI included; the panel says so.
      assert.match(await detail(page), /ClientHello/);
      assert.match(await detail(page), /mta-sts\.example\.test/);
    }
    if (/policy fetched over HTTPS/.test(last.label)) break;
  }
  const labels = seen.map((r) => r.label);
  assert.ok(labels.some((l) => /^DNS TXT _mta-sts\.example\.test\? → TXT "v=STSv1; id=/.test(l)), labels.join("\n"));
  assert.ok(labels.some((l) => /MTA-STS record found/.test(l)));
  assert.ok(labels.some((l) => /^DNS A mta-sts\.example\.test\?/.test(l)));
  assert.ok(seen.some((r) => r.handshakeSeen), "a cleartext handshake record of the fetch");
  const get = seen.find((r) => r.lane === "lane-https" && /GET \/\.well-known\/mta-sts\.txt/.test(r.label));
  assert.ok(get, "the GET, as the sender wrote it");
  assert.ok(get.records.some((r) => r.startsWith("application data") && r.endsWith("encrypted")), "inside TLS");
  assert.ok(seen.some((r) => r.lane === "lane-https" && /HTTP\/1\.1 200 OK/.test(r.label)), "the policy host's answer");
  assert.match(labels.at(-1), /policy fetched over HTTPS: mode enforce, mx mail\.example\.test/);

  // Then the policy applies, Mallory strips STARTTLS on the SMTP lane, and the sender refuses.
  await page.keyboard.press("End");
  shown = await rows(page);
  assert.ok(shown.some((r) => r.lane === "lane-dns" && /MTA-STS enforce applies; the MX matches the policy/.test(r.label)));
  assert.ok(shown.some((r) => r.lane === "lane-smtp" && r.label.startsWith("250-mail.example.test")));
  const verdict = await page.evaluate(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".verdict").textContent);
  assert.match(verdict, /aborted safely: server did not offer STARTTLS and this client requires TLS/);
  // The TLS report the sender would send: the engine's JSON, with the failure this session ran into.
  const report = await page.evaluate(() => {
    const d = document.querySelector("smtp-lab").shadowRoot.querySelector(".tlsrpt");
    const source = d.querySelector(".tlsrpt-source a");
    return { hidden: d.hidden, summary: d.querySelector("summary").textContent, source: source?.title, json: JSON.parse(d.querySelector("pre").textContent) };
  });
  assert.equal(report.hidden, false);
  assert.match(report.summary, /mailto:tlsrpt@example\.test/);
  assert.equal(report.source, "RFC 8460 §4.4: JSON Report Schema", "the report's format, linked with its heading");
  assert.equal(report.json.policies[0].policy["policy-type"], "sts");
  assert.deepEqual(report.json.policies[0]["failure-details"].map((f) => f["result-type"]), ["starttls-not-supported"]);
  assert.deepEqual(problems, []);
});

test("a first contact whose fetch Mallory drops has no policy, and the strip reads the message", async () => {
  const { page, problems } = await open(context, "index.html#preset=mta-sts-tofu");
  await labReady(page);
  await page.evaluate(() => document.querySelector("smtp-lab").focusControls());
  await page.keyboard.press("End");
  const shown = await rows(page);
  assert.ok(shown.some((r) => r.lane === "lane-https" && r.kind === "kind-dropped"), "the dropped ClientHello");
  assert.ok(shown.some((r) => /policy fetch failed/.test(r.label)));
  const verdict = await page.evaluate(() => document.querySelector("smtp-lab").shadowRoot.querySelector(".verdict").textContent);
  assert.match(verdict, /Attack worked/);
  assert.deepEqual(problems, []);
});
