import { listen } from "./server.js";

const port = Number(process.env.PORT ?? 3002);
// Demo users: replace with your user store. Set SESSION_SECRET so sessions survive a restart.
const users = { alice: "alice-password", bob: "bob-password" };
await listen(port, { users, sessionSecret: process.env.SESSION_SECRET });
const base = `http://127.0.0.1:${port}`;
console.log(`Express example on ${base} (users: alice, bob; see examples/README.md)`);
console.log(
  `log in: curl -c alice.jar -H 'content-type: application/json' -d '{"user":"alice","password":"alice-password"}' ${base}/login`,
);
console.log(`stream: curl -N -b alice.jar ${base}/events`);
