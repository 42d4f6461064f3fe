// A lesson as the engine recorded it at build time, behind the same methods
// the element calls on a live engine Lab (the read-only ones). The element
// swaps in the engine, at the same step, as soon as something needs it.
export class Recorded {
  #r;
  #cursor = 0;

  constructor(recording) { this.#r = recording; }

  get recordedLink() { return this.#r.link; }
  len() { return this.#r.views.length; }
  cursor() { return this.#cursor; }
  jumpTo(n) { this.#cursor = Math.max(0, Math.min(this.len(), n)); }
  views() { return this.#r.views; }
  notes() { return this.#r.notes; }
  tls() { return this.#r.tls; }
  verdicts() { return this.#r.verdicts; }
  heading() { return this.#r.heading; }
  drive() { return this.#r.drive; }
  isFinished() { return this.#r.finished; }
  /** The engine's link (Settings::to_link) with the step, as it writes it. */
  link(step) { return step === undefined || step === null ? this.#r.link : `${this.#r.link}&step=${step}`; }
  free() {}
}
