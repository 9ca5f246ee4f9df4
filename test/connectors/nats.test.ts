import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect, nkeys } from '@nats-io/transport-node'
import { ConnectorError, withResourceOptions, type Channel, type Connector } from '../../src/connector-api/index.js'
import type { NatsConfig } from '../../src/connectors/nats/config-schema.js'
import { natsConnector } from '../../src/connectors/nats/definition.js'
import { parseServers } from '../../src/connectors/nats/nats-connector.js'
import { validateWithSchema } from '../../src/core/schema-validation.js'
import { connectorBattery, paramsWithDefaults, testContext, withDefaults } from '../support/connector-battery.js'
import { connectorFlowThroughApi } from '../support/connector-flow.js'
import { createTestStream, sharedNatsServers, startPrivateNats, streamDestination, type PrivateNats } from '../support/nats.js'

const shared = sharedNatsServers()
const make = (config: Record<string, unknown>): Connector => natsConnector.create(withDefaults(natsConnector, config) as NatsConfig, testContext('nats-test'))
const signal = () => AbortSignal.timeout(15_000)

/** One private server with a user and password, started on first use, for the wrong-credentials cases. */
let authServer: Promise<PrivateNats> | undefined
const withAuth = () => (authServer ??= startPrivateNats({ user: 'alice', pass: 'right-secret' }))
const wrongCredentials = async () => ({ servers: (await withAuth()).servers, authentication: { username: 'alice', password: 'battery-wrong-secret' } })
after(async () => { await (await authServer)?.close() })

connectorBattery({
  definition: natsConnector,
  goodConfig: () => ({ servers: shared }),
  withAddress: (host, port) => ({ servers: `${host}:${port}` }),
  wrongCredentials,
  async tlsServer() {
    const server = await startPrivateNats({ tls: true })
    return { config: (tls) => ({ servers: server.servers, tls }), caCert: server.certPem!, plainCode: 'TLS_REQUIRED', close: () => server.close() }
  },
  async privateServer() {
    const server = await startPrivateNats({ jetstream: true })
    return {
      config: () => ({ servers: server.servers }),
      destination: () => streamDestination(server.servers),
      stop: () => server.stop(),
      start: () => server.start(),
      close: () => server.close(),
    }
  },
  destination: () => streamDestination(shared),
  // Larger than the server's max_payload (1 MiB by default): refused alone, before it is sent.
  refusedMessage: { id: 'too-large', temp: 1, note: 'x'.repeat(1_100_000) },
})

connectorFlowThroughApi({
  type: 'nats',
  config: () => ({ servers: shared }),
  withPort: (port) => ({ servers: `127.0.0.1:${port}` }),
  wrongCredentials,
  destination: () => streamDestination(shared),
})

describe('nats config', () => {
  const validate = (config: unknown) => validateWithSchema<Record<string, unknown>>(withResourceOptions(natsConnector).configSchema, config, 'config')

  it('refuses two ways of logging in at once, naming the field and how to fix it', () => {
    for (const authentication of [{ token: 't', username: 'u', password: 'p' }, { token: 't', nkeySeed: new TextDecoder().decode(nkeys.createUser().getSeed()) }]) {
      const r = validate({ servers: 'a', authentication })
      assert.ok(!r.ok, JSON.stringify(authentication))
      assert.deepEqual(r.errors.map((e) => e.path), ['config.authentication'])
      assert.match(r.errors[0]!.hint, /username and password, a token, or an NKey seed; one of them/)
    }
    const noUser = validate({ servers: 'a', authentication: { password: 'p' } })
    assert.ok(!noUser.ok && noUser.errors[0]!.path === 'config.authentication' && /username/.test(noUser.errors[0]!.message))
    assert.ok(validate({ servers: 'a', authentication: { token: 't' } }).ok)
  })

  it('takes servers as host[:port] with 4222 by default, and refuses URLs', () => {
    assert.deepEqual(parseServers(' nats-1, nats-2:4223,[::1]').map((s) => s.address), ['nats-1:4222', 'nats-2:4223', '[::1]:4222'])
    const r = validate({ servers: 'nats://a:4222' })
    assert.ok(!r.ok && r.errors[0]!.path === 'config.servers')
    const filled = validate({ servers: 'a' })
    assert.ok(filled.ok && JSON.stringify(filled.value.authentication) === '{}' && filled.value.connectTimeoutMs === 5000)
  })
})

describe('nats publishing', () => {
  let c: Connector
  const open = (params: Record<string, unknown>): Promise<Channel> => c.openChannel!(paramsWithDefaults(natsConnector, params))
  const rejection = async (work: Promise<unknown>): Promise<ConnectorError> => {
    try {
      await work
    } catch (err) {
      assert.ok(err instanceof ConnectorError, String(err))
      return err
    }
    return assert.fail('expected a failure')
  }
  before(async () => {
    c = make({ servers: shared })
    await c.start(signal())
  })
  after(() => c.stop(AbortSignal.timeout(5_000)))

  it('never creates a stream: a subject no stream captures fails STREAM_NOT_FOUND, permanent, and leaves no stream', async () => {
    const subject = `junction.nostream.${Date.now()}`
    const channel = await open({ subject })
    const e = await rejection(channel.send({ id: 'x' }, signal()))
    assert.equal(e.code, 'STREAM_NOT_FOUND')
    assert.equal(e.kind, 'permanent')
    const nc = await connect({ servers: shared.split(','), reconnect: false })
    try {
      const names: string[] = []
      for await (const n of (await jetstreamManager(nc)).streams.names(subject)) names.push(n)
      assert.deepEqual(names, [])
    } finally {
      await nc.close()
    }
  })

  it('core mode: delivered to a subscriber with its headers; a header without a value is left out', async () => {
    const subject = `junction.core.${Date.now()}`
    const nc = await connect({ servers: shared.split(','), reconnect: false })
    try {
      const sub = nc.subscribe(`${subject}.>`, { max: 3 })
      await nc.flush()
      const channel = await open({ subject: `${subject}.\${device}`, mode: 'core', headers: { 'X-Device': '${device}', 'X-Missing': '${nope}' } })
      await channel.sendBatch!([{ device: 'd1', temp: 1 }, { device: 'd2', temp: 2 }], signal())
      await channel.send({ device: 'd3', temp: 3 }, signal())
      const got: Array<[string, string, string | undefined, boolean]> = []
      for await (const m of sub) got.push([m.subject, m.string(), m.headers?.get('X-Device'), m.headers?.has('X-Missing') ?? false])
      assert.deepEqual(got, [
        [`${subject}.d1`, '{"device":"d1","temp":1}', 'd1', false],
        [`${subject}.d2`, '{"device":"d2","temp":2}', 'd2', false],
        [`${subject}.d3`, '{"device":"d3","temp":3}', 'd3', false],
      ])
    } finally {
      await nc.close()
    }
  })

  it('refuses a rendered subject with a wildcard, a space or an empty token as INVALID_TOPIC, and publishes nothing of it', async () => {
    const stream = await createTestStream(shared)
    try {
      const channel = await open({ subject: `${stream.prefix}.\${device}` })
      for (const device of ['*', '>', 'a b', '', 'a..b']) {
        const e = await rejection(channel.send({ device }, signal()))
        assert.deepEqual([e.code, e.kind], ['INVALID_TOPIC', 'permanent'], device)
      }
      await channel.send({ device: 'ok' }, signal())
      assert.deepEqual((await stream.messages()).map((m) => m.subject), [`${stream.prefix}.ok`])
    } finally {
      await stream.close()
    }
  })

  it('a msgId makes the stream store a resent message once (JetStream deduplication)', async () => {
    const stream = await createTestStream(shared)
    try {
      const channel = await open({ subject: `${stream.prefix}.x`, msgId: '${id}' })
      await channel.send({ id: 'same', n: 1 }, signal())
      await channel.send({ id: 'same', n: 2 }, signal())
      await channel.send({ n: 3 }, signal())
      await channel.send({ n: 4 }, signal())
      const stored = await stream.messages()
      assert.deepEqual(stored.map((m) => JSON.parse(m.data).n), [1, 3, 4])
      assert.deepEqual(stored[0]!.headers['Nats-Msg-Id'], ['same'])
      assert.equal(stored[1]!.headers['Nats-Msg-Id'], undefined, 'a missing ID sends none, never "null"')
    } finally {
      await stream.close()
    }
  })
})

describe('nats authentication and TLS', () => {
  it('token and NKey logins pass; a wrong token is AUTHENTICATION_FAILED, not echoed', async () => {
    const user = nkeys.createUser()
    const seed = new TextDecoder().decode(user.getSeed())
    const nkeyServer = await startPrivateNats({ configText: `authorization { users = [ { nkey: ${user.getPublicKey()} } ] }\n` })
    const tokenServer = await startPrivateNats({ configText: 'authorization { token: "s3cret-token" }\n' })
    try {
      const nkey = await make({ servers: nkeyServer.servers, authentication: { nkeySeed: seed } }).probe(signal())
      assert.equal(nkey.ok, true, JSON.stringify(nkey))
      assert.ok(nkey.steps.some((s) => s.name === 'authenticate' && s.detail?.includes(user.getPublicKey())))
      assert.equal((await make({ servers: tokenServer.servers, authentication: { token: 's3cret-token' } }).probe(signal())).ok, true)
      const wrong = await make({ servers: tokenServer.servers, authentication: { token: 'battery-wrong-secret' } }).probe(signal())
      assert.ok(!wrong.ok && wrong.error.code === 'AUTHENTICATION_FAILED', JSON.stringify(wrong))
      assert.ok(!JSON.stringify(wrong).includes('battery-wrong-secret'))
      const otherSeed = new TextDecoder().decode(nkeys.createUser().getSeed())
      const wrongKey = await make({ servers: nkeyServer.servers, authentication: { nkeySeed: otherSeed } }).probe(signal())
      assert.ok(!wrongKey.ok && wrongKey.error.code === 'AUTHENTICATION_FAILED', JSON.stringify(wrongKey))
    } finally {
      await nkeyServer.close()
      await tokenServer.close()
    }
  })

  it("a JetStream publish the server's permissions deny fails NOT_PERMITTED, permanent", async () => {
    const server = await startPrivateNats({ configText: 'authorization { users = [ { user: bob, password: pw, permissions: { publish: { deny: ["secret.>"] } } } ] }\n' })
    const c = make({ servers: server.servers, authentication: { username: 'bob', password: 'pw' } })
    try {
      await c.start(signal())
      const channel = await c.openChannel!(paramsWithDefaults(natsConnector, { subject: 'secret.${device}' }))
      await assert.rejects(channel.send({ device: 'd1' }, signal()), (e: ConnectorError) => e.code === 'NOT_PERMITTED' && e.kind === 'permanent' && /secret\.d1/.test(e.message))
      assert.deepEqual(await c.health(signal()), { status: 'connected' }, 'a denied publish does not cost the connection')
    } finally {
      await c.stop(AbortSignal.timeout(5_000))
      await server.close()
    }
  })

  it('TLS on against a server without TLS fails TLS_NOT_SUPPORTED at the tls step', async () => {
    const r = await make({ servers: shared, tls: { enable: true } }).probe(signal())
    assert.ok(!r.ok && r.error.code === 'TLS_NOT_SUPPORTED', JSON.stringify(r))
    assert.deepEqual(r.steps.map((s) => [s.name, s.ok]), [['resolve', true], ['connect', true], ['tls', false]])
  })

  it('the query step names the server version and JetStream', async () => {
    const r = await make({ servers: shared }).probe(signal())
    assert.ok(r.ok, JSON.stringify(r))
    assert.match(r.steps.find((s) => s.name === 'query')?.detail ?? '', /^NATS \d+\.\d+\.\d+ .*JetStream on/)
  })
})
