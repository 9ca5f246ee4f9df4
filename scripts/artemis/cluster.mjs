#!/usr/bin/env node
// A 3-node Apache ActiveMQ Artemis cluster on loopback, for the tests of Junction against a
// clustered MQTT broker (docs/cluster.md). Idempotent: nodes already running are reused.
//
//   node scripts/artemis/cluster.mjs          start (or reuse) the cluster; prints
//                                             ARTEMIS_MQTT=mqtt://127.0.0.1:2883,... (one per node)
//   node scripts/artemis/cluster.mjs stop     stop the nodes this script started
//   node scripts/artemis/cluster.mjs stop 2   stop node 2 only (`start` brings it back)
//   node scripts/artemis/cluster.mjs status   which nodes answer
//
// The distribution is `org.apache.activemq:apache-artemis:2.40.0` (classifier bin, tar.gz),
// resolved from Maven Central by mvn into $JUNCTION_TEST_ARTEMIS_DIR (default <tmpdir>/junction-artemis)
// and unpacked there once; nothing is downloaded from anywhere else. The directory is the machine's,
// not the checkout's, so that every checkout (and CI's fresh clone) finds and reuses the cluster
// another one started, instead of taking its ports for a foreign program. Each node is an instance
// made by `artemis create --clustered --staticCluster` in <dir>/node<N> with port offset $JUNCTION_TEST_ARTEMIS_PORT_OFFSET
// (1000) + N - 1: MQTT on 1883 + offset (2883, 2884, 2885), the core acceptor (cluster traffic)
// on 61616 + offset; no web console, AMQP, STOMP or HornetQ acceptors. Anonymous clients are
// allowed (loopback only). A node's JVM runs detached; its pid is in node<N>/artemis.pid and its
// output in node<N>/artemis.log.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const ARTEMIS_VERSION = '2.40.0'
export const ROOT = new URL('../../', import.meta.url).pathname
export const NODE_COUNT = 3
const CACHE = process.env.JUNCTION_TEST_ARTEMIS_DIR || join(tmpdir(), 'junction-artemis')
const HOME = join(CACHE, `apache-artemis-${ARTEMIS_VERSION}`)
const TARBALL = join(CACHE, `apache-artemis-${ARTEMIS_VERSION}-bin.tar.gz`)
const BASE_OFFSET = Number(process.env.JUNCTION_TEST_ARTEMIS_PORT_OFFSET || 1000)
const CLUSTER_USER = 'junction-cluster'
const CLUSTER_PASSWORD = 'junction-cluster-secret'

/** Ports of node `n` (1-based). */
export function nodePorts(n) {
  const offset = BASE_OFFSET + n - 1
  return { offset, mqtt: 1883 + offset, core: 61616 + offset }
}

export function mqttUrls() {
  return Array.from({ length: NODE_COUNT }, (_, i) => `mqtt://127.0.0.1:${nodePorts(i + 1).mqtt}`)
}

const nodeDir = (n) => join(CACHE, `node${n}`)

/** Resolves the distribution from Maven Central (first run only) and unpacks it. */
export function ensureDistribution({ log = console.log } = {}) {
  if (existsSync(join(HOME, 'bin/artemis'))) return
  mkdirSync(CACHE, { recursive: true })
  if (!existsSync(TARBALL)) {
    log(`Downloading Apache ActiveMQ Artemis ${ARTEMIS_VERSION} from Maven Central into ${CACHE} (first run only)...`)
    const r = spawnSync('mvn', ['-B', '-q', '-Dstyle.color=never', 'org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy',
      `-Dartifact=org.apache.activemq:apache-artemis:${ARTEMIS_VERSION}:tar.gz:bin`, `-DoutputDirectory=${CACHE}`], { stdio: 'inherit', cwd: ROOT })
    if (r.error) throw new Error(`could not run mvn: ${r.error.message} (Maven 3 must be on PATH)`)
    if (r.status !== 0 || !existsSync(TARBALL)) throw new Error(`mvn dependency:copy of apache-artemis failed (exit ${r.status})`)
  }
  const t = spawnSync('tar', ['xzf', TARBALL, '-C', CACHE], { stdio: 'inherit' })
  if (t.status !== 0) throw new Error(`unpacking ${TARBALL} failed (exit ${t.status})`)
}

/** `artemis create` for node n, once; the instance keeps its journal between runs. */
function ensureInstance(n) {
  const dir = nodeDir(n)
  if (existsSync(join(dir, 'bin/artemis'))) return
  const others = Array.from({ length: NODE_COUNT }, (_, i) => i + 1).filter((m) => m !== n)
    .map((m) => `tcp://127.0.0.1:${nodePorts(m).core}`).join(',')
  const r = spawnSync(join(HOME, 'bin/artemis'), ['create', dir,
    '--silent', '--force', '--name', `artemis-${n}`, '--host', '127.0.0.1', '--port-offset', String(nodePorts(n).offset),
    '--user', 'admin', '--password', 'admin', '--allow-anonymous',
    '--clustered', '--staticCluster', others, '--cluster-user', CLUSTER_USER, '--cluster-password', CLUSTER_PASSWORD,
    // ON_DEMAND: a message goes to the node whose queue has a consumer, so a shared subscription's
    // members on different nodes split what any node receives.
    '--message-load-balancing', 'ON_DEMAND', '--max-hops', '1',
    '--no-web', '--no-amqp-acceptor', '--no-stomp-acceptor', '--no-hornetq-acceptor',
    '--nio', '--no-fsync', '--no-autotune',
  ], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`artemis create node${n} failed (exit ${r.status}): ${r.stderr || r.stdout}`)
  // Redistribute at once: a shared subscription's queue left without a consumer on one node
  // hands its messages to the nodes that still have one.
  const brokerXml = join(dir, 'etc/broker.xml')
  const xml = readFileSync(brokerXml, 'utf8')
  writeFileSync(brokerXml, xml.replace('<address-setting match="#">', '<address-setting match="#">\n            <redistribution-delay>0</redistribution-delay>'))
  // A small heap, started small: three nodes share a 2-core test machine (`create` sets -Xms512M
  // whatever --java-memory says, which the JVM refuses with a smaller -Xmx).
  const profile = join(dir, 'etc/artemis.profile')
  writeFileSync(profile, readFileSync(profile, 'utf8').replace(/-Xms\S+ -Xmx\S+/, '-Xms64M -Xmx384M'))
}

/** Pid of node n's JVM when it is alive and is that node's broker. */
export function runningPid(n) {
  const file = join(nodeDir(n), 'artemis.pid')
  if (!existsSync(file)) return undefined
  const pid = Number(readFileSync(file, 'utf8').trim())
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  try {
    process.kill(pid, 0)
  } catch (err) {
    if (err.code !== 'EPERM') return undefined
  }
  try {
    // Guard against pid reuse: the process must be this node's broker.
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(nodeDir(n))) return undefined
  } catch {
    // No /proc: trust the pid.
  }
  return pid
}

export function portAnswers(port, host = '127.0.0.1', timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (ok) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(ok)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

function startNode(n) {
  const dir = nodeDir(n)
  const out = openSync(join(dir, 'artemis.log'), 'a')
  const child = spawn(join(dir, 'bin/artemis'), ['run'], { cwd: dir, detached: true, stdio: ['ignore', out, out] })
  child.on('error', () => {})
  child.unref()
  writeFileSync(join(dir, 'artemis.pid'), `${child.pid}\n`)
  return child.pid
}

/** Cluster bridges node n reports connected in its log since `fromByte`. */
function bridgesUp(n, fromByte) {
  try {
    const log = readFileSync(join(nodeDir(n), 'artemis.log'), 'utf8').slice(fromByte)
    return (log.match(/AMQ221027/g) ?? []).length
  } catch {
    return 0
  }
}

const logSize = (n) => {
  try {
    return readFileSync(join(nodeDir(n), 'artemis.log')).length
  } catch {
    return 0
  }
}

/**
 * Starts the nodes that are not running and waits until every node's MQTT port answers and the
 * started nodes see their peers (their cluster bridges are connected). Returns the MQTT URLs.
 */
export async function startCluster({ log = console.log, timeoutMs = 90_000 } = {}) {
  ensureDistribution({ log })
  const t0 = Date.now()
  const started = []
  for (let n = 1; n <= NODE_COUNT; n++) {
    const { mqtt } = nodePorts(n)
    if (runningPid(n) !== undefined) continue
    if (await portAnswers(mqtt)) throw new Error(`127.0.0.1:${mqtt} (Artemis node ${n}'s MQTT port) is taken by another program; free it or set JUNCTION_TEST_ARTEMIS_PORT_OFFSET`)
    ensureInstance(n)
    const from = logSize(n)
    started.push({ n, from, pid: startNode(n) })
  }
  if (started.length > 0) log(`Starting Artemis ${ARTEMIS_VERSION} node(s) ${started.map((s) => s.n).join(', ')} in ${CACHE}`)
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ports = await Promise.all(Array.from({ length: NODE_COUNT }, (_, i) => portAnswers(nodePorts(i + 1).mqtt)))
    // A node restarted alone connects one bridge to each running peer.
    const bridges = started.every((s) => bridgesUp(s.n, s.from) >= NODE_COUNT - 1)
    if (ports.every(Boolean) && bridges) break
    for (const s of started) {
      if (runningPid(s.n) === undefined) throw new Error(`Artemis node ${s.n} exited while starting; see ${join(nodeDir(s.n), 'artemis.log')}`)
    }
    if (Date.now() > deadline) throw new Error(`the Artemis cluster was not up within ${timeoutMs / 1000} s; see ${CACHE}/node*/artemis.log`)
    await new Promise((r) => setTimeout(r, 250))
  }
  if (started.length > 0) log(`Artemis cluster ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  else log('Artemis cluster already running')
  return mqttUrls()
}

/** Stops node n (SIGTERM, then SIGKILL after 20 s); resolves when its JVM is gone. */
export async function stopNode(n) {
  const pid = runningPid(n)
  if (pid === undefined) return false
  process.kill(pid, 'SIGTERM')
  const deadline = Date.now() + 20_000
  while (runningPid(n) !== undefined) {
    if (Date.now() > deadline) process.kill(pid, 'SIGKILL')
    await new Promise((r) => setTimeout(r, 200))
  }
  rmSync(join(nodeDir(n), 'artemis.pid'), { force: true })
  return true
}

export async function stopCluster({ log = console.log } = {}) {
  const stopped = await Promise.all(Array.from({ length: NODE_COUNT }, (_, i) => stopNode(i + 1)))
  log(stopped.some(Boolean) ? `Stopped Artemis node(s) ${stopped.flatMap((s, i) => (s ? [i + 1] : [])).join(', ')}` : 'No Artemis node was running')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const command = process.argv[2] ?? 'start'
  try {
    if (command === 'start') {
      const urls = await startCluster()
      console.log(`ARTEMIS_MQTT=${urls.join(',')}`)
    } else if (command === 'stop' && process.argv[3] !== undefined) {
      const n = Number(process.argv[3])
      if (!Number.isInteger(n) || n < 1 || n > NODE_COUNT) throw new Error(`no node "${process.argv[3]}": nodes are 1 to ${NODE_COUNT}`)
      console.log((await stopNode(n)) ? `Stopped Artemis node ${n}` : `Artemis node ${n} was not running`)
    } else if (command === 'stop') {
      await stopCluster()
    } else if (command === 'status') {
      for (let n = 1; n <= NODE_COUNT; n++) {
        const { mqtt } = nodePorts(n)
        console.log(`node ${n}: mqtt://127.0.0.1:${mqtt} ${(await portAnswers(mqtt)) ? 'answers' : 'down'}${runningPid(n) ? ` (pid ${runningPid(n)})` : ''}`)
      }
    } else {
      console.error(`unknown command "${command}"; use start, stop or status`)
      process.exit(2)
    }
  } catch (err) {
    console.error(`artemis cluster: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  }
}
