/**
 * The contract's main story, through the typed client alone, against gunicorn on PostgreSQL with
 * Redis: register a client and a driver, log in, book, accept, start, complete, pay with an
 * Idempotency-Key and replay it (createPayment), rate, read /users/me, walk lists page by page
 * (paginate), and as admin read the dashboard and revenue.
 * Every response, errors included, is checked against the shape docs/openapi.json gives it for
 * its path, method and status, and its declared headers (X-Cache, Idempotent-Replayed) against
 * theirs: the shapes the generated types were made from.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import {
  createPayment,
  createWemoovClient,
  paginate,
  type Schemas,
  type WemoovClient,
  type WemoovClientOptions,
} from "../src/index.js";
import { headerViolations, responseViolations } from "./conforms.js";
import { ADMIN, startBackend, type Backend } from "./server.js";

const PASSWORD = "Story-pass-2026!";
const MONEY = /^\d+\.\d{2}$/;

let backend: Backend | { skip: string };
before(async () => {
  backend = await startBackend();
});
after(async () => {
  if ("stop" in backend) await backend.stop();
});

let checkedResponses = 0;

/** A client whose every response must match the documented shape of its status. */
function checkedClient(baseUrl: string, options: Omit<WemoovClientOptions, "baseUrl"> = {}): WemoovClient {
  const client = createWemoovClient({ baseUrl, ...options });
  client.use({
    async onResponse({ request, response, schemaPath }) {
      const text = await response.clone().text();
      const problems = [
        ...responseViolations(schemaPath, request.method, response.status, text ? JSON.parse(text) : undefined),
        ...headerViolations(schemaPath, request.method, response.status, response.headers),
      ];
      assert.deepEqual(problems, [], `${request.method} ${request.url} answered ${response.status} ${text}`);
      checkedResponses += 1;
    },
  });
  return client;
}

type CodeOf<E> = E extends { code: infer C } ? C : never;

/** The error is a `{detail, code}` body with this code; the code must be one the endpoint's types
 * allow (a code the endpoint cannot give does not compile). */
function assertCode<E extends object>(error: E | undefined, code: CodeOf<E>): void {
  assert.ok(error && "code" in error, `expected an error with code ${String(code)}, got ${JSON.stringify(error)}`);
  assert.equal(error.code, code);
}

/** A client that logs in, then sends its token (setToken); `unauthorized` hears its 401s. */
async function login(baseUrl: string, email: string, password: string, unauthorized: number[] = []): Promise<WemoovClient> {
  const api = checkedClient(baseUrl, { onUnauthorized: (response) => void unauthorized.push(response.status) });
  const result = await api.POST("/api/auth/token/", { body: { email, password } });
  assert.equal(result.status, 200);
  assert.ok(result.status === 200 && result.data.token.length > 0);
  assert.ok(Date.parse(result.data.expiry) > Date.now());
  api.setToken(result.data.token);
  return api;
}

test("the contract's main story, through the typed client alone", async (t) => {
  if ("skip" in backend) {
    t.skip(backend.skip);
    return;
  }
  const { baseUrl } = backend;
  const anonymous = checkedClient(baseUrl);
  let client!: WemoovClient;
  let driver!: WemoovClient;
  let admin!: WemoovClient;
  let driverProfile!: Schemas["Driver"];
  let vehicle!: Schemas["Vehicle"];
  let booking!: Schemas["Booking"];
  let payment!: Schemas["Payment"];
  const clientUnauthorized: number[] = [];

  await t.test("a client and a driver register and log in; the admin logs in", async () => {
    const registered = await anonymous.POST("/api/auth/register/", {
      body: { email: "Ama@Example.com", password: PASSWORD, first_name: "Ama", last_name: "Kone" },
    });
    assert.equal(registered.response.status, 201);
    assert.equal(registered.data?.email, "ama@example.com");
    assert.equal(registered.data?.role, "client");

    const driverRegistered = await anonymous.POST("/api/auth/register/", {
      body: {
        email: "kofi@example.com",
        password: PASSWORD,
        first_name: "Kofi",
        last_name: "Yao",
        role: "driver",
        license_number: "CI-2026-001",
      },
    });
    assert.equal(driverRegistered.response.status, 201);
    assert.equal(driverRegistered.data?.role, "driver");

    const taken = await anonymous.POST("/api/auth/register/", {
      body: { email: "AMA@example.com", password: PASSWORD, first_name: "A", last_name: "K" },
    });
    assert.equal(taken.response.status, 400);
    assert.ok(taken.error && "email" in taken.error && taken.error.email?.length === 1);

    const wrong = await anonymous.POST("/api/auth/token/", { body: { email: "ama@example.com", password: "wrong" } });
    assert.equal(wrong.response.status, 400);
    assert.ok(wrong.error && "non_field_errors" in wrong.error);

    client = await login(baseUrl, "ama@example.com", PASSWORD, clientUnauthorized);
    driver = await login(baseUrl, "kofi@example.com", PASSWORD);
    admin = await login(baseUrl, ADMIN.email, ADMIN.password);

    const nobody = await anonymous.GET("/api/users/me/");
    assert.equal(nobody.response.status, 401);
    assertCode(nobody.error, "not_authenticated");
  });

  await t.test("staff give the driver a vehicle", async () => {
    const me = await driver.GET("/api/drivers/me/");
    assert.equal(me.response.status, 200);
    assert.ok(me.data);
    driverProfile = me.data;
    assert.equal(driverProfile.is_available, true);
    assert.equal(driverProfile.rating, null);
    assert.equal(driverProfile.rating_count, 0);

    const refused = await client.POST("/api/vehicles/", {
      body: { driver: driverProfile.id, type: "car", make: "Toyota", model: "Yaris", plate_number: "AB-1234-CI" },
    });
    assert.equal(refused.response.status, 403);
    assertCode(refused.error, "permission_denied");

    const created = await admin.POST("/api/vehicles/", {
      body: { driver: driverProfile.id, type: "car", make: "Toyota", model: "Yaris", plate_number: "AB-1234-CI" },
    });
    assert.equal(created.response.status, 201);
    assert.ok(created.data);
    vehicle = created.data;
    assert.equal(vehicle.driver, driverProfile.id);
    assert.equal(vehicle.capacity, 4);
  });

  await t.test("the client books a ride; the server prices it", async () => {
    const ride = {
      service_type: "ride",
      pickup_address: "Plateau",
      pickup_lat: 5.32,
      pickup_lng: -4.02,
      dropoff_address: "Cocody",
      dropoff_lat: 5.36,
      dropoff_lng: -3.98,
      scheduled_date: new Date(Date.now() + 3_600_000).toISOString(),
    } as const;
    const created = await client.POST("/api/bookings/", { body: ride });
    assert.equal(created.response.status, 201);
    assert.ok(created.data);
    booking = created.data;
    assert.equal(booking.status, "pending");
    assert.equal(booking.service_type, "ride");
    assert.equal(booking.driver, null);
    assert.equal(booking.vehicle, null);
    assert.equal(booking.rating, null);
    assert.match(booking.distance_km, MONEY);
    assert.match(booking.price, MONEY);
    // The settings' ride fare: 500.00 + 150.00 per km, exact in cents.
    const cents = (amount: string) => Math.round(Number(amount) * 100);
    assert.equal(cents(booking.price), 50_000 + 150 * cents(booking.distance_km));

    const inThePast = await client.POST("/api/bookings/", { body: { ...ride, scheduled_date: "2020-01-01T00:00:00Z" } });
    assert.equal(inThePast.response.status, 400);
    assert.ok(inThePast.error && "scheduled_date" in inThePast.error);
  });

  await t.test("the driver finds it in the pool and accepts it", async () => {
    const pool: number[] = [];
    for await (const row of paginate(driver, "/api/bookings/", { params: { query: { status: "pending", page_size: 10 } } })) {
      pool.push(row.id);
    }
    assert.deepEqual(pool, [booking.id]);

    const notTheirs = await client.POST("/api/bookings/{id}/accept/", { params: { path: { id: booking.id } } });
    assert.equal(notTheirs.response.status, 403);

    const accepted = await driver.POST("/api/bookings/{id}/accept/", { params: { path: { id: booking.id } } });
    assert.equal(accepted.response.status, 200);
    assert.equal(accepted.data?.status, "confirmed");
    assert.equal(accepted.data?.driver, driverProfile.id);
    assert.equal(accepted.data?.vehicle, vehicle.id);
  });

  await t.test("a transition the status forbids is a 409 invalid_transition", async () => {
    const tooEarly = await driver.POST("/api/bookings/{id}/complete/", { params: { path: { id: booking.id } } });
    assert.equal(tooEarly.response.status, 409);
    assertCode(tooEarly.error, "invalid_transition");

    const again = await driver.POST("/api/bookings/{id}/accept/", { params: { path: { id: booking.id } } });
    assert.equal(again.response.status, 409);
    assertCode(again.error, "invalid_transition");
  });

  await t.test("the driver starts and completes the ride", async () => {
    const started = await driver.POST("/api/bookings/{id}/start/", { params: { path: { id: booking.id } } });
    assert.equal(started.data?.status, "in_progress");
    const completed = await driver.POST("/api/bookings/{id}/complete/", { params: { path: { id: booking.id } } });
    assert.equal(completed.data?.status, "completed");

    const cancelled = await client.POST("/api/bookings/{id}/cancel/", {
      params: { path: { id: booking.id } },
      body: { reason: "too late" },
    });
    assert.equal(cancelled.response.status, 409);
    assertCode(cancelled.error, "invalid_transition");
  });

  await t.test("the client pays with an Idempotency-Key; a retry replays the first answer", async () => {
    const body = { booking: booking.id, method: "mobile_money" } as const;
    const first = await createPayment(client, body);
    assert.equal(first.status, 201);
    assert.ok(first.status === 201);
    const key = first.idempotencyKey;
    assert.match(key, /^[0-9a-f-]{36}$/);
    payment = first.data;
    assert.equal(first.response.headers.get("Idempotent-Replayed"), null);
    assert.equal(payment.status, "pending");
    assert.equal(payment.amount, booking.price);
    assert.equal(payment.currency, "XOF");
    assert.equal(payment.booking, booking.id);

    // What an app does after losing the first answer: the same call with the stored key.
    const replay = await createPayment(client, body, { idempotencyKey: key });
    assert.equal(replay.status, 201);
    assert.equal(replay.status === 201 && replay.response.headers.get("Idempotent-Replayed"), "true");
    assert.deepEqual(replay.data, payment);

    // The same key with another body: a 422, returned at once (never retried).
    const otherBody = await createPayment(client, { booking: booking.id, method: "card" }, { idempotencyKey: key });
    assert.equal(otherBody.status, 422);
    assertCode(otherBody.error, "unprocessable_entity");

    // An Idempotency-Key sent by hand, through the plain call, is honoured the same way.
    const byHand = await client.POST("/api/payments/", { body, params: { header: { "Idempotency-Key": key } } });
    assert.equal(byHand.status, 201);
    assert.deepEqual(byHand.data, payment);

    const list: number[] = [];
    for await (const row of paginate(client, "/api/payments/")) list.push(row.id);
    assert.deepEqual(list, [payment.id]);
  });

  await t.test("staff confirm the payment; a second payment is refused with already_paid", async () => {
    const confirmed = await admin.POST("/api/payments/{id}/confirm/", { params: { path: { id: payment.id } } });
    assert.equal(confirmed.response.status, 200);
    assert.equal(confirmed.data?.status, "completed");

    const secondPayment = await createPayment(client, { booking: booking.id, method: "cash" });
    assert.equal(secondPayment.status, 409);
    assert.equal(secondPayment.status === 409 && secondPayment.error.code, "already_paid");

    const failCompleted = await admin.POST("/api/payments/{id}/fail/", { params: { path: { id: payment.id } } });
    assert.equal(failCompleted.response.status, 409);
    assertCode(failCompleted.error, "invalid_transition");
  });

  await t.test("the client rates the ride once", async () => {
    const rated = await client.POST("/api/bookings/{id}/rate/", {
      params: { path: { id: booking.id } },
      body: { rating: 5 },
    });
    assert.equal(rated.response.status, 200);
    assert.equal(rated.data?.rating, 5);

    const twice = await client.POST("/api/bookings/{id}/rate/", {
      params: { path: { id: booking.id } },
      body: { rating: 4 },
    });
    assert.equal(twice.response.status, 409);
    assertCode(twice.error, "invalid_transition");

    const outOfRange = await client.POST("/api/bookings/{id}/rate/", {
      params: { path: { id: booking.id } },
      body: { rating: 6 },
    });
    assert.equal(outOfRange.response.status, 400);
    assert.ok(outOfRange.error && "rating" in outOfRange.error);

    const profile = await driver.GET("/api/drivers/me/");
    assert.equal(profile.data?.rating, "5.00");
    assert.equal(profile.data?.rating_count, 1);
  });

  await t.test("each reads /users/me with their figures", async () => {
    const mine = await client.GET("/api/users/me/");
    assert.equal(mine.data?.email, "ama@example.com");
    assert.deepEqual(mine.data?.stats, { bookings: 1, completed_bookings: 1, total_spent: booking.price });

    const driven = await driver.GET("/api/users/me/");
    assert.equal(driven.data?.role, "driver");
    assert.equal(driven.data?.stats.driven, 1);
    assert.equal(driven.data?.stats.completed_driven, 1);
    assert.equal(driven.data?.stats.total_earned, booking.price);

    const seen = await client.GET("/api/bookings/{id}/", { params: { path: { id: booking.id } } });
    assert.equal(seen.data?.status, "completed");
    const unseen = await client.GET("/api/bookings/{id}/", { params: { path: { id: booking.id + 1000 } } });
    assert.equal(unseen.response.status, 404);
    assertCode(unseen.error, "not_found");
  });

  await t.test("staff read the dashboard and the revenue", async () => {
    // The contract's freshness: every row committed at least 1 s before the request is counted.
    await sleep(1_100);
    const dashboard = await admin.GET("/api/stats/dashboard/");
    assert.equal(dashboard.response.status, 200);
    assert.ok(dashboard.status === 200);
    assert.ok(["HIT", "MISS", "STALE"].includes(dashboard.response.headers.get("X-Cache")));
    const figures = dashboard.data;
    assert.ok(figures);
    assert.deepEqual(figures.users.by_role, {
      client: { total: 1, active: 1 },
      driver: { total: 1, active: 1 },
      admin: { total: 1, active: 1 },
    });
    assert.deepEqual(figures.drivers, { total: 1, available: 1, average_rating: "5.00" });
    assert.deepEqual(figures.vehicles.by_type, { motorbike: 0, car: 1, van: 0, truck: 0 });
    assert.deepEqual(figures.bookings.by_status, {
      pending: 0,
      confirmed: 0,
      in_progress: 0,
      completed: 1,
      cancelled: 0,
    });
    assert.deepEqual(figures.payments.by_status.completed, { count: 1, amount: booking.price });
    assert.equal(figures.revenue.total, booking.price);

    const revenue = await admin.GET("/api/stats/revenue/", { params: { query: { period: "day" } } });
    assert.equal(revenue.response.status, 200);
    assert.ok(revenue.data);
    assert.equal(revenue.data.period, "day");
    assert.equal(revenue.data.bucket, "hour");
    assert.equal(revenue.data.series.length, 24);
    assert.equal(revenue.data.total, booking.price);
    assert.equal(revenue.data.count, 1);
    assert.deepEqual(
      revenue.data.series.filter((point) => point.count > 0).map((point) => point.amount),
      [booking.price],
    );

    const notStaff = await client.GET("/api/stats/dashboard/");
    assert.equal(notStaff.response.status, 403);
    assertCode(notStaff.error, "permission_denied");
  });

  await t.test("staff walk the users one page at a time, following each next URL", async () => {
    const emails: string[] = [];
    for await (const user of paginate(admin, "/api/users/", { params: { query: { page_size: 1 } } })) emails.push(user.email);
    assert.deepEqual([...emails].sort(), [ADMIN.email, "ama@example.com", "kofi@example.com"].sort());
  });

  await t.test("logging out revokes the token at once", async () => {
    const out = await client.POST("/api/auth/logout/");
    assert.equal(out.response.status, 204);
    assert.deepEqual(clientUnauthorized, []);
    const after = await client.GET("/api/users/me/");
    assert.equal(after.response.status, 401);
    assertCode(after.error, "authentication_failed");
    assert.deepEqual(clientUnauthorized, [401], "onUnauthorized heard the 401");
  });

  await t.test("every response above was checked against the document", () => {
    // The 45 calls of this story, logins and each page of paginate included: a call added
    // above adds one here.
    assert.equal(checkedResponses, 45);
  });
});
