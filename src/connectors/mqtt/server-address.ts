import { hostPort, type HostPort } from '../../connector-api/index.js'

export type ServerAddress = HostPort

/** The MQTT ports: plain and over TLS (IANA). */
export const DEFAULT_PORT = 1883
export const DEFAULT_TLS_PORT = 8883

/** Splits a validated `server` value (`host[:port]`) into host and port. */
export function parseServer(value: string, tls: boolean): ServerAddress {
  return hostPort(value, tls ? DEFAULT_TLS_PORT : DEFAULT_PORT)
}
