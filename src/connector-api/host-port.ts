/** A server address split for a client library, and written back for messages. */
export interface HostPort {
  /** Host name or IP address, without IPv6 brackets. */
  readonly host: string
  readonly port: number
  /** `host:port` for messages (IPv6 in brackets). */
  readonly address: string
}

/**
 * Splits one schema-validated `host[:port]` (IPv6 in brackets: `[::1]:1884`) into host and port,
 * `defaultPort` when it has none. One parser for every type that takes servers as text.
 */
export function hostPort(value: string, defaultPort: number): HostPort {
  const item = value.trim()
  let host = item
  let port = defaultPort
  const bracket = item.startsWith('[') ? item.indexOf(']') : -1
  const colon = item.lastIndexOf(':')
  if (bracket >= 0) {
    host = item.slice(1, bracket)
    if (item[bracket + 1] === ':') port = Number(item.slice(bracket + 2))
  } else if (colon >= 0) {
    host = item.slice(0, colon)
    port = Number(item.slice(colon + 1))
  }
  return { host, port, address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}` }
}

/** `host[:port]` entries of a comma-separated string or a list; empty entries skipped. */
export function hostPorts(servers: string | readonly string[], defaultPort: number): HostPort[] {
  const list = typeof servers === 'string' ? servers.split(',') : servers
  return list.map((s) => s.trim()).filter((s) => s !== '').map((s) => hostPort(s, defaultPort))
}
