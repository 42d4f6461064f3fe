// <smtp-lab scenario="strip-587-opportunistic" step="4" compact>: one SMTP
// session, both sides run by the wasm engine in this page, stepped through
// byte by byte. The lab page, the embed demo and any documentation site use
// this same element with one script tag.
import { engine, fields, lessonLink, recording } from "./engine.js";
import { Recorded } from "./recorded.js";
import { h } from "./dom.js";

const STYLESHEET = new URL("../css/lab.css", import.meta.url).href;
const SPEEDS = [["0.5×", 1600], ["1×", 800], ["2×", 400], ["4×", 150]];

function download(name, data, type) {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export class SmtpLab extends HTMLElement {
  static observedAttributes = ["scenario", "step", "compact"];

  #lab = null;
  #views = [];
  #notes = [];
  #tls = { header_notes: [], steps: [] };
  #verdicts = [];
  #values = {};
  #cursor = 0;
  #timer = null;
  #speed = 800;
  #view = "text";
  #loading = null;
  #ui = null;
  /** Fields the "what if" menu offers (from the engine). */
  #fields = [];
  /** Mallory's one-click presets (from the engine). */
  #presets = [];
  /** After a fork: the setting changed and the step where the runs part. */
  #forked = null;

  constructor() {
    super();
    this.attachShadow({ mode: "open" });
  }

  connectedCallback() {
    if (!this.#ui) this.#build();
    // Without a scenario the element waits for one (the lab page sets it from the URL).
    if (this.hasAttribute("scenario")) this.#load();
  }

  disconnectedCallback() {
    this.pause();
  }

  attributeChangedCallback(name, old, value) {
    if (!this.isConnected || old === value) return;
    if (name === "scenario") this.#load();
    else if (name === "step" && this.#lab) this.jumpTo(Number.parseInt(value, 10) || 0, false);
  }

  /** Steps revealed so far (0 = none). */
  get cursor() { return this.#cursor; }
  get length() { return this.#views.length; }
  /** The outcomes the engine found, as shown in the banner. */
  get verdicts() { return this.#verdicts; }
  /** The deep-link text for what is shown now. */
  get link() { return this.#lab ? this.#lab.link(this.#cursor) : ""; }
  /** What the engine decided each step shows (the page renders exactly this). */
  get views() { return this.#views; }
  /** Resolves once the current scenario has been run. */
  get ready() { return this.#loading ?? Promise.resolve(); }

  async #load() {
    const text = this.getAttribute("scenario") ?? "";
    this.pause();
    this.#loading = (async () => {
      let read;
      try {
        // A bare lesson (as the lab page and embeds name them) is shown from its
        // recording; anything else, or anything the learner does, needs the engine.
        const lesson = lessonLink(text);
        const recorded = lesson && (await recording(lesson.id));
        let lab;
        if (recorded) {
          lab = new Recorded(recorded);
          read = { link: recorded.link, values: recorded.values, step: lesson.step };
        } else {
          const wasm = await engine();
          read = wasm.readLink(text);
          lab = new wasm.Lab(read.link);
          if (lab.drive() === "mallory") this.#presets = wasm.malloryPresets();
        }
        this.#lab?.free();
        this.#lab = lab;
        this.#forked = null;
        // The "what if" menu fills in when its list arrives; the session does not wait for it.
        if (!this.#fields.length) {
          fields().then((all) => {
            this.#fields = all.filter((f) => f.kind === "choice" && !["preset", "drive"].includes(f.name));
            if (this.#lab) this.#renderLive();
          });
        }
      } catch (e) {
        this.#showError(e);
        return;
      }
      this.#values = read.values;
      this.#pull();
      const attr = this.getAttribute("step");
      // A session the learner drives opens where it waits for them, unless the link names a step.
      const driven = this.#lab.drive() !== "watch";
      const step = read.step ?? (attr === null || driven ? this.length : Number.parseInt(attr, 10) || 0);
      this.jumpTo(step, false);
      // The budget check reads this: navigation to the first session on screen.
      if (!performance.getEntriesByName("smtp-lab-first-session").length) performance.mark("smtp-lab-first-session");
      this.dispatchEvent(new CustomEvent("smtp-lab-ready", { bubbles: true, composed: true }));
    })();
    return this.#loading;
  }

  /** Reads what the engine has made so far and draws it. */
  #pull() {
    this.#views = this.#lab.views();
    this.#notes = this.#lab.notes();
    this.#tls = this.#lab.tls();
    this.#verdicts = this.#lab.verdicts();
    this.#renderSession();
    this.#renderLive();
  }

  /** After the learner acted: the session has run on; show all of it. */
  #afterAction(error) {
    this.#pull();
    this.#cursor = this.#lab.cursor();
    this.#update(true);
    this.#ui.liveStatus.textContent = error ? (error.message ?? String(error)) : "";
    this.#ui.liveStatus.classList.toggle("warn", Boolean(error));
    this.dispatchEvent(new CustomEvent("smtp-lab-change", { bubbles: true, composed: true, detail: { link: this.link } }));
  }

  #act(fn) {
    let error = null;
    try { fn(); } catch (e) { error = e; }
    this.#afterAction(error);
  }

  /** Sends one line from the console (the learner is the client). */
  typeLine(text) { this.#act(() => this.#lab.typeLine(text)); }
  /** Mallory's decision on the held segment. */
  decide(kind, arg) { this.#act(() => this.#lab.decide(kind, arg === undefined ? undefined : String(arg))); }
  /** Mallory's own bytes towards "server" or "client". */
  inject(to, text) { this.#act(() => this.#lab.inject(to, text)); }

  /** Re-runs the session from its seed with one setting changed, and shows where it parts from this one. */
  async fork(setting, value) {
    let fork;
    try {
      fork = (await this.#live()).fork(setting, value);
    } catch (e) {
      this.#afterAction(e);
      return;
    }
    this.#lab.free();
    this.#lab = fork;
    this.#forked = { setting, value, at: fork.divergedAt() };
    this.#afterAction(null);
  }

  /** The panels for the learner: the console, Mallory's move, and "what if". */
  #renderLive() {
    const ui = this.#ui;
    const drive = this.#lab.drive();
    const parts = [];
    if (this.#forked) {
      const { setting, value, at } = this.#forked;
      parts.push(h("p", { class: "forked", role: "status" }, h("strong", {}, "What if: "), `--${setting} ${value}. `,
        at === undefined ? "Both runs are the same, step for step." : `The runs are the same up to step ${at - 1} and part at step ${at}. `,
        at === undefined ? null : h("button", { type: "button", class: "link", onclick: () => this.jumpTo(at + 1) }, `see step ${at}`)));
    }
    if (drive === "client") parts.push(this.#consolePanel());
    if (drive === "mallory") parts.push(this.#malloryPanel());
    parts.push(this.#whatIfPanel());
    ui.live.replaceChildren(...parts, ui.liveStatus);
  }

  #consolePanel() {
    const state = this.#lab.console();
    const input = h("input", { type: "text", class: "console-line", "aria-label": "SMTP line to send", autocomplete: "off", spellcheck: "false",
      placeholder: state.in_body ? "a line of the message (a single . ends it)" : "EHLO me.example.test" });
    const send = (e) => {
      e.preventDefault();
      this.typeLine(input.value);
      this.#ui.live.querySelector(".console-line")?.focus();
    };
    const user = h("input", { type: "text", value: "alice", "aria-label": "Username", autocomplete: "off" });
    const pass = h("input", { type: "text", value: "correct horse battery staple", "aria-label": "Password", autocomplete: "off" });
    return h("section", { class: "live console", "aria-label": "You are the client" },
      h("h3", {}, "You are the client"),
      h("p", { class: "hint" }, state.open
        ? (state.in_body ? "The server said 354: type the message line by line; a line with a single . ends it." : "Type an SMTP line and press Enter. The real server machine answers; after 220 to STARTTLS, the lab does the TLS handshake for you.")
        : "The connection is closed."),
      h("form", { class: "row", onsubmit: send }, input, h("button", { type: "submit", class: "primary", disabled: !state.open }, "Send")),
      h("details", { class: "helper" }, h("summary", {}, "AUTH PLAIN helper"),
        h("div", { class: "row" }, h("label", {}, "Username ", user), h("label", {}, "Password ", pass),
          h("button", { type: "button", onclick: async () => {
            input.value = `AUTH PLAIN ${(await engine()).authPlain(user.value, pass.value)}`;
            input.focus();
          } }, "Fill in the AUTH PLAIN line"))));
  }

  #malloryPanel() {
    const held = this.#lab.held();
    const box = h("section", { class: "live mallory-panel", "aria-label": "You are Mallory" }, h("h3", {}, "You are Mallory"));
    if (!held) {
      box.append(h("p", { class: "hint" }, this.#lab.isFinished() ? "The session has ended." : "Nothing is waiting on the wire."));
      return box;
    }
    const what = held.fin ? "a FIN (closing the connection)" : held.tls ? `TLS records: ${held.records.join(", ")}` : `${held.len} bytes of cleartext`;
    box.append(h("p", {}, h("strong", {}, `${held.from} → ${held.to}: `), what, ". It waits on the wire for you."));
    const buttons = [
      h("button", { type: "button", class: "primary", onclick: () => this.decide("pass") }, "Pass it on"),
      h("button", { type: "button", onclick: () => this.decide("drop") }, "Drop it"),
    ];
    if (held.text !== null) {
      const editor = h("textarea", { class: "mallory-edit", rows: Math.min(12, held.text.split("\n").length + 1), "aria-label": "The segment's text, to edit", spellcheck: "false" });
      editor.value = held.text;
      buttons.push(h("button", { type: "button", onclick: () => this.decide("replace", editor.value.replace(/\r?\n/g, "\r\n")) }, "Send my edit"));
      box.append(editor);
    } else if (held.len) {
      const at = h("input", { type: "number", min: 0, max: held.len - 1, value: held.len - 1, "aria-label": "Byte to flip a bit in" });
      box.append(h("pre", { tabindex: "0", class: "held-hex" }, held.hex));
      buttons.push(h("label", {}, "Byte ", at), h("button", { type: "button", onclick: () => this.decide("flip", at.value) }, "Flip a bit"));
    }
    const attacks = h("select", { "aria-label": "Built-in attack" }, this.#presets.map((p) => h("option", { value: p.id }, p.title)));
    box.append(h("div", { class: "row" }, buttons),
      h("div", { class: "row" }, h("label", {}, "Or as a built-in attack would: ", attacks), h("button", { type: "button", onclick: () => this.decide("preset", attacks.value) }, "Apply")));
    const line = h("input", { type: "text", "aria-label": "Line to inject", placeholder: "250 OK", autocomplete: "off" });
    const to = h("select", { "aria-label": "Inject towards" }, h("option", { value: "client" }, "to the client"), h("option", { value: "server" }, "to the server"));
    box.append(h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); this.inject(to.value, `${line.value}\r\n`); } },
      h("label", {}, "Inject a line ", line), to, h("button", { type: "submit" }, "Inject")));
    return box;
  }

  #whatIfPanel() {
    const setting = h("select", { "aria-label": "Setting to change" }, this.#fields.map((f) => h("option", { value: f.name }, f.name)));
    const value = h("select", { "aria-label": "Its new value" });
    const fill = () => value.replaceChildren(...(this.#fields.find((f) => f.name === setting.value)?.options ?? []).map((o) => h("option", { value: o.id }, o.title)));
    setting.addEventListener("change", fill);
    fill();
    return h("details", { class: "live what-if" }, h("summary", {}, "What if…"),
      h("p", { class: "hint" }, "Change one setting and re-run this session from the same seed; the lab shows where the two runs part."),
      h("div", { class: "row" }, setting, value, h("button", { type: "button", onclick: () => this.fork(setting.value, value.value) }, "Fork")));
  }

  #showError(e) {
    this.#ui.error.textContent = `This scenario can't run: ${e.message ?? e}`;
    this.#ui.error.hidden = false;
    this.#ui.root.classList.add("failed");
  }

  // ---- controls -------------------------------------------------------------

  stepForward() { this.jumpTo(this.#cursor + 1); }
  stepBack() { this.jumpTo(this.#cursor - 1); }
  toStart() { this.jumpTo(0); }
  toEnd() { this.jumpTo(this.length); }

  /** Shows the first `n` steps (clamped) and selects the last of them. */
  jumpTo(n, announce = true) {
    if (!this.#lab) return;
    const to = Math.max(0, Math.min(this.length, n));
    this.#lab.jumpTo(to);
    this.#cursor = this.#lab.cursor();
    this.#update(announce);
    this.dispatchEvent(new CustomEvent("smtp-lab-change", { bubbles: true, composed: true, detail: { link: this.link } }));
  }

  play() {
    if (this.#timer || !this.#lab) return;
    if (this.#cursor >= this.length) this.jumpTo(0);
    this.#timer = setInterval(() => {
      if (this.#cursor >= this.length) this.pause();
      else this.stepForward();
    }, this.#speed);
    this.#syncPlay();
  }

  pause() {
    clearInterval(this.#timer);
    this.#timer = null;
    this.#syncPlay();
  }

  toggle() { if (this.#timer) this.pause(); else this.play(); }

  /** Keys: → / j forward, ← / k back, Home, End, p (or Space off a button) play. */
  handleKey(e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return false;
    const target = e.composedPath()[0]?.tagName;
    // Typing at the console or in Mallory's editor is typing, not stepping.
    if (["INPUT", "TEXTAREA", "SELECT"].includes(target)) return false;
    const onControl = ["BUTTON", "SUMMARY", "A"].includes(target);
    const actions = {
      ArrowRight: () => this.stepForward(), j: () => this.stepForward(),
      ArrowLeft: () => this.stepBack(), k: () => this.stepBack(),
      Home: () => this.toStart(), End: () => this.toEnd(), p: () => this.toggle(),
      " ": onControl ? null : () => this.toggle(),
    };
    const act = actions[e.key];
    if (!act) return false;
    e.preventDefault();
    act();
    return true;
  }

  #syncPlay() {
    if (!this.#ui) return;
    const playing = Boolean(this.#timer);
    this.#ui.play.textContent = playing ? "❚❚ Pause" : "▶ Play";
    this.#ui.play.setAttribute("aria-pressed", String(playing));
  }

  // ---- building ---------------------------------------------------------------

  #build() {
    const ui = {};
    const btn = (label, title, keys, onclick, cls = "") =>
      h("button", { type: "button", class: cls, title, "aria-keyshortcuts": keys, onclick }, label);
    ui.title = h("h2", { class: "title" }, "Loading the SMTP lab…");
    ui.desc = h("p", { class: "desc" });
    ui.banner = h("div", { class: "banner", role: "status", "aria-live": "polite" });
    ui.error = h("p", { class: "error", role: "alert", hidden: true });
    ui.play = btn("▶ Play", "Play / pause (P)", "P", () => this.toggle(), "primary");
    ui.play.setAttribute("aria-pressed", "false");
    ui.counter = h("span", { class: "counter", "aria-live": "off" }, "");
    ui.speed = h("select", { onchange: (e) => {
      this.#speed = Number(e.target.value);
      if (this.#timer) { this.pause(); this.play(); }
    } }, SPEEDS.map(([label, ms]) => h("option", { value: ms, selected: ms === this.#speed }, label)));
    ui.exportStatus = h("p", { class: "export-status", role: "status" });
    ui.mermaidBox = h("textarea", { class: "mermaid-text", readonly: true, rows: 8, "aria-label": "Mermaid diagram text", hidden: true });
    const exp = (label, fn) => h("button", { type: "button", onclick: fn }, label);
    ui.exportMenu = h("details", { class: "export" },
      h("summary", {}, "Export"),
      h("div", { class: "export-items" },
        exp("Capture (.pcap)", () => this.#export("pcap")),
        exp("TLS key log", () => this.#export("keylog")),
        exp("JSON trace", () => this.#export("json")),
        exp("Transcript (.txt)", () => this.#export("text")),
        exp("Copy Mermaid", () => this.#export("mermaid"))),
      ui.exportStatus, ui.mermaidBox);
    ui.controls = h("div", { class: "controls", role: "toolbar", "aria-label": "Session controls" },
      btn("|◀ Start", "Back to the start (Home)", "Home", () => this.toStart()),
      btn("◀ Back", "One step back (← or K)", "ArrowLeft K", () => this.stepBack()),
      ui.play,
      btn("Next ▶", "One step forward (→ or J)", "ArrowRight J", () => this.stepForward()),
      btn("End ▶|", "Jump to the end (End)", "End", () => this.toEnd()),
      h("label", { class: "speed" }, "Speed ", ui.speed),
      ui.counter);
    ui.lanes = h("div", { class: "lanes", "aria-hidden": "true" });
    ui.seq = h("ol", { class: "seq", "aria-label": "Steps of the session" });
    ui.hint = h("p", { class: "hint" }, "Nothing has crossed the wire yet. Press Next ▶ (or →) to start.");
    ui.detail = h("section", { class: "detail", "aria-label": "Selected step" });
    ui.cli = h("p", { class: "cli" });
    ui.announce = h("p", { class: "sr-only", "aria-live": "polite" });
    ui.liveStatus = h("p", { class: "live-status", role: "status" });
    ui.live = h("div", { class: "live-panels" });
    ui.root = h("section", { class: "lab", "aria-label": "SMTP session" },
      h("header", { class: "lab-head" }, ui.title, ui.desc, ui.banner, ui.error),
      h("div", { class: "toolbar-row" }, ui.controls, ui.exportMenu),
      ui.live,
      h("div", { class: "stage" }, h("div", { class: "seq-wrap" }, ui.lanes, ui.hint, ui.seq), ui.detail),
      ui.cli, ui.announce);
    this.shadowRoot.append(h("link", { rel: "stylesheet", href: STYLESHEET }), ui.root);
    this.shadowRoot.addEventListener("keydown", (e) => this.handleKey(e));
    this.#ui = ui;
  }

  #renderSession() {
    const ui = this.#ui;
    const heading = this.#lab.heading();
    ui.error.hidden = true;
    ui.root.classList.remove("failed");
    ui.title.textContent = heading.title;
    // The engine names the columns: client, wire, server; or a journey's nodes and hops.
    ui.lanes.replaceChildren(...heading.lanes.map((lane) => h("span", {}, lane)));
    ui.root.classList.toggle("journey", heading.lanes.length > 3);
    ui.desc.textContent = heading.description;
    ui.cli.replaceChildren("Same session on the command line: ", h("code", {}, heading.command));
    ui.banner.replaceChildren(...this.#verdicts.map((v) =>
      h("p", { class: `verdict ${v.compromise ? "bad" : "good"}`, "data-kind": v.kind, "data-step": v.step },
        h("strong", {}, v.compromise ? "⚠ Attack worked: " : "✓ "),
        `${v.text} `,
        h("button", { type: "button", class: "link", onclick: () => this.jumpTo(v.step + 1) }, `see step ${v.step}`))));
    ui.seq.replaceChildren(...this.#views.map((v, i) => this.#row(v, i)));
  }

  #row(v, i) {
    const dir = v.direction ?? "none";
    const records = v.records.length ? h("span", { class: "records" }, v.records.map((r) => h("span", { class: `rec ${r.content_type} ${r.encrypted ? "enc" : "clear"}` }, r.label))) : null;
    // Read aloud: "3, Server to Client, changed by the attacker: 250-mail…". The
    // visible text stays part of the name, so voice control can click it too.
    const classes = ["step", `hop-${v.hop}`, `dir-${dir}`, `kind-${v.kind}`, v.encrypted ? "enc" : v.tls ? "tls-clear" : "clear", v.altered ? "altered" : ""].join(" ");
    return h("li", { class: classes, "data-index": i },
      h("button", { type: "button", class: "row", onclick: () => this.jumpTo(i + 1) },
        h("span", { class: "num" }, String(i)),
        h("span", { class: "arrow" },
          h("span", { class: "sr-only" }, v.spoken),
          v.tls_text ? h("span", { class: "tls-badge" }, "TLS") : null,
          h("span", { class: "label" }, v.label),
          records,
          v.attacker_acted ? h("span", { class: "mallory" }, "Mallory") : null)));
  }

  #update(announce) {
    const ui = this.#ui;
    const rows = ui.seq.children;
    for (let i = 0; i < rows.length; i += 1) {
      rows[i].hidden = i >= this.#cursor;
      const current = i === this.#cursor - 1;
      rows[i].classList.toggle("current", current);
      if (current) rows[i].firstChild.setAttribute("aria-current", "step");
      else rows[i].firstChild.removeAttribute("aria-current");
    }
    const of = this.#lab.isFinished() ? `${this.length}` : `${this.length} so far`;
    ui.counter.textContent = this.#cursor === 0 ? `0 of ${of} steps shown` : `step ${this.#cursor - 1} · ${this.#cursor} of ${of} shown`;
    ui.hint.hidden = this.#cursor > 0;
    for (const v of ui.banner.children) {
      v.classList.toggle("reached", Number(v.dataset.step) < this.#cursor);
    }
    const current = rows[this.#cursor - 1];
    if (current) current.scrollIntoView?.({ block: "nearest" });
    this.#renderDetail(this.#cursor - 1);
    if (announce && current) ui.announce.textContent = `Step ${this.#cursor - 1}: ${current.querySelector(".arrow").textContent}`;
  }

  #renderDetail(i) {
    const ui = this.#ui;
    const v = this.#views[i];
    if (!v) {
      ui.detail.replaceChildren(h("h3", {}, "Before the first step"), h("p", {}, "Press Next ▶ (or →) to watch the session unfold, one delivery at a time."));
      return;
    }
    const head = h("h3", {}, `Step ${i}`, h("span", { class: "sub" }, ` · ${v.from ? `${v.from} → ${v.to}` : v.kind} · ${v.time}`));
    const notes = h("ul", { class: "notes" }, (this.#notes[i] ?? []).map((n) =>
      h("li", { class: n.warning ? "warn" : "" }, n.text, " ", h("cite", {}, n.rfc))));
    const viewToggle = h("fieldset", { class: "view" }, h("legend", {}, "Show bytes as"),
      ["text", "hex"].map((kind) => h("label", {}, h("input", { type: "radio", name: "view", value: kind, checked: this.#view === kind,
        onchange: () => { this.#view = kind; this.#renderDetail(i); } }), kind === "text" ? "Text" : "Hex")));
    // A recording leaves the hex dumps to the engine: asking for hex loads it, then shows them.
    const asHex = (b) => this.#view === "hex" || b.text === null;
    if (v.blocks.some((b) => asHex(b) && b.hex === null)) {
      this.#live().then(
        (lab) => { this.#views = lab.views(); this.#renderDetail(this.#cursor - 1); },
        () => { ui.detail.querySelectorAll("pre[data-pending]").forEach((p) => { p.textContent = "The hex dump needs the engine, which could not be loaded."; }); });
    }
    const blocks = h("div", { class: "byte-views" }, v.blocks.map((b) => {
      const shown = asHex(b) ? "hex" : "text";
      const pending = shown === "hex" && b.hex === null;
      return h("div", { class: "bytes" },
        h("h4", {}, b.title, h("span", { class: "sub" }, ` ${b.len} bytes${b.note ? ` · ${b.note}` : ""}`)),
        h("pre", { tabindex: "0", "data-shown": shown, "data-pending": pending }, shown === "text" ? b.text : b.hex ?? "Loading the engine for the hex dump…"));
    }));
    const mallory = v.middlebox ? h("p", { class: "mallory-note" }, h("strong", {}, "Mallory: "), v.middlebox) : null;
    const tls = this.#renderTls(this.#tls.steps[i] ?? []);
    const events = (side) => h("ul", { class: "events" }, v.events.filter((e) => e.side === side).map((e) => h("li", { class: `event-${e.weight}` }, e.text)));
    const machines = h("div", { class: "machines" },
      h("div", {}, h("h4", {}, `${v.client} machine`), h("p", { class: "state" }, v.client_state), events("client")),
      h("div", {}, h("h4", {}, `${v.server} machine`), h("p", { class: "state" }, v.server_state), events("server")));
    ui.detail.replaceChildren(...[head, mallory, notes, viewToggle, blocks, tls, machines].filter(Boolean));
  }

  /** The step's TLS records, each twice: what the path sees, and what is inside (from the engine's dissection). */
  #renderTls(records) {
    if (!records.length) return null;
    const messages = (list) => list.map((m) => h("details", { class: "tls-msg", open: true },
      h("summary", {}, m.name, " ", h("cite", {}, m.section)),
      m.note ? h("p", { class: "tls-note" }, m.note) : null,
      h("dl", {}, m.fields.flatMap((f) => [h("dt", {}, f.name), h("dd", {}, h("span", { class: "tls-value" }, f.value), f.note ? h("small", { class: "tls-note" }, f.note) : null)]))));
    const path = (r) => h("div", { class: "tls-side" }, h("h5", {}, "What anyone on the path sees"),
      h("p", { class: "tls-header" }, r.header),
      r.visible.length ? messages(r.visible) : h("p", { class: "tls-cipher" }, "Ciphertext only."));
    const record = (r) => h("article", { class: `tls-record${r.as_sent ? " as-sent" : ""}` },
      r.as_sent ? h("p", { class: "mallory-note" }, "As its sender wrote it, opened with the sender's keys: this is not what crossed to the receiver.") : null,
      r.client_check ? h("p", { class: `tls-check${r.check_failed ? " failed" : ""}` }, r.client_check) : null,
      r.real_chain ? h("details", { class: "tls-msg tls-real" }, h("summary", {}, "The server's own certificate, which the client never received"),
        h("dl", {}, r.real_chain.flatMap((f) => [h("dt", {}, f.name), h("dd", {}, h("span", { class: "tls-value" }, f.value))]))) : null,
      r.inside_type || r.error
        ? h("div", { class: "tls-sides" }, path(r),
          h("div", { class: "tls-side inside" }, h("h5", {}, "What is inside"),
            r.error ? h("p", { class: "warn" }, r.error)
              : [h("p", { class: "tls-header" }, `hidden type: ${r.inside_type}`), messages(r.inside), r.inside_text ? h("pre", { tabindex: "0" }, r.inside_text) : null]))
        : h("div", { class: "tls-sides single" }, h("p", { class: "tls-cipher" }, "Not encrypted: anyone on the path reads all of it."), path(r)));
    return h("section", { class: "tls", "aria-label": "TLS records" },
      h("h4", {}, `TLS records (${records.length})`),
      h("details", { class: "tls-about" }, h("summary", {}, "What a record header tells the path"),
        h("dl", {}, this.#tls.header_notes.flatMap(([name, note]) => [h("dt", {}, name), h("dd", {}, note)]))),
      records.map(record));
  }

  /** The engine's own Lab for what is shown (a recording is swapped for it, at the same step). */
  async #live() {
    if (this.#lab instanceof Recorded) {
      const recorded = this.#lab;
      const wasm = await engine();
      // Another session may have been loaded meanwhile: swap that one instead.
      if (this.#lab !== recorded) return this.#live();
      const lab = new wasm.Lab(recorded.recordedLink);
      lab.jumpTo(recorded.cursor());
      this.#lab = lab;
    }
    return this.#lab;
  }

  /** An export of the session as it stands: pcap, keylog, json, text or mermaid. */
  async exported(kind) {
    return (await this.#live())[kind]();
  }

  async #export(kind) {
    const base = (this.#values.preset ?? this.#values.cell ?? "smtp-session").replace(/[^a-z0-9-]+/gi, "-");
    const status = this.#ui.exportStatus;
    if (this.#lab instanceof Recorded) status.textContent = "Loading the engine to export this session…";
    const lab = await this.#live();
    switch (kind) {
      case "pcap": download(`${base}.pcap`, lab.pcap(), "application/vnd.tcpdump.pcap"); status.textContent = "Capture saved: open it in Wireshark with the key log."; break;
      case "keylog": download(`${base}.keys`, lab.keylog(), "text/plain"); status.textContent = "Key log saved (Wireshark: TLS → (Pre)-Master-Secret log filename)."; break;
      case "json": download(`${base}.json`, lab.json(), "application/json"); status.textContent = "JSON trace saved."; break;
      case "text": download(`${base}.txt`, lab.text(), "text/plain"); status.textContent = "Transcript saved."; break;
      case "mermaid": {
        const text = lab.mermaid();
        this.#ui.mermaidBox.value = text;
        this.#ui.mermaidBox.hidden = false;
        try {
          await navigator.clipboard.writeText(text);
          status.textContent = "Mermaid diagram copied.";
        } catch {
          this.#ui.mermaidBox.select();
          status.textContent = "Copy the selected Mermaid text below.";
        }
        break;
      }
      default: break;
    }
  }
}

if (!customElements.get("smtp-lab")) customElements.define("smtp-lab", SmtpLab);
