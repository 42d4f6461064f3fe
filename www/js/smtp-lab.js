// <smtp-lab scenario="strip-587-opportunistic" step="4" compact>: one SMTP
// session, both sides run by the wasm engine in this page, stepped through
// byte by byte. The lab page, the embed demo and any documentation site use
// this same element. Made for long pages: every element on a page shares one
// engine (engine.js loads it once, on first need), and an element does
// nothing until it comes near the viewport.
import { engine, engineLoaded, fieldLabel, fields, lessonLink, linkProblem, recording } from "./engine.js";
import { Recorded } from "./recorded.js";
import { h } from "./dom.js";

/** The banner's class for each tone the engine gives a finding. */
const TONE_CLASS = { "attack-worked": "bad", exposed: "bad", plain: "plain", safe: "good" };
// The lab's stylesheet as a module (xtask writes it from css/lab.css), so that
// bundlers carry it as code: a separate .css asset would be taken by some
// generators for the site's own stylesheet (VitePress does). One constructed
// sheet serves every element on the page.
import LAB_CSS from "./lab-css.js";

let sheet = null;
function stylesheet() {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(LAB_CSS);
  }
  return sheet;
}
const SPEEDS = [["0.5×", 1600], ["1×", 800], ["2×", 400], ["4×", 150]];
/** What the `controls` attribute accepts: every control, stepping only, or none (keys and clicks on rows still step). */
const CONTROLS = ["all", "step", "none"];

/**
 * A byte block's text, Mallory's changes marked: the lines she took out of
 * what the sender wrote, and those she put into what arrived (the engine's diff).
 */
function bytesPre(b, focusable = true) {
  const pre = h("pre", { tabindex: focusable ? "0" : null, "data-shown": "text", "data-pending": false });
  if (!b.changed?.length) {
    pre.textContent = b.text;
    return pre;
  }
  const changed = new Set(b.changed);
  const word = b.change === "removed" ? "taken out by Mallory" : "put in by Mallory";
  b.text.split(/(?<=\n)/).forEach((line, i) => {
    if (!changed.has(i)) { pre.append(line); return; }
    pre.append(h(b.change === "removed" ? "del" : "ins", { class: `change ${b.change}`, title: word }, h("span", { class: "sr-only" }, `(${word}) `), line));
  });
  pre.classList.add("marked");
  return pre;
}

function download(name, data, type) {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// Importable where there is no DOM (a docs generator's server-side render): the
// class then extends a stand-in and nothing is defined.
const Base = globalThis.HTMLElement ?? class {};

const reducedMotion = () => globalThis.matchMedia?.("(prefers-reduced-motion: reduce)").matches ?? false;

/**
 * One IntersectionObserver per purpose for every element on the page: `near`
 * starts an element when it comes within a screen's margin of the viewport,
 * `seen` tells an autoplaying element whether it is on screen.
 */
function watcher(options) {
  const callbacks = new Map();
  let observer = null;
  return {
    watch(el, fn) {
      if (!("IntersectionObserver" in globalThis)) { fn(true); return; }
      observer ??= new IntersectionObserver((entries) => {
        for (const e of entries) callbacks.get(e.target)?.(e.isIntersecting);
      }, options);
      callbacks.set(el, fn);
      observer.observe(el);
    },
    forget(el) {
      callbacks.delete(el);
      observer?.unobserve(el);
    },
  };
}
const near = watcher({ rootMargin: "200px 0px" });
const seen = watcher({ threshold: 0.25 });

/**
 * One SMTP session, both machines run by the wasm engine in the reader's
 * browser, stepped through byte by byte.
 *
 * @tag smtp-lab
 * @summary A live, steppable SMTP session for documentation pages.
 *
 * @attr {string} scenario - A lesson id (`strip-587-opportunistic`) or the text of a lab link (`port=587&policy=opportunistic&attack=strip`). Nothing runs until it is set.
 * @attr {number} step - The step to open at: 0 shows none, `n` reveals the first `n` steps. Without it a watched session opens complete.
 * @attr {number} seed - The seed every random number of the session comes from; the same seed gives the same bytes everywhere. A seed other than a lesson's own loads the engine.
 * @attr {boolean} compact - Hides the detail panel, the description and the command line.
 * @attr {boolean} autoplay - Plays the session (from its `step`, else from the start) while the element is on screen; stopped for good by any control the reader uses. When the reader prefers reduced motion it does not play, and the session opens complete.
 * @attr {"all" | "step" | "none"} controls - Which controls show: `all` (the default), `step` (stepping only: no export, no "what if"), `none` (no toolbar; the keys and the rows still step).
 * @attr {"lazy" | "eager"} loading - `lazy` (the default) starts the element when it comes near the viewport; `eager` starts it at once.
 * @attr {boolean} reveal - Shows every outcome from the start. Without it the banner shows only the outcomes reached by the steps shown, so a class can be asked before the answer is on screen; a "Show the outcome" button reveals them.
 * @attr {boolean} present - Projector mode: the steps and the selected step's notes and bytes side by side at large type, filling the element's box (the lab page fills the screen with it: `?present`).
 *
 * @fires {CustomEvent<{ link: string, length: number }>} ready - The scenario has been run and is on screen.
 * @fires {CustomEvent<{ step: number, shown: number, length: number, link: string }>} step-change - The shown steps changed; `step` is the selected step (-1 before the first), `shown` how many are revealed.
 * @fires {CustomEvent<{ kind: string, text: string, compromise: boolean, step: number }>} outcome - Stepping revealed the step an outcome was read at (the same outcome as the banner's).
 *
 * @cssprop --smtp-lab-height - The element's height, reserved before it starts so that nothing moves when it does (`auto` sizes it to its content). Default 40rem, 30rem when compact (50rem and 34rem on a narrow screen).
 * @cssprop --smtp-lab-font - The text font.
 * @cssprop --smtp-lab-mono-font - The font of bytes, commands and SMTP lines.
 * @cssprop --smtp-lab-color-scheme - `light`, `dark` or `light dark` (the default): the colour scheme of form controls and scrollbars.
 * @cssprop --smtp-lab-bg - The background behind panels.
 * @cssprop --smtp-lab-fg - The text colour.
 * @cssprop --smtp-lab-muted - Secondary text: step numbers, notes' sources, hints.
 * @cssprop --smtp-lab-line - Borders and separators.
 * @cssprop --smtp-lab-panel - The background of panels, buttons and the lanes.
 * @cssprop --smtp-lab-code - The background of byte dumps and of the selected step.
 * @cssprop --smtp-lab-accent - Links, focus rings, the primary button and the selected step's mark.
 * @cssprop --smtp-lab-accent-fg - Text on the accent colour.
 * @cssprop --smtp-lab-good - Text of a good outcome.
 * @cssprop --smtp-lab-good-bg - Background of a good outcome.
 * @cssprop --smtp-lab-bad - Text of an outcome where the attack worked.
 * @cssprop --smtp-lab-bad-bg - Background of an outcome where the attack worked.
 * @cssprop --smtp-lab-warn - Text of warnings in notes and events.
 * @cssprop --smtp-lab-warn-bg - Background of warnings.
 * @cssprop --smtp-lab-arrow - The lanes: the arrow of a step that crossed in cleartext.
 * @cssprop --smtp-lab-tls - The lanes: the arrow of a step that crossed inside TLS, and the TLS records.
 * @cssprop --smtp-lab-tls-bg - The background of a TLS record and of what is inside it.
 * @cssprop --smtp-lab-mallory - The lanes: the attacker's column and every change she made.
 * @cssprop --smtp-lab-radius - The corner radius of panels and buttons.
 *
 * @csspart base - The whole session.
 * @csspart title - The scenario's title.
 * @csspart description - The scenario's description.
 * @csspart banner - The outcomes.
 * @csspart verdict - One outcome.
 * @csspart verdict-good - An outcome where the session stayed safe and nothing else went wrong.
 * @csspart verdict-bad - An outcome where something was exposed or forged (with an attacker: the attack worked).
 * @csspart verdict-plain - An outcome that is neither: delivered in cleartext, or a good end beside a bad one.
 * @csspart controls - The toolbar of stepping controls.
 * @csspart button - Every button of the toolbar.
 * @csspart lanes - The row that names the lanes (client, wire, server; or a journey's nodes and hops).
 * @csspart lane - One lane's name.
 * @csspart steps - The list of steps.
 * @csspart step - One step.
 * @csspart step-current - The selected step.
 * @csspart arrow - A step's arrow across the lanes.
 * @csspart record - A TLS record drawn on an arrow.
 * @csspart detail - The panel with the selected step's bytes, notes and machines.
 * @csspart command - The same session as a command line.
 * @csspart report - The TLS report (RFC 8460) of a sender that applied a policy, when the domain asks for one.
 */
export class SmtpLab extends Base {
  static observedAttributes = ["scenario", "step", "seed", "autoplay", "controls", "reveal", "present"];

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
  /** Whether the reader opened "What if…" (it stays open when the panels are drawn again). */
  #whatIfOpen = false;
  /** Whether Mallory's rarer moves (a built-in attack, an injected line) are unfolded. */
  #moreMoves = false;
  /** After a fork: the setting changed and the step where the runs part. */
  #forked = null;
  /** idle (waiting to come near the viewport), loading, ready or failed. */
  #state = "idle";
  #internals = null;
  /** Outcomes (by index) whose step is revealed, so each `outcome` event fires once per reveal. */
  #reached = new Set();
  /** The reader asked to see every outcome ("Show the outcome"), for this session. */
  #revealed = false;
  /** The handout (every step, for print) is stale and is rebuilt when idle. */
  #handoutTimer = null;
  /** Resolves when the first scenario is on screen, for callers that ask before it has started. */
  #firstReady;
  #resolveFirst;

  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this.#firstReady = new Promise((resolve) => { this.#resolveFirst = resolve; });
    // Custom states (`smtp-lab:state(ready)`) where the browser has them.
    try { this.#internals = this.attachInternals(); } catch { this.#internals = null; }
    this.#setState("idle");
  }

  connectedCallback() {
    if (!this.#ui) this.#build();
    this.#syncControls();
    // Without a scenario the element waits for one (the lab page sets it from the URL).
    // Moved within the page, a started element keeps its session (and its autoplay).
    if (this.#state === "idle" && this.hasAttribute("scenario")) this.#start();
    else this.#syncAutoplay();
  }

  disconnectedCallback() {
    this.pause();
    near.forget(this);
    seen.forget(this);
  }

  attributeChangedCallback(name, old, value) {
    // Before the first connectedCallback (an element upgraded with its attributes), that callback starts it.
    if (!this.#ui || !this.isConnected || old === value) return;
    if (name === "scenario" || name === "seed") this.#start();
    else if (name === "step" && this.#lab) this.jumpTo(Number.parseInt(value, 10) || 0, false);
    else if (name === "autoplay") this.#syncAutoplay();
    else if (name === "controls") this.#syncControls();
    else if (name === "reveal" && this.#lab) this.#update(false);
  }

  /** Where the element is: idle until it comes near the viewport, then loading, then ready or failed (also the custom states `:state(ready)` …). @type {"idle" | "loading" | "ready" | "failed"} */
  get state() { return this.#state; }

  #setState(state) {
    const states = this.#internals?.states;
    try {
      states?.delete(this.#state);
      states?.add(state);
    } catch { /* an older CustomStateSet: the property is enough */ }
    this.#state = state;
  }

  /** Runs the scenario now if it has started (or is eager), else when it comes near the viewport. */
  #start() {
    if (this.#state !== "idle" || this.getAttribute("loading") === "eager") {
      this.#load();
      return;
    }
    near.watch(this, (isNear) => {
      if (!isNear) return;
      near.forget(this);
      this.#load();
    });
  }

  /** Steps revealed so far (0 = none). @type {number} */
  get cursor() { return this.#cursor; }
  /** Steps in the session (so far, while the reader drives it). @type {number} */
  get length() { return this.#views.length; }
  /** The outcomes the engine found, as shown in the banner. @type {{ kind: string, text: string, compromise: boolean, step: number }[]} */
  get verdicts() { return this.#verdicts; }
  /** The link text for what is shown now (a lab URL's fragment). @type {string} */
  get link() { return this.#lab ? this.#lab.link(this.#cursor) : ""; }
  /** What the engine decided each step shows (the element renders exactly this). @type {object[]} */
  get views() { return this.#views; }
  /** Resolves once the current scenario has been run (for an element that has not started yet, once it has). @type {Promise<void>} */
  get ready() { return this.#loading ?? this.#firstReady; }

  /**
   * Runs the `scenario` attribute's session again from its start, whatever is shown now (after a
   * fork, an opened file or the learner's actions the screen may show another session than the attribute names).
   * @returns {Promise<void>}
   */
  restart() { return this.#load(); }

  /** Moves the keyboard focus to the stepping controls (the lab page does after a lesson is picked, so → steps at once). */
  focusControls() {
    const next = this.#ui?.controls.querySelector("[data-key=next]");
    next?.focus({ preventScroll: true });
  }

  /** The scenario's link text, with the `seed` attribute's seed when it has one. */
  #scenarioText() {
    const text = this.getAttribute("scenario") ?? "";
    const seed = this.getAttribute("seed");
    return seed === null || /(^|&)seed=/.test(text) ? text : `${text.includes("=") ? text : `preset=${text}`}&seed=${seed}`;
  }

  async #load() {
    const text = this.#scenarioText();
    this.pause();
    this.#setState("loading");
    if (!this.#lab) this.#ui.title.textContent = "Loading the SMTP lab…";
    this.#loading = (async () => {
      let read;
      // While the engine downloads, the old session stays on screen, dimmed and marked busy.
      const busy = setTimeout(() => this.#busy("Loading the lab's engine…"), engineLoaded() ? 0 : 50);
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
        clearTimeout(busy);
        this.#busy(null);
        this.#setState("failed");
        await this.#showError(e, text);
        return;
      }
      clearTimeout(busy);
      this.#busy(null);
      this.#values = read.values;
      this.#revealed = false;
      this.#reached.clear();
      this.#pull();
      const attr = this.getAttribute("step");
      // A session the learner drives opens where it waits for them, unless the link names a step;
      // one that will autoplay opens at its start; any other without a step, complete.
      const driven = this.#lab.drive() !== "watch";
      const fromStart = this.#autoplays() ? 0 : this.length;
      const step = read.step ?? (driven ? this.length : attr === null ? fromStart : Number.parseInt(attr, 10) || 0);
      this.#setState("ready");
      this.jumpTo(step, false);
      // The budget check reads this: navigation to the first session on screen.
      if (!performance.getEntriesByName("smtp-lab-first-session").length) performance.mark("smtp-lab-first-session");
      this.#emit("ready", { link: this.link, length: this.length });
      this.#resolveFirst();
      this.#syncAutoplay();
    })();
    return this.#loading;
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { bubbles: true, composed: true, detail }));
  }

  /** `step-change` for what is shown now, and `outcome` for each outcome this reveals. */
  #emitStep() {
    this.#emit("step-change", { step: this.#cursor - 1, shown: this.#cursor, length: this.length, link: this.link });
    this.#verdicts.forEach((v, i) => {
      const reached = v.step < this.#cursor;
      if (reached && !this.#reached.has(i)) {
        this.#reached.add(i);
        this.#emit("outcome", { kind: v.kind, text: v.text, compromise: v.compromise, step: v.step });
      } else if (!reached) this.#reached.delete(i);
    });
  }

  #autoplays() { return this.hasAttribute("autoplay") && !reducedMotion(); }

  /** Autoplay: play while on screen, unless the reader prefers reduced motion or has taken the controls. */
  #syncAutoplay() {
    seen.forget(this);
    if (!this.#autoplays() || this.#state !== "ready") return;
    seen.watch(this, (visible) => {
      if (!visible) this.pause();
      else if (this.#cursor < this.length) this.play();
      else seen.forget(this);
    });
  }

  /** The reader took the controls: autoplay stops for good. */
  #tookControls() {
    seen.forget(this);
  }

  #syncControls() {
    if (!this.#ui) return;
    const value = CONTROLS.includes(this.getAttribute("controls")) ? this.getAttribute("controls") : "all";
    for (const c of CONTROLS) this.#ui.root.classList.toggle(`controls-${c}`, c === value);
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
    this.#emitStep();
  }

  #act(fn) {
    let error = null;
    try { fn(); } catch (e) { error = e; }
    this.#afterAction(error);
  }

  /**
   * Sends one line from the console, when the scenario has the reader drive the client (`drive=client`).
   * @param {string} text - The line, without CRLF.
   */
  typeLine(text) { this.#act(() => this.#lab.typeLine(text)); }
  /**
   * Mallory's decision on the held segment, when the reader is Mallory (`drive=mallory`).
   * @param {"pass" | "drop" | "replace" | "flip" | "preset"} kind - What to do with it.
   * @param {string | number} [arg] - The new text (replace), the byte to flip (flip) or the attack's id (preset).
   */
  decide(kind, arg) { this.#act(() => this.#lab.decide(arg === undefined ? { kind } : { kind, arg })); }
  /**
   * Mallory's own bytes, sent as if from the other side.
   * @param {"server" | "client"} to - Whom they go to.
   * @param {string} text - The bytes, CRLF included.
   */
  inject(to, text) { this.#act(() => this.#lab.inject(to, text)); }

  /**
   * Re-runs the session from its seed with one setting changed, and shows where it parts from this one.
   * @param {string} setting - A setting's name, as in a link (`policy`).
   * @param {string} value - Its new value (`require-starttls`).
   * @returns {Promise<void>}
   */
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
    // Focus stays where the learner acted: on the same control in the new panel, else its first control.
    const active = this.shadowRoot.activeElement;
    const keep = active && ui.live.contains(active) ? (active.dataset.key ?? "first") : null;
    const parts = [];
    if (this.#forked) {
      const { setting, value, at } = this.#forked;
      const field = this.#fields.find((f) => f.name === setting);
      const option = field?.options.find((o) => o.id === value);
      parts.push(h("p", { class: "forked", role: "status" }, h("strong", {}, "What if: "), `${field ? fieldLabel(field) : setting}: ${option?.title ?? value}. `,
        at === undefined ? "Both runs are the same, step for step." : `The runs are the same up to step ${at} and part at step ${at + 1}. `,
        at === undefined ? null : h("button", { type: "button", class: "link", onclick: () => this.jumpTo(at + 1) }, `see step ${at + 1}`)));
    }
    if (drive === "client") parts.push(this.#consolePanel());
    if (drive === "mallory") parts.push(this.#malloryPanel());
    parts.push(this.#whatIfPanel());
    ui.live.replaceChildren(...parts, ui.liveStatus);
    if (keep) {
      const again = ui.live.querySelector(`[data-key="${keep}"]`) ?? ui.live.querySelector(".live button:not([disabled]), .live input, .live summary");
      again?.focus();
    }
  }

  /** Opens a session file (the JSON export): the engine re-runs it from its link and checks the bytes. */
  async #openFile(file) {
    const status = this.#ui.liveStatus;
    try {
      const text = await file.text();
      const wasm = await engine();
      const lab = wasm.Lab.openSession(text);
      this.pause();
      this.#lab?.free();
      this.#lab = lab;
      this.#forked = null;
      this.#presets = lab.drive() === "mallory" ? wasm.malloryPresets() : this.#presets;
      this.#values = wasm.readLink(lab.link()).values;
      this.#revealed = false;
      this.#reached.clear();
      this.#pull();
      this.jumpTo(this.length, false);
      status.textContent = `Opened ${file.name}: re-run from its link, the session gives the same bytes as the file.`;
      status.classList.remove("warn");
    } catch (e) {
      status.textContent = `${file.name} did not open. ${e.message ?? e}`;
      status.classList.add("warn");
    }
  }

  #scheduleHandout() {
    clearTimeout(this.#handoutTimer);
    this.#handoutTimer = setTimeout(() => this.#buildHandout(), 300);
  }

  /**
   * The handout, for print: every step numbered, with what its sender wrote, what the wire carried
   * and what its receiver read (Mallory's changes marked, as on screen), and its notes with their sources.
   */
  #buildHandout() {
    clearTimeout(this.#handoutTimer);
    if (!this.#lab) return;
    const heading = this.#lab.heading();
    const steps = this.#views.map((v, i) => h("article", { class: "handout-step" },
      h("h3", {}, `Step ${i + 1}`, h("span", { class: "sub" }, ` · ${v.from ? `${v.from} → ${v.to}` : v.kind} · ${v.time}`)),
      h("p", { class: "handout-label" }, v.label),
      v.middlebox ? h("p", { class: "mallory-note" }, v.attacker_acted ? h("strong", {}, "Mallory: ") : null, v.middlebox) : null,
      v.blocks.map((b) => h("div", { class: "bytes" },
        h("h4", {}, b.title, h("span", { class: "sub" }, ` ${b.len} bytes`, b.note ? [" · ", b.note] : null)),
        b.text === null ? h("p", { class: "tls-cipher" }, "Not text (TLS records): the lab's hex view shows these bytes.") : bytesPre(b, false))),
      h("ul", { class: "notes" }, (this.#notes[i] ?? []).map((n) => h("li", { class: n.warning ? "warn" : "" }, n.text, " ", h("cite", {}, n.rfc))))));
    this.#ui.handout.replaceChildren(
      h("h2", {}, heading.title), h("p", {}, h("span", {}, heading.description)),
      h("p", {}, "Same session on the command line: ", h("code", {}, heading.command)),
      h("ol", { class: "handout-steps" }, steps.map((a) => h("li", {}, a))),
      h("h3", {}, "Outcomes"),
      h("ul", {}, this.#verdicts.map((v) => h("li", {}, v.mark ? h("strong", {}, v.mark) : null, `${v.text} (step ${v.step + 1})`))));
  }

  #consolePanel() {
    const state = this.#lab.console();
    const input = h("input", { type: "text", class: "console-line", "data-key": "console-line", "aria-label": "SMTP line to send", autocomplete: "off", spellcheck: "false",
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
      h("button", { type: "button", class: "primary", "data-key": "pass", onclick: () => this.decide("pass") }, "Pass it on"),
      h("button", { type: "button", "data-key": "drop", onclick: () => this.decide("drop") }, "Drop it"),
    ];
    if (held.text !== null) {
      const editor = h("textarea", { class: "mallory-edit", rows: Math.min(12, held.text.split("\n").length + 1), "aria-label": "The segment's text, to edit", spellcheck: "false" });
      editor.value = held.text;
      buttons.push(h("button", { type: "button", "data-key": "replace", onclick: () => this.decide("replace", editor.value.replace(/\r?\n/g, "\r\n")) }, "Send my edit"));
      box.append(editor);
    } else if (held.len) {
      const at = h("input", { type: "number", min: 0, max: held.len - 1, value: held.len - 1, "aria-label": "Byte to flip a bit in" });
      box.append(h("pre", { tabindex: "0", class: "held-hex" }, held.hex));
      buttons.push(h("label", {}, "Byte ", at), h("button", { type: "button", "data-key": "flip", onclick: () => this.decide("flip", at.value) }, "Flip a bit"));
    }
    const attacks = h("select", { "aria-label": "Built-in attack" }, this.#presets.map((p) => h("option", { value: p.id }, p.title)));
    const line = h("input", { type: "text", "aria-label": "Line to inject", placeholder: "250 OK", autocomplete: "off" });
    const to = h("select", { "aria-label": "Inject towards" }, h("option", { value: "client" }, "to the client"), h("option", { value: "server" }, "to the server"));
    // The rarer moves fold away, so that on a phone the steps stay on the first screen; the fold stays as the learner left it.
    const more = h("details", { class: "more-moves", "data-key": "more-moves" }, h("summary", { "data-key": "more-moves-summary" }, "More moves: a built-in attack, an injected line"),
      h("div", { class: "row" }, h("label", {}, "As a built-in attack would: ", attacks), h("button", { type: "button", "data-key": "preset", onclick: () => this.decide("preset", attacks.value) }, "Apply")),
      h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); this.inject(to.value, `${line.value}\r\n`); } },
        h("label", {}, "Inject a line ", line), to, h("button", { type: "submit", "data-key": "inject" }, "Inject")));
    more.open = this.#moreMoves;
    more.addEventListener("toggle", () => { this.#moreMoves = more.open; });
    box.append(h("div", { class: "row" }, buttons), more);
    return box;
  }

  #whatIfPanel() {
    const setting = h("select", { "aria-label": "Setting to change" }, this.#fields.map((f) => h("option", { value: f.name }, fieldLabel(f))));
    const value = h("select", { "aria-label": "Its new value" });
    const fill = () => value.replaceChildren(...(this.#fields.find((f) => f.name === setting.value)?.options ?? []).map((o) => h("option", { value: o.id }, o.title)));
    setting.addEventListener("change", fill);
    fill();
    return h("details", { class: "live what-if", open: this.#whatIfOpen, ontoggle: (e) => { this.#whatIfOpen = e.target.open; } }, h("summary", { "data-key": "what-if" }, "What if…"),
      h("p", { class: "hint" }, "Change one setting and re-run this session from the same seed; the lab shows where the two runs part."),
      h("div", { class: "row" }, setting, value, h("button", { type: "button", "data-key": "fork", onclick: () => this.fork(setting.value, value.value) }, "Fork")));
  }

  /** Says what the element is waiting for (`null`: nothing), and marks the session busy meanwhile. */
  /** Marks the session busy, saying `what`, while `promise` (a page's own wait for the engine, say) runs; returns its value. */
  async whileBusy(what, promise) {
    this.#busy(what);
    try {
      return await promise;
    } finally {
      this.#busy(null);
    }
  }

  #busy(what) {
    const ui = this.#ui;
    if (!ui) return;
    ui.root.classList.toggle("busy", Boolean(what));
    if (what) ui.root.setAttribute("aria-busy", "true");
    else ui.root.removeAttribute("aria-busy");
    ui.busy.textContent = what ?? "";
    ui.busy.hidden = !what;
  }

  /** A session that cannot run: why, in the lab's words (the engine's), with the nearest valid value. */
  async #showError(e, text) {
    const ui = this.#ui;
    const problem = e?.name === "EngineUnavailable" ? null : await linkProblem(text);
    ui.error.replaceChildren(`This session can't run. ${problem?.message ?? e.message ?? e}`,
      problem?.suggestion ? ` Did you mean ${problem.suggestion}?` : "");
    ui.error.hidden = false;
    ui.root.classList.add("failed");
    if (!this.#lab) {
      ui.title.textContent = "No session to show";
      ui.desc.textContent = "";
    }
  }

  // ---- controls -------------------------------------------------------------

  /** Reveals one more step. */
  stepForward() { this.jumpTo(this.#cursor + 1); }
  /** Hides the last revealed step. */
  stepBack() { this.jumpTo(this.#cursor - 1); }
  /** Back to before the first step. */
  toStart() { this.jumpTo(0); }
  /** Reveals every step. */
  toEnd() { this.jumpTo(this.length); }

  /**
   * Shows the first `n` steps (clamped) and selects the last of them.
   * @param {number} n - How many steps to reveal.
   * @param {boolean} [announce=true] - Whether screen readers hear the selected step.
   */
  jumpTo(n, announce = true) {
    if (!this.#lab) return;
    const to = Math.max(0, Math.min(this.length, n));
    this.#lab.jumpTo(to);
    this.#cursor = this.#lab.cursor();
    this.#update(announce);
    this.#emitStep();
  }

  /** Steps forward on a timer, from the start if the session is shown to its end. */
  play() {
    if (this.#timer || !this.#lab) return;
    if (this.#cursor >= this.length) this.jumpTo(0);
    this.#timer = setInterval(() => {
      if (this.#cursor >= this.length) {
        this.pause();
        seen.forget(this);
      } else this.stepForward();
    }, this.#speed);
    this.#syncPlay();
  }

  /** Stops playing. */
  pause() {
    clearInterval(this.#timer);
    this.#timer = null;
    this.#syncPlay();
  }

  /** Plays or pauses. */
  toggle() { if (this.#timer) this.pause(); else this.play(); }

  /**
   * The element's keys, for a page that forwards its own keydowns: → / j / Page Down forward (a presenter's clicker sends Page Down), ← / k / Page Up back, Home, End, p (or Space off a button) play.
   * @param {KeyboardEvent} e - The key pressed.
   * @returns {boolean} Whether it was one of the element's keys.
   */
  handleKey(e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return false;
    const target = e.composedPath()[0]?.tagName;
    // Typing at the console or in Mallory's editor is typing, not stepping.
    if (["INPUT", "TEXTAREA", "SELECT"].includes(target)) return false;
    const onControl = ["BUTTON", "SUMMARY", "A"].includes(target);
    const actions = {
      ArrowRight: () => this.stepForward(), j: () => this.stepForward(), PageDown: () => this.stepForward(),
      ArrowLeft: () => this.stepBack(), k: () => this.stepBack(), PageUp: () => this.stepBack(),
      Home: () => this.toStart(), End: () => this.toEnd(), p: () => this.toggle(),
      " ": onControl ? null : () => this.toggle(),
    };
    const act = actions[e.key];
    if (!act) return false;
    e.preventDefault();
    this.#tookControls();
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
    // A control the reader uses stops autoplay for good.
    const btn = (label, title, keys, onclick, cls = "", key = null) =>
      h("button", { type: "button", class: cls, part: "button", title, "aria-keyshortcuts": keys, "data-key": key, onclick: () => { this.#tookControls(); onclick(); } }, label);
    ui.title = h("h2", { class: "title", part: "title" }, "An SMTP session");
    ui.desc = h("p", { class: "desc", part: "description" }, "It loads when it comes into view.");
    ui.verdicts = h("div", { class: "verdicts" });
    ui.pendingText = h("span", {});
    ui.pending = h("p", { class: "pending", hidden: true }, ui.pendingText,
      h("button", { type: "button", class: "link", "data-key": "reveal", onclick: () => { this.#revealed = true; this.#update(false); this.#ui.verdicts.querySelector(".verdict:not([hidden]) button")?.focus(); } }, "Show the outcome"));
    // Not a live region: the step that reaches an outcome announces it (ui.announce), once.
    ui.banner = h("div", { class: "banner", part: "banner" }, ui.pending, ui.verdicts);
    ui.busy = h("p", { class: "busy-note", role: "status", hidden: true });
    ui.error = h("p", { class: "error", role: "alert", hidden: true });
    ui.play = btn("▶ Play", "Play / pause (P)", "P", () => this.toggle(), "primary", "play");
    ui.play.setAttribute("aria-pressed", "false");
    ui.counter = h("span", { class: "counter", "aria-live": "off" }, "");
    ui.speed = h("select", { onchange: (e) => {
      this.#speed = Number(e.target.value);
      if (this.#timer) { this.pause(); this.play(); }
    } }, SPEEDS.map(([label, ms]) => h("option", { value: ms, selected: ms === this.#speed }, label)));
    ui.exportStatus = h("p", { class: "export-status", role: "status" });
    ui.mermaidBox = h("textarea", { class: "mermaid-text", readonly: true, rows: 8, "aria-label": "Mermaid diagram text", hidden: true });
    const exp = (label, fn) => h("button", { type: "button", onclick: fn }, label);
    // A session file (the JSON export) opens again, from the picker or dropped on the element.
    ui.filePick = h("input", { type: "file", accept: ".json,application/json", onchange: (e) => { const f = e.target.files?.[0]; if (f) this.#openFile(f); } });
    ui.exportMenu = h("details", { class: "export" },
      h("summary", {}, "Export"),
      h("div", { class: "export-items" },
        exp("Capture (.pcap)", () => this.#export("pcap")),
        exp("TLS key log", () => this.#export("keylog")),
        exp("JSON trace", () => this.#export("json")),
        exp("Transcript (.txt)", () => this.#export("text")),
        exp("Copy Mermaid", () => this.#export("mermaid")),
        exp("Print a handout", () => { this.#buildHandout(); globalThis.print?.(); }),
        h("label", { class: "file-pick" }, "Open a session file ", ui.filePick)),
      ui.exportStatus, ui.mermaidBox);
    ui.controls = h("div", { class: "controls", part: "controls", role: "toolbar", "aria-label": "Session controls" },
      btn("|◀ Start", "Back to the start (Home)", "Home", () => this.toStart(), "", "start"),
      btn("◀ Back", "One step back (←, K or Page Up)", "ArrowLeft K PageUp", () => this.stepBack(), "", "back"),
      ui.play,
      btn("Next ▶", "One step forward (→, J or Page Down)", "ArrowRight J PageDown", () => this.stepForward(), "", "next"),
      btn("End ▶|", "Jump to the end (End)", "End", () => this.toEnd(), "", "end"),
      h("label", { class: "speed" }, "Speed ", ui.speed),
      ui.counter);
    ui.lanes = h("div", { class: "lanes", part: "lanes", "aria-hidden": "true" });
    ui.seq = h("ol", { class: "seq", part: "steps", "aria-label": "Steps of the session" });
    // A compact element hides the description: before the first step its empty pane says what the session is.
    ui.hintDesc = h("span", { class: "hint-desc" });
    ui.hint = h("p", { class: "hint" }, "Nothing has crossed the wire yet. Press Next ▶ (or →) to start.", ui.hintDesc);
    // The handout: every step with its bytes and notes, printed in place of the interactive parts.
    ui.handout = h("section", { class: "handout", "aria-label": "Handout: every step of the session" });
    // Focusable: with a reserved height the panel scrolls, and a keyboard must be able to scroll it.
    ui.detail = h("section", { class: "detail", part: "detail", tabindex: "0", "aria-label": "Selected step" });
    ui.cli = h("p", { class: "cli", part: "command" });
    ui.reportSummary = h("summary");
    ui.reportJson = h("pre", { tabindex: "0" });
    // The report's source is a link, so it opens the details' body rather than sit in the summary.
    ui.reportSource = h("p", { class: "tlsrpt-source" });
    ui.report = h("details", { class: "tlsrpt", part: "report", hidden: true }, ui.reportSummary, ui.reportSource, ui.reportJson);
    ui.announce = h("p", { class: "sr-only", "aria-live": "polite" });
    ui.liveStatus = h("p", { class: "live-status", role: "status" });
    ui.live = h("div", { class: "live-panels" });
    // The toolbar comes before the banner, so the first Tab into the lab lands on the stepping controls.
    ui.root = h("section", { class: "lab", part: "base", "aria-label": "SMTP session" },
      h("header", { class: "lab-head" }, ui.title, ui.desc, ui.error, ui.busy),
      h("div", { class: "toolbar-row" }, ui.controls, ui.exportMenu),
      ui.banner,
      ui.live,
      h("div", { class: "stage" }, h("div", { class: "seq-wrap" }, ui.lanes, ui.hint, ui.seq), ui.detail),
      ui.report, ui.cli, ui.announce, ui.handout);
    this.shadowRoot.adoptedStyleSheets = [stylesheet()];
    this.shadowRoot.append(ui.root);
    this.shadowRoot.addEventListener("keydown", (e) => this.handleKey(e));
    ui.root.addEventListener("dragover", (e) => { if ([...(e.dataTransfer?.types ?? [])].includes("Files")) { e.preventDefault(); ui.root.classList.add("dropping"); } });
    ui.root.addEventListener("dragleave", () => ui.root.classList.remove("dropping"));
    ui.root.addEventListener("drop", (e) => {
      const f = e.dataTransfer?.files?.[0];
      ui.root.classList.remove("dropping");
      if (!f) return;
      e.preventDefault();
      this.#openFile(f);
    });
    this.#ui = ui;
  }

  #renderSession() {
    const ui = this.#ui;
    const heading = this.#lab.heading();
    ui.error.hidden = true;
    ui.root.classList.remove("failed");
    ui.title.textContent = heading.title;
    // The engine reads the report from the session; the page only shows it.
    ui.report.hidden = !heading.tlsrpt;
    ui.reportSummary.textContent = heading.tlsrpt?.summary ?? "";
    ui.reportSource.replaceChildren(h("span", {}, heading.tlsrpt?.source ?? ""));
    ui.reportJson.textContent = heading.tlsrpt?.json ?? "";
    // The engine names the columns: client, wire, server; or a journey's nodes and hops.
    ui.lanes.replaceChildren(...heading.lanes.map((lane) => h("span", { part: "lane" }, lane)));
    ui.root.classList.toggle("journey", heading.lanes.length > 4);
    ui.root.classList.toggle("senders", Boolean(heading.senders));
    ui.root.classList.toggle("attacked", Boolean(heading.attacked));
    ui.desc.replaceChildren(h("span", {}, heading.description));
    ui.hintDesc.textContent = heading.description;
    ui.cli.replaceChildren("Same session on the command line: ", h("code", {}, heading.command));
    // The engine marks each finding (attack worked, exposed, plain, safe); the page draws the mark.
    // Each is drawn hidden; #update shows those reached by the steps shown (or all, when revealed).
    ui.verdicts.replaceChildren(...this.#verdicts.map((v) => {
      const tone = TONE_CLASS[v.tone];
      const [bad, good] = [tone === TONE_CLASS.exposed, tone === TONE_CLASS.safe];
      return h("p", { class: `verdict ${tone}`, part: bad ? "verdict verdict-bad" : good ? "verdict verdict-good" : "verdict verdict-plain", "data-kind": v.kind, "data-tone": v.tone, "data-step": v.step, hidden: true },
        v.mark ? h("strong", {}, v.mark) : null,
        `${v.text} `,
        h("span", { class: "ahead" }, "(not reached yet) "),
        h("button", { type: "button", class: "link", onclick: () => { this.#tookControls(); this.jumpTo(v.step + 1); } }, `see step ${v.step + 1}`));
    }));
    ui.seq.replaceChildren(...this.#views.map((v, i) => this.#row(v, i)));
    this.#scheduleHandout();
  }

  #row(v, i) {
    const dir = v.direction ?? "none";
    const records = v.records.length ? h("span", { class: "records" }, v.records.map((r) => h("span", { class: `rec ${r.content_type} ${r.encrypted ? "enc" : "clear"}`, part: "record" }, r.label))) : null;
    // Read aloud: "3, Server to Client, changed by the attacker: 250-mail…". The
    // visible text stays part of the name, so voice control can click it too.
    const classes = ["step", `hop-${v.hop}`, `lane-${v.lane}`, `dir-${dir}`, `kind-${v.kind}`, v.encrypted ? "enc" : v.tls ? "tls-clear" : "clear", v.altered ? "altered" : ""].join(" ");
    return h("li", { class: classes, part: "step", "data-index": i },
      h("button", { type: "button", class: "row", onclick: () => { this.#tookControls(); this.jumpTo(i + 1); } },
        h("span", { class: "num" }, String(i + 1)),
        h("span", { class: "arrow", part: "arrow" },
          h("span", { class: "sr-only" }, v.spoken),
          v.tls_text ? h("span", { class: "tls-badge" }, "TLS") : null,
          h("span", { class: "label" }, v.label),
          records,
          v.attacker_acted ? h("span", { class: "mallory" }, "Mallory") : v.acted_by ? h("span", { class: "middlebox" }, v.acted_by) : null)));
  }

  #update(announce) {
    const ui = this.#ui;
    const rows = ui.seq.children;
    for (let i = 0; i < rows.length; i += 1) {
      rows[i].hidden = i >= this.#cursor;
      const current = i === this.#cursor - 1;
      rows[i].classList.toggle("current", current);
      rows[i].setAttribute("part", current ? "step step-current" : "step");
      if (current) rows[i].firstChild.setAttribute("aria-current", "step");
      else rows[i].firstChild.removeAttribute("aria-current");
    }
    const of = this.#lab.isFinished() ? `${this.length}` : `${this.length} so far`;
    ui.counter.textContent = this.#cursor === 0 ? `step 0 of ${of}: nothing shown yet` : `step ${this.#cursor} of ${of}`;
    ui.hint.hidden = this.#cursor > 0;
    // No spoilers: an outcome shows once the step it was read at is shown, unless the reader asked to see them all.
    const revealAll = this.#revealed || this.hasAttribute("reveal");
    let reached = 0;
    for (const v of ui.verdicts.children) {
      const isReached = Number(v.dataset.step) < this.#cursor;
      reached += isReached ? 1 : 0;
      v.hidden = !isReached && !revealAll;
      v.classList.toggle("reached", isReached);
    }
    const pending = this.#verdicts.length - reached;
    ui.pending.hidden = pending === 0 || revealAll;
    ui.pendingText.textContent = reached === 0
      ? (this.#lab.isFinished() || this.#cursor < this.length ? "No outcome yet: nothing decisive has happened in the steps shown. " : "No outcome yet. ")
      : `${pending} more outcome${pending === 1 ? "" : "s"} further on. `;
    const current = rows[this.#cursor - 1];
    if (current) this.#reveal(current);
    this.#renderDetail(this.#cursor - 1);
    if (announce && current) {
      // The step that reveals an outcome says so, to screen readers too.
      const found = this.#verdicts.filter((v) => v.step === this.#cursor - 1).map((v) => `Outcome: ${v.text}`);
      ui.announce.textContent = [`Step ${this.#cursor}: ${current.querySelector(".arrow").textContent}`, ...found].join(". ");
    }
  }

  /** Scrolls the list of steps (never the page: an embed must not move its host page) to show `row`. */
  #reveal(row) {
    const list = this.#ui.seq;
    const box = list.getBoundingClientRect();
    const at = row.getBoundingClientRect();
    if (at.bottom > box.bottom) list.scrollTop += at.bottom - box.bottom;
    else if (at.top < box.top) list.scrollTop -= box.top - at.top;
  }

  #renderDetail(i) {
    const ui = this.#ui;
    const v = this.#views[i];
    if (!v) {
      ui.detail.replaceChildren(h("h3", {}, "Before the first step"), h("p", {}, "Press Next ▶ (or →) to watch the session unfold, one delivery at a time."));
      return;
    }
    const head = h("h3", {}, `Step ${i + 1}`, h("span", { class: "sub" }, ` · ${v.from ? `${v.from} → ${v.to}` : v.kind} · ${v.time}`));
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
        h("h4", {}, b.title, h("span", { class: "sub" }, ` ${b.len} bytes`, b.note ? [" · ", b.note] : null)),
        shown === "text" ? bytesPre(b) : h("pre", { tabindex: "0", "data-shown": shown, "data-pending": pending }, b.hex ?? "Loading the engine for the hex dump…"));
    }));
    // Mallory's doing is named as hers; a firewall's says whose it is in its own words.
    const mallory = v.middlebox ? h("p", { class: "mallory-note" }, v.attacker_acted ? h("strong", {}, "Mallory: ") : null, v.middlebox) : null;
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
      // The section is a link, so it sits beside the summary, not inside it (no control inside a control).
      h("summary", {}, m.name),
      h("cite", { class: "tls-section" }, m.section),
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
              : [h("p", { class: "tls-header" }, r.type_hidden ? `hidden type: ${r.inside_type}` : `type: ${r.inside_type}, as the header says: TLS 1.2 does not hide it`), messages(r.inside), r.inside_text ? h("pre", { tabindex: "0" }, r.inside_text) : null]))
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

  /**
   * An export of the session as it stands (loads the engine if a recording is shown).
   * @param {"pcap" | "keylog" | "json" | "text" | "mermaid"} kind - The format.
   * @returns {Promise<Uint8Array | string>} The pcap's bytes, or the text.
   */
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

if (globalThis.customElements && !customElements.get("smtp-lab")) customElements.define("smtp-lab", SmtpLab);
