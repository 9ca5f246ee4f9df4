/**
 * MySQL / MariaDB benchmark, in pairs (each run measures the raw client right before Junction, so
 * both see the machine in the same state), with the ratios. Prints figures; asserts nothing.
 *
 *   node --import tsx bench/mysql.ts [messages=50000]
 *
 * Needs the machine's MariaDB (127.0.0.1:3306, root, database `test`). The CPU lines count this
 * process (Junction, including its start-up in the path runs) and mariadbd, per message.
 * - channel: plain mysql2 (a pool of 8, the same multi-row prepared INSERT of 500 rows, 8 batches
 *   in flight) vs Junction's channel `sendBatch` driven as the runtime drives it (500-row batches,
 *   at most `concurrency` in flight); msgs/s and the p50/p99 of one batch's round trip;
 * - path: MQTT QoS 1 -> rule -> MySQL action through Junction's broker and runtime, against
 *   min(bare broker ingest, raw client); every row read back (loss, duplicates).
 */
import { spawn, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import mysql from 'mysql2'
import { pino } from 'pino'
import { DEFAULT_BROKER_LIMITS } from '../src/broker/broker-types.js'
import { MqttBroker } from '../src/broker/mqtt-broker.js'
import { BrokerListeners } from '../src/broker/listeners/broker-listeners.js'
import type { ChannelMessage } from '../src/connector-api/index.js'
import { builtinConnectors } from '../src/connectors/index.js'
import { mysqlConnector } from '../src/connectors/mysql/definition.js'
import { createJunction } from '../src/server.js'
import { DEFAULT_SETTINGS } from '../src/settings.js'
import { tempDataDir } from '../test/support/junction.js'
import { adminSql, sharedMariadb, uniqueName } from '../test/support/mariadb.js'

// Junction runs here with the V8 setting `npm start` gives it (a 32 MB young generation), as in bench/data-path.ts.
const HEAP_FLAG = '--max-semi-space-size=32'
if (!process.execArgv.includes(HEAP_FLAG)) {
  const run = spawnSync(process.execPath, [HEAP_FLAG, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' })
  process.exit(run.status ?? 1)
}

const N = Number(process.argv[2] ?? 50_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const BATCH = mysqlConnector.batching!.maxSize
const POOL = 8
const DB = sharedMariadb()
const root = new URL('..', import.meta.url).pathname
const config = { host: DB.host, port: DB.port, database: DB.database, username: DB.user, poolSize: POOL }
const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
const middle = (v: readonly number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!
const pct = (v: number[], p: number) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor((v.length * p) / 100))]!

/** CPU ms used so far by the processes named `comm` (the server). */
function cpuOf(comm: string): number {
  let total = 0
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== comm) continue
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      total += (Number(f[11]) + Number(f[12])) * 10
    } catch { /* exited meanwhile */ }
  }
  return total
}

/** Runs `work` and prints the CPU per message of this process (Junction) and of mariadbd. */
async function cpu<T>(label: string, work: () => Promise<T>): Promise<T> {
  const [own, srv] = [process.cpuUsage(), cpuOf('mariadbd')]
  const r = await work()
  const ownMs = (process.cpuUsage(own).user + process.cpuUsage(own).system) / 1000
  console.log(`    ${label}: CPU per message: this process ${((ownMs * 1000) / N).toFixed(1)} µs, mariadbd ${(((cpuOf('mariadbd') - srv) * 1000) / N).toFixed(1)} µs`)
  return r
}

async function freshTable(): Promise<string> {
  const table = uniqueName('bench_mysql')
  await adminSql(DB, `CREATE TABLE ${table} (id BIGINT AUTO_INCREMENT PRIMARY KEY, seq INT NOT NULL, temp DOUBLE, clientid VARCHAR(64), sent_at BIGINT) ENGINE=InnoDB`)
  return table
}
const countRows = async (table: string) => (await adminSql<Array<{ n: number; d: number }>>(DB, `SELECT COUNT(*) AS n, COUNT(DISTINCT seq) AS d FROM ${table}`))[0]!
const drop = (table: string) => adminSql(DB, `DROP TABLE IF EXISTS ${table}`)
const message = (seq: number): ChannelMessage => ({ seq, temp: (seq % 400) / 10, clientid: 'dev-1', ts: Date.now() })

/** Runs `batches` with at most `inflight` at once; msgs/s and each batch's time (ms). */
async function drive(inflight: number, send: (batch: ChannelMessage[]) => Promise<unknown>): Promise<{ rate: number; times: number[] }> {
  const batches: ChannelMessage[][] = []
  for (let off = 0; off < N; off += BATCH) batches.push(Array.from({ length: Math.min(BATCH, N - off) }, (_, i) => message(off + i)))
  const times: number[] = []
  let next = 0
  const t0 = performance.now()
  await Promise.all(Array.from({ length: inflight }, async () => {
    for (let b = next++; b < batches.length; b = next++) {
      const t = performance.now()
      await send(batches[b]!)
      times.push(performance.now() - t)
    }
  }))
  return { rate: N / ((performance.now() - t0) / 1000), times }
}

async function rawClient(table: string) {
  const pool = mysql.createPool({ host: DB.host, port: DB.port, user: DB.user, database: DB.database, connectionLimit: POOL })
  const row = '(?, ?, ?, ?)'
  const r = await drive(POOL, (batch) => new Promise((resolve, reject) => {
    const values = batch.flatMap((m) => [m.seq, m.temp, m.clientid, m.ts])
    pool.execute(`INSERT INTO ${table} (seq, temp, clientid, sent_at) VALUES ${Array(batch.length).fill(row).join(',')}`, values as never, (err) => (err ? reject(err) : resolve(undefined)))
  }))
  await new Promise((resolve) => pool.end(resolve))
  return r
}

async function junctionChannel(table: string) {
  const c = mysqlConnector.create({ ...config, port: DB.port, connectTimeoutMs: 5_000, tls: { enable: false, verify: true } } as never, { connectorId: 'bench', logger: pino({ level: 'warn' }) })
  await c.start(AbortSignal.timeout(10_000))
  const channel = await c.openChannel!({ sql: `INSERT INTO ${table} (seq, temp, clientid, sent_at) VALUES (\${seq}, \${temp}, \${clientid}, \${ts})` })
  const r = await drive(channel.concurrency ?? POOL, (batch) => channel.sendBatch!(batch, AbortSignal.timeout(30_000)))
  await c.stop(AbortSignal.timeout(5_000))
  return r
}

function publish(url: string, topic: string): Promise<{ elapsedMs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bench/publisher.mjs', url, topic, String(N), '1', '0', '500', '4'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => { out += String(d) })
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`publisher exited ${code}`))))
  })
}

async function waitFor(done: () => boolean | Promise<boolean>, timeoutMs = 300_000): Promise<number> {
  for (const end = Date.now() + timeoutMs; !(await done());) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 5))
  }
  return performance.now()
}

/** QoS 1 msgs/s the bare broker takes from the publisher. */
async function bareIngest(): Promise<number> {
  let count = 0
  let first = 0
  const broker = new MqttBroker({ limits: { ...DEFAULT_BROKER_LIMITS, allowAnonymous: true }, sink: { published() { if (count++ === 0) first = performance.now() }, clientEvent() {}, wants: () => false } })
  const listeners = await BrokerListeners.start(broker, { host: '127.0.0.1', listeners: [{ transport: 'tcp', port: 0, fallback: false }] })
  const pub = publish(`mqtt://127.0.0.1:${listeners.listeners[0]!.port}`, 'bench/raw')
  const last = await waitFor(() => count >= N)
  await pub
  await listeners.close()
  await broker.close()
  return (N - 1) / ((last - first) / 1000)
}

async function mqttToMysql(table: string): Promise<{ rate: number; loss: number; doubled: number }> {
  const settings = { ...DEFAULT_SETTINGS, httpHost: '127.0.0.1', httpPort: 0, mqttHost: '127.0.0.1', mqttPort: 0, mqttAllowAnonymous: true, dataDir: tempDataDir(), adminPassword: 'bench-admin', logLevel: 'warn' }
  const j = await createJunction(settings, { logger: pino({ level: 'warn' }), connectors: builtinConnectors })
  try {
    const c = await j.connectors.create('default', { name: `mysql-${table}`, type: 'mysql', config })
    await waitFor(async () => (await j.connectors.get('default', c.id)).status === 'connected', 30_000)
    const rule = await j.rules.create('default', {
      name: `to-${table}`, sql: `SELECT payload.seq AS seq, payload.temp AS temp, payload.ts AS ts, clientid FROM "bench/mysql/${table}"`,
      actions: [{ connectorId: c.id, params: { sql: `INSERT INTO ${table} (seq, temp, clientid, sent_at) VALUES (\${seq}, \${temp}, \${clientid}, \${ts})` } }],
    })
    const action = () => j.deployments.runtime('default').rules.metrics(rule.id)!.actions[0]!
    const d = await j.deployments.get('default')
    const [t0, cpu0] = [performance.now(), process.cpuUsage()]
    const published = await publish(`mqtt://127.0.0.1:${d.mqtt!.port}`, `bench/mysql/${table}`)
    const last = await waitFor(() => { const a = action(); return a.success + a.failed + a.dropped >= N })
    const used = process.cpuUsage(cpu0)
    console.log(`    (publisher done after ${Math.round(published.elapsedMs)} ms, all rows after ${Math.round(last - t0)} ms; Junction ${((used.user + used.system) / N).toFixed(1)} µs CPU per message meanwhile)`)
    const rows = await countRows(table)
    return { rate: N / ((last - t0) / 1000), loss: N - rows.d, doubled: rows.n - rows.d }
  } finally {
    await j.close()
  }
}

const summary: string[] = []
console.log(`MySQL benchmark: ${fmt(N)} messages, ${RUNS} paired runs, batches of ${BATCH}, pool ${POOL}`)
const ch: Array<{ raw: number; jn: number; rawP: number[]; jnP: number[] }> = []
for (let i = 0; i < RUNS; i++) {
  const [t1, t2] = [await freshTable(), await freshTable()]
  const raw = await cpu('mysql2', () => rawClient(t1))
  const jn = await cpu('channel', () => junctionChannel(t2))
  const [r1, r2] = [await countRows(t1), await countRows(t2)]
  await drop(t1)
  await drop(t2)
  if (r2.d !== N || r2.n !== N) console.log(`  channel run ${i + 1}: ${N - r2.d} lost, ${r2.n - r2.d} doubled`)
  ch.push({ raw: raw.rate, jn: jn.rate, rawP: [pct(raw.times, 50), pct(raw.times, 99)], jnP: [pct(jn.times, 50), pct(jn.times, 99)] })
  console.log(`  channel run ${i + 1}: mysql2 ${fmt(raw.rate)} msg/s (batch p50 ${pct(raw.times, 50).toFixed(1)} / p99 ${pct(raw.times, 99).toFixed(1)} ms), ` +
    `Junction sendBatch ${fmt(jn.rate)} msg/s (p50 ${pct(jn.times, 50).toFixed(1)} / p99 ${pct(jn.times, 99).toFixed(1)} ms), ${Math.round((jn.rate / raw.rate) * 100)}% (raw rows ${r1.n})`)
}
summary.push(`| channel sendBatch vs mysql2 | ${fmt(middle(ch.map((x) => x.raw)))} | ${fmt(middle(ch.map((x) => x.jn)))} | ${Math.round(middle(ch.map((x) => x.jn / x.raw)) * 100)}% |`)

const path: number[] = []
for (let i = 0; i < RUNS; i++) {
  const t1 = await freshTable()
  const ceiling = Math.min(await bareIngest(), (await rawClient(t1)).rate)
  await drop(t1)
  const t2 = await freshTable()
  const r = await cpu('path', () => mqttToMysql(t2))
  await drop(t2)
  path.push(r.rate / ceiling)
  console.log(`  path run ${i + 1}: ceiling ${fmt(ceiling)} msg/s, MQTT -> rule -> MySQL ${fmt(r.rate)} msg/s, ${Math.round((r.rate / ceiling) * 100)}%, lost ${r.loss}, doubled ${r.doubled}`)
  summary.push(`| MQTT QoS 1 -> rule -> MySQL (run ${i + 1}) | ${fmt(ceiling)} | ${fmt(r.rate)} | ${Math.round((r.rate / ceiling) * 100)}%, lost ${r.loss}, doubled ${r.doubled} |`)
}
console.log('\n| scenario | ceiling msg/s | Junction msg/s | ratio |\n| --- | --- | --- | --- |')
for (const line of summary) console.log(line)
process.exit(0)
