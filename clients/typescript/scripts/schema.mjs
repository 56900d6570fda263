#!/usr/bin/env node
/**
 * docs/openapi.json and src/schema.ts: generated from the code, and checked in CI.
 *
 *   node scripts/schema.mjs write [--root DIR]   regenerate both (this is what `make schema` runs),
 *                                                and set the package's version to the document's
 *   node scripts/schema.mjs check [--root DIR]   fail when either differs from what the code
 *                                                produces, when a body of the API is untyped, or
 *                                                when the package's version is not the document's
 *
 * The package's version (package.json, package-lock.json) is the OpenAPI document's
 * `info.version`, which SPECTACULAR_SETTINGS["VERSION"] in wemoov/settings.py sets.
 *
 * DIR is a checkout of the backend (default: the one this package sits in). The Python that runs
 * `manage.py spectacular` is $WEMOOV_PYTHON, else DIR/.venv/bin/python, else the .venv of the
 * checkout this package sits in, else python3. openapi-typescript is this package's own.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OPENAPI = "docs/openapi.json";
const TYPES = "clients/typescript/src/schema.ts";
const MANIFESTS = ["clients/typescript/package.json", "clients/typescript/package-lock.json"];
const FIX =
  "Run `make schema` and commit docs/openapi.json, clients/typescript/src/schema.ts and the package's version " +
  "(clients/typescript/package.json, package-lock.json).";

// The endpoints of the contract (docs/api.md), and whether each takes a JSON body. Each must be in
// the generated types; every request and response body of every operation must be typed.
const CONTRACT = [
  ["post", "/api/auth/register/", true],
  ["post", "/api/auth/token/", true],
  ["post", "/api/auth/logout/", false],
  ["get", "/api/users/me/", false],
  ["patch", "/api/users/me/", true],
  ["get", "/api/users/", false],
  ["get", "/api/users/{id}/", false],
  ["patch", "/api/users/{id}/", true],
  ["get", "/api/drivers/", false],
  ["get", "/api/drivers/{id}/", false],
  ["get", "/api/drivers/me/", false],
  ["patch", "/api/drivers/me/", true],
  ["get", "/api/vehicles/", false],
  ["post", "/api/vehicles/", true],
  ["get", "/api/vehicles/{id}/", false],
  ["patch", "/api/vehicles/{id}/", true],
  ["delete", "/api/vehicles/{id}/", false],
  ["get", "/api/bookings/", false],
  ["post", "/api/bookings/", true],
  ["get", "/api/bookings/{id}/", false],
  ["post", "/api/bookings/{id}/accept/", false],
  ["post", "/api/bookings/{id}/assign/", true],
  ["post", "/api/bookings/{id}/start/", false],
  ["post", "/api/bookings/{id}/complete/", false],
  ["post", "/api/bookings/{id}/cancel/", true],
  ["post", "/api/bookings/{id}/rate/", true],
  ["get", "/api/payments/", false],
  ["post", "/api/payments/", true],
  ["get", "/api/payments/{id}/", false],
  ["post", "/api/payments/{id}/confirm/", false],
  ["post", "/api/payments/{id}/fail/", false],
  ["post", "/api/payments/{id}/refund/", false],
  ["get", "/api/stats/dashboard/", false],
  ["get", "/api/stats/revenue/", false],
  ["post", "/api/stats/refresh/", false],
  ["get", "/health/", false],
];

function fail(message) {
  console.error(message);
  process.exit(2);
}

function pythonFor(root) {
  const candidates = [process.env.WEMOOV_PYTHON, join(root, ".venv/bin/python"), join(PACKAGE, "../../.venv/bin/python")];
  return candidates.find((path) => path && existsSync(path)) ?? "python3";
}

function run(command, args, options) {
  const result = spawnSync(command, args, { encoding: "utf8", ...options });
  if (result.status !== 0) {
    fail(`${command} ${args.join(" ")} failed (${result.error ?? `exit ${result.status}`}):\n${result.stdout}${result.stderr}`);
  }
}

/** Write the OpenAPI document of the code in `root` to `jsonOut`, and its types to `tsOut`. */
function generate(root, jsonOut, tsOut) {
  // The product settings, whatever the shell says; DEBUG=1 only so that they need no
  // SECRET_KEY (the document depends on neither).
  run(pythonFor(root), ["manage.py", "spectacular", "--format", "openapi-json", "--file", jsonOut], {
    cwd: root,
    env: { ...process.env, DJANGO_SETTINGS_MODULE: "wemoov.settings", DEBUG: "1" },
  });
  const cli = join(PACKAGE, "node_modules/openapi-typescript/bin/cli.js");
  if (!existsSync(cli)) fail(`openapi-typescript is not installed: run \`npm ci\` in ${PACKAGE}`);
  // A field with a default is optional in a request body: keep it optional in the types too.
  run(process.execPath, [cli, jsonOut, "--default-non-nullable", "false", "--output", tsOut], { cwd: PACKAGE });
}

// --- The package's version ----------------------------------------------------------------------
function documentVersion(root) {
  return JSON.parse(readFileSync(join(root, OPENAPI), "utf8")).info.version;
}

/** Where a manifest's version is not `version`: `[file, its version]`. */
function versionMismatches(root, version) {
  return MANIFESTS.map((file) => [file, JSON.parse(readFileSync(join(root, file), "utf8"))])
    .filter(([, manifest]) => manifest.version !== version || (manifest.packages?.[""] && manifest.packages[""].version !== version))
    .map(([file, manifest]) => [file, manifest.version]);
}

function writeVersion(root, version) {
  for (const file of MANIFESTS) {
    const manifest = JSON.parse(readFileSync(join(root, file), "utf8"));
    manifest.version = version;
    if (manifest.packages?.[""]) manifest.packages[""].version = version;
    writeFileSync(join(root, file), `${JSON.stringify(manifest, null, 2)}\n`);
  }
}

function diff(committedPath, freshPath) {
  const result = spawnSync("diff", ["-u", committedPath, freshPath], { encoding: "utf8" });
  const lines = (result.stdout || "").split("\n");
  return lines.slice(0, 80).join("\n") + (lines.length > 80 ? `\n... (${lines.length - 80} more lines)` : "");
}

// --- Untyped bodies ----------------------------------------------------------------------------
function nameOf(node) {
  return node && (ts.isIdentifier(node) || ts.isStringLiteral(node) || ts.isNumericLiteral(node)) ? node.text : undefined;
}

function membersOf(node) {
  if (!node) return [];
  if (ts.isInterfaceDeclaration(node) || ts.isTypeLiteralNode(node)) return node.members;
  if (ts.isTypeAliasDeclaration(node)) return membersOf(node.type);
  return [];
}

function memberOf(node, name) {
  return membersOf(node).find((member) => nameOf(member.name) === name);
}

const isNever = (node) => !node || node.kind === ts.SyntaxKind.NeverKeyword;

/** Where, inside the bodies of the generated file, a type says nothing: `unknown`, `any`,
 * `object`, `never` (`Record<string, never>` is how openapi-typescript writes an empty object),
 * or a type this walk does not know. Component references are followed. */
function untypedBodies(source) {
  const file = ts.createSourceFile("schema.ts", source, ts.ScriptTarget.Latest, true);
  const top = new Map(
    file.statements
      .filter((node) => ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node))
      .map((node) => [node.name.text, node]),
  );
  const schemas = memberOf(top.get("components"), "schemas")?.type;
  const operations = top.get("operations");
  const problems = [];
  let bodies = 0;

  function walk(node, where, seen) {
    if (ts.isParenthesizedTypeNode(node) || ts.isTypeOperatorNode(node)) return walk(node.type, where, seen);
    if (ts.isArrayTypeNode(node)) return walk(node.elementType, where, seen);
    if (ts.isUnionTypeNode(node) || ts.isIntersectionTypeNode(node) || ts.isTupleTypeNode(node)) {
      for (const part of ts.isTupleTypeNode(node) ? node.elements : node.types) walk(part, where, seen);
      return;
    }
    if (ts.isLiteralTypeNode(node)) return;
    switch (node.kind) {
      case ts.SyntaxKind.StringKeyword:
      case ts.SyntaxKind.NumberKeyword:
      case ts.SyntaxKind.BooleanKeyword:
        return;
      case ts.SyntaxKind.UnknownKeyword:
      case ts.SyntaxKind.AnyKeyword:
      case ts.SyntaxKind.ObjectKeyword:
      case ts.SyntaxKind.NeverKeyword:
        problems.push(`${where}: ${node.getText(file)}`);
        return;
    }
    if (ts.isTypeLiteralNode(node)) {
      if (node.members.length === 0) problems.push(`${where}: {} (an object of nothing)`);
      for (const member of node.members) {
        const label = ts.isIndexSignatureDeclaration(member) ? "[key]" : nameOf(member.name);
        if (!member.type) problems.push(`${where}.${label}: no type`);
        else walk(member.type, `${where}.${label}`, seen);
      }
      return;
    }
    if (ts.isIndexedAccessTypeNode(node) && node.objectType.getText(file) === 'components["schemas"]') {
      const name = ts.isLiteralTypeNode(node.indexType) ? nameOf(node.indexType.literal) : undefined;
      const schema = memberOf(schemas, name);
      if (!schema?.type) problems.push(`${where}: ${node.getText(file)} is not defined`);
      else if (!seen.has(name)) walk(schema.type, `${where} -> ${name}`, new Set([...seen, name]));
      return;
    }
    // Record<string, never>, any other generic or reference: nothing a client can rely on.
    problems.push(`${where}: ${node.getText(file)}`);
  }

  function body(container, where) {
    const content = memberOf(container, "content")?.type;
    const json = memberOf(content, "application/json")?.type;
    if (!json) {
      problems.push(`${where}: no application/json body`);
      return;
    }
    bodies += 1;
    walk(json, where, new Set());
  }

  function checkOperation(operation, label, expectsBody) {
    const requestBody = memberOf(operation, "requestBody")?.type;
    if (!isNever(requestBody)) body(requestBody, `${label} request`);
    else if (expectsBody) problems.push(`${label} request: no body`);
    const responses = membersOf(memberOf(operation, "responses")?.type);
    if (!responses.some((response) => /^2\d\d$/.test(nameOf(response.name)))) {
      problems.push(`${label}: no success response`);
    }
    for (const response of responses) {
      const status = nameOf(response.name);
      if (status === "204") {
        if (!isNever(memberOf(response.type, "content")?.type)) problems.push(`${label} 204: a body on No Content`);
      } else {
        body(response.type, `${label} ${status}`);
      }
    }
  }

  function operationAt(path, method) {
    const type = memberOf(memberOf(top.get("paths"), path)?.type, method)?.type;
    if (isNever(type)) return undefined;
    if (ts.isIndexedAccessTypeNode(type) && ts.isLiteralTypeNode(type.indexType)) {
      return { name: nameOf(type.indexType.literal), node: memberOf(operations, nameOf(type.indexType.literal))?.type };
    }
    return { name: `${method} ${path}`, node: type };
  }

  const checked = new Set();
  for (const [method, path, expectsBody] of CONTRACT) {
    const operation = operationAt(path, method);
    if (!operation?.node) {
      problems.push(`${method.toUpperCase()} ${path}: not in the schema`);
      continue;
    }
    checkOperation(operation.node, `${method.toUpperCase()} ${path}`, expectsBody);
    checked.add(operation.name);
  }
  // Endpoints beyond the contract get the same scrutiny of the bodies they declare.
  for (const member of membersOf(operations)) {
    if (!checked.has(nameOf(member.name))) checkOperation(member.type, nameOf(member.name), false);
  }
  return { operations: membersOf(operations).length, bodies, problems };
}

// --- Commands ------------------------------------------------------------------------------------
function check(root) {
  const scratch = mkdtempSync(join(tmpdir(), "wemoov-schema-"));
  const problems = [];
  try {
    const fresh = { [OPENAPI]: join(scratch, "openapi.json"), [TYPES]: join(scratch, "schema.ts") };
    generate(root, fresh[OPENAPI], fresh[TYPES]);
    for (const [committed, freshPath] of Object.entries(fresh)) {
      const committedPath = join(root, committed);
      if (!existsSync(committedPath)) problems.push(`${committed} is missing. ${FIX}`);
      else if (readFileSync(committedPath, "utf8") !== readFileSync(freshPath, "utf8")) {
        problems.push(`${committed} differs from what the code produces. ${FIX}\n${diff(committedPath, freshPath)}`);
      }
    }
    if (existsSync(join(root, TYPES))) {
      const { operations, bodies, problems: untyped } = untypedBodies(readFileSync(join(root, TYPES), "utf8"));
      console.log(`${TYPES}: ${operations} operations, ${bodies} bodies, ${untyped.length} untyped or unknown`);
      if (untyped.length > 0) {
        problems.push(
          `${untyped.length} untyped or unknown bodies in ${TYPES} (make the schema precise in the ` +
            `serializers or @extend_schema, then \`make schema\`):\n  ${untyped.join("\n  ")}`,
        );
      }
    }
    if (existsSync(join(root, OPENAPI))) {
      const version = documentVersion(root);
      for (const [file, found] of versionMismatches(root, version)) {
        problems.push(`${file} says version ${found}, and ${OPENAPI} says ${version} (its info.version). ${FIX}`);
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  if (problems.length > 0) {
    console.error(`Schema check FAILED:\n\n${problems.join("\n\n")}`);
    process.exit(1);
  }
  console.log(`${OPENAPI} and ${TYPES} match the code.`);
}

const [command, ...rest] = process.argv.slice(2);
const rootFlag = rest.indexOf("--root");
const root = resolve(rootFlag >= 0 ? rest[rootFlag + 1] : join(PACKAGE, "../.."));
if (!existsSync(join(root, "manage.py"))) fail(`${root} is not a checkout of the backend (no manage.py)`);
if (command === "write") {
  generate(root, join(root, OPENAPI), join(root, TYPES));
  const version = documentVersion(root);
  writeVersion(root, version);
  console.log(`Wrote ${OPENAPI} and ${TYPES}; the package's version is ${version}.`);
} else if (command === "check") {
  check(root);
} else {
  fail("usage: node scripts/schema.mjs write|check [--root DIR]");
}
