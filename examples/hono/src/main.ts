import { randomUUID } from "node:crypto";
import { listen } from "./server.js";

// Demo users: replace with your user store. Set SESSION_SECRET so sessions survive a restart.
const users = { alice: "alice-password", bob: "bob-password" };
const sessionSecret = process.env.SESSION_SECRET ?? randomUUID();
const { port } = await listen(Number(process.env.PORT ?? 3003), { users, sessionSecret });
const base = `http://127.0.0.1:${port}`;
console.log(`Hono example on ${base} (users: alice, bob; see examples/README.md)`);
console.log(
  `log in: curl -c alice.jar -H 'content-type: application/json' -d '{"user":"alice","password":"alice-password"}' ${base}/login`,
);
console.log(`stream: curl -N -b alice.jar ${base}/events`);
