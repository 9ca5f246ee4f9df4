/**
 * `junction connectors|rules history` and `revert`, end to end: Junction in this process, the CLI
 * as a child process over HTTP.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { API_KEY, API_SECRET, startJunction, type TestJunction } from '../support/junction.js'

const ROOT = new URL('../../', import.meta.url).pathname
const MAIN = join(ROOT, 'src/cli/main.ts')
const SECRET = 'Cli-History-Pw-2718'

interface Run { code: number; stdout: string; stderr: string }

let j: TestJunction
let home: string
let env: Record<string, string>

function cli(args: string[], extra: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: home, ...env, ...extra }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }))
  })
}

before(async () => {
  j = await startJunction()
  const url = await j.junction.listen()
  home = mkdtempSync(join(tmpdir(), 'junction-cli-home-'))
  env = { JUNCTION_URL: url, JUNCTION_API_KEY: API_KEY, JUNCTION_API_SECRET: API_SECRET }
})
after(async () => {
  await j?.close()
  rmSync(home, { recursive: true, force: true })
})

describe('junction connectors history / revert', () => {
  let id: string
  before(async () => {
    const c = await j.api('POST', '/api/v1/deployments/default/connectors', {
      name: 'cli-history', type: 'postgresql', config: { host: '127.0.0.1', database: 'test', username: 'postgres', password: SECRET },
    })
    id = c.body.id
    assert.equal((await j.api('PUT', `/api/v1/deployments/default/connectors/${id}`, { config: { ...c.body.config, host: 'localhost' } })).status, 200)
  })

  it('history: a table newest first with the changes; --json only the API answer; --version N one version, secrets masked', async () => {
    const human = await cli(['connectors', 'history', id])
    assert.equal(human.code, 0, human.stderr)
    const lines = human.stdout.trim().split('\n')
    assert.match(lines[0]!, /^VERSION\s+AT\s+ACTOR\s+SOURCE\s+ACTION\s+CHANGES$/)
    assert.match(lines[1]!, /^2\s.*test-key \(api_key\).*update\s+config\.host: 127\.0\.0\.1 -> localhost/)
    assert.match(lines[2]!, /^1\s.*create/)
    const json = await cli(['connectors', 'history', id, '--json'])
    assert.equal(json.code, 0, json.stderr)
    assert.deepEqual(JSON.parse(json.stdout).data.map((v: any) => v.version), [2, 1])
    const one = await cli(['connectors', 'history', id, '--version', '1', '--json'])
    assert.equal(one.code, 0, one.stderr)
    const v1 = JSON.parse(one.stdout)
    assert.equal(v1.config.config.host, '127.0.0.1')
    assert.equal(v1.config.config.password, '******')
    assert.ok(![human.stdout, json.stdout, one.stdout].some((t) => t.includes(SECRET)))
  })

  it('revert --version N: puts it back (real secret kept), prints the new version; errors carry the API code and exit 1', async () => {
    const r = await cli(['connectors', 'revert', id, '--version', '1'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, new RegExp(`^reverted connector ${id} to version 1: version 3, status \\w+\\n$`))
    const now = (await j.api('GET', `/api/v1/deployments/default/connectors/${id}`)).body
    assert.equal(now.config.host, '127.0.0.1')
    const stored = await j.junction.store.connectors.get('default', id)
    assert.equal(stored?.config.password, SECRET, 'the real secret, not the mask')

    const again = await cli(['connectors', 'revert', id, '--version', '1'])
    assert.equal(again.code, 1)
    assert.match(again.stderr, /NOTHING_TO_REVERT \(HTTP 409\)/)
    const missing = await cli(['connectors', 'revert', id, '--version', '42', '--json'])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /VERSION_NOT_FOUND/)
    const noVersion = await cli(['connectors', 'revert', id])
    assert.equal(noVersion.code, 2, 'usage error')
    assert.match(noVersion.stderr, /--version <n>/)
    assert.equal((await cli(['--version'])).stdout.trim(), '0.1.0', 'alone, --version is still the CLI\'s version')
  })
})

describe('junction rules history / revert', () => {
  it('lists versions and reverts a rule; --json prints the rule', async () => {
    const r = await j.api('POST', '/api/v1/deployments/default/rules', { name: 'cli-history-rule', sql: 'SELECT 1 AS a FROM "cli/h"', actions: [] })
    const url = `/api/v1/deployments/default/rules/${r.body.id}`
    assert.equal((await j.api('PUT', url, { sql: 'SELECT 2 AS a FROM "cli/h"' })).status, 200)
    const h = await cli(['rules', 'history', r.body.id])
    assert.equal(h.code, 0, h.stderr)
    assert.match(h.stdout, /update\s+sql: SELECT 1 AS a FROM "cli\/h" -> SELECT 2 AS a FROM "cli\/h"/)
    const rev = await cli(['rules', 'revert', r.body.id, '--version', '1', '--json'])
    assert.equal(rev.code, 0, rev.stderr)
    assert.equal(JSON.parse(rev.stdout).sql, 'SELECT 1 AS a FROM "cli/h"')
    const latest = (await j.api('GET', `${url}/history?limit=1`)).body.data[0]
    assert.deepEqual([latest.version, latest.action, latest.revertedFrom], [3, 'revert', 1])
  })
})
