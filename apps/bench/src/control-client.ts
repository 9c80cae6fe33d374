import { request } from "node:http";
import type { ServerStats } from "./server-kit.js";

/** One control request to a benchmark server on 127.0.0.1, with a deadline. */
export function call<T = unknown>(
  port: number,
  method: "GET" | "POST",
  path: string,
  timeoutMs: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => {
        clearTimeout(timer);
        if (res.statusCode !== 200)
          reject(new Error(`${method} ${path}: ${res.statusCode} ${body}`));
        else resolve(JSON.parse(body) as T);
      });
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}

export function stats(port: number, gc: boolean, timeoutMs = 30_000): Promise<ServerStats> {
  return call<ServerStats>(port, "GET", gc ? "/stats?gc=1" : "/stats", timeoutMs);
}
