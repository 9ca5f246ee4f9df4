/**
 * Runs Junction in-process for API tests: a temp data dir, loopback listeners on free ports, an
 * administrator API key, and a log captured in memory (so tests can check secrets never reach it).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { createJunction, type Junction } from '../../src/server.js'
import { DEFAULT_SETTINGS, type Settings } from '../../src/settings.js'
import { cleanUpAtExit } from './leftovers.js'

export const API_KEY = 'test-key'
export const API_SECRET = 'test-secret-0123456789'
export const AUTH = `Basic ${Buffer.from(`${API_KEY}:${API_SECRET}`).toString('base64')}`

export interface TestJunction {
  junction: Junction
  settings: Settings
  /** Everything logged so far, as JSON lines. */
  log(): string
  api(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>
  close(): Promise<void>
}

/** A fresh data dir, removed when the test process exits (tests restart Junction on it until then). */
export function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'junction-test-'))
  cleanUpAtExit(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export async function startJunction(overrides: Partial<Settings> = {}): Promise<TestJunction> {
  const settings: Settings = {
    ...DEFAULT_SETTINGS,
    httpHost: '127.0.0.1',
    httpPort: 0,
    mqttHost: '127.0.0.1',
    // 0 = an explicit "any free port": tests never fight over 1883.
    mqttPort: 0,
    // The tests' MQTT clients connect without credentials unless a test says otherwise.
    mqttAllowAnonymous: true,
    dataDir: tempDataDir(),
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    adminPassword: 'admin-password-for-tests',
    logLevel: 'debug',
    ...overrides,
  }
  const lines: string[] = []
  const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb() } })
  const junction = await createJunction(settings, { logger: pino({ level: settings.logLevel }, sink) })
  return {
    junction,
    settings,
    log: () => lines.join(''),
    async api(method, url, body, headers = {}) {
      const res = await junction.app.inject({
        method: method as 'GET',
        url,
        headers: { authorization: AUTH, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
      })
      return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined }
    },
    close: () => junction.close(),
  }
}

/** Polls `fn` until `pred` holds (bounded only to end a hang: files run several at a time); returns the last value. */
export async function eventually<T>(fn: () => Promise<T>, pred: (v: T) => boolean, what: string, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs
  let last: T = await fn()
  while (!pred(last)) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`)
    await new Promise((r) => setTimeout(r, 100))
    last = await fn()
  }
  return last
}
