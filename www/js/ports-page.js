// The port explainer and the claims checker. The content, and the proof of
// each claim by a session run here, come from the engine (src/lab/claims.rs).
import { engine } from "./engine.js";
import { h, plain } from "./dom.js";
import { registerOffline } from "./site.js";

registerOffline();

const lab = (link) => `index.html#${link}`;
const wasm = await engine();
const started = performance.now();
const { ports, path, reading, claims } = wasm.explainer();
const ms = Math.round(performance.now() - started);

// The path as an SVG: nodes in a row (a column on a phone), each hop an arrow
// with its ports under it; a port the lab runs is a link to that hop.
const SVG = "http://www.w3.org/2000/svg";
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, v);
  el.append(...children);
  return el;
}
function drawPath(narrow) {
  const nodes = path.map((hop) => hop.from).concat(path[path.length - 1].to);
  const box = { w: 190, h: 56 };
  const step = narrow ? box.h + 170 : 290;
  const pos = (i) => (narrow ? { x: 85, y: 10 + i * step } : { x: 10 + i * step, y: 10 });
  const width = narrow ? 360 : 10 + 3 * step + box.w + 10;
  const height = narrow ? pos(3).y + box.h + 10 : 250;
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "path-svg", role: "group", "aria-label": "The path of one message, hop by hop" });
  nodes.forEach((node, i) => {
    const { x, y } = pos(i);
    // The name on one line, the role under it.
    svg.append(s("g", { class: "node" },
      s("rect", { x, y, width: box.w, height: box.h, rx: 8 }),
      s("text", { x: x + box.w / 2, y: y + 24, "text-anchor": "middle" }, node.name),
      s("text", { x: x + box.w / 2, y: y + 44, "text-anchor": "middle", class: "role" }, node.role)));
  });
  path.forEach((hop, i) => {
    const a = pos(i);
    const b = pos(i + 1);
    // The reading hop runs the other way: the client fetches from the mailbox.
    const [x1, y1, x2, y2] = narrow
      ? [a.x + box.w / 2, a.y + box.h, b.x + box.w / 2, b.y]
      : [a.x + box.w, a.y + box.h / 2, b.x, b.y + box.h / 2];
    svg.append(s("line", { x1, y1, x2: x2 - (narrow ? 0 : 6), y2: y2 - (narrow ? 6 : 0), class: `hop hop-${i + 1}`, "marker-end": "url(#arrow)" }));
    const label = narrow ? { x: x1 + 10, y: y1 + 22 } : { x: x1 + 6, y: y1 + 44 };
    svg.append(s("text", { x: label.x, y: label.y, class: "hop-what" }, `hop ${i + 1}`));
    hop.ports.forEach((p, k) => {
      const px = label.x;
      const py = label.y + 14 + k * 30;
      const chip = s("g", { class: p.link ? "port runs" : "port" },
        s("rect", { x: px, y: py, width: 84, height: 24, rx: 12 }),
        s("text", { x: px + 42, y: py + 17, "text-anchor": "middle" }, String(p.port)),
        s("title", {}, p.title));
      if (p.link) {
        svg.append(s("a", { href: lab(p.link), class: "port-link", "data-port": String(p.port), "aria-label": `Port ${p.title}: open hop ${i + 1} in the lab` }, chip));
      } else {
        svg.append(chip);
      }
    });
  });
  svg.prepend(s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
    s("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" }))));
  const caption = h("figcaption", {}, h("p", {}, "Filled ports open that hop in the lab; outlined ones are on the path, but the lab does not run them."), h("ol", { class: "path-hops" }, path.map((hop, i) =>
    h("li", {}, h("strong", {}, `Hop ${i + 1}: ${hop.from.name} (${hop.from.role}) → ${hop.to.name} (${hop.to.role}). `), `${hop.what}. `,
      h("span", { class: "refs" }, hop.sources)))));
  document.getElementById("path").replaceChildren(svg, caption);
}
const narrow = matchMedia("(max-width: 40rem)");
drawPath(narrow.matches);
narrow.addEventListener("change", () => drawPath(narrow.matches));

document.getElementById("ports").append(...ports.map((p) => h("li", { class: "card", id: `port-${p.port}` },
  h("h3", {}, `Port ${p.port}`),
  h("p", {}, p.role),
  h("dl", {},
    h("dt", {}, "TLS"), h("dd", {}, p.tls),
    h("dt", {}, "Who connects"), h("dd", {}, p.who),
    h("dt", {}, "Login"), h("dd", {}, p.auth),
    h("dt", {}, "Sources"), h("dd", {}, p.sources)),
  h("a", { class: "button-link", href: lab(p.link) }, `Run port ${p.port} in the lab`))));
document.getElementById("reading").replaceChildren(h("span", {}, reading));

/** The words for which way the engine says each session points. */
const SIDE = { holds: "Where it holds: ", fails: "Where it fails: ", aside: "" };

const list = document.getElementById("claims");
const items = claims.map((c) => {
  const proved = c.proofs.length > 0 && c.proofs.every((p) => p.proved);
  const evidence = c.no_session
    ? h("p", { class: "status" }, c.no_session)
    : h("div", { class: "proof" },
      h("p", { class: `proof-state ${proved ? "good" : "bad"}` }, proved ? "Shown by a session run in this page:" : "✗ A session did not show what it should:"),
      h("ul", {}, c.proofs.map((p) => h("li", { "data-proved": String(p.proved), "data-side": p.side }, SIDE[p.side] ? h("strong", {}, SIDE[p.side]) : null, `${p.shows} `, h("a", { href: lab(p.link) }, "See it in the lab")))));
  const li = h("li", { class: "claim", id: `claim-${c.id}`, "data-verdict": c.verdict, "data-proved": String(proved) },
    h("h3", {}, h("span", { class: `verdict-tag ${c.verdict}` }, c.verdict), "“", c.claim, "”"),
    h("p", {}, c.truth),
    h("p", { class: "refs" }, `${c.id} · `, c.sources),
    evidence);
  return { c, li };
});
list.append(...items.map((i) => i.li));
const provedCount = items.filter((i) => i.li.dataset.proved === "true").length;
document.getElementById("claims-proved").textContent =
  `${provedCount} of ${claims.length} claims are shown by a session, run in this page in ${ms} ms; the rest are about history, registries or other protocols, and say so.`;

const search = document.getElementById("claim-search");
const verdict = document.getElementById("claim-verdict");
const count = document.getElementById("claim-count");
function filter() {
  const q = search.value.trim().toLowerCase();
  let shown = 0;
  for (const { c, li } of items) {
    const hit = (!verdict.value || c.verdict === verdict.value) && (!q || [c.claim, c.truth, c.sources].map(plain).join(" ").toLowerCase().includes(q));
    li.hidden = !hit;
    shown += hit ? 1 : 0;
  }
  count.textContent = `${shown} of ${items.length} claims`;
}
search.addEventListener("input", filter);
verdict.addEventListener("change", filter);
filter();
