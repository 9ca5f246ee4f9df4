/**
 * Library patch: the internals of pg's protocol connection that the PostgreSQL connector uses.
 *
 * - Pipelined writes: the connector's `PipelinedStatement` is a pg Submittable (pg's public
 *   extension point, the one pg-cursor uses), but it writes its pre-encoded messages straight to
 *   the connection's socket (`connection.stream`) and keeps pg's own record of prepared
 *   statements (`parsedStatements`, `submittedNamedStatements`), so that pg's named queries and
 *   ours never disagree about what a connection has prepared.
 * - Dropping a client at once: pg has no public call for it (`end()` waits for the server, which
 *   a hung server never answers), so the probe destroys `client.connection.stream`, as pg itself
 *   does on its connect timeout.
 *
 * Guard: at load, the installed pg must be the pinned release and a fresh (never connected)
 * pg.Client must have those internals; otherwise loading throws, so Junction refuses to start
 * instead of failing every PostgreSQL write. There is no safe fallback for the write path.
 */
import pg from 'pg'
import { LibraryPatchError, checkVersion, installedVersion, type LibraryPin } from './version-guard.js'

export const PG_PIN: LibraryPin = {
  library: 'pg',
  version: '8.23.1',
  touches: "pg's Client#connection and its Connection's stream, parsedStatements, submittedNamedStatements and sendCopyFail",
  file: 'pg.ts',
}

/** The part of pg's protocol connection (`pg.Connection`) that a Submittable writes to. */
export interface PgWire {
  readonly stream: { readonly writable: boolean; write(chunk: Buffer): boolean }
  /** Statement name -> text, filled by the client at ParseComplete. */
  readonly parsedStatements?: Record<string, string>
  /** Statement name -> text, sent but not yet confirmed; the client clears the active query's name on an error. */
  readonly submittedNamedStatements?: Record<string, string>
  sendCopyFail(message: string): void
}

/** The internals of the connection pg hands a Submittable's `submit` and handlers. */
export function pgWire(connection: pg.Connection): PgWire {
  return connection as unknown as PgWire
}

/** Drops a client's socket at once, without a Terminate or any wait. */
export function destroyPgSocket(client: pg.Client): void {
  const internal = client as unknown as { connection?: { stream?: { destroy(): void } } }
  internal.connection?.stream?.destroy()
}

/** Throws a LibraryPatchError unless `version` is the pinned one and `client` has the internals used here. */
export function guardPg(version: string | undefined, client: unknown): void {
  checkVersion(PG_PIN, version)
  const missing = (what: string) => new LibraryPatchError(PG_PIN, version, `${what} is missing`)
  const connection = (client as { connection?: unknown } | null)?.connection as Record<string, unknown> | undefined
  if (typeof connection !== 'object' || connection === null) throw missing('a Client\'s `connection`')
  const stream = connection.stream as Record<string, unknown> | undefined
  if (typeof stream !== 'object' || stream === null) throw missing('a Connection\'s socket `stream`')
  for (const method of ['write', 'destroy'] as const) {
    if (typeof stream[method] !== 'function') throw missing(`the socket's ${method}()`)
  }
  if (typeof stream.writable !== 'boolean') throw missing('the socket\'s `writable`')
  for (const record of ['parsedStatements', 'submittedNamedStatements'] as const) {
    if (typeof connection[record] !== 'object' || connection[record] === null) throw missing(`a Connection's \`${record}\``)
  }
  if (typeof connection.sendCopyFail !== 'function') throw missing('a Connection\'s sendCopyFail()')
}

// A Client that never connects opens no socket (its stream is an unconnected net.Socket).
guardPg(installedVersion('pg'), new pg.Client())
