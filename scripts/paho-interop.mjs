#!/usr/bin/env node
// Runs the Eclipse Paho MQTT interoperability suite (client_test5.py for MQTT 5, client_test.py
// for MQTT 3.1.1) against a broker, one test per Python subprocess (45 s each), and prints a
// pass/fail table. The suite is not in this repository (CI cannot download it): pass the path of
// a local copy of paho.mqtt.testing (or of its interoperability/ folder) as the argument or in
// PAHO_DIR.
//
//   node scripts/paho-interop.mjs PAHO_DIR                 a bare MqttBroker in this process (default)
//   node scripts/paho-interop.mjs PAHO_DIR --junction      `node dist/main.js` (npm run build first)
//   node scripts/paho-interop.mjs PAHO_DIR --mosquitto     a private Mosquitto (the reference score)
//   node scripts/paho-interop.mjs PAHO_DIR --port 1883     a broker already listening on 127.0.0.1
//   options: --suite 5|3 (default both), --only NAME (substring of test names), --host H
//
// Special setup the suite needs, done by every mode started here: subscribing to
// `test/nosubscribe` must be refused (an ACL rule, or a DeviceAccess denying it), and
// test_server_keep_alive expects a Server Keep Alive of 60 s for a client asking 120 s.
// Mosquitto's acl_file does not check subscriptions, so test_subscribe_failure fails there.
// It exits 0 whatever the score.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, connect as netConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const TEST_TIMEOUT_MS = 45_000
const NOSUBSCRIBE = 'test/nosubscribe'
const SERVER_KEEP_ALIVE = 60

function parseArgs(argv) {
  const opts = { mode: 'bare', host: '127.0.0.1', port: undefined, suites: ['5', '3'], only: undefined, dir: process.env.PAHO_DIR }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--junction') opts.mode = 'junction'
    else if (a === '--mosquitto') opts.mode = 'mosquitto'
    else if (a === '--bare') opts.mode = 'bare'
    else if (a === '--port') { opts.port = Number(argv[++i]); opts.mode = 'external' }
    else if (a === '--host') opts.host = argv[++i]
    else if (a === '--suite') opts.suites = [argv[++i]]
    else if (a === '--only') opts.only = argv[++i]
    else if (a === '--help' || a === '-h') { console.log(readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(1, 16).join('\n')); process.exit(0) }
    else if (!a.startsWith('--')) opts.dir = a
    else { console.error(`unknown option ${a}`); process.exit(2) }
  }
  if (!opts.dir) { console.error('usage: node scripts/paho-interop.mjs PAHO_DIR [--junction|--mosquitto|--port N]  (or set PAHO_DIR)'); process.exit(2) }
  const dir = resolve(opts.dir)
  opts.dir = existsSync(join(dir, 'client_test5.py')) ? dir : join(dir, 'interoperability')
  if (!existsSync(join(opts.dir, 'client_test5.py'))) { console.error(`no client_test5.py in ${dir} or ${dir}/interoperability`); process.exit(2) }
  return opts
}

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer().listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => res(port)) })
    srv.on('error', rej)
  })
}

function accepts(host, port) {
  return new Promise((res) => {
    const s = netConnect({ host, port })
    s.once('connect', () => { s.destroy(); res(true) })
    s.once('error', () => { s.destroy(); res(false) })
  })
}

async function waitForPort(host, port, what, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs
  while (!(await accepts(host, port))) {
    if (Date.now() > end) throw new Error(`${what} did not listen on ${host}:${port}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** The test names of a suite file, in file order (methods of class Test named test*). */
function testNames(file) {
  return [...readFileSync(file, 'utf8').matchAll(/^ {4}def (test\w*)\(self\)/gm)].map((m) => m[1])
}

// The suite's own __main__ hands its whole argv to unittest (which then chokes on -h/-p), and
// client_test.py sets its topics only there; this driver sets the module's globals as __main__
// would and runs exactly one test.
const DRIVER = `
import sys, unittest, importlib, logging
d, mod, host, port, test = sys.argv[1:6]
sys.path.insert(0, d)
m = importlib.import_module(mod)
base = ["TopicA", "TopicA/B", "Topic/C", "TopicA/C", "/TopicA"]
wild = ["TopicA/+", "+/C", "#", "/#", "/+", "+/+", "TopicA/#"]
m.host = host
m.port = int(port)
m.topic_prefix = mod + "/"
m.topics = tuple(base)
m.wildtopics = tuple(wild)
m.nosubscribe_topics = ("${NOSUBSCRIBE}",)
logging.getLogger().setLevel(logging.ERROR)
r = unittest.main(module=m, argv=["paho", "Test." + test], exit=False).result
sys.exit(0 if r.wasSuccessful() and r.testsRun == 1 else 1)
`

function runOne(dir, mod, host, port, test) {
  return new Promise((res) => {
    const started = Date.now()
    const child = spawn('python3', ['-c', DRIVER, dir, mod, host, String(port), test], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => { out += d })
    child.stderr.on('data', (d) => { out += d })
    let timedOut = false
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL') }, TEST_TIMEOUT_MS)
    child.on('close', (code) => {
      clearTimeout(timer)
      const seconds = (Date.now() - started) / 1000
      const why = timedOut ? `timeout after ${TEST_TIMEOUT_MS / 1000} s` : code === 0 ? '' : failureLine(out)
      res({ test, ok: !timedOut && code === 0, seconds, why, out })
    })
  })
}

/** The most telling line of a failed test's output (the assertion or the exception). */
function failureLine(out) {
  const lines = out.split('\n').map((l) => l.trim()).filter(Boolean)
  const hit = lines.findLast((l) => /Error|assert|Exception/i.test(l) && !l.startsWith('File ') && !l.startsWith('Traceback'))
  return (hit ?? lines.at(-1) ?? '').slice(0, 140)
}

// --- brokers this script can start -------------------------------------------------------------

async function startMosquitto() {
  const dir = mkdtempSync(join(tmpdir(), 'paho-mosquitto-'))
  const port = await freePort()
  writeFileSync(join(dir, 'acl'), `topic deny ${NOSUBSCRIBE}\ntopic readwrite #\n`)
  const conf = [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', `acl_file ${join(dir, 'acl')}`,
    `max_keepalive ${SERVER_KEEP_ALIVE}`, `log_dest file ${join(dir, 'log')}`]
  if (process.getuid?.() === 0) conf.push('user root')
  writeFileSync(join(dir, 'mosquitto.conf'), conf.join('\n') + '\n')
  const child = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' })
  await waitForPort('127.0.0.1', port, 'mosquitto')
  return { name: `private Mosquitto (${await mosquittoVersion()})`, port, stop: async () => { child.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }) } }
}

function mosquittoVersion() {
  return new Promise((res) => {
    const c = spawn('mosquitto', ['-h'], { stdio: ['ignore', 'pipe', 'ignore'] })
    let out = ''
    c.stdout.on('data', (d) => { out += d })
    c.on('close', () => res(/version ([\d.]+)/.exec(out)?.[1] ?? 'version unknown'))
  })
}

async function startBare() {
  const { register } = await import('tsx/esm/api')
  register()
  const { MqttBroker } = await import(join(root, 'src/broker/mqtt-broker.ts'))
  const { DEFAULT_BROKER_LIMITS } = await import(join(root, 'src/broker/broker-types.ts'))
  const access = {
    authenticate: async () => ({ ok: true, anonymous: true, superuser: false }),
    permissions: () => ({ canPublish: () => true, canSubscribe: (filter) => filter !== NOSUBSCRIBE }),
  }
  const broker = new MqttBroker({ limits: { ...DEFAULT_BROKER_LIMITS, allowAnonymous: true, serverKeepAlive: SERVER_KEEP_ALIVE }, access })
  const server = createServer((s) => broker.handle(s, { transport: 'tcp', peerhost: s.remoteAddress, peerport: s.remotePort }))
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    name: 'bare MqttBroker (src/broker/mqtt-broker.ts)',
    port: server.address().port,
    stop: async () => { server.close(); await broker.close() },
  }
}

async function startJunction() {
  const main = join(root, 'dist/main.js')
  if (!existsSync(main)) throw new Error('dist/main.js is missing: run `npm run build` first')
  const dataDir = mkdtempSync(join(tmpdir(), 'paho-junction-'))
  const [mqttPort, httpPort] = [await freePort(), await freePort()]
  const key = 'paho-interop'
  const secret = 'paho-interop-secret-0123456789'
  const child = spawn(process.execPath, [main], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env, JUNCTION_DATA_DIR: dataDir, JUNCTION_HTTP_HOST: '127.0.0.1', JUNCTION_HTTP_PORT: String(httpPort),
      JUNCTION_MQTT_HOST: '127.0.0.1', JUNCTION_MQTT_PORT: String(mqttPort), JUNCTION_MQTT_ALLOW_ANONYMOUS: 'true',
      JUNCTION_API_KEY: key, JUNCTION_API_SECRET: secret, JUNCTION_LOG_LEVEL: 'warn',
    },
  })
  let stderr = ''
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000) })
  let exited
  child.once('exit', (code, signal) => { exited = `Junction exited during the run (code ${code}, signal ${signal}); its last stderr:\n${stderr}` })
  const closed = new Promise((r) => child.once('close', r))
  const stop = async () => { child.kill('SIGTERM'); await closed; rmSync(dataDir, { recursive: true, force: true }) }
  try {
    await waitForPort('127.0.0.1', httpPort, 'Junction API')
    await waitForPort('127.0.0.1', mqttPort, 'Junction MQTT')
  } catch (err) {
    await stop()
    throw new Error(`${err.message}\n${stderr}`)
  }
  const authorization = `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`
  const notes = [await denyNosubscribe(httpPort, authorization), await setServerKeepAlive(httpPort, authorization)]
  return { name: `Junction (dist/main.js, anonymous on; ${notes.join('; ')})`, port: mqttPort, stop, problem: () => exited }
}

/**
 * Denies subscriptions to test/nosubscribe with the deployment's ACL (PUT .../mqtt/acl, one
 * ordered document). Reported, not fatal, when the API refuses: only test_subscribe_failure then
 * fails.
 */
async function denyNosubscribe(httpPort, authorization) {
  const url = `http://127.0.0.1:${httpPort}/api/v1/deployments/default/mqtt/acl`
  // "eq": only the subscription to exactly this filter; a plain deny rule would also refuse every
  // filter sharing a topic with it, such as the "#" the suite subscribes to when cleaning up.
  const body = { rules: [{ who: 'all', action: 'subscribe', topic: `eq ${NOSUBSCRIBE}`, permission: 'deny' }], default: 'allow' }
  const res = await request('PUT', url, authorization, body)
  if (res.ok) return 'ACL rule set'
  return `ACL rule NOT set (PUT ${res.status} ${res.text.slice(0, 200)}): test_subscribe_failure is expected to fail`
}

/** Sets the deployment's Server Keep Alive (PATCH the deployment's `mqtt` settings); reported, not fatal. */
async function setServerKeepAlive(httpPort, authorization) {
  const url = `http://127.0.0.1:${httpPort}/api/v1/deployments/default`
  const res = await request('PATCH', url, authorization, { mqtt: { serverKeepAlive: SERVER_KEEP_ALIVE } })
  if (res.ok) return `serverKeepAlive ${SERVER_KEEP_ALIVE}`
  return `serverKeepAlive NOT set (PATCH ${res.status} ${res.text.slice(0, 200)}): test_server_keep_alive is expected to fail`
}

async function request(method, url, authorization, body) {
  try {
    const res = await fetch(url, { method, headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { ok: res.ok, status: res.status, text: await res.text() }
  } catch (err) {
    return { ok: false, status: 0, text: String(err) }
  }
}

// --- main -----------------------------------------------------------------------------------------

const opts = parseArgs(process.argv.slice(2))
let broker
if (opts.mode === 'external') broker = { name: `broker at ${opts.host}:${opts.port}`, port: opts.port, stop: async () => {} }
else if (opts.mode === 'mosquitto') broker = await startMosquitto()
else if (opts.mode === 'junction') broker = await startJunction()
else broker = await startBare()

const suites = [
  { id: '5', file: 'client_test5', title: 'MQTT 5 (client_test5.py)' },
  { id: '3', file: 'client_test', title: 'MQTT 3.1.1 (client_test.py)' },
].filter((s) => opts.suites.includes(s.id))

console.log(`Paho interoperability suite against ${broker.name} on ${opts.host}:${broker.port}`)
const totals = { passed: 0, failed: 0 }
try {
  for (const suite of suites) {
    const names = testNames(join(opts.dir, `${suite.file}.py`)).filter((n) => !opts.only || n.includes(opts.only))
    console.log(`\n${suite.title}: ${names.length} tests`)
    let passed = 0
    for (const name of names) {
      const r = await runOne(opts.dir, suite.file, opts.host, broker.port, name)
      if (r.ok) passed++
      if (process.env.PAHO_VERBOSE && !r.ok) console.log(r.out)
      console.log(`  ${r.ok ? 'PASS' : 'FAIL'}  ${name.padEnd(36)} ${r.seconds.toFixed(1).padStart(5)} s  ${r.why}`)
    }
    console.log(`  ${suite.title}: ${passed}/${names.length} passed`)
    totals.passed += passed
    totals.failed += names.length - passed
  }
} finally {
  // A broker that died explains every failure after it: say so before stopping it.
  const problem = broker.problem?.()
  if (problem) console.log(`\n${problem}`)
  await broker.stop()
}
console.log(`\n${totals.passed} passed, ${totals.failed} failed`)
process.exit(0)
