import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import amqp from 'amqplib'
import { BatchError, withResourceOptions, type Channel, type Connector, type ProbeResult } from '../../src/connector-api/index.js'
import type { RabbitmqConfig, RabbitmqParams } from '../../src/connectors/rabbitmq/config-schema.js'
import { classifyAmqpError } from '../../src/connectors/rabbitmq/classify-error.js'
import { rabbitmqConnector } from '../../src/connectors/rabbitmq/definition.js'
import { validateWithSchema } from '../../src/core/schema-validation.js'
import { rejection } from '../support/channels.js'
import { connectorBattery, paramsWithDefaults, testContext, withDefaults } from '../support/connector-battery.js'
import { connectorFlowThroughApi } from '../support/connector-flow.js'
import { amqpUrl, rabbitDestination, sharedRabbitmq, startPrivateRabbitmq, type PrivateRabbitmq, type RabbitAddress } from '../support/rabbitmq.js'

const shared = sharedRabbitmq()
const configFor = (a: RabbitAddress, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  server: a.host, port: a.port, username: a.username, password: a.password, ...extra,
})

/** One private node for the whole file (a node takes seconds to boot): TLS and outage share it. */
let node: Promise<PrivateRabbitmq> | undefined
const privateNode = () => (node ??= startPrivateRabbitmq())
after(async () => { if (node) await (await node).destroy() })

connectorBattery({
  definition: rabbitmqConnector,
  goodConfig: () => configFor(shared),
  withAddress: (host, port) => configFor(shared, { server: host, port }),
  wrongCredentials: () => configFor(shared, { password: 'battery-wrong-secret' }),
  tlsServer: async () => {
    const n = await privateNode()
    return {
      caCert: n.certPem,
      config: (tls) => configFor(n, { port: n.tlsPort, tls }),
      plainCode: 'CONNECTION_FAILED',
      close: async () => {},
    }
  },
  privateServer: async () => {
    const n = await privateNode()
    return { config: () => configFor(n), destination: () => rabbitDestination(n), stop: n.stop, start: n.start, close: async () => {} }
  },
  destination: () => rabbitDestination(shared),
  // Its routing key `readings.refused.1` matches no binding (`readings.*`): the broker returns it.
  refusedMessage: { id: 'refused.1', temp: 1, note: 'unroutable' },
})

connectorFlowThroughApi({
  type: 'rabbitmq',
  config: () => configFor(shared),
  withPort: (port) => configFor(shared, { port }),
  wrongCredentials: () => configFor(shared, { password: 'battery-wrong-secret' }),
  destination: () => rabbitDestination(shared),
})

const make = (config: Record<string, unknown>): Connector<RabbitmqParams> =>
  rabbitmqConnector.create(withDefaults(rabbitmqConnector, config) as RabbitmqConfig, testContext('rabbitmq-test'))
const params = (p: Record<string, unknown>) => paramsWithDefaults(rabbitmqConnector, p) as RabbitmqParams
const signal = () => AbortSignal.timeout(15_000)
const stepsOf = (r: ProbeResult) => r.steps.map((s) => [s.name, s.ok])
/** Runs `work` on a channel of the shared server's admin connection. */
async function admin<T>(work: (ch: amqp.Channel) => Promise<T>): Promise<T> {
  const conn = await amqp.connect(amqpUrl(shared))
  try {
    const ch = await conn.createChannel()
    ch.on('error', () => {})
    return await work(ch)
  } finally {
    await conn.close().catch(() => {})
  }
}

describe('rabbitmq config', () => {
  it('fills in every default (EMQX names in camelCase)', () => {
    const r = validateWithSchema<Record<string, unknown>>(withResourceOptions(rabbitmqConnector).configSchema, { server: 'mq' }, 'config')
    assert.ok(r.ok, JSON.stringify(r))
    assert.deepEqual(r.value, {
      server: 'mq', port: 5672, username: 'guest', virtualHost: '/', heartbeatMs: 30_000, poolSize: 8, connectTimeoutMs: 5_000,
      tls: { enable: false, verify: true }, resource: { healthCheckIntervalMs: 15_000, startTimeoutMs: 5_000 },
    })
    const p = params({ exchange: 'x', routingKey: 'k' })
    assert.deepEqual(p, { exchange: 'x', routingKey: 'k', deliveryMode: 'persistent', payload: '${.}', waitForConfirms: true, confirmTimeoutMs: 5_000 })
  })
})

describe('rabbitmq probe', () => {
  it('names the server and the virtual host', async () => {
    const r = await make(configFor(shared)).probe(signal())
    assert.equal(r.ok, true, JSON.stringify(r))
    assert.deepEqual(stepsOf(r), [['resolve', true], ['connect', true], ['authenticate', true], ['authorize', true]])
    assert.match(r.steps[2]!.detail ?? '', /^RabbitMQ \d+\.\d+.*virtual host "\/"/)
  })

  it('an unknown virtual host is NOT_PERMITTED at authenticate, naming it', async () => {
    const r = await make(configFor(shared, { virtualHost: 'no-such-vhost' })).probe(signal())
    assert.ok(!r.ok && r.error.code === 'NOT_PERMITTED', JSON.stringify(r))
    assert.match(r.error.message, /no-such-vhost/)
    assert.deepEqual(stepsOf(r).at(-1), ['authenticate', false])
  })

  it('TLS against the plain AMQP port is TLS_NOT_SUPPORTED at the tls step', async () => {
    const r = await make(configFor(shared, { tls: { enable: true, verify: false } })).probe(signal())
    assert.ok(!r.ok && r.error.code === 'TLS_NOT_SUPPORTED', JSON.stringify(r))
    assert.deepEqual(stepsOf(r).at(-1), ['tls', false])
  })
})

describe('rabbitmq actions', () => {
  let c: Connector<RabbitmqParams>
  before(async () => {
    c = make(configFor(shared, { poolSize: 2 }))
    await c.start(signal())
  })
  after(() => c?.stop(AbortSignal.timeout(5_000)))

  it('a missing exchange fails the action at openChannel with a permanent EXCHANGE_NOT_FOUND, and declares nothing', async () => {
    const name = `junction-test-missing-${Date.now()}`
    const e = await rejection(c.openChannel!(params({ exchange: name, routingKey: 'k' })))
    assert.equal(e.code, 'EXCHANGE_NOT_FOUND')
    assert.equal(e.kind, 'permanent')
    const stillMissing = await admin((ch) => ch.checkExchange(name).then(() => false, () => true))
    assert.ok(stillMissing, 'the exchange was not created')
  })

  it('publishing leaves the exchange as the user declared it (never redeclared)', async () => {
    const name = `junction-test-fanout-${Date.now()}`
    await admin((ch) => ch.assertExchange(name, 'fanout', { durable: false, autoDelete: false }))
    const dest = await rabbitDestination(shared)
    try {
      await admin((ch) => ch.bindQueue(dest.queue, name, ''))
      const channel = await c.openChannel!(params({ exchange: name, routingKey: 'any' }))
      await channel.sendBatch!([{ id: 'a' }, { id: 'b' }], signal())
      await channel.close?.()
      assert.deepEqual((await dest.readBack()).map((r) => r.id), ['a', 'b'])
      // Declaring with the same settings passes; with others RabbitMQ refuses (406): they are unchanged.
      await admin((ch) => ch.assertExchange(name, 'fanout', { durable: false, autoDelete: false }))
      const other = await admin((ch) => ch.assertExchange(name, 'topic', { durable: true }).then(() => 'accepted', (err: { code?: number }) => err.code))
      assert.equal(other, 406)
    } finally {
      await admin((ch) => ch.deleteExchange(name))
      await dest.close?.()
    }
  })

  it('headers and properties are rendered; a missing value leaves its field out; a bad expiration fails only its message', async () => {
    const dest = await rabbitDestination(shared, {
      headers: { device: 'dev-${id}', note: '${note}' },
      properties: { contentType: 'application/json', messageId: '${id}', expiration: '${ttl}' },
      deliveryMode: 'non_persistent',
    })
    let channel: Channel | undefined
    try {
      channel = await c.openChannel!(params(dest.params))
      const e = await rejection(channel.sendBatch!([{ id: 'h1', note: 'n', ttl: 60000 }, { id: 'h2', ttl: 'soon' }, { id: 'h3' }], signal()))
      assert.ok(e instanceof BatchError && e.failures.length === 1 && e.failures[0]!.index === 1, `${e.code} ${e.message}`)
      assert.equal(e.failures[0]!.error.code, 'INVALID_DATA')
      await channel.send({ id: 'h4' }, signal())
      await dest.readBack()
      const byId = new Map(dest.raw.map((m) => [JSON.parse(m.content.toString()).id as string, m]))
      assert.deepEqual([...byId.keys()], ['h1', 'h3', 'h4'])
      const h1 = byId.get('h1')!.properties
      assert.deepEqual(h1.headers, { device: 'dev-h1', note: 'n' })
      assert.equal(h1.contentType, 'application/json')
      assert.equal(h1.messageId, 'h1')
      assert.equal(h1.expiration, '60000')
      assert.equal(h1.deliveryMode, 1)
      const h3 = byId.get('h3')!.properties
      assert.deepEqual(h3.headers, { device: 'dev-h3' }, 'a missing header is absent, not "undefined" or "null"')
      assert.equal(h3.expiration, undefined)
    } finally {
      await channel?.close?.()
      await dest.close?.()
    }
  })

  it('a message whose payload cannot be rendered (a BigInt) fails alone with INVALID_DATA', async () => {
    const dest = await rabbitDestination(shared)
    const channel = await c.openChannel!(params(dest.params))
    try {
      const e = await rejection(channel.sendBatch!([{ id: 'b1' }, { id: 'b2', big: 10n }], signal()))
      assert.ok(e instanceof BatchError && e.failures.map((f) => [f.index, f.error.code]).join() === '1,INVALID_DATA', `${e.code} ${e.message}`)
      assert.deepEqual((await dest.readBack()).map((r) => r.id), ['b1'])
    } finally {
      await channel.close?.()
      await dest.close?.()
    }
  })

  it('a send resolves on the broker\'s confirm; a nack (full queue, reject-publish) is a retryable PUBLISH_NACKED', async () => {
    const dest = await rabbitDestination(shared)
    const full = `${dest.queue}-full`
    await admin(async (ch) => {
      await ch.assertQueue(full, { durable: false, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } })
      await ch.bindQueue(full, dest.exchange, 'readings.*')
    })
    let channel: Channel | undefined
    try {
      channel = await c.openChannel!(params(dest.params))
      await channel.send({ id: 'c1' }, signal())
      const e = await rejection(channel.send({ id: 'c2' }, signal()))
      assert.equal(e.code, 'PUBLISH_NACKED')
      assert.equal(e.kind, 'retryable')
    } finally {
      await channel?.close?.()
      await admin((ch) => ch.deleteQueue(full))
      await dest.close?.()
    }
  })

  it('an exchange deleted under a running action fails its sends as EXCHANGE_NOT_FOUND; the action works again once it is back', async () => {
    const dest = await rabbitDestination(shared)
    let channel: Channel | undefined
    try {
      channel = await c.openChannel!(params(dest.params))
      await channel.send({ id: 'd1' }, signal())
      await admin((ch) => ch.deleteExchange(dest.exchange))
      const e = await rejection(channel.sendBatch!([{ id: 'd2' }, { id: 'd3' }], signal()))
      assert.equal(e.code, 'EXCHANGE_NOT_FOUND', e.message)
      assert.equal(e.kind, 'permanent')
      await admin(async (ch) => {
        await ch.assertExchange(dest.exchange, 'topic', { durable: true })
        await ch.bindQueue(dest.queue, dest.exchange, 'readings.*')
      })
      for (let i = 0; i < 2; i++) await channel.send({ id: `d${4 + i}` }, signal())
      assert.deepEqual((await dest.readBack()).map((r) => r.id), ['d1', 'd4', 'd5'])
    } finally {
      await channel?.close?.()
      await dest.close?.()
    }
  })
})

// amqplib's errors that the live tests above cannot provoke on demand (a heartbeat loss, a forced
// close, a size limit), built as amqplib builds them: the reply code in `code`, the server's text in the message.
describe('rabbitmq error table', () => {
  const amqpError = (code: unknown, message: string, name = 'Error') => Object.assign(new Error(message), { code, name })
  const classify = (err: unknown) => classifyAmqpError(err, 'mq:5672', '/v{target}')
  const kindOf = (err: unknown) => { const e = classify(err); return e && [e.code, e.kind] }

  it('maps AMQP reply codes by what the runtime should do; the reply code wins over the text', () => {
    assert.deepEqual(kindOf(amqpError(404, 'Channel closed by server: 404 (NOT-FOUND) with message "NOT_FOUND - no exchange \'x\'"')), ['EXCHANGE_NOT_FOUND', 'permanent'])
    assert.deepEqual(kindOf(amqpError(403, 'Channel closed by server: 403 (ACCESS-REFUSED)')), ['NOT_PERMITTED', 'permanent'])
    assert.deepEqual(kindOf(amqpError(406, 'PRECONDITION_FAILED - message size 9 is larger than configured max size 5')), ['MESSAGE_TOO_LARGE', 'permanent'])
    assert.deepEqual(kindOf(amqpError(406, 'PRECONDITION_FAILED - invalid expiration')), ['INVALID_DATA', 'permanent'])
    assert.deepEqual(kindOf(amqpError(320, 'Connection closed: 320 (CONNECTION-FORCED)')), ['CONNECTION_LOST', 'not_connected'])
    assert.match(classify(amqpError(320, 'Connection closed: 320'))!.message, /closed by an operator/)
  })

  it('maps amqplib\'s own errors, and leaves socket errors to the kit', () => {
    assert.deepEqual(kindOf(new Error('Heartbeat timeout')), ['CONNECTION_LOST', 'not_connected'])
    assert.deepEqual(kindOf(amqpError(undefined, 'Channel closed', 'IllegalOperationError')), ['CONNECTION_LOST', 'not_connected'])
    assert.deepEqual(kindOf(new Error('message nacked')), ['PUBLISH_NACKED', 'retryable'])
    assert.deepEqual(kindOf(new TypeError('headers must be an object')), ['INVALID_DATA', 'permanent'])
    assert.deepEqual(kindOf(new Error('Handshake terminated by server: 403 (ACCESS-REFUSED)')), ['AUTHENTICATION_FAILED', 'not_connected'])
    // The virtual host is quoted as written: a server's or a user's text is never expanded as a template.
    assert.match(classify(new Error('Expected ConnectionOpenOk; got <ConnectionClose channel:0>'))!.message, /virtual host "\/v\{target\}"/)
    assert.equal(classify(amqpError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1')), undefined)
    assert.equal(classify(new Error('something else')), undefined)
  })
})
