/** What the helpers (`paginate`, `createPayment`) throw; a plain call returns its error instead. */

/** The API answered a status the helper cannot go on from: the typed result is in `result`. */
export class WemoovApiError<R extends { status: number; error?: unknown; response: Response } = {
  status: number;
  error?: unknown;
  response: Response;
}> extends Error {
  readonly status: R["status"];
  readonly error: R["error"];
  readonly response: Response;

  constructor(
    message: string,
    readonly result: R,
  ) {
    super(`${message}: ${result.status} ${JSON.stringify(result.error)}`);
    this.name = "WemoovApiError";
    this.status = result.status;
    this.error = result.error;
    this.response = result.response;
  }
}

/** No answer came (the network, DNS, a reset connection) after every attempt. `idempotencyKey`
 * is the key the attempts carried: retry later with it, and the server replays or resumes. */
export class WemoovNetworkError extends Error {
  constructor(
    message: string,
    readonly idempotencyKey: string,
    options: { cause: unknown },
  ) {
    super(message, options);
    this.name = "WemoovNetworkError";
  }
}
