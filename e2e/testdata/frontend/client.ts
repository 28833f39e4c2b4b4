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

// bob's client: the second person of the sharing flow.
const bobApi = createClient<paths>({
  baseUrl: process.env.API_URL,
  headers: { Authorization: `Bearer ${process.env.TOKEN_BOB}` },
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

  // Sharing: alice makes a list and an invitation; bob accepts it, then adds
  // a todo to the list, which alice sees.
  const shared = await api.POST("/v1/lists", { body: { name: "groceries" } });
  if (!shared.data) fail("create list", shared.response.status, shared.error);
  const listId: string = shared.data.id;
  const invite = await api.POST("/v1/lists/{list_id}/invitations", {
    params: { path: { list_id: listId } },
    body: { role: "editor" },
  });
  if (!invite.data?.token) fail("invite", invite.response.status, invite.error);
  const joined = await bobApi.POST("/v1/invitations/{token}/accept", { params: { path: { token: invite.data.token } } });
  if (!joined.data) fail("accept", joined.response.status, joined.error);
  const bobs = await bobApi.POST("/v1/lists/{list_id}/todos", {
    params: { path: { list_id: listId } },
    body: { title: "bob's milk" },
  });
  if (!bobs.data) fail("bob creates in the list", bobs.response.status, bobs.error);
  const seen = await api.GET("/v1/lists/{list_id}/todos", { params: { path: { list_id: listId } } });
  if (!seen.data) fail("alice lists the shared list", seen.response.status, seen.error);
  const members = await api.GET("/v1/lists/{list_id}/members", { params: { path: { list_id: listId } } });
  if (!members.data) fail("members", members.response.status, members.error);

  console.log(JSON.stringify({
    sharedTitles: seen.data.items.map((t) => t.title),
    bobRole: joined.data.role,
    members: members.data.items.map((m) => `${m.user_id}:${m.role}`),
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
