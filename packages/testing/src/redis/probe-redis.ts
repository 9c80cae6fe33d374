import { execFileSync } from "node:child_process";

// Runs in a child Node process: connects, AUTHs when the URL has a password, PINGs.
// Prints "ok" or why not.
const PROBE = `
const url = new URL(process.argv[1]);
const tls = url.protocol === "rediss:";
const command = (...args) => "*" + args.length + "\\r\\n" +
  args.map((arg) => "$" + Buffer.byteLength(arg) + "\\r\\n" + arg + "\\r\\n").join("");
const done = (text) => { console.log(text); process.exit(0); };
const options = { host: url.hostname || "127.0.0.1", port: Number(url.port || 6379), servername: url.hostname };
const socket = require(tls ? "node:tls" : "node:net").connect(options, () => {
  if (url.password) {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    socket.write(user ? command("AUTH", user, password) : command("AUTH", password));
  }
  socket.write(command("PING"));
});
socket.setTimeout(1000, () => done("no answer within 1 s"));
socket.on("error", (error) => done(error.message));
let text = "";
socket.on("data", (chunk) => {
  text += chunk;
  const error = text.split("\\r\\n").find((line) => line.startsWith("-"));
  if (error) done(error.slice(1));
  if (text.includes("+PONG")) done("ok");
});
`;

/**
 * Why the Redis at `url` cannot be used, or `undefined` when it answers PING. Synchronous (a
 * short-lived child process), so a suite can decide at import whether it skips.
 */
export function probeRedis(url: string): string | undefined {
  let answer: string;
  try {
    answer = execFileSync(process.execPath, ["-e", PROBE, url], {
      encoding: "utf8",
      timeout: 5000,
      stdio: ["ignore", "pipe", "pipe"],
    }).trim();
  } catch (error) {
    answer = `the probe failed: ${(error as Error).message}`;
  }
  if (answer === "ok") return undefined;
  const shown = url.replace(/\/\/[^@/]*@/, "//***@");
  return `no Redis at ${shown} (${answer})`;
}
