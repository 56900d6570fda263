/** Paying for a booking, retried safely: one Idempotency-Key for every attempt. */
import type { JsonOf, OperationOf, Result, WemoovClient } from "./client.js";
import { WemoovNetworkError } from "./errors.js";

type CreatePayment = OperationOf<"/api/payments/", "post">;

/** The body of POST /api/payments/: `{ booking, method }`. */
export type PaymentCreateBody = CreatePayment extends { requestBody: infer B } ? JsonOf<B> : never;

export interface CreatePaymentOptions {
  /** The key every attempt carries; a fresh random UUID by default. Store it with the
   * order to retry later (even from another page load) without paying twice. */
  idempotencyKey?: string;
  /** Attempts after the first, 3 by default: on a network error, a 409 `request_in_progress`
   * (the first attempt is still being processed), a 429 or a 503. */
  retries?: number;
  /** Aborts the current attempt and any wait. */
  signal?: AbortSignal;
}

/** The typed result of the last attempt, with the key it carried. */
export type CreatePaymentResult = Result<"/api/payments/", "post"> & { idempotencyKey: string };

/** A random (version 4) UUID. `crypto.randomUUID` exists only in secure contexts (https,
 * localhost): a dev server opened at http://192.168.x.y has `getRandomValues` alone. */
function newKey(): string {
  if (typeof globalThis.crypto.randomUUID === "function") return globalThis.crypto.randomUUID();
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The wait before attempt `attempt + 1`: the response's Retry-After when it sends one (seconds,
 * as the API does, or an HTTP date, as a proxy may), else 250 ms doubled at each attempt. */
export function retryDelayMs(attempt: number, retryAfter: string | null): number {
  if (retryAfter !== null && /^\s*\d+\s*$/.test(retryAfter)) return Number(retryAfter) * 1000;
  const date = retryAfter === null ? Number.NaN : Date.parse(retryAfter);
  return Number.isNaN(date) ? 250 * 2 ** attempt : Math.max(0, date - Date.now());
}

function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function mayRetry(result: Result<"/api/payments/", "post">): boolean {
  if (result.status === 409) return result.error.code === "request_in_progress";
  return result.status === 429 || result.status === 503;
}

/**
 * POST /api/payments/ with an Idempotency-Key, retried with that same key, so that however
 * many attempts reach the server, one payment is created and every later attempt gets it back
 * (`Idempotent-Replayed: true`):
 *
 *     const paid = await createPayment(api, { booking: 42, method: "mobile_money" });
 *     if (paid.status === 201) show(paid.data);
 *     else if (paid.status === 409 && paid.error.code === "already_paid") ...
 *
 * Any other answer (201, a 400, a 409 other than `request_in_progress`, ...) is returned at
 * once; after the last attempt, the last answer is returned, or, when no attempt got an answer,
 * a `WemoovNetworkError` carrying the key is thrown.
 */
export async function createPayment(
  client: WemoovClient,
  body: PaymentCreateBody,
  { idempotencyKey = newKey(), retries = 3, signal }: CreatePaymentOptions = {},
): Promise<CreatePaymentResult> {
  for (let attempt = 0; ; attempt += 1) {
    let result: Result<"/api/payments/", "post">;
    try {
      result = await client.POST("/api/payments/", {
        body,
        params: { header: { "Idempotency-Key": idempotencyKey } },
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      if (attempt >= retries) {
        throw new WemoovNetworkError(`POST /api/payments/: no answer after ${attempt + 1} attempts`, idempotencyKey, {
          cause: error,
        });
      }
      await wait(retryDelayMs(attempt, null), signal);
      continue;
    }
    if (attempt >= retries || !mayRetry(result)) return Object.assign(result, { idempotencyKey });
    await wait(retryDelayMs(attempt, result.response.headers.get("Retry-After")), signal);
  }
}
