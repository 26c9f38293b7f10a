// After `vite build`: a gzip twin of every text file in dist/, which the server sends to
// browsers that accept gzip (src/http/client.rs), so nothing is compressed per request.
// It also prints what `/` loads before the editor or the session room, gzipped.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";

const dist = new URL("./dist/", import.meta.url).pathname;
const TEXT = /\.(html|js|css|svg|json|webmanifest|txt)$/;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield path;
  }
}

const sizes = new Map();
for (const path of files(dist)) {
  if (!TEXT.test(path)) continue;
  const gz = gzipSync(readFileSync(path), { level: 9 });
  writeFileSync(`${path}.gz`, gz);
  sizes.set(relative(dist, path), gz.length);
}

// What index.html pulls in directly (its script, stylesheet and their static imports).
const index = readFileSync(join(dist, "index.html"), "utf8");
const first = ["index.html", ...[...index.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1])];
const total = first.reduce((sum, name) => sum + (sizes.get(name) ?? 0), 0);
console.log(`first load of /: ${(total / 1024).toFixed(1)} KiB gzipped (${first.join(", ")})`);
