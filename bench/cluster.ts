/**
 * Cluster benchmark: 1, 2 and 3 Junction nodes on one PostgreSQL database, attached to the 3-node
 * Artemis cluster (scripts/artemis/cluster.mjs) through one shared subscription, a rule with a
 * PostgreSQL action (a row per message). Prints, per node count, the total messages/s (first
 * publish to last row in PostgreSQL), each node's share (the rule's `nodes` counters) and CPU per
 * message, the Artemis JVMs' and PostgreSQL's CPU per message, and what that projects for three
 * machines. Asserts nothing.
 *
 *   node --import tsx bench/cluster.ts [messages=20000] [nodeCounts=1,2,3]
 *   BENCH_ACK=on-delivery node --import tsx bench/cluster.ts     (default on-arrival)
 *   BENCH_RATE_PER_NODE=800 node --import tsx bench/cluster.ts [messagesPerNode=8000]
 *
 * By default the publishers send as fast as the broker takes (the total rate). With
 * BENCH_RATE_PER_NODE, each run publishes that many messages a second per Junction node (and
 * `messages` per node), so every node sees the same load whatever the node count: on one shared
 * machine that is what isolates CPU per message per node from the batches shrinking as the same
 * broker-bound total is split over more nodes.
 *
 * The machine is shared and has 2 cores: every process (publisher, Junction nodes, 3 JVMs,
 * PostgreSQL) runs on them, so the total rate is not what 3 machines give; what scales is CPU per
 * message per node (flat as nodes are added) and the evenness of the split. CPU is read from
 * /proc/<pid>/stat (each Junction node, each Artemis JVM) and from every `postgres` process.
 */
import pg from 'pg'
import { mqttUrls, NODE_COUNT, runningPid, startCluster } from '../scripts/artemis/cluster.mjs'
import {
  attached, createPipeline, freshDatabase, killNodes, matchedByNode, publishers, received, startNodes, until,
} from '../test/support/external-cluster.js'
import { cpuOfComm, cpuOfCommSince, cpuOfPid, fmt, machineCpu, machineLine, pct, sleep } from './support.js'

const RATE_PER_NODE = process.env.BENCH_RATE_PER_NODE === undefined ? undefined : Number(process.env.BENCH_RATE_PER_NODE)
const PER_RUN = Number(process.argv[2] ?? (RATE_PER_NODE === undefined ? 20_000 : 8_000))
/** Messages of a run with `count` nodes: the same in every run, or the same per node at a fixed rate per node. */
const messagesFor = (count: number) => (RATE_PER_NODE === undefined ? PER_RUN : PER_RUN * count)
const COUNTS = (process.argv[3] ?? '1,2,3').split(',').map(Number)
const ACK = (process.env.BENCH_ACK ?? 'on-arrival') as 'on-arrival' | 'on-delivery'
const SECRET_KEY = 'the installation key for the cluster benchmark'
const WARM_UP = 500
const IDLE_MS = 2000

interface Run {
  readonly nodes: number
  readonly rate: number
  readonly seconds: number
  readonly share: Record<string, number>
  /** µs of CPU per message each node processed. */
  readonly nodeUs: Record<string, number>
  /**
   * The same without the node's idle CPU over the run (heartbeats, timers): what each message
   * costs. A node's fixed cost per second is spread over fewer messages as nodes are added, so
   * `nodeUs` rises with the node count even when the work per message does not.
   */
  readonly nodeNetUs: Record<string, number>
  /** Idle CPU (ms per s) of each node, and of the 3 JVMs together, measured just before the run. */
  readonly nodeIdle: Record<string, number>
  readonly artemisIdle: number
  /** µs of CPU per message (of all messages) of every Artemis JVM together, and of PostgreSQL. */
  readonly artemisUs: number
  readonly postgresUs: number
  readonly publisherUs: number
  readonly machine: string
  readonly rows: number
  readonly messages: number
}

async function measure(count: number): Promise<Run> {
  const N = messagesFor(count)
  const database = await freshDatabase()
  const db = new pg.Client({ connectionString: database.url })
  await db.connect()
  const names = Array.from({ length: count }, (_, i) => `node-${i + 1}`)
  const nodes = await startNodes(names, database.url, SECRET_KEY)
  const pub = await publishers(mqttUrls(), `bench-${process.pid}-${count}`)
  try {
    const pipeline = await createPipeline(nodes[0]!, mqttUrls(), database.name, db, ACK)
    for (const n of nodes) await attached(n)
    // Warm up: the Artemis nodes learn of the consumers, connections and JIT settle.
    await pub.publish('warm-up', WARM_UP)
    await until('warm-up in PostgreSQL', () => received(db, pipeline.table, 'warm-up'), (r) => r.distinct >= WARM_UP, 60_000, 200)
    const before = await until('warm-up counted', () => matchedByNode(nodes[0]!, pipeline.ruleId),
      (m) => Object.keys(m).length === count && Object.values(m).reduce((a, b) => a + b, 0) >= WARM_UP, 30_000, 200)
    await sleep(500)
    // What each node and the JVMs use doing nothing (heartbeats, timers, cluster bridges): a fixed
    // cost per second, which a shorter run spreads over fewer messages.
    const artemisPids0 = Array.from({ length: NODE_COUNT }, (_, i) => runningPid(i + 1)).filter((p): p is number => p !== undefined)
    const idle0 = [...nodes.map((n) => cpuOfPid(n.child.pid!)), ...artemisPids0.map(cpuOfPid)]
    await sleep(IDLE_MS)
    const idle = [...nodes.map((n) => cpuOfPid(n.child.pid!)), ...artemisPids0.map(cpuOfPid)].map((v, i) => ((v - idle0[i]!) * 1000) / IDLE_MS)
    const nodeIdleMsPerS = idle.slice(0, count)
    const artemisIdleMsPerS = idle.slice(count).reduce((a, b) => a + b, 0)

    const artemisPids = Array.from({ length: NODE_COUNT }, (_, i) => runningPid(i + 1)).filter((p): p is number => p !== undefined)
    const nodeCpu0 = nodes.map((n) => cpuOfPid(n.child.pid!))
    const artemisCpu0 = artemisPids.map(cpuOfPid)
    const pg0 = cpuOfComm('postgres')
    const own0 = process.cpuUsage()
    const machine0 = machineCpu()
    const t0 = performance.now()
    await pub.publish('measured', N, { window: 100, ...(RATE_PER_NODE === undefined ? {} : { ratePerS: RATE_PER_NODE * count }) })
    await until('every message in PostgreSQL', () => received(db, pipeline.table, 'measured'), (r) => r.distinct >= N, 300_000, 20)
    const seconds = (performance.now() - t0) / 1000
    const nodeCpu = nodes.map((n, i) => cpuOfPid(n.child.pid!) - nodeCpu0[i]!)
    const artemisMs = artemisPids.map((p, i) => cpuOfPid(p) - artemisCpu0[i]!).reduce((a, b) => a + b, 0)
    const postgresMs = cpuOfCommSince('postgres', pg0)
    const own = process.cpuUsage(own0)
    const machine = machineLine(machine0, N)

    const after = await until('every message counted', () => matchedByNode(nodes[0]!, pipeline.ruleId),
      (m) => Object.entries(m).reduce((sum, [k, v]) => sum + v - (before[k] ?? 0), 0) >= N, 30_000, 200)
    const share = Object.fromEntries(names.map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)]))
    const nodeUs = Object.fromEntries(names.map((k, i) => [k, (nodeCpu[i]! * 1000) / Math.max(1, share[k]!)]))
    const nodeNetUs = Object.fromEntries(names.map((k, i) => [k, ((nodeCpu[i]! - nodeIdleMsPerS[i]! * seconds) * 1000) / Math.max(1, share[k]!)]))
    const rows = (await received(db, pipeline.table, 'measured')).total
    return {
      nodes: count, rate: N / seconds, seconds, share, nodeUs, nodeNetUs,
      nodeIdle: Object.fromEntries(names.map((k, i) => [k, nodeIdleMsPerS[i]!])), artemisIdle: artemisIdleMsPerS,
      artemisUs: (artemisMs * 1000) / N, postgresUs: (postgresMs * 1000) / N, publisherUs: (own.user + own.system) / N,
      machine, rows, messages: N,
    }
  } finally {
    await pub.close()
    await killNodes(nodes)
    await db.end()
    await database.drop()
  }
}

const urls = await startCluster({ log: (line) => console.log(line) })
console.log(`Artemis cluster: ${urls.join(', ')}; ${RATE_PER_NODE === undefined ? `${fmt(PER_RUN)} QoS 1 messages per run, as fast as the broker takes them` : `${fmt(PER_RUN)} QoS 1 messages per node at ${fmt(RATE_PER_NODE)} msg/s per node`}, publishers on every Artemis node, action acknowledge ${ACK}`)
const runs: Run[] = []
for (const count of COUNTS) {
  const run = await measure(count)
  runs.push(run)
  console.log(`${count} node(s): ${fmt(run.rate)} msg/s in ${run.seconds.toFixed(1)} s; idle CPU before the run: Junction ${Object.values(run.nodeIdle).map((v) => v.toFixed(0)).join(' / ')} ms/s, Artemis ${run.artemisIdle.toFixed(0)} ms/s; ${run.machine}`)
}

const row = (cells: readonly string[]) => `| ${cells.join(' | ')} |`
console.log(`\n${row(['Junction nodes', 'msg/s total', 'share per node', 'Junction CPU µs/msg per node', 'same above idle', 'Artemis µs/msg (3 JVMs)', 'PostgreSQL µs/msg', 'publisher µs/msg', 'rows (dup.)'])}`)
console.log(row(Array(9).fill('---')))
for (const r of runs) {
  const names = Object.keys(r.share)
  console.log(row([
    String(r.nodes), fmt(r.rate),
    names.map((k) => pct(r.share[k]! / r.messages)).join(' / '),
    names.map((k) => r.nodeUs[k]!.toFixed(0)).join(' / '),
    names.map((k) => r.nodeNetUs[k]!.toFixed(0)).join(' / '),
    r.artemisUs.toFixed(0), r.postgresUs.toFixed(0), r.publisherUs.toFixed(0),
    `${fmt(r.rows)} (${fmt(r.rows - r.messages)})`,
  ]))
}

// Three machines, each with one Junction node and one Artemis node, PostgreSQL on a fourth: what
// one core per machine allows. Junction's CPU per message falls as its own rate rises (fuller
// batches, fewer wake-ups a message), and on three machines each node gets the rate one node gets
// here, so its figure is the run with the most messages per second per node; the broker's is the
// run with every Artemis node in use by the most Junction nodes.
const last = runs[runs.length - 1]!
const busiest = runs.reduce((a, b) => (b.rate / b.nodes > a.rate / a.nodes ? b : a))
const junctionUs = Object.values(busiest.nodeUs).reduce((a, b) => a + b, 0) / Object.keys(busiest.nodeUs).length
const artemisPerMachineUs = last.artemisUs / NODE_COUNT
const perMachineUs = junctionUs + artemisPerMachineUs
console.log(`\nProjection for 3 machines (one Junction node + one Artemis node each; PostgreSQL on its own machine): Junction from the ${busiest.nodes}-node run (${fmt(busiest.rate / busiest.nodes)} msg/s per node), Artemis and PostgreSQL from the ${last.nodes}-node run:`)
console.log(`- per machine and message: Junction ${junctionUs.toFixed(0)} µs + Artemis ${artemisPerMachineUs.toFixed(0)} µs (${pct(artemisPerMachineUs / perMachineUs)} of it the broker) -> ${fmt((3 * 1e6) / perMachineUs)} msg/s in total per core of each machine`)
console.log(`- PostgreSQL: ${last.postgresUs.toFixed(0)} µs per message (one row each, in the action's batches) -> ${fmt(1e6 / last.postgresUs)} msg/s per core of the database server`)
const limits = [['the broker', artemisPerMachineUs], ['Junction', junctionUs], ['PostgreSQL', (last.postgresUs * 3)]] as const
console.log(`- so, per core, the first limit is ${[...limits].sort((a, b) => b[1] - a[1]).map(([what]) => what).join(', then ')} (PostgreSQL counted for the three machines' messages together)`)
