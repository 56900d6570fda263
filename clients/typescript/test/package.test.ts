/**
 * What a frontend does with the package: `npm install` of the tarball `make client-pack` builds
 * (wemoov-api-client-<version>.tgz), in a project of its own in a temporary directory, far from
 * this checkout; then `tsc --strict` and Node run a consumer as an ES module and as CommonJS,
 * against a stand-in API on 127.0.0.1. The project's packages (openapi-fetch, typescript) come
 * from the npm registry (or npm's cache), never from this package's node_modules.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

import { PACKAGE, ROOT } from "./backend.js";
import { json, paymentBody, standIn } from "./standin.js";

const run = promisify(execFile);
const manifest = JSON.parse(readFileSync(join(PACKAGE, "package.json"), "utf8")) as {
  version: string;
  devDependencies: Record<string, string>;
  dependencies: Record<string, string>;
};
const DOCUMENT_VERSION = (JSON.parse(readFileSync(join(ROOT, "docs/openapi.json"), "utf8")) as { info: { version: string } }).info
  .version;

function sh(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: "utf8" });
  assert.equal(result.status, 0, `${command} ${args.join(" ")}:\n${result.error ?? ""}${result.stdout}${result.stderr}`);
  return result.stdout;
}

function assertBuilt(): void {
  for (const source of readdirSync(join(PACKAGE, "src")).filter((name) => name.endsWith(".ts"))) {
    for (const build of ["esm", "cjs"]) {
      const output = join(PACKAGE, "dist", build, source.replace(/\.ts$/, ".js"));
      assert.ok(
        existsSync(output) && statSync(output).mtimeMs >= statSync(join(PACKAGE, "src", source)).mtimeMs,
        `${output} is missing or older than src/${source}: run \`npm run build\` (npm test does)`,
      );
    }
  }
}

// The same program in both module systems: NodeNext compiles a .mts to an ES module and a .cts
// to CommonJS, whose import of the package becomes a require().
const consumer = (baseUrl: string) => `
import { createPayment, createWemoovClient, paginate, WemoovApiError, type Schemas } from "@wemoov/api-client";

async function main(): Promise<void> {
  const api = createWemoovClient({ baseUrl: ${JSON.stringify(baseUrl)} });
  const login = await api.POST("/api/auth/token/", { body: { email: "ama@example.com", password: "secret" } });
  if (login.status !== 200) throw new Error("login: " + login.status);
  api.setToken(login.data.token);

  const ids: number[] = [];
  for await (const booking of paginate(api, "/api/bookings/", { params: { query: { page_size: 2 } } })) {
    const row: Schemas["Booking"] = booking;
    ids.push(row.id);
  }

  const paid = await createPayment(api, { booking: ids[0] ?? 0, method: "mobile_money" }, { idempotencyKey: "order-1" });
  let outcome: string;
  switch (paid.status) {
    case 201:
      outcome = "paid " + paid.data.amount + " replayed=" + paid.response.headers.get("Idempotent-Replayed");
      break;
    case 409:
      outcome = "conflict " + paid.error.code;
      break;
    default:
      outcome = "status " + paid.status;
  }
  console.log(JSON.stringify({ ids, outcome, apiError: typeof WemoovApiError }));
}

export async function refused(api: ReturnType<typeof createWemoovClient>): Promise<void> {
  const paid = await api.POST("/api/payments/", { body: { booking: 1, method: "cash" } });
  // @ts-expect-error POST /api/payments/ never answers 418
  if (paid.response.status === 418) return;
  // @ts-expect-error a 409 of POST /api/payments/ never says "throttled"
  if (paid.status === 409 && paid.error.code === "throttled") return;
  // @ts-expect-error a driver registers with a licence number
  await api.POST("/api/auth/register/", { body: { email: "k@e.c", password: "p", first_name: "K", last_name: "Y", role: "driver" } });
}

void main();
`;

test("the tarball installs into a project of its own and works there with its types, as ESM and as CommonJS", async () => {
  const scratch = mkdtempSync(join(tmpdir(), "wemoov-package-"));
  let page = 0;
  const api = await standIn((request, response) => {
    if (request.url === "/api/auth/token/") return json(response, 200, { token: "t-1", expiry: "2030-01-01T00:00:00Z" });
    if (request.headers.authorization !== "Token t-1") return json(response, 401, { detail: "No.", code: "not_authenticated" });
    if (request.url.startsWith("/api/bookings/")) {
      page += 1;
      const first = !request.url.includes("cursor=");
      return json(response, 200, {
        next: first ? `${api.baseUrl}/api/bookings/?cursor=c2&page_size=2` : null,
        previous: null,
        results: first ? [{ id: 9 }, { id: 8 }] : [{ id: 7 }],
      });
    }
    if (request.headers["idempotency-key"] !== "order-1") return json(response, 400, { "Idempotency-Key": ["Not the one given."] });
    return json(response, 201, paymentBody(1, 9, "mobile_money"));
  });
  try {
    // The tarball, as `make client-pack` builds it, of the dist/ that `npm test` has just built
    // (the build is not repeated here: it is checked to be newer than every source).
    assertBuilt();
    const packed = JSON.parse(sh("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", scratch], PACKAGE)) as {
      filename: string;
      files: { path: string }[];
    }[];
    const tarball = join(scratch, packed[0]!.filename);
    assert.equal(packed[0]!.filename, `wemoov-api-client-${DOCUMENT_VERSION}.tgz`);
    const files = packed[0]!.files.map((file) => file.path);
    for (const file of ["dist/esm/index.js", "dist/esm/index.d.ts", "dist/cjs/index.js", "dist/cjs/index.d.ts", "dist/cjs/package.json", "README.md", "CHANGELOG.md"]) {
      assert.ok(files.includes(file), `${file} is not in the tarball: ${files.join(", ")}`);
    }
    assert.deepEqual(
      files.filter((file) => file.startsWith("src/") || file.startsWith("test/")),
      [],
    );

    const frontend = join(scratch, "frontend");
    sh("mkdir", [frontend], scratch);
    writeFileSync(join(frontend, "package.json"), JSON.stringify({ name: "frontend", version: "0.0.0", private: true }));
    const install = spawnSync(
      "npm",
      ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball, `typescript@${manifest.devDependencies.typescript}`],
      { cwd: frontend, encoding: "utf8" },
    );
    assert.equal(install.status, 0, `${install.stdout}${install.stderr}`);
    assert.doesNotMatch(install.stderr, /npm warn/i, install.stderr);

    // A copy of the package, and its dependency, inside the project: nothing reaches back here.
    const installed = join(frontend, "node_modules/@wemoov/api-client");
    assert.ok(!lstatSync(installed).isSymbolicLink(), "the package is a symlink");
    const installedManifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as Record<string, unknown>;
    assert.equal(installedManifest.version, DOCUMENT_VERSION);
    assert.equal(installedManifest.private, undefined);
    assert.deepEqual(installedManifest.dependencies, manifest.dependencies);
    assert.equal((installedManifest.scripts as Record<string, string>).prepare, undefined);
    const resolved = (system: "require" | "import", specifier: string, from = frontend) =>
      realpathSync(
        sh(
          process.execPath,
          system === "require"
            ? ["-p", `require.resolve(${JSON.stringify(specifier)}, { paths: [${JSON.stringify(from)}] })`]
            : ["--input-type=module", "-e", `console.log(new URL(import.meta.resolve(${JSON.stringify(specifier)})).pathname)`],
          from,
        ).trim(),
      );
    assert.equal(resolved("import", "@wemoov/api-client"), join(realpathSync(installed), "dist/esm/index.js"));
    assert.equal(resolved("require", "@wemoov/api-client"), join(realpathSync(installed), "dist/cjs/index.js"));
    assert.equal(resolved("require", "openapi-fetch", installed), realpathSync(join(frontend, "node_modules/openapi-fetch/dist/index.cjs")));
    assert.ok(!existsSync(join(installed, "node_modules")), "the package brought a node_modules of its own");

    writeFileSync(join(frontend, "esm.mts"), consumer(api.baseUrl));
    writeFileSync(join(frontend, "cjs.cts"), consumer(api.baseUrl));
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
          outDir: "out",
        },
        files: ["esm.mts", "cjs.cts"],
      }),
    );
    sh(process.execPath, [join(frontend, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], frontend);
    assert.match(readFileSync(join(frontend, "out/cjs.cjs"), "utf8"), /require\("@wemoov\/api-client"\)/);
    assert.match(readFileSync(join(frontend, "out/esm.mjs"), "utf8"), /from "@wemoov\/api-client"/);

    const expected = { ids: [9, 8, 7], outcome: "paid 1250.00 replayed=null", apiError: "function" };
    for (const program of ["out/esm.mjs", "out/cjs.cjs"]) {
      const { stdout } = await run(process.execPath, [program], { cwd: frontend });
      assert.deepEqual(JSON.parse(stdout), expected, program);
    }
    assert.equal(page, 4, "each program read both pages");
    assert.ok(api.received.every((request) => request.url === "/api/auth/token/" || request.headers.authorization === "Token t-1"));
  } finally {
    await api.close();
    rmSync(scratch, { recursive: true, force: true });
  }
});
