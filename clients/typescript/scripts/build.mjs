#!/usr/bin/env node
/**
 * dist/: the package's two entry points, built from src/ each time (never committed).
 *
 *   dist/esm/   ES modules and their declarations (`import`)
 *   dist/cjs/   CommonJS and its declarations (`require`), marked by dist/cjs/package.json
 */
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const TSC = join(PACKAGE, "node_modules/typescript/bin/tsc");

rmSync(join(PACKAGE, "dist"), { recursive: true, force: true });
for (const project of ["tsconfig.json", "tsconfig.cjs.json"]) {
  const result = spawnSync(process.execPath, [TSC, "-p", project], { cwd: PACKAGE, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
// The package is "type": "module"; this marks the CommonJS build's .js and .d.ts as CommonJS.
writeFileSync(join(PACKAGE, "dist/cjs/package.json"), `${JSON.stringify({ type: "commonjs" })}\n`);
