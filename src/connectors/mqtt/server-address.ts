export interface ServerAddress {
  /** Host name or IP address, without IPv6 brackets. */
  readonly host: string
  readonly port: number
  /** `host:port` for messages (IPv6 in brackets). */
  readonly address: string
}

/** The MQTT ports: plain and over TLS (IANA). */
export const DEFAULT_PORT = 1883
export const DEFAULT_TLS_PORT = 8883

/** Splits a validated `server` value (`host[:port]`) into host and port. */
export function parseServer(value: string, tls: boolean): ServerAddress {
  const item = value.trim()
  let host = item
  let port = tls ? DEFAULT_TLS_PORT : DEFAULT_PORT
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
