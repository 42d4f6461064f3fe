// Byte views for the detail panel: text with visible line endings, and hex.

/** The bytes of a base64 string from the trace (empty for null). */
export function bytes(b64) {
  if (!b64) return new Uint8Array();
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i += 1) out[i] = bin.charCodeAt(i);
  return out;
}

const DECODER = new TextDecoder("utf-8", { fatal: false });

/** Whether the bytes read as text (printable, tabs and line endings). */
export function isText(b) {
  for (const x of b) if ((x < 0x20 && x !== 9 && x !== 10 && x !== 13) || x === 0x7f) return false;
  return true;
}

/** Text with CR and LF written out as \r and \n, so a bare LF stands out. */
export function textView(b) {
  return DECODER.decode(b).replace(/\r/g, "\\r").replace(/\n/g, "\\n\n");
}

/** Classic hex dump: offset, 16 bytes, ASCII. */
export function hexView(b, limit = 4096) {
  const lines = [];
  const n = Math.min(b.length, limit);
  for (let i = 0; i < n; i += 16) {
    const row = b.subarray(i, Math.min(i + 16, n));
    const hex = Array.from(row, (x) => x.toString(16).padStart(2, "0")).join(" ");
    const ascii = Array.from(row, (x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : ".")).join("");
    lines.push(`${i.toString(16).padStart(6, "0")}  ${hex.padEnd(47)}  ${ascii}`);
  }
  if (b.length > limit) lines.push(`… ${b.length - limit} more bytes`);
  return lines.join("\n");
}

/** A short label for a segment: its first line, and how many more. */
export function summary(b) {
  if (!b.length) return "";
  if (!isText(b)) return `${b.length} bytes`;
  const lines = DECODER.decode(b).split(/\r?\n/).filter((l, i, all) => l !== "" || i < all.length - 1);
  const first = lines[0].length > 72 ? `${lines[0].slice(0, 71)}…` : lines[0];
  return lines.length > 1 ? `${first}  (+${lines.length - 1} lines)` : first;
}

const brief = (v) => (typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)).slice(0, 120);

/** One line for an event from either state machine. */
export function describeEvent({ event: ev }) {
  const tls = ev.under_tls ? " inside TLS" : "";
  const reply = (r) => `${r.code} ${r.lines[0] ?? ""}`;
  switch (ev.type) {
    case "command_sent": return `sent ${ev.command.verb}${tls}`;
    case "command_received": return `received ${ev.command.verb}${tls}`;
    case "reply_sent": return `replied ${reply(ev.reply)}`;
    case "reply_received": return `read reply ${reply(ev.reply)}${tls}`;
    case "capabilities_learned": return `learned the extensions: ${ev.capabilities.extensions.map((x) => x.keyword).join(", ") || "none"}`;
    case "tls_established": {
      const c = ev.info.cert_check;
      const cert = c ? (c.valid ? ", certificate valid" : `, certificate NOT valid (${c.error})`) : "";
      return `TLS established: ${ev.info.version}, ${ev.info.cipher}${cert}`;
    }
    case "message_accepted": return `accepted the message (${ev.queue_id}) from <${ev.envelope.from}>`;
    default: {
      const rest = Object.entries(ev).filter(([k]) => k !== "type").map(([k, v]) => `${k}: ${brief(v)}`);
      return `${ev.type.replace(/_/g, " ")}${rest.length ? ` (${rest.join(", ")})` : ""}`;
    }
  }
}
