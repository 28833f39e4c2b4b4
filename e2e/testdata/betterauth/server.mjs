// A real Better Auth server with its jwt plugin (EdDSA keys, JWKS at
// /api/auth/jwks), on an in-memory SQLite database and a free 127.0.0.1 port.
// The Go tests start it and read its base URL from the first line of stdout.
import http from "node:http";
import { randomBytes } from "node:crypto";
import Database from "better-sqlite3";
import { betterAuth } from "better-auth";
import { jwt } from "better-auth/plugins";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";

const server = http.createServer();
server.listen(0, "127.0.0.1", async () => {
  const baseURL = `http://127.0.0.1:${server.address().port}`;
  const auth = betterAuth({
    baseURL,
    secret: randomBytes(32).toString("hex"),
    database: new Database(":memory:"),
    emailAndPassword: { enabled: true },
    plugins: [jwt()],
    logger: { disabled: true },
  });
  const { runMigrations } = await getMigrations(auth.options);
  await runMigrations();
  server.on("request", toNodeHandler(auth));
  console.log(JSON.stringify({ baseURL }));
});
process.stdin.on("end", () => process.exit(0)); // the test closes stdin to stop it
process.stdin.resume();
