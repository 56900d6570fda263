/**
 * The client: openapi-fetch underneath, with results typed per status from `paths` (one generic
 * type for every endpoint, so a new endpoint in the schema needs no code here), a token that can
 * change after login, a hook on 401, and openapi-fetch's middleware.
 */
import createClient, { type Client, type ClientOptions, type MaybeOptionalInit, type Middleware } from "openapi-fetch";

import type { paths } from "./schema.js";

export type HttpMethod = "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace";

/** The paths of the API that have this method. */
export type PathsWith<M extends HttpMethod> = {
  [P in keyof paths]: paths[P] extends { [K in M]: object } ? P : never;
}[keyof paths];

/** The operation (parameters, body, responses) of a method on a path. */
export type OperationOf<P extends keyof paths, M extends HttpMethod> = paths[P] extends { [K in M]: infer O } ? O : never;

export type ResponsesOf<O> = O extends { responses: infer R } ? R : never;
/** The JSON body of a response (or of a request body), `undefined` when it has none. */
export type JsonOf<R> = R extends { content: { "application/json": infer B } } ? B : undefined;
/** A response's body: its JSON, else what its other media type holds (a CSV export's string,
 * read with openapi-fetch's `parseAs: "text"`), `undefined` when it has none (204). */
type BodyOf<R> = R extends { content: { "application/json": infer B } }
  ? B
  : R extends { content: infer C }
    ? [C] extends [never]
      ? undefined
      : C[keyof C]
    : undefined;
type HeadersOf<R> = R extends { headers: infer H } ? H : {};

/** The header names a response declares (its `[name: string]: unknown` left out). */
export type DeclaredHeaders<H> = keyof {
  [K in keyof H as string extends K ? never : number extends K ? never : K]: H[K];
} &
  string;

type HeaderText<T> = Exclude<T, undefined> extends string ? Exclude<T, undefined> : string;

/** `Headers` whose `get` knows the response's declared headers: `get("X-Cache")` is
 * `"HIT" | "MISS" | "STALE"` where the schema says it is always sent, with `| null` where it
 * may be absent. Any other name reads as a plain `string | null`. */
export interface ResponseHeaders<H> extends Headers {
  get<K extends DeclaredHeaders<H>>(name: K): {} extends Pick<H, K> ? HeaderText<H[K]> | null : HeaderText<H[K]>;
  get(name: string): string | null;
}

/** The `Response` of one status: `status` is that status, `headers` its declared headers. */
export interface TypedResponse<S extends number, H = {}> extends Response {
  readonly status: S;
  readonly headers: ResponseHeaders<H>;
}

/** What any endpoint answers while the database is unreachable (wemoov/middleware.py), beside
 * the statuses its operation documents. */
export interface ServiceUnavailable {
  detail: string;
  code: "service_unavailable";
}
type Unavailable = {
  status: 503;
  data?: never;
  error: ServiceUnavailable;
  response: TypedResponse<503, { "Retry-After": string }>;
};

type IsSuccess<S extends number> = `${S}` extends `2${string}` ? true : false;

/**
 * The result of a call, one member per documented status (and 503), discriminated by `status`:
 *
 *     const r = await api.POST("/api/payments/", { body });
 *     if (r.status === 409) r.error.code; // "booking_cancelled" | "already_paid" | "request_in_progress"
 *     if (r.status === 201) r.data.amount;
 *
 * A success carries `data` (and no `error`), anything else `error` (and no `data`).
 * `response.status` has the same value and type, so comparing it (or `status`) with a status the
 * endpoint cannot give is a compile error; TypeScript narrows the result itself only on a
 * property of its own, hence `status` beside `response`.
 */
export type ResultOf<O> =
  | {
      [S in keyof ResponsesOf<O> & number]: IsSuccess<S> extends true
        ? {
            status: S;
            data: BodyOf<ResponsesOf<O>[S]>;
            error?: never;
            response: TypedResponse<S, HeadersOf<ResponsesOf<O>[S]>>;
          }
        : {
            status: S;
            data?: never;
            error: BodyOf<ResponsesOf<O>[S]>;
            response: TypedResponse<S, HeadersOf<ResponsesOf<O>[S]>>;
          };
    }[keyof ResponsesOf<O> & number]
  | (503 extends keyof ResponsesOf<O> ? never : Unavailable);

/** The result of `method` on `path`: `Result<"/api/payments/", "post">`. */
export type Result<P extends keyof paths, M extends HttpMethod> = ResultOf<OperationOf<P, M>>;

/** The options of a call: `params` (path, query, header), `body`, and openapi-fetch's own
 * (`signal`, `headers`, ...). */
export type InitOf<P extends keyof paths, M extends HttpMethod> = MaybeOptionalInit<paths[P], M>;

/** The init argument of a call: optional when nothing in it is required (openapi-fetch's rule). */
export type InitParam<Init> = {} extends NonNullable<Init>
  ? [(Init & { [key: string]: unknown })?]
  : [Init & { [key: string]: unknown }];

export type CallOf<M extends HttpMethod> = <P extends PathsWith<M>, I extends InitOf<P, M>>(
  path: P,
  ...init: InitParam<I>
) => Promise<Result<P, M>>;

/** The typed client: `GET`, `POST`, `PUT`, `PATCH`, `DELETE` on the API's paths. */
export interface WemoovClient {
  GET: CallOf<"get">;
  POST: CallOf<"post">;
  PUT: CallOf<"put">;
  PATCH: CallOf<"patch">;
  DELETE: CallOf<"delete">;
  /** Sends `Authorization: Token <token>` from the next request on; `null` stops sending it. */
  setToken(token: string | null): void;
  /** The token sent now, or `null`. */
  readonly token: string | null;
  /** Adds openapi-fetch middleware (`onRequest`, `onResponse`, `onError`), run after the
   * client's own (the token, `onUnauthorized`). */
  use(...middleware: Middleware[]): void;
  /** Removes middleware added with `use`. */
  eject(...middleware: Middleware[]): void;
  /** The openapi-fetch client underneath, for what this one does not wrap. */
  readonly raw: Client<paths, "application/json">;
}

export interface WemoovClientOptions {
  /** Where the API is served, without `/api`: `"https://api.wemoov.example"`. */
  baseUrl: string;
  /** A token from `POST /api/auth/token/`, sent as `Authorization: Token <token>`. Leave it out
   * for registration and login; `setToken` sets or clears it later. */
  token?: string | null;
  /** Called with every 401 response (a missing, expired or revoked token), before the call
   * returns it: clear the token, send the user to the login page. */
  onUnauthorized?: (response: Response, request: Request) => void | Promise<void>;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** Another `fetch` (a test double, a platform's own); the global one by default. */
  fetch?: ClientOptions["fetch"];
}

/**
 * A client of the WeMoov API.
 *
 *     const api = createWemoovClient({ baseUrl: "https://api.wemoov.example" });
 *     const login = await api.POST("/api/auth/token/", { body: { email, password } });
 *     if (login.status === 200) api.setToken(login.data.token);
 */
export function createWemoovClient({ baseUrl, token = null, onUnauthorized, headers, fetch }: WemoovClientOptions): WemoovClient {
  const raw = createClient<paths, "application/json">({
    baseUrl: baseUrl.replace(/\/+$/, ""),
    ...(headers === undefined ? {} : { headers }),
    ...(fetch === undefined ? {} : { fetch }),
  });
  let current = token;
  raw.use({
    onRequest({ request }) {
      if (current !== null) request.headers.set("Authorization", `Token ${current}`);
      return request;
    },
    async onResponse({ request, response }) {
      if (response.status === 401 && onUnauthorized) await onUnauthorized(response, request);
      return undefined;
    },
  });

  // openapi-fetch's result, with the status beside it (the discriminant of ResultOf).
  const call =
    (method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE") =>
    async (path: string, init?: unknown): Promise<never> => {
      const send = raw[method] as (path: string, init?: unknown) => Promise<{ response: Response }>;
      const result = await send(path, init);
      return Object.assign(result, { status: result.response.status }) as never;
    };

  return {
    GET: call("GET"),
    POST: call("POST"),
    PUT: call("PUT"),
    PATCH: call("PATCH"),
    DELETE: call("DELETE"),
    setToken(next: string | null) {
      current = next;
    },
    get token() {
      return current;
    },
    use: (...middleware) => raw.use(...middleware),
    eject: (...middleware) => raw.eject(...middleware),
    raw,
  };
}
