/** POSTs `body` as JSON to `url` (e.g. the route that makes your app send an event). */
export function postJson(
  url: string | URL,
  body: unknown,
  init: RequestInit = {},
): Promise<Response> {
  return fetch(url, {
    ...init,
    method: "POST",
    headers: { "content-type": "application/json", ...init.headers },
    body: JSON.stringify(body),
  });
}
