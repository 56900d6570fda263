/** Every item of a list endpoint, page after page, following `next` by its cursor. */
import type { CallOf, InitOf, InitParam, JsonOf, OperationOf, PathsWith, ResponsesOf, WemoovClient } from "./client.js";
import { WemoovApiError } from "./errors.js";

type PageOf<P extends PathsWith<"get">> = JsonOf<ResponsesOf<OperationOf<P, "get">>[200 & keyof ResponsesOf<OperationOf<P, "get">>]>;

/** The list endpoints: a GET whose 200 is a page `{next, previous, results}`. */
export type ListPath = {
  [P in PathsWith<"get">]: PageOf<P> extends { results: unknown[]; next: string | null } ? P : never;
}[PathsWith<"get">];

/** The item type of a list endpoint: `ItemOf<"/api/bookings/">` is `Schemas["Booking"]`. */
export type ItemOf<P extends ListPath> = PageOf<P> extends { results: (infer T)[] } ? T : never;

/**
 * Every item of a list, newest first as the API orders them, one page request at a time (only
 * as far as the loop reads):
 *
 *     for await (const booking of paginate(api, "/api/bookings/", { params: { query: { status: "pending" } } })) { ... }
 *
 * `next` is a full URL: its `cursor` is sent with the same path and options (filters,
 * `page_size`). A status other than 200 throws a `WemoovApiError` carrying the typed result.
 */
export async function* paginate<P extends ListPath, I extends InitOf<P, "get">>(
  client: WemoovClient,
  path: P,
  ...init: InitParam<I>
): AsyncGenerator<ItemOf<P>, void, undefined> {
  const options = (init[0] ?? {}) as { params?: { query?: Record<string, unknown> } };
  const get = client.GET as unknown as (path: string, init: unknown) => ReturnType<CallOf<"get">>;
  let cursor: string | undefined;
  for (;;) {
    const query = { ...options.params?.query, ...(cursor === undefined ? {} : { cursor }) };
    const result = await get(path, { ...options, params: { ...options.params, query } });
    if (result.status !== 200) throw new WemoovApiError(`GET ${path} failed`, result);
    const page = result.data as { next: string | null; results: ItemOf<P>[] };
    yield* page.results;
    if (page.next === null) return;
    const next = new URL(page.next).searchParams.get("cursor");
    if (next === null) throw new Error(`GET ${path}: the next page's URL has no cursor: ${page.next}`);
    cursor = next;
  }
}
