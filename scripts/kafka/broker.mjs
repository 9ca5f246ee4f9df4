// A single-node KRaft Apache Kafka broker (combined broker + controller) for tests, run from the
// jars Maven resolves into .cache/kafka/libs (see pom.xml beside this file). Used by
// scripts/test-services.mjs for the shared broker and by test/support/kafka.ts for private
// brokers that outage tests stop and start. Plain Node ESM; kafkajs (already a project
// dependency) is used only to check that the broker answers requests.
//
// Layout of a broker directory:
//   server.properties, log4j.properties,
//   tools-log4j.properties                written on every start
//   data/                                 log.dirs (formatted once with kafka.tools.StorageTool)
//   server.log                            everything the JVM prints (log4j goes to stdout)
//   kafka.pid                             pid of the running JVM
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { connect } from 'node:net'
import { join } from 'node:path'

export const KAFKA_VERSION = '3.9.1'
export const ROOT = new URL('../../', import.meta.url).pathname
export const POM = join(ROOT, 'scripts/kafka/pom.xml')
export const DEFAULT_LIBS_DIR = join(ROOT, '.cache/kafka/libs')
export const SASL_USER = 'junction'
export const SASL_PASSWORD = 'junction-secret'

/** True when the Kafka jars are already in `libsDir`. */
export function hasJars(libsDir = DEFAULT_LIBS_DIR) {
  if (!existsSync(libsDir)) return false
  const names = readdirSync(libsDir)
  return names.includes(`kafka_2.13-${KAFKA_VERSION}.jar`) && names.some((n) => n.startsWith('slf4j-reload4j'))
}

/**
 * Resolves the jars from Maven Central into `libsDir` unless they are there. Maven's own output
 * shows the download progress. Throws when Maven fails.
 */
export function ensureJars(libsDir = DEFAULT_LIBS_DIR, { log = console.log } = {}) {
  if (hasJars(libsDir)) return false
  log(`Downloading Apache Kafka ${KAFKA_VERSION} jars from Maven Central into ${libsDir} (first run only)...`)
  mkdirSync(libsDir, { recursive: true })
  const r = spawnSync('mvn', ['-B', '-Dstyle.color=never', '-f', POM, 'dependency:copy-dependencies', `-DoutputDirectory=${libsDir}`], {
    stdio: 'inherit', cwd: ROOT,
  })
  if (r.error) throw new Error(`could not run mvn: ${r.error.message} (Maven 3 must be on PATH)`)
  if (r.status !== 0 || !hasJars(libsDir)) throw new Error(`mvn dependency:copy-dependencies failed (exit ${r.status})`)
  return true
}

/** Pid from `dir/kafka.pid` when that process is alive and is a Kafka JVM; else undefined. */
export function runningPid(dir) {
  const file = join(dir, 'kafka.pid')
  if (!existsSync(file)) return undefined
  const pid = Number(readFileSync(file, 'utf8').trim())
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  if (!isAlive(pid)) return undefined
  try {
    // Guard against pid reuse: the process must be our broker.
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    if (!cmdline.includes('kafka.Kafka')) return undefined
  } catch {
    // No /proc (not Linux): trust the pid.
  }
  return pid
}

function isAlive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return err.code === 'EPERM'
  }
}

/** Resolves true when a TCP connect to host:port succeeds within timeoutMs. */
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

/** A PEM value inline in a properties file (Java reads `\n` as a newline). */
const inlinePem = (pem) => pem.trim().replace(/\r?\n/g, '\\n')

/**
 * `ssl` (optional): `{ port, certPem, keyPem }` adds an SSL listener with that certificate and
 * unencrypted PKCS#8 key, inline (Kafka's PEM key store; a key file would need a key password).
 */
function serverProperties({ dir, port, saslPort, controllerPort, ssl, autoCreateTopics = true }) {
  const jaasPlain = `org.apache.kafka.common.security.plain.PlainLoginModule required user_${SASL_USER}="${SASL_PASSWORD}";`
  const sslListener = ssl ? `,SSL://127.0.0.1:${ssl.port}` : ''
  return [
    '# Written by scripts/kafka/broker.mjs on every start; edits are lost.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${saslPort},CONTROLLER://127.0.0.1:${controllerPort}${sslListener}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${saslPort}${sslListener}`,
    `listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT${ssl ? ',SSL:SSL' : ''}`,
    ...(ssl ? [
      'listener.name.ssl.ssl.keystore.type=PEM',
      `listener.name.ssl.ssl.keystore.certificate.chain=${inlinePem(ssl.certPem)}`,
      `listener.name.ssl.ssl.keystore.key=${inlinePem(ssl.keyPem)}`,
    ] : []),
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256',
    'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256',
    `listener.name.sasl_plaintext.plain.sasl.jaas.config=${jaasPlain}`,
    'listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    `log.dirs=${join(dir, 'data')}`,
    'num.partitions=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    `auto.create.topics.enable=${autoCreateTopics}`,
    'delete.topic.enable=true',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=5',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'log.retention.hours=24',
    'log.segment.bytes=67108864',
    'num.network.threads=2',
    'num.io.threads=4',
    '',
  ].join('\n')
}

const LOG4J = [
  '# Written by scripts/kafka/broker.mjs. The JVM\'s stdout goes to server.log.',
  'log4j.rootLogger=INFO, stdout',
  'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
  'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
  'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
  'log4j.logger.kafka=INFO',
  'log4j.logger.org.apache.kafka=INFO',
  'log4j.logger.kafka.request.logger=WARN',
  'log4j.logger.state.change.logger=WARN',
  'log4j.logger.kafka.log.LogCleaner=WARN',
  '',
].join('\n')

/** For StorageTool: warnings and errors only, on stderr. */
const TOOLS_LOG4J = [
  'log4j.rootLogger=WARN, stderr',
  'log4j.appender.stderr=org.apache.log4j.ConsoleAppender',
  'log4j.appender.stderr.Target=System.err',
  'log4j.appender.stderr.layout=org.apache.log4j.PatternLayout',
  'log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n',
  '',
].join('\n')

function javaArgs(dir, libsDir, mainClass, args, { heap = ['-Xmx512m', '-Xms256m'], log4j = 'log4j.properties' } = {}) {
  return [
    ...heap,
    '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:InitiatingHeapOccupancyPercent=35',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${join(dir, log4j)}`,
    `-Dkafka.logs.dir=${dir}`,
    '-cp', `${libsDir}/*`,
    mainClass, ...args,
  ]
}

/**
 * Starts a broker in `dir` (created if needed; storage formatted on first use, with the SCRAM
 * user) and returns its pid at once; call `waitReady` next. The JVM is detached and unref'd, so
 * it outlives this process; stop it with `stopBroker`.
 */
export function startBroker({ dir, port, saslPort, controllerPort, ssl, autoCreateTopics = true, libsDir = DEFAULT_LIBS_DIR }) {
  if (!hasJars(libsDir)) throw new Error(`Kafka jars missing in ${libsDir}; run node scripts/test-services.mjs`)
  mkdirSync(dir, { recursive: true })
  const propsFile = join(dir, 'server.properties')
  writeFileSync(propsFile, serverProperties({ dir, port, saslPort, controllerPort, ssl, autoCreateTopics }))
  writeFileSync(join(dir, 'log4j.properties'), LOG4J)
  writeFileSync(join(dir, 'tools-log4j.properties'), TOOLS_LOG4J)

  if (!existsSync(join(dir, 'data', 'meta.properties'))) {
    // Kafka's Uuid text form; like Kafka's own, never starting with '-' (it would read as an option).
    let clusterId
    do clusterId = randomBytes(16).toString('base64url')
    while (clusterId.startsWith('-'))
    const f = spawnSync('java', javaArgs(dir, libsDir, 'kafka.tools.StorageTool', [
      'format', '-t', clusterId, '-c', propsFile, '--ignore-formatted',
      '--add-scram', `SCRAM-SHA-256=[name=${SASL_USER},password=${SASL_PASSWORD}]`,
    ], { heap: ['-Xmx256m'], log4j: 'tools-log4j.properties' }), { encoding: 'utf8' })
    if (f.status !== 0) {
      throw new Error(`kafka.tools.StorageTool format failed (exit ${f.status}):\n${f.stdout ?? ''}${f.stderr ?? ''}${f.error?.message ?? ''}`)
    }
  }

  const out = openSync(join(dir, 'server.log'), 'a')
  try {
    const child = spawn('java', javaArgs(dir, libsDir, 'kafka.Kafka', [propsFile]), {
      cwd: dir, detached: true, stdio: ['ignore', out, out],
    })
    child.on('error', () => {}) // a failed spawn shows as a missing pid below
    if (child.pid === undefined) throw new Error('could not start java (is Java 17 on PATH?)')
    child.unref()
    writeFileSync(join(dir, 'kafka.pid'), `${child.pid}\n`)
    return child.pid
  } finally {
    closeSync(out)
  }
}

let kafkajs
function loadKafkajs() {
  kafkajs ??= createRequire(join(ROOT, 'package.json'))('kafkajs')
  return kafkajs
}

/** One metadata round trip (kafkajs admin describeCluster) on each listener; throws on failure. */
export async function checkBroker({ port, saslPort }) {
  const { Kafka, logLevel } = loadKafkajs()
  const targets = [{ port }]
  if (saslPort) targets.push({ port: saslPort, sasl: { mechanism: 'scram-sha-256', username: SASL_USER, password: SASL_PASSWORD } })
  for (const t of targets) {
    const admin = new Kafka({
      clientId: 'junction-test-services', brokers: [`127.0.0.1:${t.port}`], logLevel: logLevel.NOTHING,
      connectionTimeout: 2000, requestTimeout: 3000, retry: { retries: 0 }, ...(t.sasl ? { sasl: t.sasl } : {}),
    }).admin()
    try {
      await admin.connect()
      const c = await admin.describeCluster()
      if (c.brokers.length === 0) throw new Error('no brokers in metadata yet')
    } finally {
      await admin.disconnect().catch(() => {})
    }
  }
}

/**
 * Waits until the broker answers metadata requests on both listeners. Fails early when the JVM
 * exits, and with the tail of server.log on timeout. `onTick` is called about once a second
 * (progress dots).
 */
export async function waitReady({ dir, port, saslPort, pid, timeoutMs = 120_000, onTick = () => {} }) {
  const deadline = Date.now() + timeoutMs
  let last
  let lastTick = Date.now()
  for (;;) {
    if (pid !== undefined && !isAlive(pid)) {
      throw new Error(`the Kafka JVM (pid ${pid}) exited during startup. Tail of ${join(dir, 'server.log')}:\n${logTail(dir)}`)
    }
    try {
      if (await portAnswers(port)) {
        await checkBroker({ port, saslPort })
        return
      }
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) {
      throw new Error(`Kafka on 127.0.0.1:${port} not ready after ${Math.round(timeoutMs / 1000)} s` +
        `${last ? ` (last error: ${last.message})` : ''}. Tail of ${join(dir, 'server.log')}:\n${logTail(dir)}`)
    }
    if (Date.now() - lastTick >= 1000) {
      onTick()
      lastTick = Date.now()
    }
    await sleep(250)
  }
}

/**
 * Stops the broker whose pid is in `dir/kafka.pid` and waits until the JVM has exited. SIGTERM
 * (a clean shutdown) by default, SIGKILL after `timeoutMs`, or at once with `{ kill: true }`.
 */
export async function stopBroker({ dir, kill = false, timeoutMs = 30_000 }) {
  const pid = runningPid(dir)
  if (pid === undefined) return
  signalGroup(pid, kill ? 'SIGKILL' : 'SIGTERM')
  const deadline = Date.now() + timeoutMs
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      signalGroup(pid, 'SIGKILL')
      await sleep(200)
      if (!isAlive(pid)) break
    }
    await sleep(100)
  }
  rmSync(join(dir, 'kafka.pid'), { force: true })
}

/** Synchronous SIGKILL, for process 'exit' handlers that must not leave JVMs behind. */
export function killBrokerSync(dir) {
  const pid = runningPid(dir)
  if (pid !== undefined) signalGroup(pid, 'SIGKILL')
}

function signalGroup(pid, sig) {
  // The JVM leads its own process group (detached spawn); it forks no children, but the group
  // signal also covers any.
  try {
    process.kill(-pid, sig)
  } catch {
    try {
      process.kill(pid, sig)
    } catch {
      // already gone
    }
  }
}

/** Last `lines` lines of dir/server.log. */
export function logTail(dir, lines = 40) {
  try {
    return readFileSync(join(dir, 'server.log'), 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no server.log)'
  }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms))
}
