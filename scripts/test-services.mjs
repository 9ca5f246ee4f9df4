#!/usr/bin/env node
// Makes sure the services the tests use are running, idempotently:
//  - Apache Kafka: a single-node KRaft broker from Maven Central jars under .cache/kafka, on
//    127.0.0.1 only. PLAINTEXT on $JUNCTION_TEST_KAFKA_PORT (9092); SASL_PLAINTEXT on
//    $JUNCTION_TEST_KAFKA_SASL_PORT (9093) with PLAIN and SCRAM-SHA-256 (junction /
//    junction-secret); controller on $JUNCTION_TEST_KAFKA_CONTROLLER_PORT (9094); broker dir
//    $JUNCTION_TEST_KAFKA_DIR (.cache/kafka; jars always in .cache/kafka/libs). Started
//    detached, so it keeps running after this script; stop it with
//    `kill $(cat .cache/kafka/kafka.pid)`.
//  - The machine's PostgreSQL, MariaDB, Redis, RabbitMQ, Mosquitto and NATS are only checked,
//    never started: a stopped one is named with the command that starts it.
// Prints KAFKA_BOOTSTRAP=... and KAFKA_SASL_BOOTSTRAP=... on success.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { KAFKA_VERSION, ROOT, ensureJars, logTail, portAnswers, runningPid, startBroker, waitReady } from './kafka/broker.mjs'

const dir = process.env.JUNCTION_TEST_KAFKA_DIR || join(ROOT, '.cache/kafka')
const port = envPort('JUNCTION_TEST_KAFKA_PORT', 9092)
const saslPort = envPort('JUNCTION_TEST_KAFKA_SASL_PORT', 9093)
const controllerPort = envPort('JUNCTION_TEST_KAFKA_CONTROLLER_PORT', 9094)
const pgPort = envPort('JUNCTION_TEST_PG_PORT', 5432)
const mysqlPort = envPort('JUNCTION_TEST_MYSQL_PORT', 3306)

function envPort(name, fallback) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    console.error(`${name}=${raw} is not a port number`)
    process.exit(2)
  }
  return n
}

async function kafka() {
  const t0 = Date.now()
  // Tests start private brokers from these jars, even when the shared broker on the port was
  // started from another checkout.
  ensureJars()
  let started = false
  if (!(await portAnswers(port))) {
    // One starter at a time: two first runs would both format the storage.
    const release = await startLock()
    try {
      if (!(await portAnswers(port))) {
        await startOrWait(t0)
        started = true
      }
    } finally {
      release()
    }
  }
  if (!started) {
    const pid = runningPid(dir)
    console.log(`Kafka already running on 127.0.0.1:${port}${pid ? ` (pid ${pid})` : ''}`)
  }
  console.log(`KAFKA_BOOTSTRAP=127.0.0.1:${port}`)
  console.log(`KAFKA_SASL_BOOTSTRAP=127.0.0.1:${saslPort}`)
}

async function startOrWait(t0) {
  const pid = runningPid(dir)
  if (pid !== undefined) {
    // A JVM from an earlier run that has not finished starting: wait for it rather than start a second.
    process.stdout.write(`Kafka (pid ${pid}) is starting; waiting`)
    await waitReady({ dir, port, saslPort, pid, onTick: () => process.stdout.write('.') })
    process.stdout.write(` ready in ${secs(t0)}\n`)
    return
  }
  for (const [name, p] of [['SASL', saslPort], ['controller', controllerPort]]) {
    if (await portAnswers(p)) throw new Error(`the ${name} port 127.0.0.1:${p} is taken by another program; free it or set ${name === 'SASL' ? 'JUNCTION_TEST_KAFKA_SASL_PORT' : 'JUNCTION_TEST_KAFKA_CONTROLLER_PORT'}`)
  }
  ensureJars()
  const t1 = Date.now()
  process.stdout.write(`Starting Kafka ${KAFKA_VERSION} (KRaft) in ${dir}, log ${join(dir, 'server.log')}`)
  const started = startBroker({ dir, port, saslPort, controllerPort })
  await waitReady({ dir, port, saslPort, pid: started, onTick: () => process.stdout.write('.') })
  process.stdout.write(` ready in ${secs(t1)} (pid ${started})\n`)
}

/** Takes dir/start.lock (waiting while another live run holds it); returns its release. */
async function startLock() {
  mkdirSync(dir, { recursive: true })
  const lock = join(dir, 'start.lock')
  const deadline = Date.now() + 180_000
  let waiting = false
  for (;;) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' })
      if (waiting) process.stdout.write('\n')
      return () => rmSync(lock, { force: true })
    } catch (err) {
      if (err.code !== 'EEXIST') throw err
    }
    const holder = Number(readFileSync(lock, 'utf8').trim())
    if (!isAlive(holder)) {
      rmSync(lock, { force: true }) // left by a run that died
      continue
    }
    if (Date.now() > deadline) throw new Error(`${lock} is held by pid ${holder} for too long`)
    if (!waiting) process.stdout.write(`Another run (pid ${holder}) is starting Kafka; waiting`)
    else process.stdout.write('.')
    waiting = true
    await new Promise((r) => setTimeout(r, 1000))
  }
}

function isAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return err.code === 'EPERM'
  }
}

/**
 * The machine's shared servers the tests talk to: only checked, never started or stopped here (a
 * test that needs an outage starts a private one). The commands are the ones the machine starts
 * them with.
 */
const SHARED_SERVICES = [
  ['PostgreSQL', pgPort, 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start'],
  ['MariaDB', mysqlPort, 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd'],
  ['Redis', envPort('JUNCTION_TEST_REDIS_PORT', 6379), 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log'],
  ['RabbitMQ', envPort('JUNCTION_TEST_RABBITMQ_PORT', 5672), 'rabbitmq-server -detached'],
  ['Mosquitto', envPort('JUNCTION_TEST_MOSQUITTO_PORT', 1883), 'mosquitto -d -c /etc/mosquitto/mosquitto.conf'],
  ['NATS', envPort('JUNCTION_TEST_NATS_PORT', 4222), 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log'],
]

async function sharedService([name, servicePort, start]) {
  if (await portAnswers(servicePort)) {
    console.log(`${name} answers on 127.0.0.1:${servicePort}`)
    return true
  }
  console.error(`${name} does not answer on 127.0.0.1:${servicePort}. Start the machine's server with:\n  ${start}`)
  return false
}

function secs(since) {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`
}

let ok = true
try {
  await kafka()
} catch (err) {
  process.stdout.write('\n')
  console.error(`Kafka failed to start: ${err instanceof Error ? err.message : String(err)}`)
  const alreadyShown = err instanceof Error && err.message.includes('server.log')
  if (!alreadyShown && existsSync(join(dir, 'server.log'))) console.error(`Tail of ${join(dir, 'server.log')}:\n${logTail(dir)}`)
  ok = false
}
for (const service of SHARED_SERVICES) if (!(await sharedService(service))) ok = false
process.exit(ok ? 0 : 1)
