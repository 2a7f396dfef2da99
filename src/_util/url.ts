/** `http://host:port/` for a bound address: brackets for IPv6, `localhost` for the wildcard. */
export function listenUrl(address: { hostname: string; port: number }): string {
  const h = address.hostname;
  const host = h.includes(":") ? `[${h}]` : h === "0.0.0.0" ? "localhost" : h;
  return `http://${host}:${address.port}/`;
}
