/**
 * Library patch: writing pre-encoded NATS protocol bytes on a nats.js connection.
 *
 * The NATS connector encodes a whole batch of `PUB`/`HPUB` commands itself, into one buffer, and
 * hands it to the connection's protocol handler (`sendCommand`, what `nc.publish` ends in), so
 * that it leaves in the same outbound buffer and order as nats.js's own commands. nats.js's public
 * `publish` costs per message two subject checks, a command string, its own UTF-8 encoding, a
 * headers object and copies into its outbound buffer: ~1.5-2.5 µs of CPU a message more than one
 * encoding per batch (docs/performance.md, "NATS JetStream"), on the event loop that also runs the
 * MQTT broker and the rules. nats.js has no public way to write bytes.
 *
 * Guard: at load, the installed @nats-io/nats-core (the copy @nats-io/transport-node uses) must
 * be the pinned release and its `ProtocolHandler` must have `sendCommand`; at first use on a
 * connection, the connection must have that handler as `protocol` with `noMorePublishing`.
 * Otherwise a LibraryPatchError: there is no public write path to fall back on.
 */
import { createRequire } from 'node:module'
import { ProtocolHandler } from '@nats-io/nats-core/internal'
import { LibraryPatchError, checkVersion, installedVersion, type LibraryPin } from './version-guard.js'

export const NATS_CORE_PIN: LibraryPin = {
  library: '@nats-io/nats-core',
  version: '3.4.0',
  touches: "a NatsConnection's `protocol` (ProtocolHandler): sendCommand() and noMorePublishing",
  file: 'nats.ts',
}

// The copy of nats-core that the transport (and so every connection) loads.
const transportEntry = createRequire(import.meta.url).resolve('@nats-io/transport-node')

interface NatsProtocol {
  sendCommand(bytes: Uint8Array): void
  readonly noMorePublishing: boolean
}

/** Throws a LibraryPatchError unless `version` is the pinned one and `handler` (a ProtocolHandler class) has sendCommand(). */
export function guardNatsCore(version: string | undefined, handler: unknown): void {
  checkVersion(NATS_CORE_PIN, version)
  const proto = (handler as { prototype?: Record<string, unknown> } | undefined)?.prototype
  if (typeof proto?.sendCommand !== 'function') throw new LibraryPatchError(NATS_CORE_PIN, version, "ProtocolHandler's sendCommand() is missing")
}

/**
 * A writer of protocol bytes on `nc` (a NatsConnection): queued behind what nats.js has queued and
 * flushed as nats.js flushes its own. Throws as `nc.publish` does on a closed or draining connection.
 */
export function natsWriter(nc: { isClosed(): boolean }): (bytes: Uint8Array) => void {
  const protocol = (nc as unknown as { protocol?: NatsProtocol }).protocol
  if (!(protocol instanceof ProtocolHandler) || typeof protocol.noMorePublishing !== 'boolean') {
    throw new LibraryPatchError(NATS_CORE_PIN, installedVersion(NATS_CORE_PIN.library, transportEntry), 'a connection\'s `protocol` (ProtocolHandler with noMorePublishing) is missing')
  }
  return (bytes) => {
    if (nc.isClosed()) throw Object.assign(new Error('closed connection'), { name: 'ClosedConnectionError' })
    if (protocol.noMorePublishing) throw Object.assign(new Error('connection draining'), { name: 'DrainingConnectionError' })
    protocol.sendCommand(bytes)
  }
}

guardNatsCore(installedVersion(NATS_CORE_PIN.library, transportEntry), ProtocolHandler)
