import { createEventServer } from "./server.js";

const port = Number(process.env.PORT ?? 3001);
// Demo users: replace with your user store. Set SESSION_SECRET so sessions survive a restart.
const users = { alice: "alice-password", bob: "bob-password" };
const { server } = createEventServer({ users, sessionSecret: process.env.SESSION_SECRET });
server.listen(port, "127.0.0.1", () => {
  const base = `http://127.0.0.1:${port}`;
  console.log(`node:http example on ${base} (users: alice, bob; see examples/README.md)`);
  console.log(
    `log in: curl -c alice.jar -H 'content-type: application/json' -d '{"user":"alice","password":"alice-password"}' ${base}/login`,
  );
  console.log(`stream: curl -N -b alice.jar ${base}/events`);
});
