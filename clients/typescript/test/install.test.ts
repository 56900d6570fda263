/**
 * What a frontend does: `npm install <this package's path>`, then import it, with its types, from
 * a TypeScript project of its own.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { PACKAGE } from "./backend.js";

const FRONTEND_CODE = `
import { createWemoovClient, type Schemas } from "@wemoov/api-client";

const api = createWemoovClient({ baseUrl: "https://api.wemoov.example", token: "a-token" });

export async function statusOf(id: number): Promise<Schemas["Booking"]["status"] | undefined> {
  const { data } = await api.GET("/api/bookings/{id}/", { params: { path: { id } } });
  return data?.status;
}

export async function pay(booking: number, key: string): Promise<string | undefined> {
  const { data, error } = await api.POST("/api/payments/", {
    body: { booking, method: "mobile_money" },
    params: { header: { "Idempotency-Key": key } },
  });
  if (error && "code" in error && error.code === "already_paid") return "paid already";
  return data?.amount;
}

export async function refusedByTheTypes(): Promise<void> {
  // @ts-expect-error the path parameter is missing
  await api.GET("/api/bookings/{id}/");
}
`;

function run(command: string, args: string[], cwd: string) {
  const result = spawnSync(command, args, { cwd, encoding: "utf8" });
  assert.equal(result.status, 0, `${command} ${args.join(" ")}:\n${result.error ?? ""}${result.stdout}${result.stderr}`);
  return result.stdout;
}

test("a frontend installs the package from its path and uses it with its types", () => {
  const frontend = mkdtempSync(join(tmpdir(), "wemoov-frontend-"));
  try {
    writeFileSync(join(frontend, "package.json"), JSON.stringify({ name: "frontend", private: true, type: "module" }));
    run("npm", ["install", "--no-audit", "--no-fund", PACKAGE], frontend);

    writeFileSync(join(frontend, "main.ts"), FRONTEND_CODE);
    writeFileSync(
      join(frontend, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          lib: ["ES2022", "DOM"],
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          types: [],
          noEmit: true,
        },
        files: ["main.ts"],
      }),
    );
    run(process.execPath, [join(PACKAGE, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], frontend);

    const loaded = run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { createWemoovClient } = await import("@wemoov/api-client");
         const api = createWemoovClient({ baseUrl: "http://127.0.0.1:9", token: "t" });
         console.log(typeof createWemoovClient, ["GET", "POST", "PATCH", "DELETE"].every((m) => typeof api[m] === "function"));`,
      ],
      frontend,
    );
    assert.equal(loaded.trim(), "function true");
  } finally {
    rmSync(frontend, { recursive: true, force: true });
  }
});
