/** The backend checkout these tests run against, and its Python. */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "manage.py"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("no manage.py above the client's tests: run them from a backend checkout");
    dir = parent;
  }
  return dir;
}

export const ROOT = findRoot();
export const PACKAGE = join(ROOT, "clients/typescript");
export const PYTHON = process.env.WEMOOV_PYTHON ?? resolve(ROOT, ".venv/bin/python");
