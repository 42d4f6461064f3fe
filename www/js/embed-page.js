// The embed page: exactly what a documentation site would load, plus the
// element's reference, rendered from the custom-elements.json that the build
// made from the element's own JSDoc, and a log of one example's events.
import "./smtp-lab.js";
import { h } from "./dom.js";
import { registerOffline } from "./site.js";

registerOffline();

// Newest first; a handful is enough to see what the events carry.
const log = document.getElementById("event-log");
for (const type of ["ready", "step-change", "outcome"]) {
  document.getElementById("embed-full").addEventListener(type, (e) => {
    log.prepend(h("li", {}, h("code", {}, type), " ", h("code", { class: "detail-json" }, JSON.stringify(e.detail))));
    while (log.children.length > 6) log.lastElementChild.remove();
  });
}

const code = (text) => h("code", {}, text);
/** Inline `code` spans of the manifest's descriptions, as code elements. */
const prose = (text = "") => text.split(/`([^`]*)`/).map((part, i) => (i % 2 ? code(part) : part));

function table(caption, head, rows) {
  // A region of its own, focusable: on a phone the table scrolls sideways, and a keyboard must reach it.
  return h("div", { class: "table-wrap", role: "region", tabindex: "0", "aria-label": caption }, h("table", {},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => (i === 0 ? h("th", { scope: "row" }, c) : h("td", {}, c))))))));
}

async function reference() {
  const box = document.getElementById("reference");
  try {
    const manifest = await (await fetch(new URL("../custom-elements.json", import.meta.url))).json();
    const el = manifest.modules.flatMap((m) => m.declarations ?? []).find((d) => d.tagName === "smtp-lab");
    const type = (t) => (t?.text ? code(t.text) : "");
    const fields = el.members.filter((m) => m.kind === "field");
    const methods = el.members.filter((m) => m.kind === "method");
    box.replaceChildren(
      table("Attributes", ["Attribute", "Type", "What it does"], el.attributes.map((a) => [code(a.name), type(a.type), prose(a.description)])),
      table("Events (they bubble and cross shadow roots)", ["Event", "Detail", "When"], el.events.map((e) => [code(e.name), type(e.type), prose(e.description)])),
      table("Custom properties", ["Property", "What it colours or sizes"], el.cssProperties.map((p) => [code(p.name), prose(p.description)])),
      table("Parts", ["Part", "What it is"], el.cssParts.map((p) => [code(p.name), prose(p.description)])),
      table("Properties (read-only)", ["Property", "Type", "What it is"], fields.map((f) => [code(f.name), type(f.type), prose(f.description)])),
      table("Methods", ["Method", "What it does"], methods.map((m) => [code(`${m.name}(${(m.parameters ?? []).map((p) => p.name).join(", ")})`), prose(m.description)])));
  } catch (e) {
    box.replaceChildren(h("p", { class: "error" }, `The reference could not be loaded: ${e.message}`));
  }
}
reference();
