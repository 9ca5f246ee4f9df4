// PostgreSQL: the battery and the flow through the API against real servers, then what only
// PostgreSQL has (SQLSTATEs, scram, SSLRequest, multi-row INSERT and pipelined batches).
import assert from 'node:assert/strict'
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { BatchError, ConnectorError, withResourceOptions, type Connector, type ConnectorContext, type Health, type ProbeResult } from '../../src/connector-api/index.js'
import { classifyPgError } from '../../src/connectors/postgresql/classify-error.js'
import type { PostgresqlConfig } from '../../src/connectors/postgresql/config-schema.js'
import { postgresqlConnector } from '../../src/connectors/postgresql/definition.js'
import { validateWithSchema } from '../../src/core/schema-validation.js'
import { asBatchChannel, rejection, type BatchChannel } from '../support/channels.js'
import { connectorBattery, testContext, withDefaults, type Destination } from '../support/connector-battery.js'
import { connectorFlowThroughApi } from '../support/connector-flow.js'
import { sharedPostgres, startPrivatePostgres, type PostgresAddress, type PrivatePostgres } from '../support/postgres.js'

const shared = sharedPostgres()
const configFor = (pg: PostgresAddress, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  host: pg.host,
  port: pg.port,
  database: pg.database,
  username: pg.user,
  ...(pg.password === undefined ? {} : { password: pg.password }),
  ...extra,
})
const make = (config: Record<string, unknown>, ctx: ConnectorContext = testContext('pg-test')): Connector =>
  postgresqlConnector.create(withDefaults(postgresqlConnector, config) as PostgresqlConfig, ctx)
const probe = (config: Record<string, unknown>) => make(config).probe(AbortSignal.timeout(20_000))
const steps = (r: ProbeResult) => r.steps.map((s) => [s.name, s.ok])
const errorCode = (r: ProbeResult) => (r.ok ? 'ok' : r.error.code)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const signal = (ms = 15_000) => AbortSignal.timeout(ms)

/** One scram-sha-256 server (TLS offered, not required) for every test that needs a password (started on first use). */
let scram: Promise<PrivatePostgres> | undefined
const scramServer = () => (scram ??= startPrivatePostgres({ auth: 'scram', password: 'right-pw', ssl: 'on' }))
after(async () => { await (await scram)?.destroy() })

/** A fresh table (id, temp, note) on `server`, written by a quoted placeholder too (`'${note}'` is still a parameter). */
async function tableDestination(server: PostgresAddress): Promise<Destination> {
  const table = `junction_b_${Math.random().toString(36).slice(2, 10)}`
  const query = async <T extends pg.QueryResultRow>(sql: string) => {
    const c = new pg.Client({ host: server.host, port: server.port, database: server.database, user: server.user, ...(server.password ? { password: server.password } : {}) })
    await c.connect()
    try {
      return (await c.query<T>(sql)).rows
    } finally {
      await c.end()
    }
  }
  await query(`CREATE TABLE ${table} (id text, temp numeric, note text)`)
  return {
    params: { sql: `INSERT INTO ${table} (id, temp, note) VALUES (\${id}, \${temp}, '\${note}')` },
    readBack: () => query<{ id: string; temp: string; note: string | null }>(`SELECT id, temp, note FROM ${table}`),
    close: async () => { await query(`DROP TABLE IF EXISTS ${table}`) },
  }
}

connectorBattery({
  definition: postgresqlConnector,
  goodConfig: () => configFor(shared),
  withAddress: (host, port) => ({ ...configFor(shared), host, port }),
  wrongCredentials: async () => configFor(await scramServer(), { password: 'battery-wrong-secret' }),
  async tlsServer() {
    const server = await startPrivatePostgres({ ssl: 'required' })
    return {
      config: (tls) => configFor(server, { tls }),
      caCert: server.certPem!,
      plainCode: 'TLS_REQUIRED',
      close: () => server.destroy(),
    }
  },
  async privateServer() {
    const server = await startPrivatePostgres()
    return {
      config: () => configFor(server, { connectTimeoutMs: 2_000 }),
      destination: () => tableDestination(server),
      stop: () => server.stop(),
      start: () => server.start(),
      close: () => server.destroy(),
    }
  },
  destination: () => tableDestination(shared),
  refusedMessage: { id: 'refused-1', temp: 'not a number', note: 'x' },
})

connectorFlowThroughApi({
  type: 'postgresql',
  config: () => configFor(shared),
  withPort: (port) => ({ ...configFor(shared), host: '127.0.0.1', port }),
  wrongCredentials: async () => configFor(await scramServer(), { password: 'battery-wrong-secret' }),
  destination: () => tableDestination(shared),
})

describe('postgresql config validation', () => {
  const validate = (config: unknown) => validateWithSchema<Record<string, unknown>>(withResourceOptions(postgresqlConnector).configSchema, config, 'config')
  const paths = (config: unknown) => {
    const r = validate(config)
    assert.equal(r.ok, false, 'expected the config to be rejected')
    return r.ok ? [] : r.errors.map((e) => e.path)
  }

  it('fills in every default', () => {
    const r = validate({ host: 'db', database: 'd', username: 'u' })
    assert.ok(r.ok, JSON.stringify(r))
    assert.deepEqual(r.value, {
      host: 'db', database: 'd', username: 'u', port: 5432, poolSize: 8, connectTimeoutMs: 5000,
      tls: { enable: false, verify: true },
      resource: { healthCheckIntervalMs: 15_000, startTimeoutMs: 5_000 },
    })
  })

  it('reports missing, mistyped and unknown fields with their paths', () => {
    assert.deepEqual(paths({ database: 'd', username: 'u' }), ['config.host'])
    assert.deepEqual(paths({ host: 'db', port: 'x', database: 'd', username: 'u' }), ['config.port'])
    assert.deepEqual(paths({ host: 'db', database: 'd', username: 'u', bogus: 1 }), ['config.bogus'])
    assert.deepEqual(paths({ host: 'db', database: 'd', username: 'u', tls: { enable: true, bogus: 1 } }), ['config.tls.bogus'])
    assert.deepEqual(paths({ host: 'db', database: 'd', username: 'u', poolSize: 0 }), ['config.poolSize'])
    assert.deepEqual(paths({ host: 'db host', database: '', username: 'u' }).sort(), ['config.database', 'config.host'])
  })

  it('params need a sql template and nothing unknown', () => {
    const v = (p: unknown) => validateWithSchema(postgresqlConnector.paramsSchema, p, 'params')
    assert.equal(v({ sql: 'INSERT INTO t (a) VALUES (${payload.a})' }).ok, true)
    const missing = v({})
    assert.ok(!missing.ok && missing.errors.some((e) => e.path === 'params.sql'), JSON.stringify(missing))
    const unknown = v({ sql: 'SELECT 1', batch: 3 })
    assert.ok(!unknown.ok && unknown.errors.some((e) => e.path === 'params.batch'), JSON.stringify(unknown))
  })
})

describe('postgresql probe: what only PostgreSQL says', () => {
  let server: PrivatePostgres
  before(async () => {
    server = await scramServer()
    await server.sql('CREATE DATABASE locked')
    await server.sql('REVOKE CONNECT ON DATABASE locked FROM PUBLIC')
    await server.sql("CREATE ROLE plain LOGIN PASSWORD 'plain-pw'")
  })

  it('scram: the right password passes login and query, and the query step names the server version', async () => {
    const r = await probe(configFor(server))
    assert.equal(r.ok, true, JSON.stringify(r))
    assert.deepEqual(steps(r), [['resolve', true], ['connect', true], ['authenticate', true], ['query', true]])
    assert.match(r.steps[3]?.detail ?? '', /^PostgreSQL \d+/)
  })

  it('no password against a scram server is AUTHENTICATION_FAILED, and PGPASSWORD is not used', async () => {
    const saved = process.env.PGPASSWORD
    process.env.PGPASSWORD = 'right-pw'
    try {
      const r = await probe(configFor({ ...server, password: undefined }))
      assert.equal(errorCode(r), 'AUTHENTICATION_FAILED', JSON.stringify(r))
      assert.ok(!r.ok && /password/.test(r.error.message), JSON.stringify(r))
    } finally {
      if (saved === undefined) delete process.env.PGPASSWORD
      else process.env.PGPASSWORD = saved
    }
  })

  it('an unknown database is DATABASE_NOT_FOUND at authenticate', async () => {
    const r = await probe(configFor(server, { database: 'no_such_db' }))
    assert.equal(errorCode(r), 'DATABASE_NOT_FOUND', JSON.stringify(r))
    assert.deepEqual(steps(r), [['resolve', true], ['connect', true], ['authenticate', false]])
  })

  it('a database the user may not connect to is NOT_PERMITTED', async () => {
    const r = await probe(configFor(server, { database: 'locked', username: 'plain', password: 'plain-pw' }))
    assert.equal(errorCode(r), 'NOT_PERMITTED', JSON.stringify(r))
  })

  it('TLS against a server without TLS is TLS_NOT_SUPPORTED at the tls step (the SSLRequest answer)', async () => {
    const r = await probe(configFor(shared, { tls: { enable: true, verify: false } }))
    assert.equal(errorCode(r), 'TLS_NOT_SUPPORTED', JSON.stringify(r))
    assert.deepEqual(steps(r), [['resolve', true], ['connect', true], ['tls', false]])
  })

  it('over TLS the tls step names the protocol and whether the certificate was verified; the login says TLS', async () => {
    const r = await probe(configFor(server, { tls: { enable: true, verify: false } }))
    assert.equal(r.ok, true, JSON.stringify(r))
    assert.match(r.steps[2]?.detail ?? '', /TLSv1\.[23].*not verified/)
    assert.match(r.steps[3]?.detail ?? '', /over TLS/)
  })
})

/** A TCP relay to `port` that can be frozen: data is held back (not lost) until thawed. */
async function freezableProxy(port: number): Promise<{ port: number; freeze(): void; thaw(): void; close(): Promise<void> }> {
  let frozen = false
  const held: Array<[Socket, Buffer]> = []
  const sockets = new Set<Socket>()
  const relay = (from: Socket, to: Socket) => {
    from.on('data', (d: Buffer) => (frozen ? held.push([to, d]) : to.write(d)))
    from.on('close', () => to.destroy())
    from.on('error', () => undefined)
    sockets.add(from)
  }
  const srv: Server = createServer((client) => {
    const upstream = netConnect({ host: '127.0.0.1', port })
    relay(client, upstream)
    relay(upstream, client)
  })
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  return {
    port: (srv.address() as { port: number }).port,
    freeze: () => { frozen = true },
    thaw: () => {
      frozen = false
      for (const [to, d] of held.splice(0)) if (!to.destroyed) to.write(d)
    },
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); srv.close(() => resolve()) }),
  }
}

describe('postgresql on a private server: a stopped server, a hung one', () => {
  let server: PrivatePostgres
  const logged: Array<{ level: string; msg: string; data?: Record<string, unknown> }> = []
  const log = (level: string) => (msg: string, data?: Record<string, unknown>) => { logged.push({ level, msg, ...(data ? { data } : {}) }) }
  const ctx: ConnectorContext = { connectorId: 'outage', logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') } }
  before(async () => {
    server = await startPrivatePostgres({ auth: 'scram', password: 'outage-secret' })
    await server.sql('CREATE TABLE readings (id int, v text)')
  })
  after(() => server?.destroy())

  it('a stopped server: send, sendBatch and openChannel fail not_connected at once; the idle pool logs it, without the secret', async () => {
    const c = make(configFor(server, { connectTimeoutMs: 3_000 }), ctx)
    try {
      await c.start(signal())
      const ch = await open(c, 'INSERT INTO readings (id, v) VALUES (${id}, ${v})')
      await ch.sendBatch([{ id: 1, v: 'a' }, { id: 2, v: 'b' }], signal())
      await server.stop()
      for (const attempt of [() => ch.send({ id: 3, v: 'c' }, signal()), () => ch.sendBatch([{ id: 4 }, { id: 5 }], signal())]) {
        const t0 = performance.now()
        const err = await rejection(attempt())
        assert.equal(err.kind, 'not_connected', `${err.code}: ${err.message}`)
        assert.ok(['CONNECTION_REFUSED', 'CONNECTION_LOST'].includes(err.code), err.code)
        assert.ok(performance.now() - t0 < 1_000, 'fails fast, without waiting for the connect timeout')
      }
      assert.equal(await c.openChannel!({ sql: 'INSERT INTO readings (id) VALUES (${id})' }).then(() => 'opened', (e: ConnectorError) => e.kind), 'not_connected')
      await server.start()
      await ch.send({ id: 6, v: 'f' }, signal())
      assert.equal((await server.sql('SELECT string_agg(id::text, \',\' ORDER BY id) FROM readings')).trim(), '1,2,6')
    } finally {
      await c.stop(AbortSignal.timeout(5_000))
    }
    assert.ok(logged.some((l) => l.level === 'warn' && l.msg.includes('idle')), `the idle connection's death is logged: ${JSON.stringify(logged)}`)
    assert.ok(!JSON.stringify(logged).includes('outage-secret'), 'no secret in the log')
  })

  /** Calls health until `accept` holds or `limitMs` passes; returns the last answer. */
  const healthUntil = async (c: Connector, accept: (h: Health) => boolean, limitMs = 30_000): Promise<Health> => {
    const end = Date.now() + limitMs
    for (;;) {
      const h = await c.health(AbortSignal.timeout(15_000))
      if (accept(h) || Date.now() > end) return h
      await sleep(200)
    }
  }

  it('health of a hung server is TIMEOUT within the connect timeout, and connected once it answers', async () => {
    const proxy = await freezableProxy(server.port)
    const c = make({ ...configFor(server), port: proxy.port, connectTimeoutMs: 1_000 }, ctx)
    try {
      await c.start(AbortSignal.timeout(15_000))
      assert.deepEqual(await c.health(AbortSignal.timeout(15_000)), { status: 'connected' })
      proxy.freeze()
      // The health signal allows far more than connectTimeoutMs: the answer must come from the
      // connector's own bound, not from the caller's signal.
      const hung = await within(c.health(AbortSignal.timeout(60_000)), 30_000)
      assert.notEqual(hung, 'still waiting')
      assert.ok(typeof hung === 'object' && hung.status === 'disconnected' && hung.code === 'TIMEOUT', JSON.stringify(hung))
      proxy.thaw()
      const up = await healthUntil(c, (h) => h.status === 'connected')
      assert.deepEqual(up, { status: 'connected' })
    } finally {
      await c.stop(AbortSignal.timeout(5_000))
      await proxy.close()
    }
  })
})

/** `work`'s value, or 'still waiting' once `ms` have passed (the timer never outlives the race). */
async function within<T>(work: Promise<T>, ms: number): Promise<T | 'still waiting'> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'still waiting'>((resolve) => { timer = setTimeout(() => resolve('still waiting'), ms) })
  try {
    return await Promise.race([work, late])
  } finally {
    clearTimeout(timer)
  }
}

// --- rule actions: what a PostgreSQL channel does beyond the battery ---

const tableName = () => `junction_t_${Math.random().toString(36).slice(2, 10)}`
const open = async (c: Connector, sql: string): Promise<BatchChannel> => asBatchChannel(await c.openChannel!({ sql }))

describe('postgresql rule actions', () => {
  let c: Connector
  let admin: pg.Client
  const tables: string[] = []
  /** A fresh table (random name), dropped after the suite. */
  const table = async (columns: string): Promise<string> => {
    const t = tableName()
    await admin.query(`CREATE TABLE ${t} (${columns})`)
    tables.push(t)
    return t
  }
  const rows = async <T extends Record<string, unknown>>(sql: string): Promise<T[]> => (await admin.query<T>(sql)).rows

  before(async () => {
    c = make(configFor(shared))
    await c.start(signal())
    admin = new pg.Client({ host: shared.host, port: shared.port, database: shared.database, user: shared.user, ...(shared.password ? { password: shared.password } : {}) })
    await admin.connect()
  })
  after(async () => {
    for (const t of tables) await admin.query(`DROP TABLE IF EXISTS ${t}`)
    await admin?.end()
    await c?.stop(AbortSignal.timeout(5_000))
  })

  it('batches up to 500 rows, waiting at most 20 ms', () => {
    assert.deepEqual(postgresqlConnector.batching, { maxSize: 500, maxWaitMs: 20 })
  })

  it('send writes one row with text, numeric, jsonb and timestamps; a missing value is NULL', async () => {
    const t = await table('id text PRIMARY KEY, temp numeric, body jsonb, at timestamptz, seen timestamptz, note text')
    const ch = await open(c, `INSERT INTO ${t} (id, temp, body, at, seen, note) VALUES ` +
      '(${clientid}, ${payload.temp}, ${payload}, ${payload.at}, to_timestamp(${timestamp} / 1000.0), ${payload.nope})')
    const payload = JSON.stringify({ temp: 21.5, at: '2024-05-01T12:00:00.000Z', tags: ['a', 'b'] })
    await ch.send({ clientid: 'dev-1', payload, timestamp: 1_714_564_800_123 }, signal())
    const [row] = await rows<{ id: string; temp: string; body: unknown; at: Date; seen: Date; note: null }>(`SELECT * FROM ${t}`)
    assert.ok(row)
    assert.equal(row.id, 'dev-1')
    assert.equal(row.temp, '21.5')
    assert.deepEqual(row.body, JSON.parse(payload))
    assert.equal(row.at.toISOString(), '2024-05-01T12:00:00.000Z')
    assert.equal(row.seen.toISOString(), '2024-05-01T12:00:00.123Z')
    assert.equal(row.note, null, 'a missing value is NULL, not "undefined"')
  })

  it('a batch larger than 65535 bind parameters is split into several statements', async () => {
    const t = await table('id int PRIMARY KEY, a text, b text, c text')
    const ch = await open(c, `INSERT INTO ${t} (id, a, b, c) VALUES (\${i}, \${a}, \${b}, \${c})`)
    const n = 20_000 // 80 000 parameters: two statements
    await ch.sendBatch(Array.from({ length: n }, (_, i) => ({ i, a: `a${i}`, b: 'b', c: null })), signal(60_000))
    assert.deepEqual(await rows(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, max(id) AS top, count(c)::int AS c FROM ${t}`), [{ n, ids: n, top: n - 1, c: 0 }])
  })

  it('a multi-row batch with bad rows: BatchError names exactly those, every other row is committed once', async () => {
    const t = await table('id int PRIMARY KEY, device text NOT NULL, temp numeric')
    const ch = await open(c, `INSERT INTO ${t} (id, device, temp) VALUES (\${i}, \${clientid}, \${payload.temp})`)
    const batch: Record<string, unknown>[] = Array.from({ length: 100 }, (_, i) => ({ i, clientid: `dev-${i}`, payload: { temp: i } }))
    batch[37] = { i: 37, payload: { temp: 1 } } // no clientid: NOT NULL violation
    batch[70] = { i: 10, clientid: 'dup', payload: { temp: 1 } } // id 10 again: unique violation
    batch[85] = { i: 85, clientid: 'dev-85', payload: { temp: 'warm' } } // not a number
    const err = await rejection(ch.sendBatch(batch, signal()))
    assert.ok(err instanceof BatchError, String(err))
    assert.deepEqual(err.failures.map((f) => [f.index, f.error.code, f.error.kind]), [
      [37, 'CONSTRAINT_VIOLATION', 'permanent'],
      [70, 'CONSTRAINT_VIOLATION', 'permanent'],
      [85, 'INVALID_DATA', 'permanent'],
    ])
    assert.match(err.failures[0]!.error.message, /null value in column "device"/)
    assert.match(err.failures[1]!.error.message, /duplicate key.*Key \(id\)=\(10\) already exists/)
    assert.ok((err.failures[2]!.error.hint ?? '').length > 0)
    const ids = (await rows<{ id: number; device: string }>(`SELECT id, device FROM ${t} ORDER BY id`))
    // Index 70 carried id 10 (refused), so id 70 was never sent.
    const expected = Array.from({ length: 100 }, (_, i) => i).filter((i) => i !== 37 && i !== 70 && i !== 85)
    assert.deepEqual(ids.map((r) => r.id), expected, 'every good row exactly once')
    assert.equal(ids.find((r) => r.id === 10)?.device, 'dev-10', 'the first row with id 10 won')
  })

  it('a non-VALUES statement runs pipelined in one transaction; a bad row is isolated the same way', async () => {
    const t = await table('id int PRIMARY KEY, temp numeric CHECK (temp < 1000)')
    const insert = await open(c, `INSERT INTO ${t} (id, temp) SELECT \${i}, \${payload.temp}`)
    await insert.sendBatch(Array.from({ length: 50 }, (_, i) => ({ i, payload: { temp: i } })), signal())
    const update = await open(c, `UPDATE ${t} SET temp = temp + \${payload.add} WHERE id = \${i}`)
    const batch = Array.from({ length: 50 }, (_, i) => ({ i, payload: { add: i === 20 ? 5_000 : 100 } }))
    const err = await rejection(update.sendBatch(batch, signal()))
    assert.ok(err instanceof BatchError, String(err))
    assert.deepEqual(err.failures.map((f) => [f.index, f.error.code]), [[20, 'CONSTRAINT_VIOLATION']])
    const got = await rows<{ id: number; temp: string }>(`SELECT id, temp FROM ${t} ORDER BY id`)
    assert.deepEqual(got.map((r) => Number(r.temp)), Array.from({ length: 50 }, (_, i) => (i === 20 ? 20 : i + 100)), 'each update applied once, 20 untouched')
  })

  it('an error at commit (deferred constraint) names no row: halving still finds it', async () => {
    const t = await table('id int UNIQUE DEFERRABLE INITIALLY DEFERRED, n int')
    const ch = await open(c, `INSERT INTO ${t} (id, n) VALUES (\${id}, \${n})`)
    const batch = Array.from({ length: 40 }, (_, n) => ({ id: n === 29 ? 3 : n, n }))
    const err = await rejection(ch.sendBatch(batch, signal()))
    assert.ok(err instanceof BatchError, String(err))
    assert.deepEqual(err.failures.map((f) => [f.index, f.error.code]), [[29, 'CONSTRAINT_VIOLATION']])
    const got = await rows<{ n: number }>(`SELECT n FROM ${t} ORDER BY n`)
    assert.deepEqual(got.map((r) => r.n), Array.from({ length: 40 }, (_, n) => n).filter((n) => n !== 29))
  })

  it('a batch whose rows all fail is a BatchError naming all; a statement error fails the whole batch with that error', async () => {
    const t = await table('id int PRIMARY KEY')
    const ch = await open(c, `INSERT INTO ${t} (id) VALUES (\${i})`)
    await ch.send({ i: 1 }, signal())
    const rowsFailed = await rejection(ch.sendBatch([{ i: 'x' }, { i: 1 }], signal()))
    assert.ok(rowsFailed instanceof BatchError, String(rowsFailed))
    assert.deepEqual(rowsFailed.failures.map((f) => [f.index, f.error.code]), [[0, 'INVALID_DATA'], [1, 'CONSTRAINT_VIOLATION']])
    const single = await rejection(ch.send({ i: 1 }, signal()))
    assert.deepEqual([single.code, single.kind], ['CONSTRAINT_VIOLATION', 'permanent'])

    await admin.query(`DROP TABLE ${t}`)
    const whole = await rejection(ch.sendBatch([{ i: 2 }, { i: 3 }, { i: 4 }], signal()))
    assert.ok(!(whole instanceof BatchError), 'not a row problem: the error itself, for every message')
    assert.deepEqual([whole.code, whole.kind], ['INVALID_STATEMENT', 'permanent'])
    assert.match(whole.message, /does not exist/)
  })

  it('openChannel fails with a permanent error and PostgreSQL\'s message for an unknown table, column or bad syntax', async () => {
    const t = await table('id int')
    const cases: Array<[string, RegExp]> = [
      ['INSERT INTO no_such_table_xyz (id) VALUES (${i})', /relation "no_such_table_xyz" does not exist/],
      [`INSERT INTO ${t} (nope) VALUES (\${i})`, /column "nope" of relation .* does not exist/],
      [`INSERT INTO ${t} (id) VALUS (\${i})`, /syntax error at or near "VALUS"/],
    ]
    for (const [sql, message] of cases) {
      const err = await rejection(c.openChannel!({ sql }))
      assert.equal(err.kind, 'permanent', sql)
      assert.equal(err.code, 'INVALID_STATEMENT', sql)
      assert.match(err.message, message)
      assert.ok((err.hint ?? '').length > 0)
    }
    assert.equal((await rows(`SELECT count(*)::int AS n FROM ${t}`))[0]?.n, 0, 'validation wrote nothing')
    const bad = await rejection(c.openChannel!({ sql: `INSERT INTO ${t} (id) VALUES (\${a[x]})` }))
    assert.equal(bad.kind, 'permanent')
  })

  it('the Test action with rollback leaves no row and the connection usable; a bad row answers its code', async () => {
    // One pooled connection: a ROLLBACK that did not run would leave the next send inside its transaction, unseen.
    const one = make({ ...configFor(shared), poolSize: 1 })
    await one.start(signal())
    try {
      const t = await table('id text, temp numeric')
      const params = { sql: `INSERT INTO ${t} (id, temp) VALUES (\${id}, \${temp})` }
      await one.sendRolledBack!(params, { id: 'r-1', temp: 1 }, signal())
      const bad = await rejection(one.sendRolledBack!(params, { id: 'r-2', temp: 'x' }, signal()))
      assert.equal(bad.code, 'INVALID_DATA')
      await (await one.openChannel!(params)).send({ id: 'r-3', temp: 3 }, signal())
      assert.deepEqual((await rows<{ id: string }>(`SELECT id FROM ${t}`)).map((r) => r.id), ['r-3'])
    } finally {
      await one.stop(AbortSignal.timeout(5_000))
    }
  })

  it('an aborted send answers at once with a retryable TIMEOUT', async () => {
    const ch = await open(c, 'SELECT pg_sleep(${s})')
    const t0 = performance.now()
    const err = await rejection(ch.send({ s: 3 }, AbortSignal.timeout(200)))
    assert.equal(err.code, 'TIMEOUT')
    assert.equal(err.kind, 'retryable')
    assert.ok(performance.now() - t0 < 2_000)
  })

  it('health stays connected while every pool connection is busy; a send waiting for one is retryable', async () => {
    const busy = make(configFor(shared, { poolSize: 1, connectTimeoutMs: 700 }))
    try {
      await busy.start(signal())
      const ch = await open(busy, 'SELECT pg_sleep(${s})')
      const sleeping = ch.send({ s: 2 }, signal())
      await sleep(100)
      const t0 = performance.now()
      assert.deepEqual(await busy.health(signal()), { status: 'connected' })
      assert.ok(performance.now() - t0 < 700, 'health does not wait for the pool')
      const waiting = await rejection(ch.send({ s: 0 }, signal()))
      assert.equal(waiting.code, 'TIMEOUT')
      assert.equal(waiting.kind, 'retryable', 'a busy pool is not a lost connection')
      await sleeping
    } finally {
      await busy.stop(AbortSignal.timeout(5_000))
    }
  })

  it('openChannel without INSERT privilege fails at once with NOT_PERMITTED, permanent', async () => {
    const server = await scramServer()
    await server.sql('CREATE TABLE readings (id int, v text)')
    await server.sql("CREATE ROLE reader LOGIN PASSWORD 'reader-pw'")
    await server.sql('GRANT SELECT ON readings TO reader')
    const r = make(configFor(server, { username: 'reader', password: 'reader-pw' }))
    try {
      await r.start(signal())
      const err = await rejection(r.openChannel!({ sql: 'INSERT INTO readings (id, v) VALUES (${id}, ${v})' }))
      assert.equal(err.code, 'NOT_PERMITTED')
      assert.equal(err.kind, 'permanent')
      assert.match(err.message, /permission denied for table readings/)
    } finally {
      await r.stop(AbortSignal.timeout(5_000))
    }
  })
})

describe('postgresql error classification (no server needed)', () => {
  const server = (code: string, message = 'm') => Object.assign(new Error(message), { severity: 'ERROR', code })
  const classify = (err: unknown) => classifyPgError(err, 'db:5432/test', 'u', 'query')
  it('maps SQLSTATEs and client errors to what the caller should do', () => {
    const cases: Array<[unknown, string, string]> = [
      [server('08006'), 'CONNECTION_LOST', 'not_connected'],
      [server('57P03'), 'CONNECTION_LOST', 'not_connected'],
      [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'CONNECTION_LOST', 'not_connected'],
      [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'CONNECTION_REFUSED', 'not_connected'],
      [new Error('Connection terminated unexpectedly'), 'CONNECTION_LOST', 'not_connected'],
      [new Error('Client has encountered a connection error and is not queryable'), 'CONNECTION_LOST', 'not_connected'],
      [new Error('timeout exceeded when trying to connect'), 'TIMEOUT', 'not_connected'],
      [server('57P01'), 'CONNECTION_LOST', 'retryable'],
      [server('40001'), 'TRANSACTION_CONFLICT', 'retryable'],
      [server('40P01'), 'TRANSACTION_CONFLICT', 'retryable'],
      [server('53100'), 'SERVER_RESOURCES', 'retryable'],
      [server('53300'), 'CONNECTION_FAILED', 'retryable'],
      [server('57014'), 'TIMEOUT', 'retryable'],
      [server('XX000'), 'SERVER_ERROR', 'retryable'],
      [server('22P02'), 'INVALID_DATA', 'permanent'],
      [server('23505'), 'CONSTRAINT_VIOLATION', 'permanent'],
      [server('23502'), 'CONSTRAINT_VIOLATION', 'permanent'],
      [server('42P01'), 'INVALID_STATEMENT', 'permanent'],
      [server('42601'), 'INVALID_STATEMENT', 'permanent'],
      [server('42501'), 'NOT_PERMITTED', 'permanent'],
      [server('P0001'), 'QUERY_FAILED', 'permanent'],
    ]
    for (const [err, code, kind] of cases) {
      const e = classify(err)
      assert.deepEqual([e.code, e.kind], [code, kind], String((err as { code?: string }).code ?? err))
      assert.ok((e.hint ?? '').length > 0)
    }
    assert.equal(classifyPgError(server('42501'), 't', 'u', 'connect').kind, 'not_connected', 'no CONNECT privilege: no connection')
  })

  it('keeps the server\'s detail and hint', () => {
    const e = classify(Object.assign(server('23505', 'duplicate key value violates unique constraint "t_pkey"'), { detail: 'Key (id)=(7) already exists.', hint: 'try ON CONFLICT' }))
    assert.match(e.message, /Key \(id\)=\(7\) already exists/)
    assert.match(e.hint ?? '', /try ON CONFLICT/)
  })
})
