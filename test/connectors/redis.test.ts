import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { Cluster, Redis } from 'ioredis'
import { BatchError, withResourceOptions, type Connector, type ProbeResult } from '../../src/connector-api/index.js'
import { redisConnector } from '../../src/connectors/redis/definition.js'
import { validateWithSchema } from '../../src/core/schema-validation.js'
import { asBatchChannel, rejection } from '../support/channels.js'
import { connectorBattery, paramsWithDefaults, testContext, withDefaults, type Destination } from '../support/connector-battery.js'
import { connectorFlowThroughApi } from '../support/connector-flow.js'
import { sharedRedis, startPrivateCluster, startPrivateRedis, startPrivateSentinel, type PrivateCluster, type PrivateRedis } from '../support/redis.js'

const shared = sharedRedis()
const sharedConfig = () => ({ servers: `${shared.host}:${shared.port}` })
const make = (config: Record<string, unknown>): Connector => redisConnector.create(withDefaults(redisConnector, config) as never, testContext('redis-test'))
const probe = (config: Record<string, unknown>) => make(config).probe(AbortSignal.timeout(15_000))
const stepsOf = (r: ProbeResult) => r.steps.map((s) => [s.name, s.ok])
const signal = () => AbortSignal.timeout(15_000)

/**
 * A fresh key space under a unique prefix: each message is XADDed to the stream `<prefix><id>`,
 * so a duplicate delivery shows as a second entry. `<prefix>refused-1` holds a string, so the
 * battery's refused message (id `refused-1`) fails with WRONGTYPE. `close` deletes every key.
 */
async function streamDestination(client: Redis): Promise<Destination> {
  const prefix = `junction-test:${randomBytes(6).toString('hex')}:`
  await client.set(`${prefix}refused-1`, 'a string, not a stream')
  const keys = async () => {
    const found: string[] = []
    let cursor = '0'
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      found.push(...batch)
    } while (cursor !== '0')
    return found
  }
  return {
    params: { command: ['XADD', `${prefix}\${id}`, '*', 'id', '${id}', 'temp', '${temp}', 'note', '${note}'] },
    readBack: async () => {
      const records: Array<{ id: unknown; temp?: unknown; note?: unknown }> = []
      for (const key of await keys()) {
        if ((await client.type(key)) !== 'stream') continue
        for (const [, fields] of await client.xrange(key, '-', '+')) {
          const f = new Map<string, string>()
          for (let i = 0; i < fields.length; i += 2) f.set(fields[i]!, fields[i + 1]!)
          records.push({ id: f.get('id'), temp: f.get('temp'), note: f.get('note') })
        }
      }
      return records
    },
    close: async () => {
      const all = await keys()
      if (all.length > 0) await client.del(...all)
      client.disconnect()
    },
  }
}

const sharedClient = () => new Redis({ host: shared.host, port: shared.port, lazyConnect: false })

/** A password-protected private server, started on first use and closed after the file. */
let passwordServer: Promise<PrivateRedis> | undefined
const withPassword = () => (passwordServer ??= startPrivateRedis({ password: 'right-secret' }))
after(async () => { await (await passwordServer)?.close() })
const wrongCredentials = async () => ({ servers: `127.0.0.1:${(await withPassword()).port}`, password: 'battery-wrong-secret' })

connectorBattery({
  definition: redisConnector,
  goodConfig: sharedConfig,
  withAddress: (host, port) => ({ servers: [`${host}:${port}`] }),
  wrongCredentials,
  tlsServer: async () => {
    const server = await startPrivateRedis({ tls: true })
    return {
      caCert: server.certPem!,
      plainCode: 'TLS_REQUIRED',
      config: (tls) => ({ servers: `localhost:${server.port}`, tls }),
      close: () => server.close(),
    }
  },
  privateServer: async () => {
    const server = await startPrivateRedis()
    return {
      config: () => ({ servers: `127.0.0.1:${server.port}` }),
      // The reader stays quiet while the battery has its server down.
      destination: () => streamDestination(new Redis({ host: '127.0.0.1', port: server.port }).on('error', () => undefined)),
      stop: () => server.stop(),
      start: () => server.start(),
      close: () => server.close(),
    }
  },
  destination: () => streamDestination(sharedClient()),
  refusedMessage: { id: 'refused-1', temp: 9, note: 'lands on a string key' },
})

connectorFlowThroughApi({
  type: 'redis',
  config: sharedConfig,
  withPort: (port) => ({ servers: `127.0.0.1:${port}` }),
  wrongCredentials,
  destination: () => streamDestination(sharedClient()),
})

describe('redis config', () => {
  const validate = (config: unknown) => validateWithSchema<Record<string, unknown>>(withResourceOptions(redisConnector).configSchema, config, 'config')

  it('fills in the defaults; servers may be a list or a comma-separated string', () => {
    const r = validate({ servers: 'a:1, b' })
    assert.ok(r.ok, JSON.stringify(r))
    assert.deepEqual(r.value, {
      servers: 'a:1, b', mode: 'single', database: 0, connectTimeoutMs: 5000, tls: { enable: false, verify: true },
      resource: { healthCheckIntervalMs: 15_000, startTimeoutMs: 5_000 },
    })
    assert.ok(validate({ servers: ['[::1]:7000', 'redis-2'] }).ok)
    assert.ok(!validate({ servers: 'a b' }).ok)
    assert.ok(!validate({ servers: [] }).ok)
  })

  it('refuses a database other than 0 in cluster mode, and sentinel mode without a master name', () => {
    const cluster = validate({ mode: 'cluster', servers: 'a', database: 2 })
    assert.ok(!cluster.ok && cluster.errors.some((e) => e.path === 'config.database'), JSON.stringify(cluster))
    assert.ok(validate({ mode: 'cluster', servers: 'a' }).ok)
    const sentinel = validate({ mode: 'sentinel', servers: 'a' })
    assert.ok(!sentinel.ok && JSON.stringify(sentinel.errors).includes('sentinelMaster'), JSON.stringify(sentinel))
  })
})

describe('redis command templates on the shared server', () => {
  let c: Connector
  let client: Redis
  const prefix = `junction-test:${randomBytes(6).toString('hex')}:`
  before(async () => {
    c = make(sharedConfig())
    await c.start(signal())
    client = sharedClient()
  })
  after(async () => {
    const keys = await client.keys(`${prefix}*`)
    if (keys.length > 0) await client.del(...keys)
    client.disconnect()
    await c.stop(signal())
  })
  const channel = async (command: unknown) => asBatchChannel(await c.openChannel!(paramsWithDefaults(redisConnector, { command }) as never))

  it('each element is one argument whatever the value holds; a missing value is ""', async () => {
    const ch = await channel(['HSET', `${prefix}\${id}`, 'text', 'v=${v}', 'raw', '${v}', 'obj', '${o}', 'none', '${nothing}'])
    await ch.send({ id: 'a', v: 'x y  "z"', o: { k: [1, 2] } }, signal())
    assert.deepEqual(await client.hgetall(`${prefix}a`), { text: 'v=x y  "z"', raw: 'x y  "z"', obj: '{"k":[1,2]}', none: '' })
  })

  it('a string command is split before rendering: a value with spaces stays one argument', async () => {
    const ch = await channel(`RPUSH ${prefix}list "\${a}" \${b} "two words"`)
    await ch.send({ a: 'one two', b: 'HSET x y z' }, signal())
    assert.deepEqual(await client.lrange(`${prefix}list`, 0, -1), ['one two', 'HSET x y z', 'two words'])
  })

  it('a placeholder as the command name is refused with INVALID_PARAMS', async () => {
    const e = await rejection(channel(['${cmd}', 'k']))
    assert.equal(e.code, 'INVALID_PARAMS')
    assert.equal(e.kind, 'permanent')
  })

  it('an unknown command fails the batch permanently with QUERY_FAILED', async () => {
    const ch = await channel(['NOSUCHCOMMAND', `${prefix}x`])
    const e = await rejection(ch.sendBatch([{}, {}], signal()))
    assert.ok(e instanceof BatchError)
    assert.deepEqual(e.failures.map((f) => [f.index, f.error.code, f.error.kind]), [[0, 'QUERY_FAILED', 'permanent'], [1, 'QUERY_FAILED', 'permanent']])
  })
})

describe('redis on a private server: login, database, ACL, an outage', () => {
  let server: PrivateRedis
  const config = (extra: Record<string, unknown> = {}) => ({ servers: `127.0.0.1:${server.port}`, password: 'right-secret', ...extra })
  before(async () => {
    server = await withPassword()
    await server.cli('ACL', 'SETUSER', 'limited', 'on', '>limited-pw', '~limited:*', '+@connection', '-ping', '+set')
  })

  it('the right password passes resolve, connect, authenticate and query', async () => {
    const r = await probe(config({ database: 3 }))
    assert.equal(r.ok, true, JSON.stringify(r))
    assert.deepEqual(stepsOf(r), [['resolve', true], ['connect', true], ['authenticate', true], ['query', true]])
    assert.equal(r.steps[3]?.detail, 'PING answered on database 3')
  })

  it('no password is AUTHENTICATION_FAILED; a database out of range is DATABASE_NOT_FOUND at query', async () => {
    const none = await probe({ servers: `127.0.0.1:${server.port}` })
    assert.ok(!none.ok && none.error.code === 'AUTHENTICATION_FAILED', JSON.stringify(none))
    const db = await probe(config({ database: 99 }))
    assert.ok(!db.ok && db.error.code === 'DATABASE_NOT_FOUND', JSON.stringify(db))
    assert.deepEqual(stepsOf(db).at(-1), ['query', false])
  })

  it('an ACL user without PING is NOT_PERMITTED at query; a write to a key outside its pattern fails permanently', async () => {
    const r = await probe(config({ username: 'limited', password: 'limited-pw' }))
    assert.ok(!r.ok && r.error.code === 'NOT_PERMITTED', JSON.stringify(r))
    const c = make(config({ username: 'limited', password: 'limited-pw' }))
    await c.start(signal())
    try {
      const ch = asBatchChannel(await c.openChannel!({ command: ['SET', '${k}', 'v'] }))
      const e = await rejection(ch.sendBatch([{ k: 'limited:ok' }, { k: 'elsewhere' }], signal()))
      assert.ok(e instanceof BatchError)
      assert.deepEqual(e.failures.map((f) => [f.index, f.error.code, f.error.kind]), [[1, 'NOT_PERMITTED', 'permanent']])
      assert.equal(await server.cli('GET', 'limited:ok'), 'v')
    } finally {
      await c.stop(signal())
    }
  })

  it('a send while the server is down fails with not_connected, not after the timeout', async () => {
    const c = make(config())
    await c.start(signal())
    try {
      const ch = asBatchChannel(await c.openChannel!({ command: ['SET', 'k', '${v}'] }))
      await server.stop()
      const one = await rejection(ch.send({ v: 1 }, AbortSignal.timeout(60_000)))
      const batch = await rejection(ch.sendBatch([{ v: 1 }, { v: 2 }], AbortSignal.timeout(60_000)))
      for (const e of [one, batch]) assert.deepEqual([e.code, e.kind], ['CONNECTION_LOST', 'not_connected'], e.message)
      const h = await c.health(signal())
      assert.ok(h.status === 'disconnected' && h.code === 'CONNECTION_LOST', JSON.stringify(h))
    } finally {
      await server.start()
      await c.stop(signal())
    }
  })
})

describe('redis cluster mode (private 3-node cluster)', () => {
  let cluster: PrivateCluster
  before(async () => { cluster = await startPrivateCluster() })
  after(() => cluster?.close())

  it('Test reads CLUSTER INFO: state ok and the node count', async () => {
    const r = await probe({ mode: 'cluster', servers: cluster.servers })
    assert.equal(r.ok, true, JSON.stringify(r))
    assert.equal(r.steps.at(-1)?.detail, 'cluster_state ok, 3 node(s), 3 serving slots')
  })

  it('cluster mode against a plain server fails naming it', async () => {
    const r = await probe({ mode: 'cluster', servers: sharedConfig().servers })
    assert.ok(!r.ok && r.error.code === 'CONNECTION_FAILED' && /cluster/i.test(r.error.message), JSON.stringify(r))
  })

  it('a batch whose keys hash to different slots is written once per key and read back', async () => {
    const c = make({ mode: 'cluster', servers: cluster.servers })
    await c.start(signal())
    const reader = new Cluster(cluster.servers.map((s) => ({ host: '127.0.0.1', port: Number(s.split(':')[1]) })))
    try {
      assert.deepEqual(await c.health(signal()), { status: 'connected' })
      const ch = asBatchChannel(await c.openChannel!({ command: ['HSET', 'dev:${id}', 'temp', '${temp}'] }))
      const batch = Array.from({ length: 60 }, (_, i) => ({ id: `d${i}`, temp: i }))
      await ch.sendBatch(batch, signal())
      const slots = new Set(await Promise.all(batch.map(async (m) => reader.call('CLUSTER', 'KEYSLOT', `dev:${m.id}`))))
      assert.ok(slots.size > 10, `keys spread over ${slots.size} slots`)
      for (const m of batch) assert.equal(await reader.hget(`dev:${m.id}`, 'temp'), String(m.temp))
      const owners = await Promise.all(reader.nodes('master').map((n) => n.dbsize()))
      assert.equal(owners.filter((n) => n > 0).length, 3, `every master holds some keys: ${owners.join(',')}`)
    } finally {
      reader.disconnect()
      await c.stop(signal())
    }
  })
})

describe('redis sentinel mode (private master and Sentinel)', () => {
  let master: PrivateRedis
  let sentinel: { port: number; close(): Promise<void> }
  before(async () => {
    master = await withPassword()
    sentinel = await startPrivateSentinel(master, 'junction-master')
  })
  after(() => sentinel?.close())
  const config = (extra: Record<string, unknown> = {}) => ({ mode: 'sentinel', servers: `127.0.0.1:${sentinel.port}`, sentinelMaster: 'junction-master', password: 'right-secret', ...extra })

  it('Test finds the master through the Sentinel; an unknown master name fails at authenticate', async () => {
    const r = await probe(config())
    assert.equal(r.ok, true, JSON.stringify(r))
    assert.equal(r.steps.find((s) => s.name === 'authenticate')?.detail, 'as the default user to master junction-master')
    const unknown = await probe(config({ sentinelMaster: 'no-such-master' }))
    assert.ok(!unknown.ok && unknown.error.code === 'CONNECTION_FAILED', JSON.stringify(unknown))
    assert.deepEqual(stepsOf(unknown).at(-1), ['authenticate', false])
  })

  it('writes go to the master in the configured database', async () => {
    const c = make(config({ database: 2 }))
    await c.start(signal())
    try {
      const ch = asBatchChannel(await c.openChannel!({ command: ['SET', 'sentinel:${k}', '${v}'] }))
      await ch.sendBatch([{ k: 'a', v: '1' }, { k: 'b', v: '2' }], signal())
      assert.equal(await master.cli('-n', '2', 'MGET', 'sentinel:a', 'sentinel:b'), '1\n2')
    } finally {
      await c.stop(signal())
    }
  })
})
