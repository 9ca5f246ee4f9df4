/**
 * Heartbeat cost with many rules: one Junction node (in this process) on a fresh PostgreSQL
 * database, N rules with two actions each (a republish and a Redis command on one connector),
 * some messages through them so counters are not all zero. Prints, per heartbeat:
 *
 * - the CPU to build the node's report (what runs on it, with its counters) and serialize it;
 * - the report's size (written to the `nodes` table every second, read by every other node);
 * - the CPU of a whole beat (report, the UPDATE, reading the nodes' rows back), awaited in turn;
 * - the process's CPU per second while idle with the timer beating (everything else included).
 *
 *   node --import tsx bench/heartbeat.ts [rules=1000] [beats=200]
 *
 * Asserts nothing. The machine is shared: run it twice and take the lower figures.
 */
import { cpuUsage } from 'node:process'
import mqtt from 'mqtt'
import { createJunction } from '../src/server.js'
import { DEFAULT_SETTINGS } from '../src/settings.js'
import { freshDatabase } from '../test/support/external-cluster.js'
import { tempDataDir } from '../test/support/junction.js'
import { pino } from 'pino'

const RULES = Number(process.argv[2] ?? 1000)
const BEATS = Number(process.argv[3] ?? 200)
const KEY = 'bench-key'
const SECRET = 'bench-secret-0123456789'
const AUTH = `Basic ${Buffer.from(`${KEY}:${SECRET}`).toString('base64')}`

const cpuMs = () => {
  const u = cpuUsage()
  return (u.user + u.system) / 1000
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function main(): Promise<void> {
  const database = await freshDatabase()
  const junction = await createJunction({
    ...DEFAULT_SETTINGS, httpHost: '127.0.0.1', httpPort: 0, mqttHost: '127.0.0.1', mqttPort: 0, mqttAllowAnonymous: true,
    dataDir: tempDataDir(), apiKey: KEY, apiSecret: SECRET, adminPassword: 'bench-admin-password', logLevel: 'warn',
    databaseUrl: database.url, secretKey: 'bench heartbeat key', nodeName: 'bench-node',
  }, { logger: pino({ level: 'warn' }) })
  try {
    const api = async (method: string, url: string, body?: unknown) => {
      const r = await junction.app.inject({ method: method as 'GET', url, headers: { authorization: AUTH, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { payload: JSON.stringify(body) } : {}) })
      if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`)
      return JSON.parse(r.body) as any
    }
    const dep = '/api/v1/deployments/default'
    const redis = await api('POST', `${dep}/connectors`, { name: 'cache', type: 'redis', config: { servers: '127.0.0.1:6379' } })
    for (let i = 0; i < 100 && (await api('GET', `${dep}/connectors/${redis.id}`)).status !== 'connected'; i++) await sleep(100)
    const made = Date.now()
    for (let i = 0; i < RULES; i++) {
      await api('POST', `${dep}/rules`, {
        name: `rule ${i}`, sql: `SELECT payload FROM "bench/${i}"`,
        actions: [
          { builtin: 'republish', params: { topic: `bench-out/${i}`, payload: '${payload}' } },
          { connectorId: redis.id, params: { command: ['PUBLISH', 'bench-heartbeat', '${payload}'] } },
        ],
      })
    }
    console.log(`${RULES} rules with 2 actions each made in ${((Date.now() - made) / 1000).toFixed(1)} s`)

    // One message per rule, so the counters are not zeros.
    const port = (await api('GET', dep)).mqtt.port as number
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 })
    for (let i = 0; i < RULES; i++) client.publish(`bench/${i}`, `m${i}`, { qos: 0 })
    await client.endAsync()
    await sleep(2000)

    const cluster = junction.cluster as unknown as { report(): unknown; beat(): Promise<void>; beating: boolean }
    for (let i = 0; i < 20; i++) JSON.stringify(cluster.report())
    let size = 0
    let t0 = cpuMs()
    for (let i = 0; i < BEATS; i++) size = JSON.stringify(cluster.report()).length
    const reportUs = ((cpuMs() - t0) * 1000) / BEATS
    const built = cluster.report()
    t0 = cpuMs()
    for (let i = 0; i < BEATS; i++) JSON.stringify(built)
    const serializeUs = ((cpuMs() - t0) * 1000) / BEATS

    // Whole beats, one after another (the timer's beat is skipped while one runs).
    t0 = cpuMs()
    const wall = Date.now()
    const beats = Math.min(BEATS, 100)
    for (let i = 0; i < beats; i++) {
      // A beat of the timer in progress would make this one return at once.
      while (cluster.beating) await sleep(1)
      await cluster.beat()
    }
    const beatUs = ((cpuMs() - t0) * 1000) / beats
    const beatWallMs = (Date.now() - wall) / beats

    // Idle with the timer beating once a second.
    await sleep(1000)
    t0 = cpuMs()
    const idleFrom = Date.now()
    await sleep(10_000)
    const idleMsPerS = (cpuMs() - t0) / ((Date.now() - idleFrom) / 1000)

    console.log(`report: ${Math.round(reportUs).toLocaleString('en-US')} µs CPU per beat (built and serialized; serializing alone ${Math.round(serializeUs).toLocaleString('en-US')} µs), ${Math.round(size / 1024).toLocaleString('en-US')} KiB`)
    console.log(`beat: ${Math.round(beatUs).toLocaleString('en-US')} µs CPU (report, UPDATE, nodes read back), ${beatWallMs.toFixed(1)} ms wall`)
    console.log(`idle process: ${idleMsPerS.toFixed(1)} ms CPU per second`)
  } finally {
    await junction.close()
    await database.drop()
  }
}

await main()
