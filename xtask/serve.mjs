// Serves the built lab (target/www) on 127.0.0.1 with the page's
// Content-Security-Policy as a header and the wasm MIME type. Node's own
// http module: the tests need Node anyway. Usage: node serve.mjs DIR PORT CSP;
// prints the URL on its first line of output. With SERVE_LOG set, it writes
// the path of every file it serves to stderr. The CSP comes from xtask
// (www.rs), which stamps the same one into every page. SERVE_PREFIX
// (`/docs/lab/`) serves the folder under that path, as a documentation site
// would; SERVE_PRECOMPRESSED serves a file's `.br` or `.gz` neighbour to a
// browser that accepts it, as nginx's `brotli_static`/`gzip_static` do.
import { createServer } from "node:http";
import { access, readFile, stat } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";

const root = resolve(process.argv[2] ?? "target/www");
const port = Number(process.argv[3] ?? 0);
const CSP = process.argv[4];
if (!CSP) throw new Error("usage: node serve.mjs DIR PORT CSP");
const PREFIX = process.env.SERVE_PREFIX ?? "/";
const exists = (p) => access(p).then(() => true, () => false);
const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm", ".json": "application/json", ".png": "image/png", ".svg": "image/svg+xml",
};

const server = createServer(async (req, res) => {
  const headers = {
    "Content-Security-Policy": CSP, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff",
    // The embed script may be loaded by documentation sites on other origins.
    "Access-Control-Allow-Origin": "*",
  };
  try {
    const url = new URL(req.url, "http://x").pathname;
    if (!url.startsWith(PREFIX)) throw new Error("outside the prefix");
    let path = normalize(join(root, decodeURIComponent(url.slice(PREFIX.length - 1))));
    if (path !== root && !path.startsWith(root + sep)) throw new Error("outside the root");
    if ((await stat(path)).isDirectory()) path = join(path, "index.html");
    const accepts = req.headers["accept-encoding"] ?? "";
    let encoding = null;
    if (process.env.SERVE_PRECOMPRESSED) {
      if (/\bbr\b/.test(accepts) && (await exists(`${path}.br`))) encoding = "br";
      else if (/\bgzip\b/.test(accepts) && (await exists(`${path}.gz`))) encoding = "gzip";
    }
    const body = await readFile(encoding ? `${path}.${encoding === "br" ? "br" : "gz"}` : path);
    if (encoding) headers["Content-Encoding"] = encoding;
    res.writeHead(200, { ...headers, "Content-Type": TYPES[extname(path)] ?? "application/octet-stream", "Content-Length": body.length, Vary: "Accept-Encoding" });
    res.end(req.method === "HEAD" ? undefined : body);
    // The budget check counts what a visit really downloads, service worker included.
    if (process.env.SERVE_LOG && req.method === "GET") process.stderr.write(`served ${path.slice(root.length) || "/"}${encoding ? ` (${encoding})` : ""}\n`);
  } catch {
    res.writeHead(404, { ...headers, "Content-Type": "text/plain" });
    res.end("not found\n");
  }
});
server.listen(port, "127.0.0.1", () => console.log(`http://127.0.0.1:${server.address().port}/`));
