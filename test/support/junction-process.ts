/**
 * Junction as a child process (`src/main.ts` under tsx), for tests that kill it with SIGKILL and
 * start it again on the same data directory: its settings, the API on its port, and a start that
 * resolves once it logs that it is ready.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { freePort } from './connector-battery.js'
import { API_KEY, API_SECRET, AUTH, tempDataDir } from './junction.js'
import { cleanUpAtExit } from './leftovers.js'

const root = new URL('../..', import.meta.url).pathname

export interface JunctionProcessSetup {
  /** The environment that configures it: a fresh data directory, loopback ports, the tests' API key. */
  readonly env: Record<string, string>
  readonly mqttPort: number
  /** The default deployment's API (`/connectors`, `/rules`...) on its HTTP port. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>
}

export async function junctionProcessSetup(): Promise<JunctionProcessSetup> {
  const [httpPort, mqttPort] = [await freePort(), await freePort()]
  return {
    env: {
      JUNCTION_DATA_DIR: tempDataDir(), JUNCTION_HTTP_HOST: '127.0.0.1', JUNCTION_HTTP_PORT: String(httpPort),
      JUNCTION_MQTT_HOST: '127.0.0.1', JUNCTION_MQTT_PORT: String(mqttPort), JUNCTION_MQTT_ALLOW_ANONYMOUS: 'true',
      JUNCTION_API_KEY: API_KEY, JUNCTION_API_SECRET: API_SECRET, JUNCTION_ADMIN_PASSWORD: 'x-admin-password',
    },
    mqttPort,
    async api(method, path, body) {
      const r = await fetch(`http://127.0.0.1:${httpPort}/api/v1/deployments/default${path}`, {
        method, headers: { authorization: AUTH, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
      })
      return { status: r.status, body: (await r.json()) as any }
    },
  }
}

/**
 * Starts Junction with `env` over this process's environment; resolves once it is ready. The bound is
 * only there to end a hung start: test files run several at a time on a 2-core machine, where a
 * start under tsx has taken over 30 s.
 */
export async function startJunctionProcess(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env: { ...process.env, JUNCTION_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d) => { out += String(d) })
  child.stderr!.on('data', (d) => { out += String(d) })
  // However the test ends (a failed assertion, a timeout), the process must not outlive it.
  const forget = cleanUpAtExit(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  child.once('exit', forget)
  const end = Date.now() + 90_000
  while (!/ready in \d+ ms/.test(out)) {
    if (Date.now() > end || child.exitCode !== null) {
      child.kill('SIGKILL')
      assert.fail(`not ready:\n${out}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return child
}
