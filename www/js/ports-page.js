// The port explainer and the claims checker (content in claims.js).
import { PORTS, READING_PORTS, CLAIMS } from "./claims.js";
import { registerOffline } from "./site.js";

registerOffline();

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) e.setAttribute(k, v);
  e.append(...children.filter((c) => c !== null));
  return e;
}

const lab = (link) => `index.html#${link}&step=0`;

document.getElementById("ports").append(...PORTS.map((p) => el("li", { class: "card", id: `port-${p.port}` },
  el("h3", {}, `Port ${p.port}`),
  el("p", {}, p.role),
  el("dl", {},
    el("dt", {}, "TLS"), el("dd", {}, p.tls),
    el("dt", {}, "Who connects"), el("dd", {}, p.who),
    el("dt", {}, "Login"), el("dd", {}, p.auth),
    el("dt", {}, "Defined by"), el("dd", {}, p.rfc)),
  el("a", { class: "button-link", href: lab(p.link) }, `Run port ${p.port} in the lab`))));
document.getElementById("reading").textContent = READING_PORTS;

const list = document.getElementById("claims");
const items = CLAIMS.map((c) => {
  const see = c.see ? el("a", { href: lab(c.see) }, "See it in the lab") : el("span", { class: "status" }, "Nothing to run: this one is about names and numbers.");
  const also = c.seeAlso ? el("a", { href: lab(c.seeAlso) }, "and the related session") : null;
  const li = el("li", { class: "claim", id: `claim-${c.id}`, "data-verdict": c.verdict },
    el("h3", {}, el("span", { class: `verdict-tag ${c.verdict}` }, c.verdict), `“${c.claim}”`),
    el("p", {}, c.truth),
    el("p", { class: "refs" }, `${c.id} · ${c.rfc}`),
    el("p", {}, see, also ? " " : "", also));
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
