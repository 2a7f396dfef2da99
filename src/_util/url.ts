/**
 * `http://host:port/` (or `https://`) for a bound address: brackets for IPv6,
 * `localhost` for the wildcard; `http://localhost/` for a Unix socket (a
 * client names the socket file apart, e.g. `curl --unix-socket`).
 */
export function listenUrl(address: { hostname: string; port: number; path?: string }, secure = false): string {
  const scheme = secure ? "https://" : "http://";
  if (address.path !== undefined) return `${scheme}localhost/`;
  const h = address.hostname;
  const host = h.includes(":") ? `[${h}]` : h === "0.0.0.0" ? "localhost" : h;
  return `${scheme}${host}:${address.port}/`;
}
