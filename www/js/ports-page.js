// The port explainer and the claims checker (content in claims.js).
import { PORTS, READING_PORTS, CLAIMS } from "./claims.js";
import { h } from "./dom.js";
import { registerOffline } from "./site.js";

registerOffline();

const lab = (link) => `index.html#${link}&step=0`;

document.getElementById("ports").append(...PORTS.map((p) => h("li", { class: "card", id: `port-${p.port}` },
  h("h3", {}, `Port ${p.port}`),
  h("p", {}, p.role),
  h("dl", {},
    h("dt", {}, "TLS"), h("dd", {}, p.tls),
    h("dt", {}, "Who connects"), h("dd", {}, p.who),
    h("dt", {}, "Login"), h("dd", {}, p.auth),
    h("dt", {}, "Defined by"), h("dd", {}, p.rfc)),
  h("a", { class: "button-link", href: lab(p.link) }, `Run port ${p.port} in the lab`))));
document.getElementById("reading").textContent = READING_PORTS;

const list = document.getElementById("claims");
const items = CLAIMS.map((c) => {
  const see = c.see ? h("a", { href: lab(c.see) }, "See it in the lab") : h("span", { class: "status" }, "Nothing to run: this one is about names and numbers.");
  const also = c.seeAlso ? h("a", { href: lab(c.seeAlso) }, "and the related session") : null;
  const li = h("li", { class: "claim", id: `claim-${c.id}`, "data-verdict": c.verdict },
    h("h3", {}, h("span", { class: `verdict-tag ${c.verdict}` }, c.verdict), `“${c.claim}”`),
    h("p", {}, c.truth),
    h("p", { class: "refs" }, `${c.id} · ${c.rfc}`),
    h("p", {}, see, also ? " " : "", also));
  return { c, li };
});
list.append(...items.map((i) => i.li));

const search = document.getElementById("claim-search");
const verdict = document.getElementById("claim-verdict");
const count = document.getElementById("claim-count");
function filter() {
  const q = search.value.trim().toLowerCase();
  let shown = 0;
  for (const { c, li } of items) {
    const hit = (!verdict.value || c.verdict === verdict.value) && (!q || `${c.claim} ${c.truth} ${c.rfc}`.toLowerCase().includes(q));
    li.hidden = !hit;
    shown += hit ? 1 : 0;
  }
  count.textContent = `${shown} of ${items.length} claims`;
}
search.addEventListener("input", filter);
verdict.addEventListener("change", filter);
filter();
