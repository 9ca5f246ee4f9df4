// Kafka against the machine's broker (PLAINTEXT 9092, SASL 9093) and private brokers: the shared
// battery and the check through the API, then what only Kafka has: SASL mechanisms, the bootstrap
// list, the listener mismatches, its error table, templates on records, partitioners, producer
// options, and the worker thread.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { after, before, describe, it } from 'node:test'
import kafkajs from 'kafkajs'
import type { Connector, ConnectorContext, ProbeResult } from '../../src/connector-api/index.js'
import { BatchError, ConnectorError, errorFromWire, errorToWire, withResourceOptions } from '../../src/connector-api/index.js'
import { toKafkaError, type ClassifyContext } from '../../src/connectors/kafka/classify-error.js'
import { kafkaConnector } from '../../src/connectors/kafka/definition.js'
import { parseBootstrapServers } from '../../src/connectors/kafka/kafka-client.js'
import type { KafkaConnector } from '../../src/connectors/kafka/kafka-connector.js'
import { validateWithSchema } from '../../src/core/schema-validation.js'
import { asBatchChannel, rejection, type BatchChannel } from '../support/channels.js'
import { connectorBattery, freePort, startHungServer, testContext, withDefaults } from '../support/connector-battery.js'
import { connectorFlowThroughApi } from '../support/connector-flow.js'
import { kafkaDestination, sharedKafka, startPrivateKafka, type PrivateKafka } from '../support/kafka.js'

const kafka = sharedKafka()
const sasl = (mechanism: string, password = kafka.password) => ({
  bootstrapServers: kafka.saslBootstrap,
  authentication: { mechanism, username: kafka.user, password },
})

const make = (config: Record<string, unknown>, ctx: ConnectorContext = testContext('kafka-test')) =>
  kafkaConnector.create(withDefaults(kafkaConnector, config), ctx)
const probe = (config: Record<string, unknown>, ms = 15_000) => make(config).probe(AbortSignal.timeout(ms))
const stepsOf = (r: ProbeResult) => r.steps.map((s) => [s.name, s.ok])

/** A context whose logger records everything, to check that no secret reaches the logs. */
function recordingContext(): { ctx: ConnectorContext; lines: string[] } {
  const lines: string[] = []
  const rec = (level: string) => (msg: string, data?: Record<string, unknown>) => { lines.push(`${level} ${msg} ${JSON.stringify(data ?? {})}`) }
  return { ctx: { connectorId: 'kafka-log-test', logger: { debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') } }, lines }
}

describe('kafka connector: probe', () => {
  it('walks resolve, connect, authenticate, metadata; skips an unreachable bootstrap server for the next', async () => {
    const r = await probe({ bootstrapServers: `127.0.0.1:${await freePort()},${kafka.bootstrap}` })
    assert.ok(r.ok, JSON.stringify(r))
    assert.deepEqual(stepsOf(r), [['resolve', true], ['connect', true], ['authenticate', true], ['metadata', true]])
    assert.equal(r.steps[1]?.detail, kafka.bootstrap)
    assert.match(r.steps[3]?.detail ?? '', /^1 broker\(s\), controller 1$/)
  })

  it('reports the first server\'s refusal when no bootstrap server accepts', async () => {
    const [a, b] = [await freePort(), await freePort()]
    const r = await probe({ bootstrapServers: `127.0.0.1:${a},127.0.0.1:${b}` })
    assert.ok(!r.ok && r.error.code === 'CONNECTION_REFUSED', JSON.stringify(r))
    assert.match(r.error.message, new RegExp(`:${a}\\b`))
  })

  it('SASL PLAIN and SCRAM-SHA-256 with the right password succeed; SCRAM with a wrong one fails', async () => {
    for (const mechanism of ['plain', 'scram-sha-256']) {
      const r = await probe(sasl(mechanism))
      assert.ok(r.ok, JSON.stringify(r))
      assert.equal(r.steps.find((s) => s.name === 'authenticate')?.detail, `SASL ${mechanism.toUpperCase()} as ${kafka.user}`)
    }
    const bad = await probe(sasl('scram-sha-256', 'not-the-password'))
    assert.ok(!bad.ok && bad.error.code === 'AUTHENTICATION_FAILED', JSON.stringify(bad))
    assert.match(bad.error.hint, /user name and password/)
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
})

describe('kafka connector: start, health, stop', () => {
  it('starts with SASL PLAIN and SCRAM-SHA-256 and reports connected; disconnected after stop', async () => {
    for (const mechanism of ['plain', 'scram-sha-256']) {
      // On the main thread: SASL is kafkajs's either way, and a worker costs a second per start under tsx.
      const c = make({ ...sasl(mechanism), producer: { workerThread: false } })
      try {
        await c.start(AbortSignal.timeout(15_000))
        assert.deepEqual(await c.health(AbortSignal.timeout(15_000)), { status: 'connected' }, mechanism)
      } finally {
        await c.stop(AbortSignal.timeout(5_000))
      }
      assert.equal((await c.health(AbortSignal.timeout(5_000))).status, 'disconnected')
    }
  })

  it('start with a wrong password throws AUTHENTICATION_FAILED and logs no secret; TLS against PLAINTEXT throws TLS_FAILED', async () => {
    const { ctx, lines } = recordingContext()
    const c = make(sasl('plain', 'sekrit-wrong-pw'), ctx)
    try {
      const e = await rejection(c.start(AbortSignal.timeout(15_000)))
      assert.equal(e.code, 'AUTHENTICATION_FAILED')
      assert.ok(!e.message.includes('sekrit-wrong-pw'))
    } finally {
      await c.stop(AbortSignal.timeout(5_000))
    }
    assert.ok(lines.length > 0, 'kafkajs errors reach the connector log')
    assert.ok(!lines.join('\n').includes('sekrit-wrong-pw'), lines.join('\n'))

    const t = make({ bootstrapServers: kafka.bootstrap, tls: { enable: true } })
    try {
      assert.equal((await rejection(t.start(AbortSignal.timeout(15_000)))).code, 'TLS_FAILED')
    } finally {
      await t.stop(AbortSignal.timeout(5_000))
    }
  })
})

describe('kafka connector: config and params schemas', () => {
  const validate = (config: unknown) => validateWithSchema<Record<string, unknown>>(withResourceOptions(kafkaConnector).configSchema, config, 'config')

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
      producer: { acks: 'all', compression: 'none', idempotent: false, maxBatchBytes: 1048576, lingerMs: 5, workerThread: true },
      resource: { healthCheckIntervalMs: 15000, startTimeoutMs: 5000 },
    })
  })

  it('accepts several servers, spaces after commas and bracketed IPv6; rejects anything else with its path', () => {
    assert.ok(validate({ bootstrapServers: 'kafka-1:9092, kafka-2:9092,[::1]:19092' }).ok)
    for (const bad of ['', 'kafka', 'kafka:', 'kafka:70000', 'kafka:0', 'kafka:9092;kafka2:9092', 'PLAINTEXT://kafka:9092']) {
      const r = validate({ bootstrapServers: bad })
      assert.ok(!r.ok, bad)
      assert.deepEqual(r.errors.map((e) => e.path), ['config.bootstrapServers'], bad)
    }
  })

  it('splits bootstrapServers with the kit\'s hostPorts: in order, without repeats, IPv6 in brackets in the address kafkajs gets', () => {
    assert.deepEqual(parseBootstrapServers(' kafka-1:9092, [::1]:19092,kafka-1:9092 ,[::1]:19092, kafka-2:9093'), [
      { host: 'kafka-1', port: 9092, address: 'kafka-1:9092' },
      { host: '::1', port: 19092, address: '[::1]:19092' },
      { host: 'kafka-2', port: 9093, address: 'kafka-2:9093' },
    ])
  })

  it('requires a username and password for every SASL mechanism but none; snappy and gssapi are not offered', () => {
    const r = validate({ bootstrapServers: kafka.bootstrap, authentication: { mechanism: 'scram-sha-256' } })
    assert.ok(!r.ok)
    const paths = r.errors.map((e) => e.path)
    assert.ok(paths.includes('config.authentication.username') && paths.includes('config.authentication.password'), JSON.stringify(r.errors))
    assert.ok(validate({ bootstrapServers: kafka.bootstrap, authentication: { mechanism: 'none' } }).ok)
    const e = validate({ bootstrapServers: kafka.bootstrap, producer: { compression: 'snappy' }, authentication: { mechanism: 'gssapi', username: 'u', password: 'p' } })
    assert.ok(!e.ok)
    assert.deepEqual(e.errors.map((x) => x.path).sort(), ['config.authentication.mechanism', 'config.producer.compression'])
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
  const conn = (message: string, code?: string) => wrapped(new kafkajs.KafkaJSConnectionError(`Connection error: ${message}`, { broker: 'b:1', ...(code ? { code } : {}) } as never))
  const kindOf = (err: unknown) => { const e = toKafkaError(err, ctx); return [e.code, e.kind] }

  it('maps broker error codes, through kafkajs\'s retry wrapper, by what the caller should do', () => {
    // 29 TOPIC_AUTHORIZATION_FAILED, 31 CLUSTER_AUTHORIZATION_FAILED, 3 UNKNOWN_TOPIC_OR_PARTITION, 58 SASL_AUTHENTICATION_FAILED,
    // 7 REQUEST_TIMED_OUT, 10 MESSAGE_TOO_LARGE, 87 INVALID_RECORD, 17 INVALID_TOPIC_EXCEPTION, 19 NOT_ENOUGH_REPLICAS,
    // 56 KAFKA_STORAGE_ERROR, 6 NOT_LEADER_FOR_PARTITION (a leader moved)
    const cases: [number, string, string][] = [
      [29, 'NOT_PERMITTED', 'permanent'], [31, 'NOT_PERMITTED', 'permanent'], [3, 'TOPIC_NOT_FOUND', 'permanent'],
      [58, 'AUTHENTICATION_FAILED', 'permanent'], [7, 'TIMEOUT', 'retryable'], [10, 'MESSAGE_TOO_LARGE', 'permanent'],
      [87, 'INVALID_DATA', 'permanent'], [17, 'INVALID_DATA', 'permanent'], [19, 'BROKER_UNAVAILABLE', 'retryable'],
      [56, 'BROKER_UNAVAILABLE', 'retryable'], [6, 'CONNECTION_LOST', 'retryable'],
    ]
    for (const [code, expected, kind] of cases) {
      const e = toKafkaError(wrapped(createErrorFromCode(code)), ctx)
      assert.deepEqual([e.code, e.kind], [expected, kind], `kafka error code ${code}`)
      assert.ok((e.hint ?? '').length > 0)
    }
    assert.deepEqual(kindOf({ name: 'KafkaJSConnectionClosedError', message: 'Closed connection', host: 'h', port: 1 }), ['CONNECTION_LOST', 'not_connected'])
    assert.deepEqual(kindOf({ name: 'KafkaJSNoBrokerAvailableError', message: 'No broker available' }), ['CONNECTION_LOST', 'not_connected'])
    assert.deepEqual(kindOf(new kafkajs.KafkaJSError('The producer is disconnected')), ['CONNECTION_LOST', 'not_connected'])
    assert.deepEqual(kindOf(new kafkajs.KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out')), ['TIMEOUT', 'retryable'])
  })

  it('maps connection errors by their socket code, and TLS trouble only when TLS is on', () => {
    assert.deepEqual(kindOf(conn('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED')), ['CONNECTION_REFUSED', 'not_connected'])
    assert.equal(toKafkaError(conn('getaddrinfo ENOTFOUND x', 'ENOTFOUND'), ctx).code, 'UNKNOWN_HOST')
    assert.equal(toKafkaError(wrapped(new kafkajs.KafkaJSConnectionError('Connection timeout')), ctx).code, 'TIMEOUT')
    const tlsClosed = conn('Client network socket disconnected before secure TLS connection was established', 'ECONNRESET')
    assert.equal(toKafkaError(tlsClosed, { ...ctx, tls: true }).code, 'TLS_FAILED')
    assert.equal(toKafkaError(tlsClosed, ctx).code, 'CONNECTION_LOST')
    assert.match(toKafkaError(conn('connect ECONNREFUSED 10.9.9.9:9092', 'ECONNREFUSED'), { ...ctx, phase: 'metadata' }).hint ?? '', /advertised\.listeners/)
  })

  it('anything unknown is CONNECTION_FAILED with a hint, never a throw', () => {
    // 44 POLICY_VIOLATION: a broker error with a numeric code the table does not list.
    for (const odd of [new Error('weird'), 'a string', undefined, null, { name: 'Nope' }, wrapped(createErrorFromCode(44)), { code: 42 }]) {
      const e = toKafkaError(odd, ctx)
      assert.equal(e.code, 'CONNECTION_FAILED')
      assert.ok((e.hint ?? '').length > 0)
    }
  })

  it('an error that crossed the worker thread boundary classifies as the error itself: code, kind, message, hint', () => {
    const errors: unknown[] = [
      ...[29, 31, 3, 58, 7, 10, 18, 87, 17, 19, 56, 6, 44].map((code) => wrapped(createErrorFromCode(code))),
      conn('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED'),
      conn('getaddrinfo ENOTFOUND x', 'ENOTFOUND'),
      conn('Client network socket disconnected before secure TLS connection was established', 'ECONNRESET'),
      wrapped(new kafkajs.KafkaJSConnectionError('Connection timeout')),
      { name: 'KafkaJSConnectionClosedError', message: 'Closed connection', host: 'h', port: 1 },
      new kafkajs.KafkaJSError('The producer is disconnected'),
      new kafkajs.KafkaJSNonRetriableError(new kafkajs.KafkaJSError('Invalid acks', { retriable: false })),
      new kafkajs.KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out'),
      { name: 'KafkaJSNoBrokerAvailableError', message: 'No broker available' },
      Object.assign(new Error('No answer within 10 ms'), { name: 'TimeoutError' }),
      new ConnectorError('CONNECTION_LOST', 'No broker answered the metadata request', { kind: 'retryable', hint: 'Check.' }),
      new Error('weird'), 'a string', undefined, null, { name: 'Nope' }, { code: 42 },
    ]
    for (const err of errors) {
      for (const c of [ctx, { ...ctx, tls: true }, { ...ctx, phase: 'handshake' as const }]) {
        const direct = toKafkaError(err, c)
        const across = toKafkaError(errorFromWire(structuredClone(errorToWire(err))), c)
        assert.deepEqual([across.code, across.kind, across.message, across.hint], [direct.code, direct.kind, direct.message, direct.hint], `${String((err as Error | undefined)?.name ?? err)} ${JSON.stringify(c)}`)
      }
    }
  })
})

// Rows of the error table the live tests cannot provoke on demand (a cluster electing leaders, a
// broker without a request version, ACLs on groups and transactions, kafkajs's own refusals),
// built as kafkajs builds them: broker errors by their Kafka error code, the rest by class.
describe('kafka error table', () => {
  const require = createRequire(import.meta.url)
  const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode(code: number): Error }
  const ctx: ClassifyContext = { target: 'k1:9092', phase: 'request', tls: false, mechanism: 'scram-sha-256' }
  // kafkajs's classes as its JavaScript has them (its typings lack some classes and arguments).
  const kj = kafkajs as unknown as Record<string, new (...args: unknown[]) => Error>
  const wrapped = (e: Error) => new kj.KafkaJSNumberOfRetriesExceeded!(e, { retryCount: 0, retryTime: 100 })
  const classify = (err: unknown, c: Partial<ClassifyContext> = {}) => toKafkaError(err, { ...ctx, ...c })
  const kindOf = (err: unknown) => { const e = classify(err); return [e.code, e.kind] }

  it('broker error types by code: permissions, versions, leaders, refused writes; the type is named where the text is vague', () => {
    // 30 GROUP_, 53 TRANSACTIONAL_ID_, 65 DELEGATION_TOKEN_AUTHORIZATION_FAILED; 35 UNSUPPORTED_VERSION; 5 LEADER_NOT_AVAILABLE;
    // 20, 9, 8, 13, 41, 74, 75, 80, 83: the cluster cannot take a write now; 18 RECORD_LIST_TOO_LARGE; 32 INVALID_TIMESTAMP, 2 CORRUPT_MESSAGE;
    // 33 UNSUPPORTED_SASL_MECHANISM, 34 ILLEGAL_SASL_STATE; 45 OUT_OF_ORDER_SEQUENCE_NUMBER (no row: the broker's answer, kind by kafkajs's retriable)
    const cases: [number, string, string][] = [
      [30, 'NOT_PERMITTED', 'permanent'], [53, 'NOT_PERMITTED', 'permanent'], [65, 'NOT_PERMITTED', 'permanent'],
      [35, 'CONNECTION_FAILED', 'permanent'], [5, 'CONNECTION_LOST', 'retryable'],
      ...[20, 9, 8, 13, 41, 74, 75, 80, 83].map((code): [number, string, string] => [code, 'BROKER_UNAVAILABLE', 'retryable']),
      [18, 'MESSAGE_TOO_LARGE', 'permanent'], [32, 'INVALID_DATA', 'permanent'], [2, 'INVALID_DATA', 'permanent'],
      [33, 'AUTHENTICATION_FAILED', 'permanent'], [34, 'AUTHENTICATION_FAILED', 'permanent'], [45, 'CONNECTION_FAILED', 'permanent'], [13, 'BROKER_UNAVAILABLE', 'retryable'],
    ]
    for (const [code, expected, kind] of cases) {
      const e = classify(wrapped(createErrorFromCode(code)))
      assert.deepEqual([e.code, e.kind], [expected, kind], `kafka error code ${code}`)
      assert.ok((e.hint ?? '').length > 0 && e.message.includes('k1:9092'), `kafka error code ${code}: ${e.message}`)
    }
    assert.match(classify(createErrorFromCode(74)).message, /\(FENCED_LEADER_EPOCH\)$/)
    assert.match(classify(createErrorFromCode(32)).message, /\(INVALID_TIMESTAMP\)$/)
    assert.match(classify(createErrorFromCode(45)).message, /answered with an error: .* \(OUT_OF_ORDER_SEQUENCE_NUMBER\)$/)
    assert.match(classify(createErrorFromCode(33)).message, /does not enable SASL mechanism SCRAM-SHA-256 on this listener$/)
    // A broker error kafkajs calls retriable, with no row of its own, is retried.
    assert.deepEqual(kindOf({ name: 'KafkaJSProtocolError', type: 'SOMETHING_NEW', message: 'new', retriable: true }), ['CONNECTION_FAILED', 'retryable'])
  })

  it('kafkajs\'s own errors: metadata, locks, API versions, refusals (kind by retriable), a closed connection by phase', () => {
    assert.deepEqual(kindOf(new kj.KafkaJSBrokerNotFound!('Broker 3 not found in the cached metadata')), ['CONNECTION_LOST', 'retryable'])
    assert.deepEqual(kindOf(new kj.KafkaJSMetadataNotLoaded!('Cluster metadata not loaded')), ['CONNECTION_LOST', 'retryable'])
    assert.deepEqual(kindOf(new kj.KafkaJSTopicMetadataNotLoaded!('Topic metadata not loaded', { topic: 't' })), ['CONNECTION_LOST', 'retryable'])
    assert.deepEqual(kindOf(new kj.KafkaJSLockTimeout!('Timeout while acquiring lock (1 waiting locks)')), ['TIMEOUT', 'retryable'])
    assert.deepEqual(kindOf(new kj.KafkaJSServerDoesNotSupportApiKey!('no such API', { apiKey: 0, apiName: 'Produce' })), ['CONNECTION_FAILED', 'permanent'])
    assert.deepEqual(kindOf(new kj.KafkaJSError!('Invalid acks', { retriable: false })), ['CONNECTION_FAILED', 'permanent'])
    assert.deepEqual(kindOf(new kj.KafkaJSError!('Something to retry', { retriable: true })), ['CONNECTION_FAILED', 'retryable'])
    assert.deepEqual(kindOf(new kj.KafkaJSNonRetriableError!('Producer is disconnecting')), ['CONNECTION_LOST', 'not_connected'])
    const closed = new kj.KafkaJSConnectionClosedError!('Closed connection', { host: 'h', port: 1 })
    assert.deepEqual([classify(closed).code, classify(closed).message], ['CONNECTION_LOST', 'h:1 closed the connection'])
    const early = classify(closed, { phase: 'handshake' })
    assert.deepEqual([early.code, early.kind, early.message], ['CONNECTION_FAILED', 'not_connected', 'h:1 closed the connection before answering'])
    assert.match(early.hint ?? '', /SASL authentication or TLS/)
    assert.match(classify(new kj.KafkaJSRequestTimeoutError!('Request timed out'), { phase: 'handshake' }).hint ?? '', /did not answer like a Kafka broker/)
    assert.match(classify(new kj.KafkaJSRequestTimeoutError!('Request timed out')).hint ?? '', /slow or overloaded/)
  })

  it('messages: the broker\'s part of a SASL refusal, the broker kafkajs names, texts never expanded as templates', () => {
    const sasl = classify(new kj.KafkaJSSASLAuthenticationError!('SASL SCRAM-SHA-256 authentication failed: bad {target} $&'))
    assert.equal(sasl.message, 'SASL SCRAM-SHA-256 authentication to k1:9092 failed: bad {target} $&')
    const timeout = classify(new kj.KafkaJSRequestTimeoutError!('Request Produce(key: 0, version: 7) timed out', { broker: 'k2:9092' }))
    assert.equal(timeout.message, 'Request to k2:9092 timed out: Request Produce(key: 0, version: 7) timed out')
    // Wrappers are unwrapped (at most five deep); the answer's cause is the error as thrown.
    const deep = wrapped(wrapped(wrapped(createErrorFromCode(29))))
    assert.deepEqual([classify(deep).code, classify(deep).cause === deep], ['NOT_PERMITTED', true])
  })

  it('failed connections: TLS against a plain port, certificates, timeouts with and without TLS, the advertised brokers', () => {
    const conn = (message: string, code?: string) => wrapped(new kj.KafkaJSConnectionError!(`Connection error: ${message}`, { broker: 'k1:9093', ...(code ? { code } : {}) }))
    const plain = classify(conn('C0:error:0A00010B:SSL routines:ssl3_get_record:wrong version number', 'ERR_SSL_WRONG_VERSION_NUMBER'), { tls: true })
    assert.deepEqual([plain.code, plain.message], ['TLS_FAILED', 'TLS handshake with k1:9093 failed: C0:error:0A00010B:SSL routines:ssl3_get_record:wrong version number'])
    assert.match(plain.hint ?? '', /does not seem to speak TLS/)
    const cert = classify(conn('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT'), { tls: true })
    assert.deepEqual([cert.code, cert.kind], ['TLS_FAILED', 'not_connected'])
    assert.match(cert.hint ?? '', /CA certificate/)
    assert.match(classify(wrapped(new kj.KafkaJSConnectionError!('Connection timeout')), { tls: true }).hint ?? '', /No TLS handshake within the connect timeout/)
    assert.match(classify(conn('connect ETIMEDOUT 10.0.0.1:9092', 'ETIMEDOUT')).hint ?? '', /firewall/)
    const reset = classify(conn('read ECONNRESET', 'ECONNRESET'), { phase: 'metadata' })
    assert.deepEqual([reset.code, reset.message], ['CONNECTION_LOST', 'Connection to k1:9093 failed: read ECONNRESET'])
    assert.match(reset.hint ?? '', /advertised\.listeners/)
    const odd = classify(conn('something odd', 'EADDRINUSE'))
    assert.deepEqual([odd.code, odd.message], ['CONNECTION_FAILED', 'Talking to k1:9093 failed: something odd'])
  })
})

// --- rule actions: openChannel, send, sendBatch ---

async function openKafka(c: Connector, params: Record<string, unknown>): Promise<BatchChannel> {
  const filled = validateWithSchema<Record<string, unknown>>(kafkaConnector.paramsSchema, params, 'params')
  if (!filled.ok) assert.fail(JSON.stringify(filled.errors))
  return asBatchChannel(await c.openChannel!(filled.value))
}
const randomTopic = (prefix = 'junction-test') => `${prefix}.${Math.random().toString(36).slice(2, 10)}`
const sig = (ms = 15_000) => AbortSignal.timeout(ms)

describe('kafka connector: rule actions', () => {
  const client = new kafkajs.Kafka({ brokers: [kafka.bootstrap], clientId: 'junction-test', logLevel: kafkajs.logLevel.NOTHING })
  const admin = client.admin()
  let c: Connector
  const topics: string[] = []
  const topic = (prefix?: string) => { const t = randomTopic(prefix); topics.push(t); return t }
  const createTopic = async (partitions: number) => {
    const t = topic()
    await admin.createTopics({ topics: [{ topic: t, numPartitions: partitions }], waitForLeaders: true })
    return t
  }
  /** Records per partition. */
  const counts = async (t: string) => (await admin.fetchTopicOffsets(t)).sort((a, b) => a.partition - b.partition).map((o) => Number(o.high))
  /** Reads `n` records of `subscribed` topics with a fresh consumer group, from the beginning. */
  const readBack = async (subscribed: string[], n: number) => {
    const consumer = client.consumer({ groupId: `junction-test-${Math.random().toString(36).slice(2)}` })
    const got: Array<kafkajs.KafkaMessage & { topic: string; partition: number }> = []
    await consumer.connect()
    try {
      await consumer.subscribe({ topics: subscribed, fromBeginning: true })
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`read ${got.length} of ${n} records`)), 30_000)
        void consumer.run({
          eachMessage: async ({ topic: t, partition, message }) => {
            got.push({ ...message, topic: t, partition })
            if (got.length >= n) { clearTimeout(timer); resolve() }
          },
        })
      })
    } finally {
      await consumer.disconnect()
    }
    return got
  }

  /** The same connector with its kafkajs clients on the main thread (`producer.workerThread: false`). */
  let inThread: Connector
  /** Both ways of running the clients: the default worker thread, and the main thread. */
  const modes = [['worker thread', () => c], ['main thread', () => inThread]] as const

  before(async () => {
    await admin.connect()
    c = make({ bootstrapServers: kafka.bootstrap })
    inThread = make({ bootstrapServers: kafka.bootstrap, producer: { workerThread: false } })
    await Promise.all([c.start(sig()), inThread.start(sig())])
  })
  after(async () => {
    await admin.deleteTopics({ topics, timeout: 10_000 }).catch(() => undefined)
    await admin.disconnect()
    await Promise.all([c?.stop(AbortSignal.timeout(5_000)), inThread?.stop(AbortSignal.timeout(5_000))])
  })

  it('batches 500 records / 10 ms by default', () => {
    assert.deepEqual(kafkaConnector.batching, { maxSize: 500, maxWaitMs: 10 })
  })

  for (const [mode, connector] of modes) it(`send and sendBatch write the rendered topic, key, value, headers and timestamp; a missing value is null (${mode})`, async () => {
    const c = connector()
    const base = topic()
    topics.push(`${base}.a`, `${base}.b`)
    const ch = await openKafka(c, {
      topic: `${base}.\${payload.room}`,
      key: '${clientid}',
      headers: { 'x-qos': '${qos}', 'x-missing': '${nope}' },
      timestamp: '${ts}',
    })
    const plain = await openKafka(c, { topic: `${base}.a`, value: 'temp=${payload.temp} missing=${payload.nope}' })
    const out = (i: number, ts?: number | string) => ({ clientid: `dev-${i}`, payload: { room: i % 2 === 0 ? 'a' : 'b', temp: i * 1.5 }, qos: i % 3, ...(ts === undefined ? {} : { ts }) })
    const single = out(0, 1_700_000_000_000)
    const batch = Array.from({ length: 9 }, (_, k) => out(k + 1, k === 8 ? undefined : String(1_700_000_000_000 + k + 1)))
    const before = Date.now()
    await ch.send(single, sig())
    await ch.sendBatch(batch, sig())
    await plain.send({ payload: { temp: 7 } }, sig())

    const got = await readBack([`${base}.a`, `${base}.b`], 11)
    const withKey = got.filter((m) => m.key !== null)
    assert.equal(withKey.length, 10)
    for (const m of withKey) {
      const i = Number(m.key!.toString().slice(4))
      const sent = i === 0 ? single : batch[i - 1]!
      assert.equal(m.topic, `${base}.${sent.payload.room}`)
      assert.deepEqual(JSON.parse(m.value!.toString()), sent, 'value defaults to the whole output as JSON')
      assert.equal(m.headers?.['x-qos']?.toString(), String(sent.qos))
      assert.equal(m.headers?.['x-missing']?.toString(), 'null')
      if (sent.ts === undefined) assert.ok(Number(m.timestamp) >= before - 1_000 && Number(m.timestamp) <= Date.now(), 'missing timestamp: now')
      else assert.equal(m.timestamp, String(sent.ts))
    }
    const noKey = got.find((m) => m.key === null)
    assert.equal(noKey?.value?.toString(), 'temp=7 missing=null')
    assert.equal(noKey?.topic, `${base}.a`)
  })

  for (const [mode, connector] of modes) it(`round_robin spreads records evenly over the partitions; random uses several; key_hash keeps a key on one partition (${mode})`, async () => {
    const c = connector()
    const rr = await createTopic(3)
    const ch = await openKafka(c, { topic: rr, partitionStrategy: 'round_robin', key: '${k}' })
    for (let b = 0; b < 3; b++) await ch.sendBatch(Array.from({ length: 10 }, (_, i) => ({ k: 'same', i: b * 10 + i })), sig())
    for (let i = 0; i < 3; i++) await ch.send({ k: 'same', i: 30 + i }, sig())
    // Distinct records per partition: a new topic's leader can be unknown to the producer for a
    // moment, and kafkajs (not idempotent here) then retries the whole request, writing the
    // partitions that had succeeded twice. The spread is what this test is about.
    const written = await readBack([rr], (await counts(rr)).reduce((a, b) => a + b, 0))
    const distinct = [0, 1, 2].map((p) => new Set(written.filter((m) => m.partition === p).map((m) => JSON.parse(m.value!.toString()).i)).size)
    assert.deepEqual(distinct, [11, 11, 11], `records per partition (with retried duplicates): ${JSON.stringify(await counts(rr))}`)

    const rnd = await createTopic(3)
    const random = await openKafka(c, { topic: rnd, partitionStrategy: 'random' })
    await random.sendBatch(Array.from({ length: 60 }, (_, i) => ({ i })), sig())
    const r = await counts(rnd)
    assert.equal(r.reduce((a, b) => a + b, 0), 60)
    assert.ok(r.filter((n) => n > 0).length >= 2, JSON.stringify(r))

    const kh = await createTopic(3)
    const hashed = await openKafka(c, { topic: kh, key: '${k}' })
    await hashed.sendBatch(Array.from({ length: 20 }, () => ({ k: 'device-42' })), sig())
    const expected = kafkajs.Partitioners.DefaultPartitioner()({
      topic: kh, partitionMetadata: [0, 1, 2].map((p) => ({ partitionId: p, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] })), message: { key: 'device-42', value: null },
    })
    assert.deepEqual(await counts(kh), [0, 1, 2].map((p) => (p === expected ? 20 : 0)), 'murmur2 of the key, as the Java client')
  })

  it('a record that cannot be rendered fails alone: BatchError names it, the others are written', async () => {
    const t = topic()
    const ch = await openKafka(c, { topic: `${t}\${payload.suffix}`, timestamp: '${ts}' })
    const err = await rejection(ch.sendBatch([
      { payload: { suffix: '' }, ts: 1 },
      { payload: { suffix: '/bad topic' }, ts: 2 },
      { payload: { suffix: '' }, ts: 'yesterday' },
      { payload: { suffix: '' }, ts: 4 },
    ], sig()))
    assert.ok(err instanceof BatchError, String(err))
    assert.deepEqual(err.failures.map((f) => [f.index, f.error.code, f.error.kind]), [[1, 'INVALID_DATA', 'permanent'], [2, 'INVALID_DATA', 'permanent']])
    assert.match(err.failures[0]!.error.message, /not a valid Kafka topic name/)
    assert.deepEqual(await counts(t), [2])
  })

  it('a record the broker refuses as too large fails alone, the rest of the batch is written; the same error from the worker thread as from the main thread', async () => {
    const errors: ConnectorError[] = []
    for (const [mode, connector] of modes) {
      const t = topic()
      const ch = await openKafka(connector(), { topic: t, value: '${v}' })
      const err = await rejection(ch.sendBatch([{ v: 'small-1' }, { v: 'x'.repeat(1_500_000) }, { v: 'small-2' }], sig()))
      assert.ok(err instanceof BatchError, `${mode}: ${String(err)}`)
      assert.deepEqual(err.failures.map((f) => [f.index, f.error.code, f.error.kind]), [[1, 'MESSAGE_TOO_LARGE', 'permanent']], mode)
      assert.deepEqual(await counts(t), [2], mode)
      errors.push(err.failures[0]!.error)
    }
    const [fromWorker, fromMain] = errors.map((e) => [e.code, e.kind, e.message, e.hint])
    assert.deepEqual(fromWorker, fromMain)
  })

  it('openChannel: invalid static topic or template is permanent; not started is not_connected', async () => {
    assert.equal((await rejection(openKafka(c, { topic: 'has space' }))).code, 'INVALID_PARAMS')
    const bad = await rejection(openKafka(c, { topic: 'ok', key: '${a[x]}' }))
    assert.deepEqual([bad.code, bad.kind], ['INVALID_PARAMS', 'permanent'])
    const idle = make({ bootstrapServers: kafka.bootstrap })
    assert.equal((await rejection(openKafka(idle, { topic: 'ok' }))).kind, 'not_connected')
  })

  for (const workerThread of [true, false]) {
    it(`producer options apply per write: gzip, acks leader, and lingerMs coalesces concurrent sends into few requests (workerThread ${workerThread})`, async () => {
      const g = make({ bootstrapServers: kafka.bootstrap, producer: { compression: 'gzip', acks: 'leader', lingerMs: 20, workerThread } })
      try {
        await g.start(sig())
        const client = (g as KafkaConnector).client()
        const calls: Array<{ acks: number; compression: string; n: number }> = []
        const original = client.write.bind(client)
        client.write = (request) => {
          calls.push({ acks: request.acks, compression: request.compression, n: request.records.length })
          return original(request)
        }
        const t = topic()
        const ch = await openKafka(g, { topic: t })
        await Promise.all(Array.from({ length: 50 }, (_, i) => ch.send({ i }, sig())))
        assert.deepEqual(await counts(t), [50])
        assert.ok(calls.length <= 3, `50 sends in ${calls.length} request(s)`)
        assert.deepEqual(calls[0] && { acks: calls[0].acks, compression: calls[0].compression }, { acks: 1, compression: 'gzip' })
        const [m] = await readBack([t], 1)
        assert.ok(m && 'i' in JSON.parse(m.value!.toString()), 'gzip records read back')
      } finally {
        await g.stop(AbortSignal.timeout(5_000))
      }
    })
  }

})

describe('kafka connector: worker thread (producer.workerThread)', () => {
  const client = new kafkajs.Kafka({ brokers: [kafka.bootstrap], clientId: 'junction-test', logLevel: kafkajs.logLevel.NOTHING })
  const admin = client.admin()
  const topics: string[] = []
  const topic = () => { const t = randomTopic(); topics.push(t); return t }
  const total = async (t: string) => (await admin.fetchTopicOffsets(t)).reduce((n, o) => n + Number(o.high), 0)
  before(() => admin.connect())
  after(async () => {
    await admin.deleteTopics({ topics, timeout: 10_000 }).catch(() => undefined)
    await admin.disconnect()
  })

  it('a request whose signal aborts is a retryable TIMEOUT at once, while the worker still writes it', async () => {
    const c = make({ bootstrapServers: kafka.bootstrap, producer: { lingerMs: 0 } })
    try {
      await c.start(sig())
      const t = topic()
      const ch = await openKafka(c, { topic: t })
      await ch.send({ warm: true }, sig()) // the topic exists, metadata is loaded
      const ac = new AbortController()
      // The request is posted to the worker synchronously; its answer cannot arrive before the abort.
      const pending = ch.sendBatch(Array.from({ length: 100 }, (_, i) => ({ i })), ac.signal)
      ac.abort()
      const t0 = performance.now()
      const err = await rejection(pending)
      assert.deepEqual([err.code, err.kind], ['TIMEOUT', 'retryable'])
      assert.ok(performance.now() - t0 < 100, 'answered on the main side at once')
      // The worker finished the write anyway (at least once), and answers the next request.
      const deadline = Date.now() + 15_000
      while ((await total(t)) < 101 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      assert.equal(await total(t), 101)
      await ch.send({ after: true }, sig())
    } finally {
      await c.stop(AbortSignal.timeout(5_000))
    }
  })

  it('a worker that dies fails writes as not_connected and health as disconnected; stop still returns', async () => {
    const c = make({ bootstrapServers: kafka.bootstrap, producer: { lingerMs: 0 } })
    try {
      await c.start(sig())
      const ch = await openKafka(c, { topic: topic() })
      await ch.send({ n: 1 }, sig())
      // Reach into the connector for its worker: nothing public kills it (a crash would).
      const { worker } = (c as unknown as { kafkaClient: { requests: { worker: import('node:worker_threads').Worker } } }).kafkaClient.requests
      await worker.terminate()
      const err = await rejection(ch.send({ n: 2 }, sig()))
      assert.deepEqual([err.code, err.kind], ['CONNECTION_LOST', 'not_connected'])
      assert.match(err.message, /worker thread/)
      const h = await c.health(sig())
      assert.ok(h.status === 'disconnected' && h.code === 'CONNECTION_LOST' && /worker thread/.test(h.reason), JSON.stringify(h))
    } finally {
      const t0 = performance.now()
      await c.stop(AbortSignal.timeout(5_000))
      assert.ok(performance.now() - t0 < 1_000, 'stop does not wait for a dead worker')
    }
  })

  it('stop() ends the worker thread: a process that started, wrote, failed to start and stopped connectors exits by itself', async () => {
    const dead = await freePort()
    const silent = await startHungServer()
    const src = (p: string) => JSON.stringify(new URL(`../../src/${p}`, import.meta.url).href)
    // No process.exit: the process ends only when no worker (or socket, or timer) is left.
    const script = `
      import { kafkaConnector } from ${src('connectors/kafka/definition.ts')}
      import { validateWithSchema } from ${src('core/schema-validation.ts')}
      const fill = (schema, v) => validateWithSchema(schema, v, 'x').value
      const ctx = { connectorId: 'exit-check', logger: { debug() {}, info() {}, warn() {}, error() {} } }
      const make = (bootstrapServers) => kafkaConnector.create(fill(kafkaConnector.configSchema, { bootstrapServers, connectTimeoutMs: 60000, requestTimeoutMs: 60000 }), ctx)
      const c = make(${JSON.stringify(kafka.bootstrap)})
      await c.start(AbortSignal.timeout(15000))
      const ch = await c.openChannel(fill(kafkaConnector.paramsSchema, { topic: ${JSON.stringify(topic())} }))
      await ch.sendBatch([{ n: 1 }, { n: 2 }], AbortSignal.timeout(15000))
      await ch.close()
      await c.stop(AbortSignal.timeout(5000))
      // A start that fails, and one aborted while connecting; the runtime stops both.
      for (const [address, ms] of [['127.0.0.1:${dead}', 15000], ['127.0.0.1:${silent.port}', 300]]) {
        const failed = make(address)
        await failed.start(AbortSignal.timeout(ms)).then(() => console.log('started?'), (e) => console.log('start failed', e.code))
        await failed.stop(AbortSignal.timeout(5000))
      }
      console.log('stopped at', Date.now())
    `
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      child.stdout.on('data', (d) => { out += String(d) })
      child.stderr.on('data', (d) => { out += String(d) })
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(null) }, 60_000)
        child.once('exit', (c) => { clearTimeout(timer); resolve(c) })
      })
      const exitedAt = Date.now()
      assert.equal(code, 0, `the process exits by itself; output:\n${out}`)
      assert.match(out, /start failed CONNECTION_REFUSED\nstart failed TIMEOUT\n/)
      const stoppedAt = Number(/stopped at (\d+)/.exec(out)?.[1])
      assert.ok(exitedAt - stoppedAt < 3_000, `exited ${exitedAt - stoppedAt} ms after the last stop`)
    } finally {
      await silent.close()
    }
  })
})

// The battery runs last: its private broker (with an SSL listener; it serves the TLS checks and
// then the outage) starts with the file, while the tests above run.
const privateBroker: Promise<PrivateKafka> = startPrivateKafka({ tls: true })
privateBroker.catch(() => {}) // the battery's TLS hook reports a failed start
const privateKafka = () => privateBroker
after(async () => { await (await privateBroker.catch(() => undefined))?.destroy() })

connectorBattery({
  definition: kafkaConnector,
  goodConfig: () => ({ bootstrapServers: kafka.bootstrap }),
  withAddress: (host, port) => ({ bootstrapServers: `${host}:${port}` }),
  wrongCredentials: () => sasl('plain', 'battery-wrong-secret'),
  tlsServer: async () => {
    const b = await privateKafka()
    return {
      config: (tls) => ({ bootstrapServers: b.sslBootstrap!, tls }),
      caCert: b.certPem!,
      // Kafka's SSL listener drops a plaintext ApiVersions request without a word.
      plainCode: 'CONNECTION_FAILED',
      close: async () => {},
    }
  },
  privateServer: async () => {
    const b = await privateKafka()
    return {
      config: () => ({ bootstrapServers: b.bootstrap, connectTimeoutMs: 1_000, requestTimeoutMs: 2_000 }),
      destination: () => kafkaDestination(b.bootstrap),
      stop: () => b.stop(),
      start: () => b.start(),
      close: async () => {},
    }
  },
  destination: () => kafkaDestination(kafka.bootstrap),
  // Larger than the topic's max.message.bytes (1 MB) and than producer.maxBatchBytes, so the
  // channel writes it alone (Kafka refuses a partition's record batch as a whole).
  refusedMessage: { id: 'refused-1', temp: 0, note: 'x'.repeat(1_500_000) },
})

connectorFlowThroughApi({
  type: 'kafka',
  config: () => ({ bootstrapServers: kafka.bootstrap }),
  withPort: (port) => ({ bootstrapServers: `127.0.0.1:${port}` }),
  wrongCredentials: () => sasl('scram-sha-256', 'battery-wrong-secret'),
  destination: () => kafkaDestination(kafka.bootstrap),
})
