import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Need } from "./suite-needs.js";

/** Debian's nginx (`apt-get install nginx-light`). */
export const NGINX = "/usr/sbin/nginx";
/** `.ci/run` sets SE_REQUIRE_NGINX=1 (and CI=true): a missing nginx then fails instead of skipping. */
export const nginxRequired = process.env.SE_REQUIRE_NGINX === "1" || process.env.CI === "true";

/** A running nginx of our own: its own prefix, config, pid file, logs and temp paths. */
export interface Nginx {
  /** `http://127.0.0.1:<port>` (`https://` with `tls`), the proxy's address. */
  readonly url: string;
  /** nginx's error log so far (timeouts and upstream errors are logged there). */
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

/**
/** What {@link startNginx} adds around the `location` blocks. */
export interface NginxOptions {
  /** Directives for the `http` block (e.g. `gzip on;`). */
  http?: string;
  /** Serve TLS with HTTP/2 (`listen … ssl http2`) with this PEM key and certificate. */
  tls?: { key: string; cert: string };
}

/**
 * Starts nginx in the foreground (`daemon off`) with a generated config whose one `server`
 * listens on 127.0.0.1 and holds `locations` (the `location` blocks under test, as written).
 * nginx cannot listen on port 0, so a free port below 32768 is picked and the start retried
 * on a clash.
 */
export async function startNginx(locations: string, options: NginxOptions = {}): Promise<Nginx> {
  const prefix = await mkdtemp(join(tmpdir(), "se-nginx-"));
  if (options.tls) {
    await writeFile(join(prefix, "key.pem"), options.tls.key);
    await writeFile(join(prefix, "cert.pem"), options.tls.cert);
  }
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const conf = join(prefix, "nginx.conf");
    await writeFile(conf, config(prefix, port, locations, options));
    const errorLog = join(prefix, "error.log");
    const child = spawn(NGINX, ["-p", prefix, "-c", conf, "-e", errorLog], { stdio: "ignore" });
    const started = await listening(child, port);
    const readLog = () => readFile(errorLog, "utf8").catch(() => "");
    if (started) {
      return {
        url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
        errorLog: readLog,
        stop: async () => {
          await stopProcess(child);
          await rm(prefix, { recursive: true, force: true });
        },
      };
    }
    await stopProcess(child);
    const log = await readLog();
    if (!/Address already in use/.test(log) || attempt >= 5) {
      await rm(prefix, { recursive: true, force: true });
      throw new Error(`nginx did not start:\n${log}`);
    }
  }
}

function config(prefix: string, port: number, locations: string, options: NginxOptions): string {
  const asRoot = process.getuid?.() === 0;
  const tls = options.tls
    ? `ssl http2;\n    ssl_certificate ${join(prefix, "cert.pem")};\n    ssl_certificate_key ${join(prefix, "key.pem")};`
    : ";";
  return `
${asRoot ? "user root;" : ""}
daemon off;
worker_processes 1;
pid ${join(prefix, "nginx.pid")};
error_log ${join(prefix, "error.log")} info;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${join(prefix, "client_body")};
  proxy_temp_path ${join(prefix, "proxy")};
  fastcgi_temp_path ${join(prefix, "fastcgi")};
  uwsgi_temp_path ${join(prefix, "uwsgi")};
  scgi_temp_path ${join(prefix, "scgi")};
  ${options.http ?? ""}
  server {
    listen 127.0.0.1:${port} ${tls}
    ${locations}
  }
}
`;
}

/** Resolves `true` once `port` accepts connections, `false` if nginx exits first. */
async function listening(child: ChildProcess, port: number): Promise<boolean> {
  let exited = child.exitCode !== null;
  child.once("exit", () => {
    exited = true;
  });
  const deadline = Date.now() + 10_000;
  while (!exited && Date.now() < deadline) {
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (accepted) return !exited;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

/** A port below 32768 (outside Linux's ephemeral range) that nothing listens on right now. */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

/** SIGTERM (nginx's fast shutdown, which stops its workers too), then SIGKILL after 5 s. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

/** nginx, for {@link suiteCanRun}. */
export const NGINX_NEED: Need = {
  path: NGINX,
  install: "apt-get install nginx-light",
  required: nginxRequired,
  requiredBy: "SE_REQUIRE_NGINX=1 or CI=true",
};
