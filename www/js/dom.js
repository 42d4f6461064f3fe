// Building DOM nodes without innerHTML (which the CSP and safety both argue against).

/**
 * A tiny element builder: h("p", { class: "x" }, "text", child). A child may be
 * a text the engine sent with its citations: a string, or a list of strings and
 * `{cite, href, title}` pieces, each drawn as a link to the RFC section with its
 * heading as the title (the engine found and resolved them; this only draws).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined && c !== false) el.append(isCite(c) ? citeLink(c) : c);
  return el;
}

function isCite(c) {
  return typeof c === "object" && !(c instanceof Node) && typeof c.href === "string";
}

function citeLink(c) {
  const a = document.createElement("a");
  a.href = c.href;
  a.title = c.title;
  a.className = "rfc";
  a.rel = "noopener";
  a.target = "_blank";
  a.textContent = c.cite;
  return a;
}

/** A text with citations as plain text, for searching and for attributes. */
export function plain(prose) {
  if (Array.isArray(prose)) return prose.map((p) => (typeof p === "string" ? p : p.cite)).join("");
  return prose ?? "";
}
