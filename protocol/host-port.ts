/** Splits `host:port` (IPv6 hosts in brackets) into its parts. */
export function parseHostPort(text: string): { host: string; port: number } {
  const i = text.lastIndexOf(':');
  let host = text.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port: Number(text.slice(i + 1)) };
}

/** Joins host and port, bracketing IPv6 hosts. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
