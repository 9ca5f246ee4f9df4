/**
 * Junction nodes on one PostgreSQL database attached to the 3-node Artemis cluster
 * (scripts/artemis/cluster.mjs), for test/cluster/external-cluster.test.ts and bench/cluster.ts:
 * a fresh database, the nodes as child processes, the `default` deployment in external mode with
 * a PostgreSQL action into a table of that database, QoS 1 publishers spread over the Artemis
 * nodes.
 */
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { Kafka, logLevel } from 'kafkajs'
import mqtt, { type MqttClient } from 'mqtt'
import pg from 'pg'
import { AUTH } from './junction.js'
import { junctionProcessSetup, startJunctionProcess } from './junction-process.js'
import { createTopic } from './kafka.js'
import { onSharedServer, sharedPostgres } from './postgres.js'

export const DEPLOYMENT = '/api/v1/deployments/default'
/** Every Junction node subscribes to this filter through the group below. */
export const TOPIC_ROOT = 'cluster-e2e'
export const SHARED_GROUP = 'junction-e2e'

export interface ClusterNode {
  readonly name: string
  readonly env: Record<string, string>
  child: ChildProcess
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>
}

/** A new database on the shared PostgreSQL server; `drop` removes it even with connections open. */
export async function freshDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const shared = sharedPostgres()
  const name = `junction_cluster_${randomBytes(4).toString('hex')}`
  await onSharedServer(`CREATE DATABASE ${name}`)
  return { url: `postgres://${shared.user}@${shared.host}:${shared.port}/${name}`, name, drop: () => onSharedServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }
}

/**
 * Starts `names.length` Junction processes on `databaseUrl` with one secret key: the first alone
 * (it creates the store), the others together.
 */
export async function startNodes(names: readonly string[], databaseUrl: string, secretKey: string): Promise<ClusterNode[]> {
  const setups = await Promise.all(names.map(async (name) => {
    const setup = await junctionProcessSetup()
    const env: Record<string, string> = { ...setup.env, JUNCTION_DATABASE_URL: databaseUrl, JUNCTION_SECRET_KEY: secretKey, JUNCTION_NODE_NAME: name }
    return { name, env }
  }))
  const first = await startJunctionProcess(setups[0]!.env)
  let rest: ChildProcess[]
  try {
    rest = await Promise.all(setups.slice(1).map((s) => startJunctionProcess(s.env)))
  } catch (err) {
    // The processes that did start would keep the test process alive.
    first.kill('SIGKILL')
    throw err
  }
  return [first, ...rest].map((child, i) => {
    const { name, env } = setups[i]!
    return {
      name, env, child,
      async api(method, path, body) {
        const r = await fetch(`http://127.0.0.1:${env.JUNCTION_HTTP_PORT}${path}`, {
          method, headers: { authorization: AUTH, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        })
        const text = await r.text()
        return { status: r.status, body: text ? JSON.parse(text) : undefined }
      },
    }
  })
}

/** SIGKILLs the nodes still running and waits until they are gone. */
export async function killNodes(nodes: readonly ClusterNode[]): Promise<void> {
  const alive = nodes.map((n) => n.child).filter((c) => c.exitCode === null && c.signalCode === null)
  const gone = alive.map((c) => new Promise((r) => c.once('exit', r)))
  for (const c of alive) c.kill('SIGKILL')
  await Promise.all(gone)
}

/** Polls until `pred` holds; fails with the last value after `timeoutMs`. */
export async function until<T>(what: string, fn: () => Promise<T>, pred: (v: T) => boolean, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs
  let last = await fn()
  while (!pred(last)) {
    if (Date.now() > end) assert.fail(`${what}: still ${JSON.stringify(last)}`)
    await new Promise((r) => setTimeout(r, everyMs))
    last = await fn()
  }
  return last
}

export interface Pipeline {
  readonly connectorId: string
  readonly ruleId: string
  readonly table: string
  /** The Kafka connector, when the rule also writes to Kafka. */
  readonly kafkaConnectorId?: string
}

/**
 * Through `node`'s API: the `default` deployment attached to `servers` in `SHARED_GROUP`, a
 * PostgreSQL connector to `databaseUrl`'s database and a rule on `TOPIC_ROOT/#` inserting each
 * message's `run` and `seq` into a new table. `on-delivery` (the default here): a message is
 * acknowledged to Artemis only once its row is committed, so a killed node's unacknowledged
 * messages go back to the queue (docs/external-broker.md). With `kafka`, a second action of the
 * rule writes each message's `{run, seq}` to that topic, with the same acknowledgement.
 */
export async function createPipeline(node: ClusterNode, servers: readonly string[], databaseName: string, db: pg.Client, acknowledge: 'on-arrival' | 'on-delivery' = 'on-delivery', kafka?: { bootstrap: string; topic: string }): Promise<Pipeline> {
  const table = `received_${randomBytes(3).toString('hex')}`
  await db.query(`CREATE TABLE ${table} (run text NOT NULL, seq integer NOT NULL, at timestamptz NOT NULL DEFAULT now())`)
  const shared = sharedPostgres()
  const patched = await node.api('PATCH', DEPLOYMENT, { broker: { mode: 'external', servers, sharedGroup: SHARED_GROUP, clientIdPrefix: 'junction-e2e-' } })
  assert.equal(patched.status, 200, JSON.stringify(patched.body))
  const connector = await node.api('POST', `${DEPLOYMENT}/connectors`, { name: 'pg', type: 'postgresql', config: { host: shared.host, port: shared.port, database: databaseName, username: shared.user } })
  assert.equal(connector.status, 201, JSON.stringify(connector.body))
  let kafkaConnectorId: string | undefined
  if (kafka) {
    const k = await node.api('POST', `${DEPLOYMENT}/connectors`, { name: 'kafka', type: 'kafka', config: { bootstrapServers: kafka.bootstrap } })
    assert.equal(k.status, 201, JSON.stringify(k.body))
    kafkaConnectorId = k.body.id as string
  }
  const rule = await node.api('POST', `${DEPLOYMENT}/rules`, {
    name: 'to-postgres', sql: `SELECT payload.run AS run, payload.seq AS seq FROM "${TOPIC_ROOT}/#"`,
    actions: [
      { connectorId: connector.body.id, params: { sql: `INSERT INTO ${table} (run, seq) VALUES (\${run}, \${seq})` }, options: { acknowledge } },
      ...(kafka ? [{ connectorId: kafkaConnectorId, params: { topic: kafka.topic, key: '${seq}', value: '${.}' }, options: { acknowledge } }] : []),
    ],
  })
  assert.equal(rule.status, 201, JSON.stringify(rule.body))
  return { connectorId: connector.body.id, ruleId: rule.body.id, table, ...(kafkaConnectorId ? { kafkaConnectorId } : {}) }
}

/** Waits until `node` is connected to Artemis with the shared subscription granted. */
export async function attached(node: ClusterNode, timeoutMs = 30_000): Promise<any> {
  return until(`${node.name} attached`, () => node.api('GET', DEPLOYMENT), (r) => r.body?.broker?.status === 'connected' && (r.body.broker.subscriptions ?? []).includes(`$share/${SHARED_GROUP}/${TOPIC_ROOT}/#`), timeoutMs)
}

/** `matched` of the rule per node, as `nodes` in the rule's answer reports it. */
export async function matchedByNode(node: ClusterNode, ruleId: string): Promise<Record<string, number>> {
  const r = await node.api('GET', `${DEPLOYMENT}/rules/${ruleId}`)
  assert.equal(r.status, 200, JSON.stringify(r.body))
  return Object.fromEntries((r.body.nodes as { node: string; matched: number }[]).map((n) => [n.node, n.matched]))
}

export interface Publishers {
  /**
   * Publishes `{run, seq}` for seq 0..count-1, QoS 1, at most `window` in flight per client
   * (and, with `ratePerS`, message seq not before seq/ratePerS seconds from the start); resolves
   * when each has a PUBACK.
   */
  publish(run: string, count: number, opts?: { window?: number; ratePerS?: number; onProgress?: (acked: number) => void }): Promise<{ retried: number }>
  close(): Promise<void>
}

/**
 * One mqtt.js client per Artemis node; message `seq` goes to client `seq % clients`. A publish
 * whose client loses its connection before the PUBACK is published again through another
 * client (at least once from the publisher's side: a message may then reach the broker twice),
 * and a client that lost its connection connects again in the background.
 */
export async function publishers(urls: readonly string[], tag: string): Promise<Publishers> {
  interface Slot { url: string; clientId: string; client: MqttClient | undefined; lost: Set<() => void> }
  const slots: Slot[] = urls.map((url, i) => ({ url, clientId: `pub-${tag}-${i}`, client: undefined, lost: new Set() }))
  let closing = false
  const connect = async (slot: Slot): Promise<void> => {
    for (;;) {
      if (closing) return
      try {
        const client = await mqtt.connectAsync(slot.url, { protocolVersion: 5, clientId: slot.clientId, clean: true, reconnectPeriod: 0, connectTimeout: 5000 })
        client.on('error', () => {})
        client.once('close', () => {
          if (slot.client === client) slot.client = undefined
          for (const fail of slot.lost) fail()
          slot.lost.clear()
          client.end(true)
          if (!closing) setTimeout(() => void connect(slot), 500)
        })
        slot.client = client
        return
      } catch {
        await new Promise((r) => setTimeout(r, 500))
      }
    }
  }
  await Promise.all(slots.map(connect))

  /** One attempt through `slot`: true on PUBACK, false when its connection is (or gets) lost. */
  const attempt = (slot: Slot, topic: string, payload: string): Promise<boolean> => {
    const client = slot.client
    if (!client || !client.connected) return Promise.resolve(false)
    return new Promise((resolve) => {
      let settled = false
      const done = (ok: boolean) => {
        if (settled) return
        settled = true
        slot.lost.delete(fail)
        resolve(ok)
      }
      const fail = () => done(false)
      slot.lost.add(fail)
      client.publish(topic, payload, { qos: 1 }, (err) => done(!err))
    })
  }

  return {
    async publish(run, count, opts = {}) {
      const window = opts.window ?? 50
      let retried = 0
      let acked = 0
      const start = performance.now()
      const sendOne = async (seq: number) => {
        if (opts.ratePerS !== undefined) {
          const wait = start + (seq * 1000) / opts.ratePerS - performance.now()
          if (wait > 1) await new Promise((r) => setTimeout(r, wait))
        }
        const topic = `${TOPIC_ROOT}/${run}/${seq % slots.length}`
        const payload = JSON.stringify({ run, seq })
        for (let tries = 0; ; tries++) {
          const slot = slots[(seq + tries) % slots.length]!
          if (await attempt(slot, topic, payload)) break
          retried++
          if (tries % slots.length === slots.length - 1) await new Promise((r) => setTimeout(r, 200))
        }
        acked++
        opts.onProgress?.(acked)
      }
      // `window` publishes in flight per client: each lane sends its messages one after another.
      let next = 0
      const lanes = Array.from({ length: window * slots.length }, async () => {
        while (next < count) await sendOne(next++)
      })
      await Promise.all(lanes)
      return { retried }
    },
    async close() {
      closing = true
      await Promise.all(slots.map((s) => s.client?.endAsync(true)))
    },
  }
}

/** Rows of `run` in the pipeline's table: how many, and how many distinct seq. */
export async function received(db: pg.Client, table: string, run: string): Promise<{ total: number; distinct: number }> {
  const r = await db.query<{ total: string; distinct: string }>(`SELECT count(*) AS total, count(DISTINCT seq) AS distinct FROM ${table} WHERE run = $1`, [run])
  return { total: Number(r.rows[0]!.total), distinct: Number(r.rows[0]!.distinct) }
}

/**
 * A fresh Kafka topic and one consumer reading it from the beginning for as long as the test
 * runs, counting each `{run, seq}` record: `received(run)` answers like the PostgreSQL one.
 */
export interface KafkaTally {
  readonly topic: string
  received(run: string): { total: number; distinct: number }
  close(): Promise<void>
}

export async function kafkaTally(bootstrap: string): Promise<KafkaTally> {
  const kafka = new Kafka({ brokers: [bootstrap], clientId: 'junction-cluster-e2e', logLevel: logLevel.NOTHING })
  const topic = `junction-cluster-e2e.${randomBytes(4).toString('hex')}`
  await createTopic(kafka, topic)
  const runs = new Map<string, Map<number, number>>()
  const consumer = kafka.consumer({ groupId: `junction-cluster-e2e-${randomBytes(4).toString('hex')}` })
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ message }) => {
      const { run, seq } = JSON.parse(String(message.value)) as { run: string; seq: number }
      let seqs = runs.get(run)
      if (!seqs) runs.set(run, (seqs = new Map()))
      seqs.set(seq, (seqs.get(seq) ?? 0) + 1)
    },
  })
  return {
    topic,
    received(run) {
      const seqs = runs.get(run)
      let total = 0
      for (const n of seqs?.values() ?? []) total += n
      return { total, distinct: seqs?.size ?? 0 }
    },
    async close() {
      await consumer.disconnect()
      const a = kafka.admin()
      await a.connect()
      await a.deleteTopics({ topics: [topic], timeout: 10_000 }).catch(() => undefined)
      await a.disconnect()
    },
  }
}
