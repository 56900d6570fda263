/**
 * The helpers against a stand-in API on 127.0.0.1 (test/standin.ts), for what the real backend
 * cannot be made to do on demand: a dropped connection, a 409 request_in_progress with
 * Retry-After, a 401. The story test (story.test.ts) runs them against the real backend.
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import { createPayment, createWemoovClient, paginate, WemoovApiError, WemoovNetworkError } from "../src/index.js";
import { retryDelayMs } from "../src/payments.js";
import { json, paymentBody, standIn } from "./standin.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const IN_PROGRESS = { detail: "A request with this Idempotency-Key is still being processed.", code: "request_in_progress" };

test("createPayment keeps one key across a dropped connection and a 409 request_in_progress, waiting Retry-After", async () => {
  const api = await standIn((request, response, index) => {
    if (index === 0) response.socket?.destroy(); // no answer at all
    else if (index === 1) json(response, 409, IN_PROGRESS, { "Retry-After": "1" });
    else json(response, 201, paymentBody(7, 42, "mobile_money"));
  });
  try {
    const client = createWemoovClient({ baseUrl: api.baseUrl, token: "t" });
    const paid = await createPayment(client, { booking: 42, method: "mobile_money" });
    assert.equal(paid.status, 201);
    assert.equal(paid.data?.id, 7);
    assert.match(paid.idempotencyKey, UUID);

    assert.equal(api.received.length, 3);
    for (const request of api.received) {
      assert.equal(request.method, "POST");
      assert.equal(request.url, "/api/payments/");
      assert.equal(request.headers["idempotency-key"], paid.idempotencyKey);
      assert.equal(request.headers.authorization, "Token t");
      assert.deepEqual(JSON.parse(request.body), { booking: 42, method: "mobile_money" });
    }
    // Retry-After: 1 is a second, not the 500 ms the back-off would have waited.
    const [, second, third] = api.received;
    assert.ok(third!.at - second!.at >= 900, `waited ${third!.at - second!.at} ms after Retry-After: 1`);
  } finally {
    await api.close();
  }
});

test("without crypto.randomUUID (a page served over plain http from another host), the key is still a random v4 UUID", async () => {
  const api = await standIn((_request, response) => json(response, 201, paymentBody(1, 2, "cash")));
  Object.defineProperty(globalThis.crypto, "randomUUID", { value: undefined, configurable: true });
  try {
    assert.equal(typeof globalThis.crypto.randomUUID, "undefined");
    const client = createWemoovClient({ baseUrl: api.baseUrl });
    const keys = [
      (await createPayment(client, { booking: 2, method: "cash" })).idempotencyKey,
      (await createPayment(client, { booking: 2, method: "cash" })).idempotencyKey,
    ];
    for (const key of keys) assert.match(key, UUID);
    assert.notEqual(keys[0], keys[1]);
    assert.deepEqual(
      api.received.map((request) => request.headers["idempotency-key"]),
      keys,
    );
  } finally {
    delete (globalThis.crypto as { randomUUID?: unknown }).randomUUID; // the prototype's again
    await api.close();
  }
  assert.equal(typeof globalThis.crypto.randomUUID, "function");
});

test("the wait before a retry: Retry-After in seconds or as an HTTP date, else a doubling back-off", () => {
  assert.equal(retryDelayMs(0, "3"), 3000);
  assert.equal(retryDelayMs(4, "0"), 0);
  const inFiveSeconds = new Date(Date.now() + 5000).toUTCString();
  const waited = retryDelayMs(0, inFiveSeconds);
  assert.ok(waited > 3000 && waited <= 5000, `${waited} ms until ${inFiveSeconds}`);
  assert.equal(retryDelayMs(0, new Date(Date.now() - 60_000).toUTCString()), 0);
  assert.deepEqual(
    [0, 1, 2, 3].map((attempt) => retryDelayMs(attempt, null)),
    [250, 500, 1000, 2000],
  );
  assert.equal(retryDelayMs(1, "soon"), 500);
});

test("createPayment sends the key it is given and returns any other answer at once", async () => {
  const api = await standIn((_request, response) =>
    json(response, 409, { detail: "This booking already has a completed payment.", code: "already_paid" }),
  );
  try {
    const client = createWemoovClient({ baseUrl: api.baseUrl, token: "t" });
    const paid = await createPayment(client, { booking: 42, method: "cash" }, { idempotencyKey: "order-42", retries: 5 });
    assert.equal(paid.status, 409);
    assert.equal(paid.status === 409 && paid.error.code, "already_paid");
    assert.equal(paid.idempotencyKey, "order-42");
    assert.equal(api.received.length, 1);
    assert.equal(api.received[0]?.headers["idempotency-key"], "order-42");
  } finally {
    await api.close();
  }
});

test("createPayment stops after its retries: the last 409, or a WemoovNetworkError with the key", async () => {
  const busy = await standIn((_request, response) => json(response, 409, IN_PROGRESS, { "Retry-After": "0" }));
  const down = await standIn((_request, response) => response.socket?.destroy());
  try {
    const stillBusy = await createPayment(createWemoovClient({ baseUrl: busy.baseUrl }), { booking: 1, method: "card" }, { retries: 2 });
    assert.equal(stillBusy.status, 409);
    assert.equal(stillBusy.status === 409 && stillBusy.error.code, "request_in_progress");
    assert.equal(busy.received.length, 3);

    await assert.rejects(
      createPayment(createWemoovClient({ baseUrl: down.baseUrl }), { booking: 1, method: "card" }, { idempotencyKey: "k-1", retries: 1 }),
      (error: unknown) => {
        assert.ok(error instanceof WemoovNetworkError);
        assert.equal(error.idempotencyKey, "k-1");
        assert.ok(error.cause instanceof Error);
        return true;
      },
    );
    assert.equal(down.received.length, 2);
    assert.deepEqual(
      down.received.map((request) => request.headers["idempotency-key"]),
      ["k-1", "k-1"],
    );
  } finally {
    await busy.close();
    await down.close();
  }
});

test("setToken changes the token of the next request; onUnauthorized hears every 401; middleware is reachable", async () => {
  const api = await standIn((request, response) => {
    if (request.headers.authorization === "Token good") json(response, 200, { id: 1 });
    else json(response, 401, { detail: "Invalid token.", code: "authentication_failed" });
  });
  try {
    const unauthorized: string[] = [];
    const client = createWemoovClient({
      baseUrl: api.baseUrl,
      onUnauthorized: (response, request) => void unauthorized.push(`${request.method} ${response.status}`),
    });
    const seen: string[] = [];
    const spy = { onRequest: ({ request }: { request: Request }) => void seen.push(request.headers.get("Authorization") ?? "none") };
    client.use(spy);

    const anonymous = await client.GET("/api/users/me/");
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.status === 401 && anonymous.error.code, "authentication_failed");
    client.setToken("good");
    assert.equal(client.token, "good");
    assert.equal((await client.GET("/api/users/me/")).status, 200);
    client.setToken("revoked");
    assert.equal((await client.GET("/api/users/me/")).status, 401);
    client.eject(spy);
    client.setToken(null);
    assert.equal((await client.GET("/api/users/me/")).status, 401);

    assert.deepEqual(
      api.received.map((request) => request.headers.authorization ?? "none"),
      ["none", "Token good", "Token revoked", "none"],
    );
    assert.deepEqual(seen, ["none", "Token good", "Token revoked"]);
    assert.deepEqual(unauthorized, ["GET 401", "GET 401", "GET 401"]);
  } finally {
    await api.close();
  }
});

test("paginate follows each next URL by its cursor, keeps the filters, and stops where the loop stops", async () => {
  const booking = (id: number) => ({ id, status: "pending" });
  let base = "";
  const api = await standIn((request, response) => {
    const url = new URL(request.url, base);
    const cursor = url.searchParams.get("cursor");
    const next = (value: string) => `${base}/api/bookings/?cursor=${value}&page_size=2&status=pending`;
    if (cursor === null) json(response, 200, { next: next("p2"), previous: null, results: [booking(5), booking(4)] });
    else if (cursor === "p2") json(response, 200, { next: next("p3"), previous: null, results: [booking(3), booking(2)] });
    else if (cursor === "p3") json(response, 200, { next: null, previous: null, results: [booking(1)] });
    else json(response, 404, { detail: "Invalid cursor", code: "not_found" });
  });
  base = api.baseUrl;
  try {
    const client = createWemoovClient({ baseUrl: api.baseUrl, token: "t" });
    const init = { params: { query: { status: "pending", page_size: 2 } } } as const;
    const ids: number[] = [];
    for await (const row of paginate(client, "/api/bookings/", init)) ids.push(row.id);
    assert.deepEqual(ids, [5, 4, 3, 2, 1]);
    assert.deepEqual(
      api.received.map((request) => Object.fromEntries(new URL(request.url, base).searchParams)),
      [
        { status: "pending", page_size: "2" },
        { status: "pending", page_size: "2", cursor: "p2" },
        { status: "pending", page_size: "2", cursor: "p3" },
      ],
    );

    for await (const row of paginate(client, "/api/bookings/", init)) {
      assert.equal(row.id, 5);
      break;
    }
    assert.equal(api.received.length, 4, "a loop that stops after the first item reads one page");

    const stale = paginate(client, "/api/bookings/", { params: { query: { cursor: "forged" } } });
    await assert.rejects(stale.next(), (error: unknown) => {
      assert.ok(error instanceof WemoovApiError);
      assert.equal(error.status, 404);
      assert.deepEqual(error.error, { detail: "Invalid cursor", code: "not_found" });
      return true;
    });
  } finally {
    await api.close();
  }
});
