// A frontend's first day: a client generated from the API's OpenAPI document
// (openapi-typescript + openapi-fetch), compiled with tsc --strict, run with
// node against the running API. The Go test TestTypeScriptClient drives it and
// reads the JSON line it prints.
import createClient from "openapi-fetch";
import type { components, paths } from "./gen/schema.js";

type Todo = components["schemas"]["Todo"];
type Summary = components["schemas"]["Summary"];

const api = createClient<paths>({
  baseUrl: process.env.API_URL,
  headers: { Authorization: `Bearer ${process.env.TOKEN}` },
});

function fail(what: string, status: number, error: unknown): never {
  throw new Error(`${what}: ${status} ${JSON.stringify(error)}`);
}

async function main(): Promise<void> {
  const created = await api.POST("/v1/todos", {
    body: { title: "written in TypeScript", due_at: "2027-05-01T12:00:00Z" },
    params: { header: { "Idempotency-Key": "ts-client-1" } },
  });
  if (!created.data) fail("create", created.response.status, created.error);
  const todo: Todo = created.data;
  const etag = created.response.headers.get("ETag") ?? fail("create: no ETag", 0, null);

  const list = await api.GET("/v1/todos", { params: { query: { sort: "due_at", limit: 10, completed: false } } });
  if (!list.data) fail("list", list.response.status, list.error);
  const items: Todo[] = list.data.items;
  const next: string | null = list.data.next_cursor;

  const patched = await api.PATCH("/v1/todos/{id}", {
    params: { path: { id: todo.id }, header: { "If-Match": [etag] } },
    body: { completed: true },
  });
  if (!patched.data) fail("patch", patched.response.status, patched.error);
  const completed: boolean = patched.data.completed;

  const stale = await api.PATCH("/v1/todos/{id}", {
    params: { path: { id: todo.id }, header: { "If-Match": [etag] } },
    body: { title: "lost update" },
  });
  const summary = await api.GET("/v1/todos/summary");
  if (!summary.data) fail("summary", summary.response.status, summary.error);
  const counts: Summary = summary.data;

  const cleared = await api.DELETE("/v1/todos", { params: { query: { completed: true } } });
  if (!cleared.data) fail("clear completed", cleared.response.status, cleared.error);

  console.log(JSON.stringify({
    created: todo.id,
    listed: items.map((t) => t.id),
    next,
    completed,
    staleStatus: stale.response.status,
    staleTitle: stale.error?.title,
    summary: counts,
    cleared: cleared.data.changed,
  }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
