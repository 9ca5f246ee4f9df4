import assert from 'node:assert/strict'
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { ConnectorError, type Connector, type ConnectorContext, type Health, type ProbeResult } from '../../src/connector-api/index.js'
import type { PostgresqlConfig } from '../../src/connectors/postgresql/config-schema.js'
import { postgresqlConnector } from '../../src/connectors/postgresql/definition.js'
import { validateWithSchema } from '../../src/core/schema-validation.js'
import { connectorBattery, testContext, withDefaults } from '../support/connector-battery.js'
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

/** Calls health until `accept` holds or `limitMs` passes; returns the last answer. */
async function healthUntil(c: Connector, accept: (h: Health) => boolean, limitMs = 30_000): Promise<Health> {
  const deadline = Date.now() + limitMs
  for (;;) {
    const h = await c.health(AbortSignal.timeout(15_000))
    if (accept(h) || Date.now() > deadline) return h
    await sleep(200)
  }
}

connectorBattery({
  definition: postgresqlConnector,
  goodConfig: () => configFor(shared),
  withAddress: (host, port) => ({ ...configFor(shared), host, port }),
})

describe('postgresql config validation', () => {
  const validate = (config: unknown) => validateWithSchema<Record<string, unknown>>(postgresqlConnector.configSchema, config, 'config')
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

  it('marks the password secret and describes every field', () => {
    const props = postgresqlConnector.configSchema.properties as Record<string, { description?: string; writeOnly?: boolean }>
    assert.equal(props.password?.writeOnly, true)
    for (const [name, schema] of Object.entries(props)) assert.ok(schema.description, `${name} has a description`)
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

describe('postgresql probe and start: authentication and database', () => {
  let server: PrivatePostgres
  before(async () => {
    server = await startPrivatePostgres({ auth: 'scram', password: 'right-pw' })
    await server.sql('CREATE DATABASE locked')
    await server.sql('REVOKE CONNECT ON DATABASE locked FROM PUBLIC')
    await server.sql("CREATE ROLE plain LOGIN PASSWORD 'plain-pw'")
  })
  after(() => server?.destroy())

  it('the right password passes every step and reports the server version', async () => {
    const r = await probe(configFor(server))
    assert.equal(r.ok, true, JSON.stringify(r))
    assert.deepEqual(steps(r), [['resolve', true], ['connect', true], ['authenticate', true], ['query', true]])
    assert.match(r.steps[3]?.detail ?? '', /^PostgreSQL \d+/)
  })

  it('a wrong password fails at the authenticate step with AUTHENTICATION_FAILED', async () => {
    const r = await probe(configFor(server, { password: 'wrong-pw' }))
    assert.equal(errorCode(r), 'AUTHENTICATION_FAILED', JSON.stringify(r))
    assert.deepEqual(steps(r), [['resolve', true], ['connect', true], ['authenticate', false]])
    assert.ok(!r.ok && r.error.hint.length > 0)
    assert.ok(!JSON.stringify(r).includes('wrong-pw'), 'the password never appears in the result')
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

  it('an unknown database is DATABASE_NOT_FOUND', async () => {
    const r = await probe(configFor(server, { database: 'no_such_db' }))
    assert.equal(errorCode(r), 'DATABASE_NOT_FOUND', JSON.stringify(r))
    assert.deepEqual(steps(r), [['resolve', true], ['connect', true], ['authenticate', false]])
  })

  it('a database the user may not connect to is NOT_PERMITTED', async () => {
    const r = await probe(configFor(server, { database: 'locked', username: 'plain', password: 'plain-pw' }))
    assert.equal(errorCode(r), 'NOT_PERMITTED', JSON.stringify(r))
  })

  it('TLS against a server without TLS is TLS_NOT_SUPPORTED at the tls step', async () => {
    const r = await probe(configFor(server, { tls: { enable: true, verify: false } }))
    assert.equal(errorCode(r), 'TLS_NOT_SUPPORTED', JSON.stringify(r))
    assert.deepEqual(steps(r), [['resolve', true], ['connect', true], ['tls', false]])
  })

  it('start with a wrong password throws AUTHENTICATION_FAILED', async () => {
    const c = make(configFor(server, { password: 'wrong-pw' }))
    try {
      await assert.rejects(c.start(AbortSignal.timeout(15_000)), (err: unknown) => {
        assert.ok(err instanceof ConnectorError, String(err))
        assert.equal(err.code, 'AUTHENTICATION_FAILED')
        return true
      })
    } finally {
      await c.stop()
    }
  })
})

describe('postgresql TLS', () => {
  let server: PrivatePostgres
  before(async () => {
    server = await startPrivatePostgres({ ssl: 'required' })
  })
  after(() => server?.destroy())

  it('TLS required by the server but off in the connector is TLS_REQUIRED', async () => {
    const r = await probe(configFor(server))
    assert.equal(errorCode(r), 'TLS_REQUIRED', JSON.stringify(r))
    assert.deepEqual(steps(r), [['resolve', true], ['connect', true], ['authenticate', false]])
  })

  it('verifying a self-signed certificate fails at the tls step with TLS_FAILED', async () => {
    const r = await probe(configFor(server, { tls: { enable: true } }))
    assert.equal(errorCode(r), 'TLS_FAILED', JSON.stringify(r))
    assert.deepEqual(steps(r), [['resolve', true], ['connect', true], ['tls', false]])
  })

  it('TLS with verify off passes every step', async () => {
    const r = await probe(configFor(server, { tls: { enable: true, verify: false } }))
    assert.equal(r.ok, true, JSON.stringify(r))
    assert.deepEqual(steps(r), [['resolve', true], ['connect', true], ['tls', true], ['authenticate', true], ['query', true]])
    assert.match(r.steps[2]?.detail ?? '', /TLSv1\.[23].*not verified/)
  })

  it('TLS verified against the given CA certificate passes', async () => {
    const r = await probe(configFor(server, { tls: { enable: true, caCert: server.certPem } }))
    assert.equal(r.ok, true, JSON.stringify(r))
    assert.match(r.steps[2]?.detail ?? '', /certificate verified/)
  })

  it('start follows the same TLS settings', async () => {
    const bad = make(configFor(server, { tls: { enable: true } }))
    try {
      await assert.rejects(bad.start(AbortSignal.timeout(15_000)), (err: unknown) => err instanceof ConnectorError && err.code === 'TLS_FAILED')
    } finally {
      await bad.stop()
    }
    const off = make(configFor(server))
    try {
      await assert.rejects(off.start(AbortSignal.timeout(15_000)), (err: unknown) => err instanceof ConnectorError && err.code === 'TLS_REQUIRED')
    } finally {
      await off.stop()
    }
    const good = make(configFor(server, { tls: { enable: true, verify: false } }))
    try {
      await good.start(AbortSignal.timeout(15_000))
      assert.deepEqual(await good.health(AbortSignal.timeout(15_000)), { status: 'connected' })
    } finally {
      await good.stop()
    }
  })
})

/** A TCP server that accepts connections and never answers: a hung PostgreSQL. */
async function blackHole(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const srv = createServer((s) => { sockets.add(s); s.on('error', () => undefined) })
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  return {
    port: (srv.address() as { port: number }).port,
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); srv.close(() => resolve()) }),
  }
}

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

describe('postgresql timeouts and cancellation', () => {
  let hole: Awaited<ReturnType<typeof blackHole>>
  before(async () => { hole = await blackHole() })
  after(() => hole?.close())

  it('a server that never answers is TIMEOUT at the authenticate step', async () => {
    const r = await probe({ ...configFor(shared), port: hole.port, connectTimeoutMs: 500 })
    assert.equal(errorCode(r), 'TIMEOUT', JSON.stringify(r))
    assert.deepEqual(steps(r), [['resolve', true], ['connect', true], ['authenticate', false]])
  })

  it('start against a server that never answers throws TIMEOUT', async () => {
    const c = make({ ...configFor(shared), port: hole.port, connectTimeoutMs: 500 })
    try {
      await assert.rejects(c.start(AbortSignal.timeout(15_000)), (err: unknown) => err instanceof ConnectorError && err.code === 'TIMEOUT')
    } finally {
      await c.stop()
    }
  })

  it('aborting a probe mid-way answers at once instead of waiting for the connect timeout', async () => {
    const ac = new AbortController()
    const pending = make({ ...configFor(shared), port: hole.port, connectTimeoutMs: 60_000 }).probe(ac.signal)
    setTimeout(() => ac.abort(), 300)
    const r = await within(pending, 20_000)
    assert.notEqual(r, 'still waiting')
    assert.ok(typeof r === 'object' && !r.ok && r.error.code === 'TIMEOUT', JSON.stringify(r))
  })

  it('health before start is disconnected', async () => {
    const h = await make(configFor(shared)).health(AbortSignal.timeout(5_000))
    assert.equal(h.status, 'disconnected')
  })
})

describe('postgresql outage', () => {
  let server: PrivatePostgres
  const logged: Array<{ level: string; msg: string; data?: Record<string, unknown> }> = []
  const ctx: ConnectorContext = {
    connectorId: 'outage',
    logger: {
      debug: (msg, data) => logged.push({ level: 'debug', msg, ...(data ? { data } : {}) }),
      info: (msg, data) => logged.push({ level: 'info', msg, ...(data ? { data } : {}) }),
      warn: (msg, data) => logged.push({ level: 'warn', msg, ...(data ? { data } : {}) }),
      error: (msg, data) => logged.push({ level: 'error', msg, ...(data ? { data } : {}) }),
    },
  }
  before(async () => {
    server = await startPrivatePostgres({ auth: 'scram', password: 'outage-secret' })
  })
  after(() => server?.destroy())

  it('health goes disconnected when the server stops and connected when it is back', async () => {
    const c = make(configFor(server, { connectTimeoutMs: 2_000 }), ctx)
    try {
      await c.start(AbortSignal.timeout(15_000))
      assert.deepEqual(await c.health(AbortSignal.timeout(15_000)), { status: 'connected' })

      await server.stop()
      const down = await healthUntil(c, (h) => h.status === 'disconnected')
      assert.equal(down.status, 'disconnected', JSON.stringify(down))
      assert.ok(down.status === 'disconnected' && ['CONNECTION_REFUSED', 'CONNECTION_LOST'].includes(down.code), JSON.stringify(down))
      assert.ok(down.status === 'disconnected' && down.reason.length > 0)

      await server.start()
      const up = await healthUntil(c, (h) => h.status === 'connected')
      assert.deepEqual(up, { status: 'connected' })
    } finally {
      await c.stop()
    }
    assert.ok(logged.some((l) => l.level === 'warn' && l.msg.includes('idle')), `the idle connection's death is logged: ${JSON.stringify(logged)}`)
    assert.ok(!JSON.stringify(logged).includes('outage-secret'), 'no secret in the log')
  })

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
      await c.stop()
      await proxy.close()
    }
  })
})
