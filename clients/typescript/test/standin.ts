/** A stand-in API on 127.0.0.1 for what the real backend cannot be made to do on demand (drop a
 * connection, answer 409 request_in_progress): it records every request it receives. */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
  at: number;
}

export interface StandIn {
  baseUrl: string;
  received: Received[];
  close(): Promise<void>;
}

export type Handler = (request: Received, response: ServerResponse, index: number) => void;

export function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { "Content-Type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

export async function standIn(handler: Handler): Promise<StandIn> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const entry = {
        method: request.method ?? "",
        url: request.url ?? "",
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: Date.now(),
      };
      received.push(entry);
      handler(entry, response, received.length - 1);
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("the stand-in has no port");
  return {
    baseUrl: `http://127.0.0.1:${address.port}`,
    received,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** A payment body as the API returns it. */
export function paymentBody(id: number, booking: number, method: string) {
  return {
    id,
    booking,
    user: 1,
    amount: "1250.00",
    currency: "XOF",
    method,
    status: "pending",
    created_at: "2026-12-03T08:00:00Z",
    updated_at: "2026-12-03T08:00:00Z",
  };
}
