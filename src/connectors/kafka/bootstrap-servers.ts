export interface BootstrapServer {
  /** Host name or IP address, without IPv6 brackets. */
  readonly host: string
  readonly port: number
  /** `host:port` as kafkajs wants it (IPv6 in brackets). */
  readonly address: string
}

/**
 * Splits a validated `bootstrapServers` value (`host:port[,host:port...]`) into servers, in the
 * order given, without duplicates.
 */
export function parseBootstrapServers(value: string): BootstrapServer[] {
  const seen = new Set<string>()
  const out: BootstrapServer[] = []
  for (const part of value.split(',')) {
    const item = part.trim()
    if (item === '') continue
    const colon = item.lastIndexOf(':')
    let host = item.slice(0, colon)
    const port = Number(item.slice(colon + 1))
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1)
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
    if (seen.has(address)) continue
    seen.add(address)
    out.push({ host, port, address })
  }
  return out
}
