import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { BatchError, type Connector, type ProbeResult } from '../../src/connector-api/index.js'
import { mysqlConnector } from '../../src/connectors/mysql/definition.js'
import { multiRowInsert } from '../../src/connectors/mysql/multi-row-insert.js'
import { asBatchChannel, rejection } from '../support/channels.js'
import { connectorBattery, paramsWithDefaults, testContext, withDefaults, type Destination } from '../support/connector-battery.js'
import { connectorFlowThroughApi } from '../support/connector-flow.js'
import { adminSql, sharedMariadb, startPrivateMariadb, uniqueName, type MariadbAddress, type PrivateMariadb } from '../support/mariadb.js'

const shared = sharedMariadb()
const configFor = (a: MariadbAddress, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  host: a.host, port: a.port, database: a.database, username: a.user, ...(a.password === undefined ? {} : { password: a.password }), ...extra,
})
const make = (config: Record<string, unknown>): Connector => mysqlConnector.create(withDefaults(mysqlConnector, config) as never, testContext('mysql-test'))
const probe = (config: Record<string, unknown>) => make(config).probe(AbortSignal.timeout(20_000))
const steps = (r: ProbeResult) => r.steps.map((s) => [s.name, s.ok])
const signal = () => AbortSignal.timeout(15_000)

/** A fresh readings table on `server`, dropped by `close`; params write `${id}`, `${temp}`, `${note}`. */
async function readings(server: MariadbAddress, engine = 'InnoDB', sql?: (table: string) => string): Promise<Destination> {
  const table = uniqueName('junction_readings')
  await adminSql(server, `CREATE TABLE ${table} (seq INT AUTO_INCREMENT PRIMARY KEY, id VARCHAR(64) NOT NULL UNIQUE, temp DOUBLE, note TEXT) ENGINE=${engine} DEFAULT CHARSET=utf8mb4`)
  return {
    params: { sql: sql?.(table) ?? `INSERT INTO ${table} (id, temp, note) VALUES (\${id}, \${temp}, \${note})` },
    readBack: () => adminSql(server, `SELECT id, temp, note FROM ${table} ORDER BY seq`),
    close: () => adminSql(server, `DROP TABLE IF EXISTS ${table}`).then(() => undefined),
  }
}

// A user with a password on the shared server, for wrong-password cases; dropped after the tests.
const testUser = uniqueName('junction_test')
const testPassword = uniqueName('pw')
before(async () => {
  await adminSql(shared, `CREATE USER IF NOT EXISTS '${testUser}'@'%' IDENTIFIED BY '${testPassword}'`)
  await adminSql(shared, `CREATE USER IF NOT EXISTS '${testUser}'@'127.0.0.1' IDENTIFIED BY '${testPassword}'`)
  await adminSql(shared, `GRANT SELECT ON \`${shared.database}\`.* TO '${testUser}'@'127.0.0.1'`)
})
after(async () => {
  await adminSql(shared, `DROP USER IF EXISTS '${testUser}'@'%', '${testUser}'@'127.0.0.1'`)
})
const wrongCredentials = () => configFor(shared, { username: testUser, password: 'battery-wrong-secret' })

connectorBattery({
  definition: mysqlConnector,
  goodConfig: () => configFor(shared),
  withAddress: (host, port) => ({ ...configFor(shared), host, port }),
  wrongCredentials,
  async tlsServer() {
    const server = await startPrivateMariadb({ tls: 'required' })
    return { config: (tls) => configFor(server, { tls }), caCert: server.certPem!, plainCode: 'TLS_REQUIRED', close: () => server.destroy() }
  },
  async privateServer() {
    const server = await startPrivateMariadb()
    return { config: () => configFor(server), destination: () => readings(server), stop: () => server.stop(), start: () => server.start(), close: () => server.destroy() }
  },
  destination: () => readings(shared),
  refusedMessage: { id: 'refused-1', temp: 'not-a-number', note: 'refused' },
})

connectorFlowThroughApi({
  type: 'mysql',
  config: () => configFor(shared),
  withPort: (port) => ({ ...configFor(shared), host: '127.0.0.1', port }),
  wrongCredentials,
  destination: () => readings(shared),
})

describe('mysql Test steps', () => {
  it('a good login reports the server version at the query step', async () => {
    const r = await probe(configFor(shared))
    assert.deepEqual(steps(r), [['resolve', true], ['connect', true], ['authenticate', true], ['query', true]])
    assert.match(r.steps[3]!.detail ?? '', /^MariaDB 10\.\d+/)
  })

  it('an unknown database is DATABASE_NOT_FOUND at authenticate', async () => {
    const r = await probe(configFor(shared, { database: 'no_such_db_junction' }))
    assert.ok(!r.ok && r.error.code === 'DATABASE_NOT_FOUND', JSON.stringify(r))
    assert.deepEqual(steps(r).at(-1), ['authenticate', false])
  })

  it('a database the user may not use is NOT_PERMITTED; the right password passes', async () => {
    const locked = await probe(configFor(shared, { database: 'mysql', username: testUser, password: testPassword }))
    assert.ok(!locked.ok && locked.error.code === 'NOT_PERMITTED', JSON.stringify(locked))
    assert.equal((await probe(configFor(shared, { username: testUser, password: testPassword }))).ok, true)
  })

  it('TLS against a server without TLS is TLS_NOT_SUPPORTED at the tls step', async () => {
    const r = await probe(configFor(shared, { tls: { enable: true, verify: false } }))
    assert.ok(!r.ok && r.error.code === 'TLS_NOT_SUPPORTED', JSON.stringify(r))
    assert.deepEqual(steps(r).at(-1), ['tls', false])
  })
})

describe('mysql TLS required (require_secure_transport)', () => {
  let server: PrivateMariadb
  before(async () => { server = await startPrivateMariadb({ tls: 'required' }) })
  after(() => server?.destroy())

  it('TLS with the CA passes; without TLS the login is TLS_REQUIRED at authenticate, a wrong password without TLS stays AUTHENTICATION_FAILED', async () => {
    const tls = await probe(configFor(server, { tls: { enable: true, caCert: server.certPem } }))
    assert.equal(tls.ok, true, JSON.stringify(tls))
    assert.match(tls.steps.find((s) => s.name === 'tls')!.detail ?? '', /^TLSv1\.[23], certificate verified/)
    const plain = await probe(configFor(server))
    assert.ok(!plain.ok && plain.error.code === 'TLS_REQUIRED', JSON.stringify(plain))
    assert.deepEqual(steps(plain).at(-1), ['authenticate', false])
    const wrong = await probe(configFor(server, { password: 'battery-wrong-secret' }))
    assert.ok(!wrong.ok && wrong.error.code === 'AUTHENTICATION_FAILED', JSON.stringify(wrong))
  })

  it("tls.serverName is the name verified: the certificate's name passes, another fails at the tls step", async () => {
    const right = await probe(configFor(server, { tls: { enable: true, caCert: server.certPem, serverName: 'localhost' } }))
    assert.equal(right.ok, true, JSON.stringify(right))
    const wrong = await probe(configFor(server, { tls: { enable: true, caCert: server.certPem, serverName: 'db.example.com' } }))
    assert.ok(!wrong.ok && wrong.error.code === 'TLS_FAILED', JSON.stringify(wrong))
    assert.deepEqual(steps(wrong).at(-1), ['tls', false])
  })
})

describe('mysql rule actions', () => {
  let c: Connector
  before(async () => {
    c = make(configFor(shared))
    await c.start(signal())
  })
  after(() => c?.stop(AbortSignal.timeout(5_000)))
  const open = async (dest: Destination) => asBatchChannel(await c.openChannel!(paramsWithDefaults(mysqlConnector, dest.params)))

  it('recognises INSERT ... VALUES templates for multi-row batches, and nothing else', () => {
    assert.equal(multiRowInsert('INSERT INTO t (a, b) VALUES (?, ?)')?.text(3), 'INSERT INTO t (a, b) VALUES (?, ?),(?, ?),(?, ?)')
    assert.equal(multiRowInsert("INSERT IGNORE INTO `d`.`t` VALUE (?, '?)', NOW()) ON DUPLICATE KEY UPDATE b = VALUES(b)")?.table, '`d`.`t`')
    for (const sql of ['UPDATE t SET a = ? WHERE b = ?', 'INSERT INTO t SELECT ?', 'INSERT INTO t VALUES (?), (?)',
      'INSERT INTO t VALUES (?) ON DUPLICATE KEY UPDATE a = ?', 'INSERT INTO t VALUES (?) -- c']) assert.equal(multiRowInsert(sql), undefined, sql)
  })

  it('openChannel rejects an unknown table or column, and bad syntax, as permanent INVALID_STATEMENT with MySQL\'s message', async () => {
    const dest = await readings(shared)
    const table = /INTO (\w+)/.exec(String(dest.params.sql))![1]
    try {
      for (const [sql, text] of [['INSERT INTO no_such_table_j (a) VALUES (${a})', /doesn't exist/], [`INSERT INTO ${table} (nope) VALUES (\${a})`, /Unknown column/],
        [`INSERT INTO ${table} VALUES (\${a}`, /syntax/]] as const) {
        const e = await rejection(c.openChannel!({ sql }))
        assert.equal(e.code, 'INVALID_STATEMENT', e.message)
        assert.equal(e.kind, 'permanent')
        assert.match(e.message, text)
      }
      // A bare ? has no value to take: the server refuses the execution, for good.
      const bare = await c.openChannel!({ sql: `INSERT INTO ${table} (id, temp) VALUES (\${a}, ?)` })
      const e = await rejection(bare.send({ a: 'x' }, signal()))
      assert.ok(e.code === 'INVALID_STATEMENT' && e.kind === 'permanent', e.message)
    } finally {
      await dest.close?.()
    }
  })

  it('a batch of 1,000 with three bad rows writes the 997 others exactly once, one BatchError naming the three', async () => {
    const dest = await readings(shared)
    try {
      const channel = await open(dest)
      const batch = Array.from({ length: 1000 }, (_, i) => ({ id: `b-${i}`, temp: [17, 500, 501].includes(i) ? 'hot' : i, note: i === 999 ? undefined : `n${i}` }))
      batch[800] = { id: 'b-1', temp: 1, note: 'duplicate id' }
      const e = await rejection(channel.sendBatch(batch, signal()))
      assert.ok(e instanceof BatchError, e.message)
      assert.deepEqual(e.failures.map((f) => [f.index, f.error.code]), [[17, 'INVALID_DATA'], [500, 'INVALID_DATA'], [501, 'INVALID_DATA'], [800, 'CONSTRAINT_VIOLATION']])
      const rows = await dest.readBack()
      assert.equal(rows.length, 996)
      assert.equal(new Set(rows.map((r) => r.id)).size, 996)
      assert.equal(rows.find((r) => r.id === 'b-999')?.note, null)
    } finally {
      await dest.close?.()
    }
  })

  it('a MyISAM table takes batches one statement per message, so a bad row leaves no row written twice', async () => {
    const dest = await readings(shared, 'MyISAM')
    try {
      const channel = await open(dest)
      const e = await rejection(channel.sendBatch([{ id: 'm-0', temp: 1 }, { id: 'm-1', temp: 'x' }, { id: 'm-2', temp: 2 }], signal()))
      assert.ok(e instanceof BatchError)
      assert.deepEqual(e.failures.map((f) => f.index), [1])
      assert.deepEqual((await dest.readBack()).map((r) => r.id), ['m-0', 'm-2'])
    } finally {
      await dest.close?.()
    }
  })

  it('an upsert with placeholders after VALUES runs per message and still writes every row', async () => {
    const dest = await readings(shared, 'InnoDB', (t) => `INSERT INTO ${t} (id, temp, note) VALUES (\${id}, \${temp}, \${note}) ON DUPLICATE KEY UPDATE temp = \${temp}`)
    try {
      const channel = await open(dest)
      await channel.sendBatch([{ id: 'u-0', temp: 1 }, { id: 'u-1', temp: 2 }, { id: 'u-0', temp: 3 }], signal())
      assert.deepEqual((await dest.readBack()).map((r) => [r.id, r.temp]), [['u-0', 3], ['u-1', 2]])
    } finally {
      await dest.close?.()
    }
  })

  it('the Test action with rollback leaves no row and the connection usable; a MyISAM table says it kept the row; a SELECT is refused on save naming sql', async () => {
    // One pooled connection: a rollback that did not run would leave the next send inside its transaction, unseen.
    const one = make({ ...configFor(shared), poolSize: 1 })
    await one.start(signal())
    const [dest, myisam] = [await readings(shared), await readings(shared, 'MyISAM')]
    try {
      await one.sendRolledBack!(dest.params, { id: 'r-1', temp: 1 }, signal())
      const bad = await rejection(one.sendRolledBack!(dest.params, { id: 'r-2', temp: 'x' }, signal()))
      assert.equal(bad.code, 'INVALID_DATA')
      await (await one.openChannel!(dest.params)).send({ id: 'r-3', temp: 3 }, signal())
      assert.deepEqual((await dest.readBack()).map((r) => r.id), ['r-3'])
      const kept = await rejection(one.sendRolledBack!(myisam.params, { id: 'r-4', temp: 4 }, signal()))
      assert.equal(kept.code, 'INVALID_PARAMS')
      assert.match(kept.message, /not transactional/)
      const table = /INTO (\w+)/.exec(String(dest.params.sql))![1]
      const refused = await rejection(one.checkAction!({ sql: `SELECT id FROM ${table} WHERE id = \${id}` }, signal()))
      assert.equal(refused.code, 'STATEMENT_WRITES_NOTHING')
      assert.equal(refused.param, 'sql')
      await one.checkAction!(dest.params, signal())
    } finally {
      await dest.close?.()
      await myisam.close?.()
      await one.stop(AbortSignal.timeout(5_000))
    }
  })

  it('a send aborted by its signal ends at once with a retryable TIMEOUT', async () => {
    const dest = await readings(shared, 'InnoDB', (t) => `INSERT INTO ${t} (id, temp) SELECT \${id}, SLEEP(2)`)
    try {
      const channel = await open(dest)
      const e = await rejection(channel.send({ id: 's-1' }, AbortSignal.timeout(300)))
      assert.equal(e.code, 'TIMEOUT')
      assert.equal(e.kind, 'retryable')
    } finally {
      await dest.close?.()
    }
  })
})
