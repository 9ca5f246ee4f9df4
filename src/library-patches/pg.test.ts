import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import pg from 'pg'
import { PG_PIN, destroyPgSocket, guardPg, pgWire } from './pg.js'
import { LibraryPatchError, installedVersion } from './version-guard.js'

/** A stand-in with exactly the internals the guard looks for, minus what `drop` names. */
function fakeClient(drop: { connection?: boolean; destroy?: boolean; writable?: boolean; parsed?: boolean; submitted?: boolean; copyFail?: boolean } = {}) {
  const stream: Record<string, unknown> = { write() { return true }, destroy() {}, writable: false }
  if (drop.destroy) delete stream.destroy
  if (drop.writable) delete stream.writable
  const connection: Record<string, unknown> = { stream, parsedStatements: {}, submittedNamedStatements: {}, sendCopyFail() {} }
  if (drop.parsed) delete connection.parsedStatements
  if (drop.submitted) delete connection.submittedNamedStatements
  if (drop.copyFail) delete connection.sendCopyFail
  return drop.connection ? {} : { connection }
}

describe('pg library patch', () => {
  it('guard: the installed pg is the pinned release, and a fresh client has the internals (checked at load too)', () => {
    assert.equal(installedVersion('pg'), PG_PIN.version)
    assert.doesNotThrow(() => guardPg(PG_PIN.version, new pg.Client()))
    assert.doesNotThrow(() => guardPg(PG_PIN.version, fakeClient()))
  })

  it('guard: refuses another version, naming the package, both versions and what to run', () => {
    assert.throws(() => guardPg('8.24.0', new pg.Client()), (err: unknown) => {
      assert.ok(err instanceof LibraryPatchError)
      assert.equal(err.found, '8.24.0')
      assert.match(err.message, /pg 8\.23\.1 exactly, found pg 8\.24\.0: the version differs/)
      assert.match(err.message, /npm ci/)
      assert.match(err.message, /src\/library-patches\/pg\.ts/)
      return true
    })
  })

  it('guard: refuses a client missing any internal the connector touches', () => {
    const cases: [Parameters<typeof fakeClient>[0], RegExp][] = [
      [{ connection: true }, /Client's `connection` is missing/],
      [{ destroy: true }, /socket's destroy\(\) is missing/],
      [{ writable: true }, /socket's `writable` is missing/],
      [{ parsed: true }, /`parsedStatements` is missing/],
      [{ submitted: true }, /`submittedNamedStatements` is missing/],
      [{ copyFail: true }, /sendCopyFail\(\) is missing/],
    ]
    for (const [drop, message] of cases) assert.throws(() => guardPg(PG_PIN.version, fakeClient(drop)), message)
  })

  it('destroyPgSocket drops a connected client\'s socket at once (PostgreSQL on 5432)', async () => {
    const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' })
    await client.connect()
    const errors: Error[] = []
    client.on('error', (err: Error) => errors.push(err))
    const ended = new Promise((resolve) => client.once('end', resolve))
    const wire = pgWire((client as unknown as { connection: pg.Connection }).connection)
    assert.equal(wire.stream.writable, true)
    destroyPgSocket(client)
    await ended
    assert.equal(wire.stream.writable, false)
    assert.match(String(errors[0]?.message), /terminated unexpectedly/, 'pg reports the dropped socket')
    await assert.rejects(client.query('SELECT 1'))
  })
})
