import { networkInterfaces } from 'node:os'
import type { ConnectionInfo } from '../broker-types.js'

export type Transport = ConnectionInfo['transport']

const SCHEMES: Record<Transport, string> = { tcp: 'mqtt', tls: 'mqtts', ws: 'ws', wss: 'wss' }

type Interfaces = ReturnType<typeof networkInterfaces>

/**
 * The hosts a device can put in a URL to reach a listener bound to `bindHost`: for a wildcard
 * (0.0.0.0, or :: which also takes IPv4) the machine's non-internal interface addresses, then
 * localhost and 127.0.0.1; never the wildcard itself, which no client can connect to. IPv6
 * link-local addresses are left out: they need a zone a URL cannot carry portably.
 */
export function reachableHosts(bindHost: string, interfaces: Interfaces = networkInterfaces()): string[] {
  const wildcard4 = bindHost === '0.0.0.0' || bindHost === ''
  const wildcard6 = bindHost === '::' || bindHost === '[::]'
  if (!wildcard4 && !wildcard6) {
    const host = bindHost.includes(':') && !bindHost.startsWith('[') ? `[${bindHost}]` : bindHost
    return host === '127.0.0.1' ? [host, 'localhost'] : [host]
  }
  const hosts: string[] = []
  for (const addrs of Object.values(interfaces)) {
    for (const a of addrs ?? []) {
      if (a.internal) continue
      if (a.family === 'IPv4') hosts.push(a.address)
      else if (wildcard6 && !a.address.toLowerCase().startsWith('fe80:')) hosts.push(`[${a.address}]`)
    }
  }
  return [...new Set(hosts), 'localhost', '127.0.0.1']
}

/** `mqtts://192.168.1.5:8883`, `ws://localhost:8083/mqtt`, ... one per reachable host. */
export function listenerUrls(transport: Transport, hosts: readonly string[], port: number, path?: string): string[] {
  const suffix = transport === 'ws' || transport === 'wss' ? (path ?? '/mqtt') : ''
  return hosts.map((h) => `${SCHEMES[transport]}://${h}:${port}${suffix}`)
}
