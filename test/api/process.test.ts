// Junction as a process, the way `npm start` runs it: settings from JUNCTION_* variables, the
// generated admin password printed once, real HTTP, clean exit on SIGTERM.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { after, describe, it } from 'node:test'
import { freePort } from '../support/connector-battery.js'
import { tempDataDir } from '../support/junction.js'

const root = new URL('../..', import.meta.url).pathname

interface Running { child: ChildProcess; output: () => string; exited: Promise<number | null> }

async function startProcess(env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root, env: { ...process.env, JUNCTION_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d) => { out += String(d) })
  child.stderr!.on('data', (d) => { out += String(d) })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const end = Date.now() + 30_000
  while (!/ready in \d+ ms/.test(out)) {
    if (Date.now() > end || child.exitCode !== null) assert.fail(`Junction did not become ready:\n${out}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  return { child, output: () => out, exited }
}

describe('junction process', () => {
  const running: Running[] = []
  after(() => { for (const r of running) r.child.kill('SIGKILL') })

  it('starts from environment settings, prints the admin password once, serves HTTP, stops on SIGTERM', async () => {
    const dataDir = tempDataDir()
    const httpPort = await freePort()
    const mqttPort = await freePort()
    const env = { JUNCTION_DATA_DIR: dataDir, JUNCTION_HTTP_PORT: String(httpPort), JUNCTION_HTTP_HOST: '127.0.0.1', JUNCTION_MQTT_PORT: String(mqttPort), JUNCTION_MQTT_HOST: '127.0.0.1' }
    const first = await startProcess(env)
    running.push(first)
    const match = /Console login: admin \/ (\S+)/.exec(first.output())
    assert.ok(match, first.output())
    const password = match[1]!

    const health = await fetch(`http://127.0.0.1:${httpPort}/api/v1/health`)
    assert.equal(health.status, 200)
    assert.equal((await fetch(`http://127.0.0.1:${httpPort}/api/v1/deployments`)).status, 401)
    const login = await fetch(`http://127.0.0.1:${httpPort}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) })
    assert.equal(login.status, 200)
    const { token } = (await login.json()) as { token: string }
    const deps = await fetch(`http://127.0.0.1:${httpPort}/api/v1/deployments`, { headers: { authorization: `Bearer ${token}` } })
    const body = (await deps.json()) as { data: Array<{ id: string; mqtt: { port: number } }> }
    assert.equal(body.data[0]?.mqtt.port, mqttPort)

    first.child.kill('SIGTERM')
    assert.equal(await first.exited, 0)

    const second = await startProcess(env)
    running.push(second)
    assert.doesNotMatch(second.output(), /Console login/, 'the password is printed on the first start only')
    second.child.kill('SIGTERM')
    assert.equal(await second.exited, 0)
  })

  it('refuses a bad setting with the variable name and exit code 2', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env: { ...process.env, JUNCTION_HTTP_PORT: 'eighty' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d) => { err += String(d) })
    const code = await new Promise((resolve) => child.once('exit', resolve))
    assert.equal(code, 2)
    assert.match(err, /JUNCTION_HTTP_PORT must be a whole number/)
  })
})
