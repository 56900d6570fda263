/**
 * The CI check (scripts/schema.mjs check) really fails when a serializer changes without
 * `make schema`, and regenerating shows the change in the diff of docs/openapi.json and of the
 * types; it also fails on a body the types cannot describe. Run on copies of this checkout.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { test } from "node:test";

import { PACKAGE, ROOT } from "./backend.js";

const SERIALIZERS = "bookings/serializers.py";
const RATING = /^(\s+)rating = StrictIntegerField\(min_value=1, max_value=5\)$/m;
const SKIPPED = new Set([".git", ".venv", "node_modules", ".build", "dist", "__pycache__", "staticfiles", ".pytest_cache", ".ruff_cache", "out"]);

function copyOfCheckout(): string {
  const copy = mkdtempSync(join(tmpdir(), "wemoov-drift-"));
  cpSync(ROOT, copy, {
    recursive: true,
    filter: (source) => !SKIPPED.has(basename(source)) && !basename(source).startsWith("db.sqlite3"),
  });
  return copy;
}

function schemaScript(command: "check" | "write", root: string) {
  const result = spawnSync(process.execPath, [join(PACKAGE, "scripts/schema.mjs"), command, "--root", root], {
    encoding: "utf8",
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function editSerializer(root: string, replacement: string): void {
  const path = join(root, SERIALIZERS);
  const source = readFileSync(path, "utf8");
  assert.match(source, RATING, `${SERIALIZERS} no longer declares the rating field this test edits`);
  writeFileSync(path, source.replace(RATING, `$1${replacement}`));
}

function diff(before: string, after: string): string {
  return spawnSync("diff", ["-u", before, after], { encoding: "utf8" }).stdout;
}

test("a serializer field renamed without `make schema` fails the check; regenerating shows it", () => {
  const copy = copyOfCheckout();
  try {
    editSerializer(copy, "stars = StrictIntegerField(min_value=1, max_value=5)");
    // And a package version that is not the document's.
    const manifestPath = join(copy, "clients/typescript/package.json");
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { version: string };
    const version = manifest.version;
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, version: "0.0.1" }, null, 2));

    const stale = schemaScript("check", copy);
    assert.equal(stale.status, 1, stale.output);
    assert.match(stale.output, /docs\/openapi\.json differs from what the code produces/);
    assert.match(stale.output, /clients\/typescript\/src\/schema\.ts differs from what the code produces/);
    assert.match(stale.output, new RegExp(`package\\.json says version 0\\.0\\.1, and docs/openapi\\.json says ${version.replaceAll(".", "\\.")}`));
    assert.match(stale.output, /Run `make schema`/);

    const written = schemaScript("write", copy);
    assert.equal(written.status, 0, written.output);
    const fresh = schemaScript("check", copy);
    assert.equal(fresh.status, 0, fresh.output);
    assert.equal((JSON.parse(readFileSync(manifestPath, "utf8")) as { version: string }).version, version);

    const documentDiff = diff(join(ROOT, "docs/openapi.json"), join(copy, "docs/openapi.json"));
    assert.match(documentDiff, /^-\s+"rating": \{$/m);
    assert.match(documentDiff, /^\+\s+"stars": \{$/m);
    const typesDiff = diff(join(ROOT, "clients/typescript/src/schema.ts"), join(copy, "clients/typescript/src/schema.ts"));
    assert.match(typesDiff, /^-\s+rating: number;$/m);
    assert.match(typesDiff, /^\+\s+stars: number;$/m);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});

test("a body the types cannot describe fails the check even when regenerated", () => {
  const copy = copyOfCheckout();
  try {
    editSerializer(copy, "rating = serializers.JSONField()");
    const written = schemaScript("write", copy);
    assert.equal(written.status, 0, written.output);

    const checked = schemaScript("check", copy);
    assert.equal(checked.status, 1, checked.output);
    assert.match(checked.output, /1 untyped or unknown bodies/);
    assert.match(checked.output, /POST \/api\/bookings\/\{id\}\/rate\/ request -> BookingRateRequest\.rating: unknown/);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});
