import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { createServer, type Server, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import kafkajs from 'kafkajs'
import type { ConnectorContext, Health, ProbeResult } from '../../src/connector-api/index.js'
import { ConnectorError } from '../../src/connector-api/index.js'
import { classifyKafkaError } from '../../src/connectors/kafka/classify-error.js'
import { kafkaConnector } from '../../src/connectors/kafka/definition.js'
import { validateWithSchema } from '../../src/core/schema-validation.js'
import { connectorBattery, freePort, testContext, withDefaults } from '../support/connector-battery.js'
import { sharedKafka, startPrivateKafka, type PrivateKafka } from '../support/kafka.js'

const kafka = sharedKafka()

connectorBattery({
  definition: kafkaConnector,
  goodConfig: () => ({ bootstrapServers: kafka.bootstrap }),
  withAddress: (host, port) => ({ bootstrapServers: `${host}:${port}` }),
})

const make = (config: Record<string, unknown>, ctx: ConnectorContext = testContext('kafka-test')) =>
  kafkaConnector.create(withDefaults(kafkaConnector, config), ctx)
const probe = (config: Record<string, unknown>, ms = 15_000) => make(config).probe(AbortSignal.timeout(ms))
const stepsOf = (r: ProbeResult) => r.steps.map((s) => [s.name, s.ok])
const sasl = (mechanism: string, password = kafka.password) => ({
  bootstrapServers: kafka.saslBootstrap,
  authentication: { mechanism, username: kafka.user, password },
})

/** A context whose logger records everything, to check that no secret reaches the logs. */
function recordingContext(): { ctx: ConnectorContext; lines: string[] } {
  const lines: string[] = []
  const rec = (level: string) => (msg: string, data?: Record<string, unknown>) => { lines.push(`${level} ${msg} ${JSON.stringify(data ?? {})}`) }
  return { ctx: { connectorId: 'kafka-log-test', logger: { debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') } }, lines }
}

describe('kafka connector: probe', () => {
  it('walks resolve, connect, authenticate, metadata against the shared broker', async () => {
    const r = await probe({ bootstrapServers: kafka.bootstrap })
    assert.ok(r.ok, JSON.stringify(r))
    assert.deepEqual(stepsOf(r), [['resolve', true], ['connect', true], ['authenticate', true], ['metadata', true]])
    assert.match(r.steps[3]?.detail ?? '', /^1 broker\(s\), controller 1$/)
  })

  it('skips an unreachable bootstrap server and uses the next one', async () => {
    const dead = await freePort()
    const r = await probe({ bootstrapServers: `127.0.0.1:${dead},${kafka.bootstrap}` })
    assert.ok(r.ok, JSON.stringify(r))
    assert.equal(r.steps[1]?.detail, kafka.bootstrap)
  })

  it('SASL PLAIN with the right password succeeds', async () => {
    const r = await probe(sasl('plain'))
    assert.ok(r.ok, JSON.stringify(r))
    assert.equal(r.steps.find((s) => s.name === 'authenticate')?.detail, `SASL PLAIN as ${kafka.user}`)
  })

  it('SASL PLAIN with a wrong password fails with AUTHENTICATION_FAILED at the authenticate step', async () => {
    const r = await probe(sasl('plain', 'not-the-password'))
    assert.ok(!r.ok, JSON.stringify(r))
    assert.equal(r.error.code, 'AUTHENTICATION_FAILED')
    assert.deepEqual(stepsOf(r), [['resolve', true], ['connect', true], ['authenticate', false]])
    assert.match(r.error.hint, /user name and password/)
    assert.ok(!JSON.stringify(r).includes('not-the-password'), 'the password is not echoed')
  })

  it('SCRAM-SHA-256 with the right password succeeds, a wrong one fails', async () => {
    const good = await probe(sasl('scram-sha-256'))
    assert.ok(good.ok, JSON.stringify(good))
    assert.equal(good.steps.find((s) => s.name === 'authenticate')?.detail, `SASL SCRAM-SHA-256 as ${kafka.user}`)
    const bad = await probe(sasl('scram-sha-256', 'wrong'))
    assert.ok(!bad.ok && bad.error.code === 'AUTHENTICATION_FAILED', JSON.stringify(bad))
  })

  it('a mechanism the listener does not enable (SCRAM-SHA-512) is an AUTHENTICATION_FAILED naming it', async () => {
    const r = await probe(sasl('scram-sha-512'))
    assert.ok(!r.ok && r.error.code === 'AUTHENTICATION_FAILED', JSON.stringify(r))
    assert.match(r.error.message, /SCRAM-SHA-512/)
    assert.match(r.error.hint, /sasl\.enabled\.mechanisms/)
  })

  it('SASL against the PLAINTEXT listener says the listener does not use SASL', async () => {
    const r = await probe({ ...sasl('plain'), bootstrapServers: kafka.bootstrap })
    assert.ok(!r.ok && r.error.code === 'AUTHENTICATION_FAILED', JSON.stringify(r))
    assert.match(r.error.message, /does not use SASL/)
  })

  it('no SASL against the SASL listener fails at metadata and hints at SASL/TLS', async () => {
    // Observed: Kafka answers ApiVersions before SASL, then hangs up on the metadata request.
    const r = await probe({ bootstrapServers: kafka.saslBootstrap })
    assert.ok(!r.ok, JSON.stringify(r))
    assert.equal(r.error.code, 'CONNECTION_FAILED')
    assert.deepEqual(stepsOf(r), [['resolve', true], ['connect', true], ['authenticate', true], ['metadata', false]])
    assert.match(r.error.hint, /SASL/)
  })

  it('TLS on against the PLAINTEXT port fails at the tls step with TLS_FAILED and says the port is not TLS', async () => {
    // Observed: the broker drops the ClientHello, so Node reports "Client network socket
    // disconnected before secure TLS connection was established" at once (no timeout).
    const r = await probe({ bootstrapServers: kafka.bootstrap, tls: { enable: true } })
    assert.ok(!r.ok, JSON.stringify(r))
    assert.equal(r.error.code, 'TLS_FAILED')
    assert.deepEqual(stepsOf(r), [['resolve', true], ['connect', true], ['tls', false]])
    assert.match(r.error.hint, /does not seem to speak TLS/)
  })

  it('a server that accepts but never answers is a TIMEOUT at authenticate, bounded by requestTimeoutMs', async () => {
    const silent = await silentServer()
    try {
      const r = await probe({ bootstrapServers: `127.0.0.1:${silent.port}`, requestTimeoutMs: 500, connectTimeoutMs: 500 })
      assert.ok(!r.ok, JSON.stringify(r))
      assert.equal(r.error.code, 'TIMEOUT')
      assert.deepEqual(stepsOf(r).at(-1), ['authenticate', false])
    } finally {
      await silent.close()
    }
  })

  it('an abort during a step ends the probe with TIMEOUT before kafkajs would give up', async () => {
    const silent = await silentServer()
    try {
      const t0 = performance.now()
      const r = await probe({ bootstrapServers: `127.0.0.1:${silent.port}`, requestTimeoutMs: 60_000, connectTimeoutMs: 60_000 }, 300)
      assert.ok(!r.ok && r.error.code === 'TIMEOUT', JSON.stringify(r))
      assert.ok(performance.now() - t0 < 30_000, 'returned long before the 60 s kafkajs timeouts')
    } finally {
      await silent.close()
    }
  })
})

describe('kafka connector: start, health, stop', () => {
  it('starts with SASL PLAIN and SCRAM-SHA-256 and reports connected', async () => {
    for (const mechanism of ['plain', 'scram-sha-256']) {
      const c = make(sasl(mechanism))
      try {
        await c.start(AbortSignal.timeout(15_000))
        assert.deepEqual(await c.health(AbortSignal.timeout(15_000)), { status: 'connected' }, mechanism)
      } finally {
        await c.stop()
      }
    }
  })

  it('start with a wrong password throws AUTHENTICATION_FAILED and logs no secret', async () => {
    const { ctx, lines } = recordingContext()
    const c = make(sasl('plain', 'sekrit-wrong-pw'), ctx)
    try {
      await assert.rejects(c.start(AbortSignal.timeout(15_000)), (err: unknown) => {
        assert.ok(err instanceof ConnectorError, String(err))
        assert.equal(err.code, 'AUTHENTICATION_FAILED')
        assert.ok(!err.message.includes('sekrit-wrong-pw'))
        return true
      })
    } finally {
      await c.stop()
    }
    assert.ok(lines.length > 0, 'kafkajs errors reach the connector log')
    assert.ok(!lines.join('\n').includes('sekrit-wrong-pw'), lines.join('\n'))
  })

  it('start with TLS on against the PLAINTEXT port throws TLS_FAILED', async () => {
    const c = make({ bootstrapServers: kafka.bootstrap, tls: { enable: true } })
    try {
      await assert.rejects(c.start(AbortSignal.timeout(15_000)), (err: unknown) => {
        assert.ok(err instanceof ConnectorError, String(err))
        assert.equal(err.code, 'TLS_FAILED')
        return true
      })
    } finally {
      await c.stop()
    }
  })

  it('health before start and after stop is disconnected, without throwing', async () => {
    const c = make({ bootstrapServers: kafka.bootstrap })
    const before = await c.health(AbortSignal.timeout(5_000))
    assert.equal(before.status, 'disconnected')
    await c.start(AbortSignal.timeout(15_000))
    await c.stop()
    const afterStop = await c.health(AbortSignal.timeout(5_000))
    assert.equal(afterStop.status, 'disconnected')
  })
})

describe('kafka connector: config and params schemas', () => {
  const validate = (config: unknown) => validateWithSchema<Record<string, unknown>>(kafkaConnector.configSchema, config, 'config')

  it('fills every default', () => {
    const r = validate({ bootstrapServers: kafka.bootstrap })
    assert.ok(r.ok)
    assert.deepEqual(r.value, {
      bootstrapServers: kafka.bootstrap,
      clientId: 'junction',
      authentication: { mechanism: 'none' },
      tls: { enable: false, verify: true },
      connectTimeoutMs: 5000,
      requestTimeoutMs: 10000,
      producer: { acks: 'all', compression: 'none', idempotent: false, maxBatchBytes: 1048576, lingerMs: 5 },
      resource: { healthCheckIntervalMs: 15000, startTimeoutMs: 5000 },
    })
  })

  it('accepts several servers, spaces after commas and bracketed IPv6', () => {
    assert.ok(validate({ bootstrapServers: 'kafka-1:9092, kafka-2:9092,[::1]:19092' }).ok)
  })

  for (const bad of ['', 'kafka', 'kafka:', 'kafka:70000', 'kafka:0', 'kafka:9092;kafka2:9092', 'PLAINTEXT://kafka:9092']) {
    it(`rejects bootstrapServers ${JSON.stringify(bad)} with its path`, () => {
      const r = validate({ bootstrapServers: bad })
      assert.ok(!r.ok)
      assert.deepEqual(r.errors.map((e) => e.path), ['config.bootstrapServers'])
    })
  }

  it('reports a missing bootstrapServers and unknown fields, at any depth, all at once', () => {
    const r = validate({ bootstrapServer: 'x:1', producer: { acks: 'all', lingerMS: 5 } })
    assert.ok(!r.ok)
    const paths = r.errors.map((e) => e.path).sort()
    assert.deepEqual(paths, ['config.bootstrapServer', 'config.bootstrapServers', 'config.producer.lingerMS'])
    assert.match(r.errors.find((e) => e.path === 'config.producer.lingerMS')?.hint ?? '', /lingerMs/)
  })

  it('requires a username and password for every SASL mechanism but none', () => {
    const r = validate({ bootstrapServers: kafka.bootstrap, authentication: { mechanism: 'scram-sha-256' } })
    assert.ok(!r.ok)
    const paths = r.errors.map((e) => e.path)
    assert.ok(paths.includes('config.authentication.username'), JSON.stringify(r.errors))
    assert.ok(paths.includes('config.authentication.password'), JSON.stringify(r.errors))
    assert.ok(validate({ bootstrapServers: kafka.bootstrap, authentication: { mechanism: 'none' } }).ok)
  })

  it('rejects enum values outside the list (compression snappy is not shipped)', () => {
    const r = validate({ bootstrapServers: kafka.bootstrap, producer: { compression: 'snappy' }, authentication: { mechanism: 'gssapi', username: 'u', password: 'p' } })
    assert.ok(!r.ok)
    assert.deepEqual(r.errors.map((e) => e.path).sort(), ['config.authentication.mechanism', 'config.producer.compression'])
  })

  it('marks the SASL password and the TLS client key as secrets', () => {
    const auth = kafkaConnector.configSchema.properties.authentication as unknown as { properties: Record<string, { writeOnly?: boolean }> }
    assert.equal(auth.properties.password?.writeOnly, true)
    assert.equal(auth.properties.username?.writeOnly, undefined)
    const tls = kafkaConnector.configSchema.properties.tls as unknown as { properties: Record<string, { writeOnly?: boolean }> }
    assert.equal(tls.properties.clientKey?.writeOnly, true)
  })

  it('params: topic required, value defaults to the whole output, headers are string templates', () => {
    const v = (p: unknown) => validateWithSchema<Record<string, unknown>>(kafkaConnector.paramsSchema, p, 'params')
    const ok = v({ topic: 't/${clientid}' })
    assert.ok(ok.ok)
    assert.deepEqual(ok.value, { topic: 't/${clientid}', value: '${.}', partitionStrategy: 'key_hash' })
    const bad = v({ headers: { a: 1 }, partitionStrategy: 'sticky', extra: true })
    assert.ok(!bad.ok)
    assert.deepEqual(bad.errors.map((e) => e.path).sort(), ['params.extra', 'params.headers.a', 'params.partitionStrategy', 'params.topic'])
  })
})

describe('kafka connector: error classification (errors kafkajs builds, no broker needed)', () => {
  const require = createRequire(import.meta.url)
  const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode(code: number): Error }
  const ctx = { target: '127.0.0.1:9092', phase: 'request', tls: false, mechanism: 'none' } as const
  const wrapped = (e: Error) => new kafkajs.KafkaJSNumberOfRetriesExceeded(e, { retryCount: 0, retryTime: 100 })

  it('maps broker error codes through kafkajs\'s retry wrapper', () => {
    // 29 TOPIC_AUTHORIZATION_FAILED, 31 CLUSTER_AUTHORIZATION_FAILED, 3 UNKNOWN_TOPIC_OR_PARTITION, 58 SASL_AUTHENTICATION_FAILED
    const cases: [number, string, string][] = [
      [29, 'NOT_PERMITTED', 'permanent'],
      [31, 'NOT_PERMITTED', 'permanent'],
      [3, 'TOPIC_NOT_FOUND', 'permanent'],
      [58, 'AUTHENTICATION_FAILED', 'permanent'],
      [7, 'TIMEOUT', 'retryable'],
    ]
    for (const [code, expected, kind] of cases) {
      const e = classifyKafkaError(wrapped(createErrorFromCode(code)), ctx)
      assert.equal(e.code, expected, `kafka error code ${code}`)
      assert.equal(e.kind, kind, `kafka error code ${code}`)
      assert.ok((e.hint ?? '').length > 0)
    }
  })

  it('maps connection errors by their socket code, and TLS trouble only when TLS is on', () => {
    const conn = (message: string, code?: string) => wrapped(new kafkajs.KafkaJSConnectionError(`Connection error: ${message}`, { broker: 'b:1', ...(code ? { code } : {}) } as never))
    assert.equal(classifyKafkaError(conn('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED'), ctx).code, 'CONNECTION_REFUSED')
    assert.equal(classifyKafkaError(conn('getaddrinfo ENOTFOUND x', 'ENOTFOUND'), ctx).code, 'UNKNOWN_HOST')
    assert.equal(classifyKafkaError(wrapped(new kafkajs.KafkaJSConnectionError('Connection timeout')), ctx).code, 'TIMEOUT')
    const tlsClosed = conn('Client network socket disconnected before secure TLS connection was established', 'ECONNRESET')
    assert.equal(classifyKafkaError(tlsClosed, { ...ctx, tls: true }).code, 'TLS_FAILED')
    assert.equal(classifyKafkaError(tlsClosed, ctx).code, 'CONNECTION_LOST')
    assert.match(classifyKafkaError(conn('connect ECONNREFUSED 10.9.9.9:9092', 'ECONNREFUSED'), { ...ctx, phase: 'metadata' }).hint ?? '', /advertised\.listeners/)
  })

  it('anything unknown is CONNECTION_FAILED with a hint, never a throw', () => {
    // 44 POLICY_VIOLATION: a broker error with a numeric code the switch does not list.
    for (const odd of [new Error('weird'), 'a string', undefined, null, { name: 'Nope' }, wrapped(createErrorFromCode(44)), { code: 42 }]) {
      const e = classifyKafkaError(odd, ctx)
      assert.equal(e.code, 'CONNECTION_FAILED')
      assert.ok((e.hint ?? '').length > 0)
    }
  })
})

describe('kafka connector: broker outage (private broker)', () => {
  let broker: PrivateKafka
  before(async () => {
    broker = await startPrivateKafka()
  })
  after(async () => {
    await broker?.destroy()
  })

  it('health goes disconnected when the broker stops and connected when it is back', async () => {
    const c = make({ bootstrapServers: broker.bootstrap, requestTimeoutMs: 3_000, connectTimeoutMs: 2_000 })
    try {
      await c.start(AbortSignal.timeout(15_000))
      assert.deepEqual(await c.health(AbortSignal.timeout(10_000)), { status: 'connected' })

      await broker.stop()
      const down = await pollHealth(c, (h) => h.status === 'disconnected', 30_000)
      assert.equal(down.status, 'disconnected')
      assert.ok(down.status === 'disconnected' && ['CONNECTION_REFUSED', 'CONNECTION_LOST', 'TIMEOUT'].includes(down.code), JSON.stringify(down))
      assert.ok(down.status === 'disconnected' && down.reason.length > 0, JSON.stringify(down))

      await broker.start()
      const up = await pollHealth(c, (h) => h.status === 'connected', 60_000)
      assert.deepEqual(up, { status: 'connected' })
    } finally {
      await c.stop()
    }
  })
})

/** Calls health every 250 ms until `done` holds or `withinMs` passes; returns the last answer. */
async function pollHealth(c: { health(s: AbortSignal): Promise<Health> }, done: (h: Health) => boolean, withinMs: number): Promise<Health> {
  const deadline = Date.now() + withinMs
  for (;;) {
    const h = await c.health(AbortSignal.timeout(10_000))
    if (done(h) || Date.now() > deadline) return h
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** A TCP server that accepts connections and never answers. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((s) => { sockets.add(s); s.on('error', () => {}) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()) }),
  }
}
