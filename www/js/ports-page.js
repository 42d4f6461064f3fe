// The port explainer and the claims checker. The content, and the proof of
// each claim by a session run here, come from the engine (src/claims.rs).
import { engine } from "./engine.js";
import { h } from "./dom.js";
import { registerOffline } from "./site.js";

registerOffline();

const lab = (link) => `index.html#${link}`;
const wasm = await engine();
const started = performance.now();
const { ports, reading, claims } = wasm.explainer();
const ms = Math.round(performance.now() - started);

document.getElementById("ports").append(...ports.map((p) => h("li", { class: "card", id: `port-${p.port}` },
  h("h3", {}, `Port ${p.port}`),
  h("p", {}, p.role),
  h("dl", {},
    h("dt", {}, "TLS"), h("dd", {}, p.tls),
    h("dt", {}, "Who connects"), h("dd", {}, p.who),
    h("dt", {}, "Login"), h("dd", {}, p.auth),
    h("dt", {}, "Sources"), h("dd", {}, p.sources)),
  h("a", { class: "button-link", href: lab(p.link) }, `Run port ${p.port} in the lab`))));
document.getElementById("reading").textContent = reading;

const list = document.getElementById("claims");
const items = claims.map((c) => {
  const proved = c.proofs.length > 0 && c.proofs.every((p) => p.proved);
  const evidence = c.no_session
    ? h("p", { class: "status" }, c.no_session)
    : h("div", { class: "proof" },
      h("p", { class: `proof-state ${proved ? "good" : "bad"}` }, proved ? "✓ Proved by a session run in this page:" : "✗ A session did not show what it should:"),
      h("ul", {}, c.proofs.map((p) => h("li", { "data-proved": String(p.proved) }, `${p.shows} `, h("a", { href: lab(p.link) }, "See it in the lab")))));
  const li = h("li", { class: "claim", id: `claim-${c.id}`, "data-verdict": c.verdict, "data-proved": String(proved) },
    h("h3", {}, h("span", { class: `verdict-tag ${c.verdict}` }, c.verdict), `“${c.claim}”`),
    h("p", {}, c.truth),
    h("p", { class: "refs" }, `${c.id} · ${c.sources}`),
    evidence);
  return { c, li };
});
list.append(...items.map((i) => i.li));
const provedCount = items.filter((i) => i.li.dataset.proved === "true").length;
document.getElementById("claims-proved").textContent =
  `${provedCount} of ${claims.length} claims are proved by a session, run in this page in ${ms} ms; the rest are about history, registries or other protocols, and say so.`;

const search = document.getElementById("claim-search");
const verdict = document.getElementById("claim-verdict");
const count = document.getElementById("claim-count");
function filter() {
  const q = search.value.trim().toLowerCase();
  let shown = 0;
  for (const { c, li } of items) {
    const hit = (!verdict.value || c.verdict === verdict.value) && (!q || `${c.claim} ${c.truth} ${c.sources}`.toLowerCase().includes(q));
    li.hidden = !hit;
    shown += hit ? 1 : 0;
  }
  count.textContent = `${shown} of ${items.length} claims`;
}
search.addEventListener("input", filter);
verdict.addEventListener("change", filter);
filter();
