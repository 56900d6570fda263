/**
 * The backend as production runs it: gunicorn (2 workers) on PostgreSQL with Redis as the cache,
 * on a free port of 127.0.0.1, with a database of its own that is dropped and recreated each run.
 *
 *   STORY_DATABASE_URL   default: DATABASE_URL's server with `_tsclient` after its database name
 *                        when DATABASE_URL is PostgreSQL, else postgres://postgres@127.0.0.1:5432/wemoov_tsclient
 *   STORY_CACHE_URL      default: CACHE_URL when it is Redis, else redis://127.0.0.1:6379/0
 *                        (keys get a prefix of their own per run, so nothing is shared or flushed)
 *   STORY_REQUIRED=1     no PostgreSQL or Redis is a failure instead of a skip (CI sets it)
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { PYTHON, ROOT } from "./backend.js";

export const ADMIN = { email: "admin@tsclient.example", password: "Admin-pass-2026!" };

export interface Backend {
  baseUrl: string;
  stop(): Promise<void>;
}

function databaseUrl(): string {
  if (process.env.STORY_DATABASE_URL) return process.env.STORY_DATABASE_URL;
  const main = process.env.DATABASE_URL ?? "";
  if (/^postgres(ql)?:\/\//.test(main)) {
    const url = new URL(main);
    url.pathname = `${url.pathname.replace(/^\//, "") || "wemoov"}_tsclient`;
    return url.toString();
  }
  return "postgres://postgres@127.0.0.1:5432/wemoov_tsclient";
}

function cacheUrl(): string {
  if (process.env.STORY_CACHE_URL) return process.env.STORY_CACHE_URL;
  const main = process.env.CACHE_URL ?? "";
  return main.startsWith("redis") ? main : "redis://127.0.0.1:6379/0";
}

function python(args: string[], env: NodeJS.ProcessEnv): { ok: boolean; output: string } {
  const result = spawnSync(PYTHON, args, { cwd: ROOT, env, encoding: "utf8" });
  return { ok: result.status === 0, output: `${result.error ?? ""}${result.stdout}${result.stderr}` };
}

function mustPython(what: string, args: string[], env: NodeJS.ProcessEnv): void {
  const { ok, output } = python(args, env);
  if (!ok) throw new Error(`${what} failed:\n${output}`);
}

// Drops and recreates the story's database through the server's maintenance database.
const RECREATE = `
import sys, psycopg
from psycopg import sql
url, name = sys.argv[1], sys.argv[2]
with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
    connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
`;

const PING_REDIS = `
import sys, redis
redis.Redis.from_url(sys.argv[1], socket_connect_timeout=3).ping()
`;

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolvePort(address.port) : reject()));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((done) => (child.exitCode !== null || child.signalCode !== null ? done() : child.once("exit", () => done())));
}

/** Starts the backend, or returns why it cannot (no PostgreSQL or Redis here) when that is allowed. */
export async function startBackend(): Promise<Backend | { skip: string }> {
  const database = new URL(databaseUrl());
  const name = decodeURIComponent(database.pathname.replace(/^\//, ""));
  const maintenance = new URL(database.toString());
  maintenance.pathname = "/postgres";
  const cache = cacheUrl();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DJANGO_SETTINGS_MODULE: "wemoov.settings",
    DATABASE_URL: database.toString(),
    CACHE_URL: cache,
    CACHE_KEY_PREFIX: `tsclient-${process.pid}-${Date.now()}`,
    DEBUG: "0",
    SECRET_KEY: randomBytes(32).toString("hex"),
    ALLOWED_HOSTS: "127.0.0.1",
    SECURE_SSL_REDIRECT: "0",
    WEB_CONCURRENCY: "2",
    DJANGO_SUPERUSER_EMAIL: ADMIN.email,
    DJANGO_SUPERUSER_PASSWORD: ADMIN.password,
  };
  for (const inherited of ["DATABASE_REPLICA_URL", "PROMETHEUS_MULTIPROC_DIR", "REDIS_URL"]) {
    delete env[inherited];
  }

  const recreated = python(["-c", RECREATE, maintenance.toString(), name], env);
  const redis = recreated.ok ? python(["-c", PING_REDIS, cache], env) : { ok: false, output: "" };
  if (!recreated.ok || !redis.ok) {
    const why = !recreated.ok
      ? `no PostgreSQL to create ${name} on (${maintenance.host}): ${recreated.output.trim().split("\n").pop()}`
      : `no Redis at ${cache}: ${redis.output.trim().split("\n").pop()}`;
    if (process.env.STORY_REQUIRED === "1") throw new Error(`STORY_REQUIRED=1 and ${why}`);
    return { skip: `${why} (the story test needs PostgreSQL and Redis; set STORY_REQUIRED=1 to make this a failure)` };
  }
  mustPython("migrate", ["manage.py", "migrate", "--noinput"], env);
  mustPython("createsuperuser", ["manage.py", "createsuperuser", "--noinput"], env);

  const port = await freePort();
  const logs = mkdtempSync(join(tmpdir(), "wemoov-tsclient-"));
  const log = openSync(join(logs, "gunicorn.log"), "w");
  const gunicorn = spawn(PYTHON, ["-m", "gunicorn", "-c", "python:wemoov.gunicorn_conf", "wemoov.wsgi"], {
    cwd: ROOT,
    env: { ...env, BIND: `127.0.0.1:${port}` },
    stdio: ["ignore", log, log],
    detached: true, // its own process group: stopping it stops its workers
  });
  closeSync(log);
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (gunicorn.exitCode === null && gunicorn.pid) {
      process.kill(-gunicorn.pid, "SIGTERM");
      const killed = await Promise.race([exited(gunicorn).then(() => true), sleep(20_000).then(() => false)]);
      if (!killed) process.kill(-gunicorn.pid, "SIGKILL");
    }
    rmSync(logs, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (gunicorn.exitCode !== null) break;
    try {
      if ((await fetch(`${baseUrl}/health/`)).status === 200) return { baseUrl, stop };
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  const output = readFileSync(join(logs, "gunicorn.log"), "utf8");
  await stop();
  throw new Error(`gunicorn did not serve ${baseUrl}/health/ within 30 s:\n${output}`);
}
