// MQTT bridge: the battery and the flow through the API against real Mosquitto brokers, then
// what only MQTT has (3.1.1 vs 5, QoS and Receive Maximum, PUBACK reason codes, MQTT 5 properties).
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { connectAsync, ErrorWithReasonCode, type IPublishPacket, type MqttClient } from 'mqtt'
import type { Channel, Connector, ConnectorContext, Health, ProbeResult } from '../../src/connector-api/index.js'
import { ConnectorError, withResourceOptions } from '../../src/connector-api/index.js'
import { BrokerDisconnectError, ClosedBeforeConnackError, classifyMqttError } from '../../src/connectors/mqtt/classify-error.js'
import type { MqttConfig, MqttParams } from '../../src/connectors/mqtt/config-schema.js'
import { mqttConnector } from '../../src/connectors/mqtt/definition.js'
import { parseServer } from '../../src/connectors/mqtt/server-address.js'
import { validateWithSchema } from '../../src/core/schema-validation.js'
import type { MessageProperties } from '../../src/broker/broker-types.js'
import { publishContext } from '../../src/rules/event-context.js'
import { compileRuleSql } from '../../src/rules/sql/index.js'
import { connectorBattery, testContext, until, withDefaults, type Destination } from '../support/connector-battery.js'
import { connectorFlowThroughApi } from '../support/connector-flow.js'
import { sharedMosquitto, startPrivateMosquitto, type MosquittoAddress, type PrivateMosquitto } from '../support/mosquitto.js'
import { PASS_THROUGH_MQTT_PROPERTIES } from '../support/pass-through-properties.js'

const shared = sharedMosquitto()
const serverOf = (b: MosquittoAddress) => `${b.host}:${b.port}`
/** A connector ID no other test (or concurrent run) uses: the client ID derives from it. */
const uniqueId = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`

/** One broker with a password file and an ACL for every test that logs in (started on first use). */
let auth: Promise<PrivateMosquitto> | undefined
const authBroker = () => (auth ??= startPrivateMosquitto({ users: { alice: 'right-pw' }, acl: 'user alice\ntopic readwrite allowed/#\n' }))
after(async () => { await (await auth)?.destroy() })

/**
 * A fresh topic space on `broker`, read back by a subscriber of its own (QoS 2: each message once).
 * Published messages reach it after the broker's acknowledgement, so a read waits until nothing
 * more arrives. `persistent`: the subscriber keeps its session across a broker restart (the broker
 * needs persistence) and reconnects, so what is published while it is away is queued for it.
 */
async function topicDestination(broker: MosquittoAddress, persistent = false): Promise<Destination> {
  const prefix = `battery/${randomBytes(4).toString('hex')}`
  const client: MqttClient = await connectAsync({
    host: broker.host, port: broker.port, protocolVersion: 5, clientId: uniqueId('dest'),
    clean: !persistent, reconnectPeriod: persistent ? 100 : 0, ...(persistent ? { properties: { sessionExpiryInterval: 600 } } : {}),
  })
  const received: Array<{ id: unknown; temp?: unknown; note?: unknown }> = []
  client.on('message', (_topic, payload) => { received.push(JSON.parse(payload.toString())) })
  await client.subscribeAsync(`${prefix}/#`, { qos: 2 })
  return {
    params: { topic: `${prefix}/\${id}` },
    async readBack() {
      await until(() => client.connected, (up) => up, 10_000, 50)
      let seen = -1
      await until(() => received.length, (n) => { const quiet = n === seen; seen = n; return quiet }, 5_000, 250)
      return [...received]
    },
    close: () => client.endAsync(true),
  }
}

connectorBattery({
  definition: mqttConnector,
  goodConfig: () => ({ server: serverOf(shared) }),
  withAddress: (host, port) => ({ server: `${host}:${port}` }),
  wrongCredentials: async () => ({ server: serverOf(await authBroker()), username: 'alice', password: 'battery-wrong-secret' }),
  async tlsServer() {
    const broker = await startPrivateMosquitto({ tls: true })
    // No plainCode: plain MQTT against a TLS port gets no MQTT answer to name (see the TLS tests below).
    return { config: (tls) => ({ server: serverOf(broker), tls }), caCert: broker.certPem!, close: () => broker.destroy() }
  },
  async privateServer() {
    const broker = await startPrivateMosquitto({ persistence: true })
    return {
      config: () => ({ server: serverOf(broker), connectTimeoutMs: 1_000 }),
      destination: () => topicDestination(broker, true),
      stop: () => broker.stop(),
      start: () => broker.start(),
      close: () => broker.destroy(),
    }
  },
  destination: () => topicDestination(shared),
  // A topic MQTT forbids to publish to: refused for good, its neighbours go out.
  refusedMessage: { id: 'refused/#', temp: 0, note: 'x' },
})

connectorFlowThroughApi({
  type: 'mqtt',
  config: () => ({ server: serverOf(shared) }),
  withPort: (port) => ({ server: `127.0.0.1:${port}` }),
  wrongCredentials: async () => ({ server: serverOf(await authBroker()), username: 'alice', password: 'battery-wrong-secret' }),
  destination: () => topicDestination(shared),
})

const make = (config: Record<string, unknown>, ctx: ConnectorContext = testContext(uniqueId('mqtt-test'))): Connector<MqttParams> =>
  mqttConnector.create(withDefaults(mqttConnector, config) as MqttConfig, ctx)
const probe = (config: Record<string, unknown>, ms = 15_000) => make(config).probe(AbortSignal.timeout(ms))
const stepsOf = (r: ProbeResult) => r.steps.map((s) => [s.name, s.ok])
const errorCode = (r: ProbeResult) => (r.ok ? 'ok' : r.error.code)
const params = (p: Partial<MqttParams> & { topic: string }): MqttParams => {
  const r = validateWithSchema<MqttParams>(mqttConnector.paramsSchema, p, 'params')
  if (!r.ok) assert.fail(`invalid params: ${JSON.stringify(r.errors)}`)
  return r.value
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** `work`'s outcome, or 'still waiting' once `ms` have passed. */
async function within<T>(work: Promise<T>, ms: number): Promise<{ value: T } | { error: unknown } | 'still waiting'> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'still waiting'>((resolve) => { timer = setTimeout(() => resolve('still waiting'), ms) })
  try {
    return await Promise.race([work.then((value) => ({ value }), (error: unknown) => ({ error })), late])
  } finally {
    clearTimeout(timer)
  }
}

/** Calls health every 100 ms until `done` holds or `withinMs` passes; returns the last answer. */
async function pollHealth(c: Connector, done: (h: Health) => boolean, withinMs = 15_000): Promise<Health> {
  const deadline = Date.now() + withinMs
  for (;;) {
    const h = await c.health(AbortSignal.timeout(10_000))
    if (done(h) || Date.now() > deadline) return h
    await sleep(100)
  }
}

/** A plain mqtt.js subscriber that collects what arrives on `filter`. */
async function subscriber(broker: MosquittoAddress, filter: string): Promise<{ received: IPublishPacket[]; waitFor(n: number, ms?: number): Promise<IPublishPacket[]>; end(): Promise<void> }> {
  const client: MqttClient = await connectAsync({ host: broker.host, port: broker.port, protocolVersion: 5, reconnectPeriod: 0, clientId: uniqueId('sub') })
  const received: IPublishPacket[] = []
  client.on('message', (_topic, _payload, packet) => { received.push(packet) })
  await client.subscribeAsync(filter, { qos: 2 })
  return {
    received,
    async waitFor(n, ms = 10_000) {
      const deadline = Date.now() + ms
      while (received.length < n && Date.now() < deadline) await sleep(20)
      return received
    },
    end: () => client.endAsync(true),
  }
}

describe('mqtt config and params', () => {
  const validate = (config: unknown) => validateWithSchema<Record<string, unknown>>(withResourceOptions(mqttConnector).configSchema, config, 'config')
  const paths = (config: unknown) => {
    const r = validate(config)
    assert.equal(r.ok, false, 'expected the config to be rejected')
    return r.ok ? [] : r.errors.map((e) => e.path)
  }

  it('fills in every default', () => {
    const r = validate({ server: 'broker:1883' })
    assert.ok(r.ok, JSON.stringify(r))
    assert.deepEqual(r.value, {
      server: 'broker:1883', protocolVersion: '5', keepaliveS: 60, cleanStart: true, connectTimeoutMs: 5000,
      tls: { enable: false, verify: true },
      resource: { healthCheckIntervalMs: 15_000, startTimeoutMs: 5_000 },
    })
  })

  it('accepts host, host:port and bracketed IPv6; rejects the rest with their paths', () => {
    for (const server of ['broker', 'broker.example.com:8883', '10.0.0.1:1', '[::1]:1883', '[::1]']) assert.ok(validate({ server }).ok, server)
    for (const server of ['', 'mqtt://broker:1883', 'broker:0', 'broker:65536', 'a b:1883', 'broker:1883,other:1883', '::1:1883']) {
      assert.deepEqual(paths({ server }), ['config.server'], server)
    }
    assert.deepEqual(paths({}), ['config.server'])
    assert.deepEqual(paths({ server: 'b', protocolVersion: '4' }), ['config.protocolVersion'])
    assert.deepEqual(paths({ server: 'b', bogus: 1 }), ['config.bogus'])
    assert.deepEqual(paths({ server: 'b', tls: { enable: true, bogus: 1 } }), ['config.tls.bogus'])
    assert.deepEqual(paths({ server: 'b', keepaliveS: -1 }), ['config.keepaliveS'])
    assert.equal(validate({ server: 'b', password: 'p' }).ok, false, 'a password needs a username')
    assert.equal(validate({ server: 'b', username: 'u', password: 'p' }).ok, true)
  })

  it('parses the server with the default port of the transport', () => {
    assert.deepEqual(parseServer('broker', false), { host: 'broker', port: 1883, address: 'broker:1883' })
    assert.deepEqual(parseServer('broker', true), { host: 'broker', port: 8883, address: 'broker:8883' })
    assert.deepEqual(parseServer('broker:2000', true), { host: 'broker', port: 2000, address: 'broker:2000' })
    assert.deepEqual(parseServer('[::1]:1884', false), { host: '::1', port: 1884, address: '[::1]:1884' })
    assert.deepEqual(parseServer('[::1]', false), { host: '::1', port: 1883, address: '[::1]:1883' })
  })

  it('params: topic required, defaults filled, qos limited to 0..2, nothing unknown', () => {
    assert.deepEqual(params({ topic: 't' }), { topic: 't', qos: 1, retain: false, payload: '${.}', mqtt_properties: {}, user_properties: '${user_properties}' })
    const v = (p: unknown) => validateWithSchema(mqttConnector.paramsSchema, p, 'params')
    const bad = v({ qos: 3, retain: 'yes', extra: 1, userProperties: { a: 1 } })
    assert.ok(!bad.ok)
    assert.deepEqual(bad.errors.map((e) => e.path).sort(), ['params.extra', 'params.qos', 'params.retain', 'params.topic', 'params.userProperties.a'])
  })
})

describe('mqtt probe against the shared broker', () => {
  it('walks resolve, connect, authenticate and names the probe client ID', async () => {
    const r = await make({ server: serverOf(shared) }, testContext('conn42')).probe(AbortSignal.timeout(15_000))
    assert.ok(r.ok, JSON.stringify(r))
    assert.deepEqual(stepsOf(r), [['resolve', true], ['connect', true], ['authenticate', true]])
    assert.match(r.steps[2]?.detail ?? '', /^MQTT 5 anonymous, client ID "junction-conn42-probe"/)
  })

  it('speaks MQTT 3.1.1 too', async () => {
    const r = await probe({ server: serverOf(shared), protocolVersion: '3.1.1', clientId: uniqueId('v311') })
    assert.ok(r.ok, JSON.stringify(r))
    assert.match(r.steps[2]?.detail ?? '', /^MQTT 3\.1\.1 anonymous/)
  })

  it('a Test does not take over the running connection (it uses its own client ID)', async () => {
    const ctx = testContext(uniqueId('takeover'))
    const c = make({ server: serverOf(shared) }, ctx)
    await c.start(AbortSignal.timeout(10_000))
    try {
      const r = await make({ server: serverOf(shared) }, ctx).probe(AbortSignal.timeout(10_000))
      assert.ok(r.ok, JSON.stringify(r))
      await sleep(200)
      assert.deepEqual(await c.health(AbortSignal.timeout(5_000)), { status: 'connected' })
    } finally {
      await c.stop(AbortSignal.timeout(5_000))
    }
  })

  it('a second client with the same client ID takes over: health says so', async () => {
    const ctx = testContext(uniqueId('dup'))
    const first = make({ server: serverOf(shared) }, ctx)
    const second = make({ server: serverOf(shared) }, ctx)
    await first.start(AbortSignal.timeout(10_000))
    try {
      await second.start(AbortSignal.timeout(10_000))
      const h = await pollHealth(first, (x) => x.status === 'disconnected', 10_000)
      assert.ok(h.status === 'disconnected' && h.code === 'CONNECTION_LOST', JSON.stringify(h))
      assert.match(h.status === 'disconnected' ? h.reason : '', new RegExp(`another client connected with client ID "junction-${ctx.connectorId}"`))
      assert.deepEqual(await second.health(AbortSignal.timeout(5_000)), { status: 'connected' })
    } finally {
      await first.stop(AbortSignal.timeout(5_000))
      await second.stop(AbortSignal.timeout(5_000))
    }
  })
})

describe('mqtt channel: publish to the shared broker', () => {
  let c: Connector<MqttParams>
  const run = randomBytes(4).toString('hex')
  before(async () => {
    c = make({ server: serverOf(shared) })
    await c.start(AbortSignal.timeout(10_000))
  })
  after(() => c?.stop(AbortSignal.timeout(5_000)))

  it('renders topic and payload templates; a missing field renders as null', async () => {
    const sub = await subscriber(shared, `out/${run}-a/#`)
    try {
      const ch = await c.openChannel!(params({ topic: 'out/${clientid}', payload: '${payload.temp}' }))
      await ch.send({ clientid: `${run}-a/dev1`, payload: '{"temp":21.5}' }, AbortSignal.timeout(5_000))
      await ch.send({ clientid: `${run}-a/dev2`, payload: { temp: -3 } }, AbortSignal.timeout(5_000))
      await ch.send({ clientid: `${run}-a/dev3`, payload: '{"humidity":40}' }, AbortSignal.timeout(5_000))
      const got = await sub.waitFor(3)
      assert.deepEqual(got.map((p) => [p.topic, p.payload.toString()]), [
        [`out/${run}-a/dev1`, '21.5'],
        [`out/${run}-a/dev2`, '-3'],
        [`out/${run}-a/dev3`, 'null'],
      ])
      assert.ok(got.every((p) => p.qos === 1 && !p.retain), JSON.stringify(got.map((p) => [p.qos, p.retain])))
    } finally {
      await sub.end()
    }
  })

  it('the default payload is the whole output as JSON; QoS 0 and 2 and user properties are sent as asked', async () => {
    const sub = await subscriber(shared, `out/${run}-b/#`)
    try {
      const whole = await c.openChannel!(params({ topic: `out/${run}-b/whole`, qos: 2, userProperties: { device: '${clientid}', fixed: 'x' } }))
      const zero = await c.openChannel!(params({ topic: `out/${run}-b/zero`, qos: 0 }))
      const out = { clientid: 'dev-9', payload: '{"temp":1}', qos: 0 }
      await whole.send(out, AbortSignal.timeout(5_000))
      await zero.send({ n: 1 }, AbortSignal.timeout(5_000))
      const got = await sub.waitFor(2)
      const byTopic = new Map(got.map((p) => [p.topic, p]))
      const w = byTopic.get(`out/${run}-b/whole`)
      assert.ok(w, 'the QoS 2 message arrived')
      assert.deepEqual(JSON.parse(w.payload.toString()), out)
      assert.equal(w.qos, 2)
      assert.deepEqual({ ...w.properties?.userProperties }, { device: 'dev-9', fixed: 'x' })
      assert.equal(byTopic.get(`out/${run}-b/zero`)?.payload.toString(), '{"n":1}')
    } finally {
      await sub.end()
    }
  })

  it('a topic that renders with a wildcard or empty fails permanently, and nothing is published', async () => {
    const sub = await subscriber(shared, `out/${run}-c/#`)
    try {
      const ch = await c.openChannel!(params({ topic: `out/${run}-c/\${payload.t}` }))
      for (const t of ['#', '+', 'a/#']) {
        await assert.rejects(ch.send({ payload: { t } }, AbortSignal.timeout(5_000)), (err: unknown) => {
          assert.ok(err instanceof ConnectorError, String(err))
          assert.equal(err.code, 'INVALID_TOPIC')
          assert.equal(err.kind, 'permanent')
          return true
        })
      }
      const empty = await c.openChannel!(params({ topic: '${t}' }))
      await assert.rejects(empty.send({ t: '' }, AbortSignal.timeout(5_000)), (err: unknown) => err instanceof ConnectorError && err.code === 'INVALID_TOPIC' && err.kind === 'permanent')
      await ch.send({ payload: { t: 'ok' } }, AbortSignal.timeout(5_000))
      const got = await sub.waitFor(1)
      await sleep(200)
      assert.deepEqual(sub.received.map((p) => p.topic), [`out/${run}-c/ok`])
      assert.equal(got.length, 1)
    } finally {
      await sub.end()
    }
  })

  it('many QoS 1 publishes at once are all acknowledged (more than the broker\'s receive maximum)', async () => {
    const sub = await subscriber(shared, `out/${run}-e/#`)
    try {
      const ch = await c.openChannel!(params({ topic: `out/${run}-e/x` }))
      await Promise.all(Array.from({ length: 300 }, (_, i) => ch.send({ i }, AbortSignal.timeout(10_000))))
      assert.equal((await sub.waitFor(300)).length, 300)
      assert.deepEqual(await c.health(AbortSignal.timeout(5_000)), { status: 'connected' })
    } finally {
      await sub.end()
    }
  })

  it('MQTT 5 properties from templates reach a v5 subscriber: a message\'s own passed through (EMQX\'s mqtt_properties, user_properties)', async () => {
    const sub = await subscriber(shared, `out/${run}-p/#`)
    try {
      const ch = await c.openChannel!(params({
        topic: `out/${run}-p/\${clientid}`, payload: '${payload}',
        mqtt_properties: PASS_THROUGH_MQTT_PROPERTIES,
        user_properties: "${pub_props.'User-Property-Pairs'}",
        userProperties: { via: 'junction-${clientid}' },
      }))
      // What a rule selecting * gives the action for an MQTT 5 message.
      const output = ruleOutput('SELECT * FROM "in/#"', {
        payloadFormatIndicator: true, messageExpiryInterval: 300, contentType: 'application/json', responseTopic: 'replies/dev-1',
        correlationData: Buffer.from('req-42'), userProperties: { site: ['a', 'b'], line: '3' },
      })
      await ch.send(output, AbortSignal.timeout(5_000))
      const [got] = await sub.waitFor(1)
      assert.ok(got, 'the message arrived')
      assert.equal(got.payload.toString(), '{"temp":21}')
      const p = got.properties ?? {}
      assert.deepEqual({ ...p.userProperties }, { site: ['a', 'b'], line: '3', via: 'junction-dev-1' })
      assert.equal(p.contentType, 'application/json')
      assert.equal(p.responseTopic, 'replies/dev-1')
      assert.equal(Buffer.from(p.correlationData ?? '').toString(), 'req-42')
      assert.equal(p.payloadFormatIndicator, true)
      // Mosquitto forwards what is left of the expiry interval.
      assert.ok(p.messageExpiryInterval !== undefined && p.messageExpiryInterval > 0 && p.messageExpiryInterval <= 300, String(p.messageExpiryInterval))
    } finally {
      await sub.end()
    }
  })

  it('properties the rule computes: SELECT ... AS user_properties (the default template), fixed and payload values', async () => {
    const sub = await subscriber(shared, `out/${run}-q/#`)
    try {
      const ch = await c.openChannel!(params({
        topic: `out/${run}-q/x`,
        mqtt_properties: { 'Content-Type': 'text/plain', 'Message-Expiry-Interval': '${payload.ttl}', 'Correlation-Data': 'c-${clientid}' },
      }))
      await ch.send(ruleOutput(`SELECT clientid, json_decode('{"ttl": 60}') AS payload, map_put('rule', 'hot', pub_props.'User-Property') AS user_properties FROM "in/#"`, {
        userProperties: { site: 'a' },
      }), AbortSignal.timeout(5_000))
      // Nothing to set from: a message without MQTT 5 properties, and no user_properties selected.
      await ch.send({ clientid: 'dev-2', payload: '{}' }, AbortSignal.timeout(5_000))
      const got = await sub.waitFor(2)
      assert.equal(got.length, 2)
      assert.deepEqual({ ...got[0]!.properties?.userProperties }, { site: 'a', rule: 'hot' })
      assert.equal(got[0]!.properties?.contentType, 'text/plain')
      assert.equal(Buffer.from(got[0]!.properties?.correlationData ?? '').toString(), 'c-dev-1')
      const ttl = got[0]!.properties?.messageExpiryInterval
      assert.ok(ttl !== undefined && ttl > 0 && ttl <= 60, String(ttl))
      assert.equal(got[1]!.properties?.userProperties, undefined)
      assert.equal(got[1]!.properties?.messageExpiryInterval, undefined, 'a missing ttl sets no expiry')
      assert.equal(got[1]!.properties?.contentType, 'text/plain')
    } finally {
      await sub.end()
    }
  })

  it('a rendered value a property cannot take is left out of that message; the connection stays up', async () => {
    const sub = await subscriber(shared, `out/${run}-r/#`)
    try {
      const ch = await c.openChannel!(params({ topic: `out/${run}-r/x`, mqtt_properties: { 'Response-Topic': 'replies/${to}', 'Payload-Format-Indicator': '${pfi}' } }))
      // A Response Topic must not hold wildcards [MQTT-3.3.2-14]: a strict broker would drop the connection (Mosquitto 2.0 lets it through).
      await ch.send({ to: '#', pfi: 7 }, AbortSignal.timeout(5_000))
      await ch.send({ to: 'ok', pfi: 0 }, AbortSignal.timeout(5_000))
      const got = await sub.waitFor(2)
      assert.equal(got.length, 2)
      assert.equal(got[0]!.properties?.responseTopic, undefined)
      assert.equal(got[0]!.properties?.payloadFormatIndicator, undefined)
      assert.equal(got[1]!.properties?.responseTopic, 'replies/ok')
      assert.deepEqual(await c.health(AbortSignal.timeout(5_000)), { status: 'connected' })
    } finally {
      await sub.end()
    }
  })

  it('a malformed property template or a bad fixed value is INVALID_PARAMS at openChannel, naming the param', async () => {
    for (const [p, path] of [
      [{ mqtt_properties: { 'Content-Type': '${a[x]}' } }, 'mqtt_properties.Content-Type'],
      [{ mqtt_properties: { 'Message-Expiry-Interval': '4294967296' } }, 'mqtt_properties.Message-Expiry-Interval'],
      [{ user_properties: 'site=a' }, 'user_properties'],
    ] as const) {
      await assert.rejects(c.openChannel!(params({ topic: 't', ...p })), (err: unknown) =>
        err instanceof ConnectorError && err.code === 'INVALID_PARAMS' && err.kind === 'permanent' && err.message.includes(path))
    }
  })

  it('properties need MQTT 5: openChannel refuses them on 3.1.1; the default user_properties template is no request', async () => {
    const v3 = make({ server: serverOf(shared), protocolVersion: '3.1.1' })
    await v3.start(AbortSignal.timeout(10_000))
    const sub = await subscriber(shared, `out/${run}-v3/#`)
    try {
      for (const p of [{ userProperties: { a: 'b' } }, { mqtt_properties: { 'Content-Type': 'x' } }, { user_properties: "${pub_props.'User-Property'}" }]) {
        await assert.rejects(v3.openChannel!(params({ topic: 't', ...p })), (err: unknown) =>
          err instanceof ConnectorError && err.code === 'INVALID_PARAMS' && err.kind === 'permanent' && /MQTT 5/.test(err.message), JSON.stringify(p))
      }
      const ch = await v3.openChannel!(params({ topic: `out/${run}-v3/x` }))
      await ch.send({ user_properties: { a: 'b' } }, AbortSignal.timeout(5_000))
      const [got] = await sub.waitFor(1)
      assert.ok(got, 'published over 3.1.1')
      assert.equal(got.properties?.userProperties, undefined)
    } finally {
      await sub.end()
      await v3.stop(AbortSignal.timeout(5_000))
    }
  })
})

/** The output of rule `sql` for an MQTT 5 message {"temp":21} from dev-1 with `properties`, as the engine hands it to actions. */
function ruleOutput(sql: string, properties: MessageProperties): Record<string, unknown> {
  const context = publishContext({
    topic: 'in/dev-1', payload: Buffer.from('{"temp":21}'), qos: 1, retain: false, dup: false,
    clientid: 'dev-1', username: undefined, peerhost: '127.0.0.1', receivedAt: Date.now(), properties,
  })
  const [output] = compileRuleSql(sql).evaluate(context)
  assert.ok(output, 'the rule has an output')
  return output
}

describe('mqtt authentication and ACL (private broker with a password file)', () => {
  let broker: PrivateMosquitto
  before(async () => { broker = await authBroker() })

  for (const protocolVersion of ['5', '3.1.1']) {
    it(`MQTT ${protocolVersion}: the right password passes; a wrong one or none is AUTHENTICATION_FAILED with a hint, never shown`, async () => {
      const r = await probe({ server: serverOf(broker), protocolVersion, username: 'alice', password: 'right-pw' })
      assert.ok(r.ok, JSON.stringify(r))
      assert.match(r.steps[2]?.detail ?? '', /as user "alice"/)
      const wrong = await probe({ server: serverOf(broker), protocolVersion, username: 'alice', password: 'wrong-pw' })
      assert.equal(errorCode(wrong), 'AUTHENTICATION_FAILED', JSON.stringify(wrong))
      assert.deepEqual(stepsOf(wrong), [['resolve', true], ['connect', true], ['authenticate', false]])
      assert.ok(!wrong.ok && /username and password/.test(wrong.error.hint), JSON.stringify(wrong))
      assert.ok(!JSON.stringify(wrong).includes('wrong-pw'))
      const none = await probe({ server: serverOf(broker), protocolVersion })
      assert.equal(errorCode(none), 'AUTHENTICATION_FAILED', JSON.stringify(none))
      assert.ok(!none.ok && /anonymous/.test(none.error.hint), JSON.stringify(none))
    })
  }

  it('MQTT 5: a publish the ACL denies fails permanently with NOT_PERMITTED; an allowed one succeeds', async () => {
    const c = make({ server: serverOf(broker), username: 'alice', password: 'right-pw' })
    await c.start(AbortSignal.timeout(10_000))
    try {
      const denied = await c.openChannel!(params({ topic: 'denied/x' }))
      await assert.rejects(denied.send({ a: 1 }, AbortSignal.timeout(5_000)), (err: unknown) => {
        assert.ok(err instanceof ConnectorError, String(err))
        assert.equal(err.code, 'NOT_PERMITTED')
        assert.equal(err.kind, 'permanent')
        return true
      })
      const allowed = await c.openChannel!(params({ topic: 'allowed/x' }))
      await allowed.send({ a: 1 }, AbortSignal.timeout(5_000))
      assert.deepEqual(await c.health(AbortSignal.timeout(5_000)), { status: 'connected' })
    } finally {
      await c.stop(AbortSignal.timeout(5_000))
    }
  })

  it('MQTT 3.1.1: the broker drops a denied publish silently (why 5 is the default)', async () => {
    const c = make({ server: serverOf(broker), protocolVersion: '3.1.1', username: 'alice', password: 'right-pw' })
    await c.start(AbortSignal.timeout(10_000))
    try {
      const denied = await c.openChannel!(params({ topic: 'denied/x' }))
      await denied.send({ a: 1 }, AbortSignal.timeout(5_000)) // acknowledged, though nobody will ever get it
    } finally {
      await c.stop(AbortSignal.timeout(5_000))
    }
  })
})

describe('mqtt broker limits (private broker with max_packet_size)', () => {
  let broker: PrivateMosquitto
  before(async () => {
    broker = await startPrivateMosquitto({ config: ['max_packet_size 200'] })
  })
  after(() => broker?.destroy())

  it('the Test reports the limit; a larger message fails permanently without costing the connection', async () => {
    const r = await probe({ server: serverOf(broker) })
    assert.ok(r.ok, JSON.stringify(r))
    assert.match(r.steps[2]?.detail ?? '', /maximum packet 200 bytes/)
    const c = make({ server: serverOf(broker) })
    await c.start(AbortSignal.timeout(10_000))
    try {
      const ch = await c.openChannel!(params({ topic: 'big/x', payload: '${payload}' }))
      await assert.rejects(ch.send({ payload: 'x'.repeat(500) }, AbortSignal.timeout(5_000)), (err: unknown) =>
        err instanceof ConnectorError && err.code === 'MESSAGE_TOO_LARGE' && err.kind === 'permanent')
      await ch.send({ payload: 'small' }, AbortSignal.timeout(5_000))
      assert.deepEqual(await c.health(AbortSignal.timeout(5_000)), { status: 'connected' })
    } finally {
      await c.stop(AbortSignal.timeout(5_000))
    }
  })
})

describe('mqtt outage (private broker)', () => {
  let broker: PrivateMosquitto
  before(async () => {
    broker = await startPrivateMosquitto()
  })
  after(() => broker?.destroy())

  it('a send while the broker is down fails at once as not_connected (nothing buffered in mqtt.js); the instance does not reconnect by itself', async () => {
    const c = make({ server: serverOf(broker), connectTimeoutMs: 1_000 })
    try {
      await c.start(AbortSignal.timeout(10_000))
      const ch = await c.openChannel!(params({ topic: 'x/y' }))
      await broker.stop()
      await pollHealth(c, (h) => h.status === 'disconnected', 10_000)
      const sent = await within(ch.send({ a: 1 }, AbortSignal.timeout(30_000)), 2_000)
      assert.ok(sent !== 'still waiting', 'the send did not hang')
      assert.ok('error' in sent && sent.error instanceof ConnectorError && sent.error.kind === 'not_connected', JSON.stringify(sent))
      await broker.start()
      // The runtime replaces the instance, so the status shown is the state of the one connection there is.
      assert.equal((await c.health(AbortSignal.timeout(5_000))).status, 'disconnected')
    } finally {
      await c.stop(AbortSignal.timeout(5_000))
    }
  })

  it('a hung broker: health is TIMEOUT within the connect timeout, a send gives up with its signal; both recover when it answers again', async () => {
    const c = make({ server: serverOf(broker), connectTimeoutMs: 500 })
    try {
      await c.start(AbortSignal.timeout(10_000))
      const ch = await c.openChannel!(params({ topic: 'x/hung' }))
      broker.freeze()
      const h = await within(c.health(AbortSignal.timeout(10_000)), 5_000)
      assert.ok(h !== 'still waiting' && 'value' in h, JSON.stringify(h))
      assert.ok(h.value.status === 'disconnected' && h.value.code === 'TIMEOUT', JSON.stringify(h.value))

      const sent = await within(ch.send({ a: 1 }, AbortSignal.timeout(300)), 5_000)
      assert.ok(sent !== 'still waiting' && 'error' in sent, JSON.stringify(sent))
      assert.ok(sent.error instanceof ConnectorError && sent.error.code === 'TIMEOUT' && sent.error.kind === 'retryable', String(sent.error))

      broker.thaw()
      const up = await pollHealth(c, (x) => x.status === 'connected', 10_000)
      assert.deepEqual(up, { status: 'connected' })
    } finally {
      broker.thaw()
      await c.stop(AbortSignal.timeout(5_000))
    }
  })

  it('stop is idempotent and fails a send still waiting for its acknowledgement', async () => {
    const c = make({ server: serverOf(broker) })
    await c.start(AbortSignal.timeout(10_000))
    const ch: Channel = await c.openChannel!(params({ topic: 'x/stop' }))
    broker.freeze()
    try {
      const pending = within(ch.send({ a: 1 }, AbortSignal.timeout(30_000)), 3_000)
      await sleep(100)
      await c.stop(AbortSignal.timeout(5_000))
      await c.stop(AbortSignal.timeout(5_000))
      const r = await pending
      assert.ok(r !== 'still waiting' && 'error' in r, JSON.stringify(r))
      assert.ok(r.error instanceof ConnectorError && r.error.kind === 'not_connected', String(r.error))
      assert.equal((await c.health(AbortSignal.timeout(1_000))).status, 'disconnected')
    } finally {
      broker.thaw()
    }
  })
})

describe('mqtt TLS: the details, and the wrong transport on either side', () => {
  let broker: PrivateMosquitto
  before(async () => { broker = await startPrivateMosquitto({ tls: true }) })
  after(() => broker?.destroy())

  it('the tls step names the protocol and whether the certificate was verified; the session says TLS', async () => {
    const r = await probe({ server: serverOf(broker), tls: { enable: true, verify: false } })
    assert.ok(r.ok, JSON.stringify(r))
    assert.match(r.steps[2]?.detail ?? '', /TLSv1\.[23].*not verified/)
    assert.match(r.steps[3]?.detail ?? '', /over TLS/)
  })

  it('TLS against a plain MQTT port is TLS_FAILED at the tls step, with a hint about the port', async () => {
    const r = await probe({ server: serverOf(shared), tls: { enable: true, verify: false } })
    assert.equal(errorCode(r), 'TLS_FAILED', JSON.stringify(r))
    assert.deepEqual(stepsOf(r), [['resolve', true], ['connect', true], ['tls', false]])
    assert.ok(!r.ok && /does not seem to speak TLS/.test(r.error.hint), JSON.stringify(r))
  })

  it('plain MQTT against the TLS port fails at authenticate', async () => {
    const r = await probe({ server: serverOf(broker), connectTimeoutMs: 2_000 })
    assert.equal(r.ok, false)
    assert.deepEqual(stepsOf(r), [['resolve', true], ['connect', true], ['authenticate', false]])
    assert.ok(!r.ok && ['CONNECTION_FAILED', 'CONNECTION_LOST', 'TIMEOUT'].includes(r.error.code), JSON.stringify(r))
  })
})

describe('mqtt error classification (no broker needed)', () => {
  const ctx = { target: 'b:1883', phase: 'connect', tls: false, clientId: 'cid', username: 'u' } as const
  const rc = (code: number, message = 'x') => new ErrorWithReasonCode(message, code)

  it('maps CONNACK codes of both protocol versions', () => {
    const cases: Array<[number, string]> = [
      [4, 'AUTHENTICATION_FAILED'], [0x86, 'AUTHENTICATION_FAILED'], [5, 'AUTHENTICATION_FAILED'], [0x87, 'AUTHENTICATION_FAILED'],
      [0x8a, 'NOT_PERMITTED'], [2, 'CONNECTION_FAILED'], [0x85, 'CONNECTION_FAILED'], [1, 'CONNECTION_FAILED'], [0x84, 'CONNECTION_FAILED'],
      [3, 'CONNECTION_FAILED'], [0x80, 'CONNECTION_FAILED'],
    ]
    for (const [code, expected] of cases) {
      const e = classifyMqttError(rc(code), ctx)
      assert.equal(e.code, expected, `CONNACK ${code}`)
      assert.ok((e.hint ?? '').length > 0)
    }
    assert.match(classifyMqttError(rc(2), ctx).hint ?? '', /clientId/)
    assert.match(classifyMqttError(rc(0x85), ctx).message, /client ID "cid"/)
    assert.match(classifyMqttError(rc(0x84), ctx).hint ?? '', /3\.1\.1/)
  })

  it('maps PUBACK codes by what the runtime should do', () => {
    const pub = { ...ctx, phase: 'publish' } as const
    assert.deepEqual([classifyMqttError(rc(0x87), pub)].map((e) => [e.code, e.kind]), [['NOT_PERMITTED', 'permanent']])
    assert.deepEqual([classifyMqttError(rc(0x90), pub)].map((e) => [e.code, e.kind]), [['INVALID_TOPIC', 'permanent']])
    assert.deepEqual([classifyMqttError(rc(0x97), pub)].map((e) => [e.code, e.kind]), [['BROKER_UNAVAILABLE', 'retryable']])
    assert.deepEqual([classifyMqttError(rc(0x99), pub)].map((e) => [e.code, e.kind]), [['INVALID_DATA', 'permanent']])
    assert.deepEqual([classifyMqttError(rc(0x80), pub)].map((e) => [e.code, e.kind]), [['PUBLISH_REFUSED', 'permanent']])
  })

  it('maps broken connections, mqtt.js errors and network errors', () => {
    const conn = { ...ctx, phase: 'connection' } as const
    assert.match(classifyMqttError(new BrokerDisconnectError(0x8e, undefined), conn).message, /another client connected/)
    assert.equal(classifyMqttError(new BrokerDisconnectError(0x8b, undefined), conn).code, 'CONNECTION_LOST')
    const epipe = classifyMqttError(Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' }), conn)
    assert.deepEqual([epipe.code, epipe.kind], ['CONNECTION_LOST', 'not_connected'])
    assert.match(epipe.message, /client ID "cid"/)
    assert.equal(classifyMqttError(new Error('Keepalive timeout'), conn).code, 'TIMEOUT')
    assert.equal(classifyMqttError(new Error('connack timeout'), ctx).code, 'TIMEOUT')
    assert.equal(classifyMqttError(new ClosedBeforeConnackError(), ctx).code, 'CONNECTION_FAILED')
    assert.equal(classifyMqttError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), ctx).code, 'CONNECTION_REFUSED')
    assert.equal(classifyMqttError(Object.assign(new Error('wrong version number'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }), { ...ctx, tls: true }).code, 'TLS_FAILED')
    for (const odd of [new Error('weird'), 'a string', undefined, null, { code: 'EWEIRD' }]) {
      const e = classifyMqttError(odd, ctx)
      assert.equal(e.code, 'CONNECTION_FAILED')
      assert.ok((e.hint ?? '').length > 0)
    }
  })
})
