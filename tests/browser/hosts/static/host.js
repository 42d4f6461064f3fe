// A component of the host framework that renders smtp-lab inside its own
// shadow root (as a tabs or card component of a docs theme would).
class DocsCard extends HTMLElement {
  connectedCallback() {
    if (this.shadowRoot) return;
    const root = this.attachShadow({ mode: "open" });
    const lab = document.createElement("smtp-lab");
    lab.id = "in-shadow";
    for (const name of ["scenario", "step"]) if (this.hasAttribute(name)) lab.setAttribute(name, this.getAttribute(name));
    lab.setAttribute("compact", "");
    root.append(lab);
  }
}
customElements.define("docs-card", DocsCard);
