/**
 * Type tests: `tsc --noEmit` (npm run typecheck) accepts this file only if every line marked
 * `@ts-expect-error` really is an error, so the generated types are proved to refuse what the API
 * would refuse. Never run, only compiled.
 */
import { createPayment, createWemoovClient, paginate, type Schemas } from "../src/index.js";

export async function refusedAtCompileTime(): Promise<void> {
  const api = createWemoovClient({ baseUrl: "http://127.0.0.1:8000", token: "t" });

  // A wrong field name in a request body.
  // @ts-expect-error `stars` is not a field of BookingRateRequest (it is `rating`)
  await api.POST("/api/bookings/{id}/rate/", { params: { path: { id: 1 } }, body: { stars: 5 } });

  // A wrong type for a field: coordinates are numbers, not strings.
  await api.POST("/api/bookings/", {
    body: {
      service_type: "ride",
      pickup_address: "Plateau",
      // @ts-expect-error pickup_lat is a number
      pickup_lat: "5.32",
      pickup_lng: -4.02,
      dropoff_address: "Cocody",
      dropoff_lat: 5.36,
      dropoff_lng: -3.98,
      scheduled_date: "2030-01-01T08:00:00Z",
    },
  });

  // A service type that does not exist.
  await api.POST("/api/bookings/", {
    body: {
      // @ts-expect-error "taxi" is not a service_type
      service_type: "taxi",
      pickup_address: "Plateau",
      pickup_lat: 5.32,
      pickup_lng: -4.02,
      dropoff_address: "Cocody",
      dropoff_lat: 5.36,
      dropoff_lng: -3.98,
      scheduled_date: "2030-01-01T08:00:00Z",
    },
  });

  // A missing path parameter.
  // @ts-expect-error /api/bookings/{id}/ needs params.path.id
  await api.GET("/api/bookings/{id}/");
  // @ts-expect-error an empty path object is not an id
  await api.GET("/api/bookings/{id}/", { params: { path: {} } });

  // A path that is not in the API.
  // @ts-expect-error there is no /api/rides/
  await api.GET("/api/rides/");

  // A method a path does not have: bookings are never deleted.
  // @ts-expect-error DELETE /api/bookings/{id}/ does not exist
  await api.DELETE("/api/bookings/{id}/", { params: { path: { id: 1 } } });

  // A wrong status literal in a filter and in a comparison.
  // @ts-expect-error "done" is not a booking status
  await api.GET("/api/bookings/", { params: { query: { status: "done" } } });
  const { data: booking, error } = await api.GET("/api/bookings/{id}/", { params: { path: { id: 1 } } });
  if (booking) {
    // @ts-expect-error "finished" can never equal a booking status
    if (booking.status === "finished") return;
    // @ts-expect-error a misspelt response field
    void booking.stauts;
    // @ts-expect-error money is a decimal string, never a number
    const price: number = booking.price;
    // @ts-expect-error driver is null until a driver accepts
    const driver: number = booking.driver;
    void price;
    void driver;
  }
  // @ts-expect-error a 404 carries code "not_found", never "missing"
  if (error?.code === "missing") return;

  // 409 codes are an enum per endpoint: accepting may say already_taken, never already_paid.
  const accepted = await api.POST("/api/bookings/{id}/accept/", { params: { path: { id: 1 } } });
  if (accepted.response.status === 409 && accepted.error) {
    // @ts-expect-error accept never answers already_paid
    if (accepted.error.code === "already_paid") return;
  }
  const conflict: Schemas["BookingAcceptConflict"]["code"][] = [
    "invalid_transition",
    "already_taken",
    "driver_unavailable",
    "no_available_vehicle",
    // @ts-expect-error request_in_progress belongs to POST /api/payments/
    "request_in_progress",
  ];
  void conflict;

  // Results are discriminated by status: a 409's error has that endpoint's 409 codes and no
  // others, so a switch over them is exhaustive; a status the endpoint never gives does not compile.
  const paid = await api.POST("/api/payments/", { body: { booking: 1, method: "cash" } });
  if (paid.status === 409) {
    // @ts-expect-error "throttled" is a 429's code, never a 409's
    if (paid.error.code === "throttled") return;
    switch (paid.error.code) {
      case "booking_cancelled":
      case "already_paid":
      case "request_in_progress":
        break;
      default: {
        const unreachable: never = paid.error.code;
        void unreachable;
      }
    }
  }
  if (paid.status === 429) {
    // @ts-expect-error a 429's code is "throttled", never a 409's "already_paid"
    if (paid.error.code === "already_paid") return;
    const wait: string = paid.response.headers.get("Retry-After"); // always sent with a 429
    void wait;
  }
  // @ts-expect-error POST /api/payments/ never answers 418
  if (paid.response.status === 418) return;
  // @ts-expect-error nor 200: a payment is created, 201
  if (paid.status === 200) return;
  if (paid.status === 201) {
    const replayed: "true" | null = paid.response.headers.get("Idempotent-Replayed");
    // @ts-expect-error the header is sent only on a replay: it may be null
    const always: "true" = paid.response.headers.get("Idempotent-Replayed");
    // @ts-expect-error a success has data and no error
    void paid.error.code;
    void replayed;
    void always;
  }
  // @ts-expect-error without narrowing, data may be absent (the call may have failed)
  void paid.data.amount;
  const dashboard = await api.GET("/api/stats/dashboard/");
  if (dashboard.status === 200) {
    const cache: "HIT" | "MISS" | "STALE" = dashboard.response.headers.get("X-Cache");
    // @ts-expect-error X-Cache is HIT, MISS or STALE
    if (dashboard.response.headers.get("X-Cache") === "EXPIRED") return;
    void cache;
  }
  // Every endpoint may answer 503 while the database is down, with Retry-After.
  if (dashboard.status === 503) void dashboard.response.headers.get("Retry-After").length;

  // Registration is a union on role: a driver needs a licence number.
  await api.POST("/api/auth/register/", {
    // @ts-expect-error a driver registration without license_number
    body: { email: "d@b.c", password: "p", first_name: "D", last_name: "B", role: "driver" },
  });
  await api.POST("/api/auth/register/", {
    body: { email: "d@b.c", password: "p", first_name: "D", last_name: "B", role: "driver", license_number: "CI-1" },
  });
  await api.POST("/api/auth/register/", { body: { email: "c@b.c", password: "p", first_name: "C", last_name: "B" } });

  // paginate takes list endpoints only, and yields their items.
  // @ts-expect-error a booking's detail is not a list
  paginate(api, "/api/bookings/{id}/", { params: { path: { id: 1 } } });
  // @ts-expect-error "done" is not a booking status, in paginate's filters either
  paginate(api, "/api/bookings/", { params: { query: { status: "done" } } });
  for await (const row of paginate(api, "/api/bookings/", { params: { query: { status: "pending" } } })) {
    const item: Schemas["Booking"] = row;
    void item;
  }

  // createPayment takes the payment body and returns the typed result with its key.
  // @ts-expect-error method "bitcoin" is not a payment method
  await createPayment(api, { booking: 1, method: "bitcoin" });
  const created = await createPayment(api, { booking: 1, method: "card" }, { idempotencyKey: "k", retries: 2 });
  const key: string = created.idempotencyKey;
  void key;
  if (created.status === 409) {
    // @ts-expect-error the 409 of POST /api/payments/ never says invalid_transition
    if (created.error.code === "invalid_transition") return;
  }

  // The token can change after login; openapi-fetch's middleware is reachable.
  api.setToken("another");
  api.setToken(null);
  // @ts-expect-error a token is a string (or null to stop sending one)
  api.setToken(42);
  api.use({ onRequest: ({ request }) => request });
  createWemoovClient({ baseUrl: "http://127.0.0.1:8000", onUnauthorized: (response) => void response.status });

  // Bodies that actions do not take, and ones the API computes itself.
  // @ts-expect-error accept takes no body
  await api.POST("/api/bookings/{id}/accept/", { params: { path: { id: 1 } }, body: { driver: 2 } });
  // @ts-expect-error method "bitcoin" is not a payment method
  await api.POST("/api/payments/", { body: { booking: 1, method: "bitcoin" } });
  // @ts-expect-error the Idempotency-Key is a string
  await api.POST("/api/payments/", { body: { booking: 1, method: "cash" }, params: { header: { "Idempotency-Key": 42 } } });
  // @ts-expect-error a revenue period is day, week, month or year
  await api.GET("/api/stats/revenue/", { params: { query: { period: "decade" } } });
  // @ts-expect-error registration offers client or driver, never admin
  await api.POST("/api/auth/register/", { body: { email: "a@b.c", password: "p", first_name: "A", last_name: "B", role: "admin" } });
  // @ts-expect-error PATCH /api/drivers/me/ requires is_available
  await api.PATCH("/api/drivers/me/", { body: {} });

  // And what is right compiles: the lines above fail only for the reason they name.
  await api.POST("/api/bookings/{id}/rate/", { params: { path: { id: 1 } }, body: { rating: 5 } });
  await api.GET("/api/bookings/", { params: { query: { status: "completed", page_size: 50 } } });
  await api.PATCH("/api/drivers/me/", { body: { is_available: false } });
  await api.POST("/api/payments/", {
    body: { booking: 1, method: "mobile_money" },
    params: { header: { "Idempotency-Key": "3f1c9a" } },
  });
}
