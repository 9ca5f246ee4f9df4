/**
 * `junction`, the CLI, end to end: Junction runs in this process, the CLI as a child process
 * (`node --import tsx src/cli/main.ts`) talking to it over HTTP, as a script would.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { API_KEY, API_SECRET, startJunction, type TestJunction } from '../support/junction.js'

const ROOT = new URL('../../', import.meta.url).pathname
const MAIN = join(ROOT, 'src/cli/main.ts')

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs the CLI with only the environment given (no JUNCTION_* of the test's own, no profile). */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', MAIN, ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: home, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    )
  })
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as { port: number }).port
  await new Promise((r) => s.close(r))
  return port
}

let j: TestJunction
let url: string
let home: string
let dir: string
let env: Record<string, string>
const unique = `cli${process.pid}${Date.now().toString(36)}`

function file(name: string, content: unknown): string {
  const p = join(dir, name)
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content))
  return p
}

const PG_SPEC = { name: `${unique}-pg`, type: 'postgresql', config: { host: '127.0.0.1', database: 'test', username: 'postgres' } }

before(async () => {
  j = await startJunction()
  url = await j.junction.listen()
  // An empty home: no profile of the machine's user reaches the tests.
  home = mkdtempSync(join(tmpdir(), 'junction-cli-home-'))
  dir = mkdtempSync(join(tmpdir(), 'junction-cli-files-'))
  env = { JUNCTION_URL: url, JUNCTION_API_KEY: API_KEY, JUNCTION_API_SECRET: API_SECRET }
})

after(async () => {
  await j?.close()
  rmSync(home, { recursive: true, force: true })
  rmSync(dir, { recursive: true, force: true })
})

describe('junction connectors', () => {
  let id: string

  it('create --file takes the API\'s {name, type, config}; --json prints only the created connector', async () => {
    const r = await cli(['connectors', 'create', '--file', file('pg.json', PG_SPEC), '--json'], env)
    assert.equal(r.code, 0, r.stderr)
    const body = JSON.parse(r.stdout)
    assert.equal(body.name, PG_SPEC.name)
    assert.equal(body.type, 'postgresql')
    assert.equal(body.config.port, 5432, 'defaults filled in by the server')
    id = body.id
  })

  it('list: a table by default, only JSON with --json', async () => {
    const human = await cli(['connectors', 'list'], env)
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stdout, /^ID\s+NAME\s+TYPE/m)
    assert.ok(human.stdout.split('\n').some((l) => l.includes(id) && l.includes(PG_SPEC.name) && l.includes('postgresql')), human.stdout)
    const json = await cli(['connectors', 'list', '--json'], env)
    assert.equal(json.code, 0, json.stderr)
    const body = JSON.parse(json.stdout)
    assert.ok(body.data.some((c: { id: string }) => c.id === id))
  })

  it('get: key/value lines, and JSON with the configuration', async () => {
    const human = await cli(['connectors', 'get', id], env)
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stdout, new RegExp(`^id:\\s+${id}$`, 'm'))
    assert.match(human.stdout, /^config:\n(\s+.*\n)*\s+host:\s+127\.0\.0\.1$/m)
    const json = await cli(['connectors', 'get', id, '--json'], env)
    assert.equal(JSON.parse(json.stdout).config.database, 'test')
  })

  it('test: the saved connector against the real PostgreSQL (0), an unsaved spec that cannot connect (5)', async () => {
    const ok = await cli(['connectors', 'test', id], env)
    assert.equal(ok.code, 0, ok.stdout + ok.stderr)
    assert.match(ok.stdout, /^ok \([\d.]+ ms\)\nSTEP/)
    const port = await closedPort()
    const bad = await cli(['connectors', 'test', '--json', '--file', file('bad.json', { type: 'postgresql', config: { ...PG_SPEC.config, port } })], env)
    assert.equal(bad.code, 5, bad.stdout + bad.stderr)
    const body = JSON.parse(bad.stdout)
    assert.equal(body.ok, false)
    assert.equal(typeof body.error.code, 'string')
  })

  it('edit --file changes the connector (a file with the same type is accepted)', async () => {
    const r = await cli(['connectors', 'edit', id, '--file', file('edit.json', { ...PG_SPEC, description: 'edited by the CLI' }), '--json'], env)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(JSON.parse(r.stdout).description, 'edited by the CLI')
  })

  it('delete without --confirm and without a terminal exits 2 at once and deletes nothing', async () => {
    const r = await cli(['connectors', 'delete', id], env)
    assert.equal(r.code, 2)
    assert.match(r.stderr, new RegExp(`--confirm ${id}`))
    assert.equal((await j.api('GET', `/api/v1/deployments/default/connectors/${id}`)).status, 200)
  })

  it('delete with a wrong --confirm is refused by the API (1, its code), with the right one deletes', async () => {
    const wrong = await cli(['connectors', 'delete', id, '--confirm', 'not-it'], env)
    assert.equal(wrong.code, 1)
    assert.match(wrong.stderr, /CONFIRMATION_REQUIRED \(HTTP 400\)/)
    const r = await cli(['connectors', 'delete', id, '--confirm', id], env)
    assert.equal(r.code, 0, r.stderr)
    assert.equal((await j.api('GET', `/api/v1/deployments/default/connectors/${id}`)).status, 404)
  })

  it('an API error (4xx) exits 1 and prints the code, message, field and hint', async () => {
    const missing = await cli(['connectors', 'get', 'no-such-connector'], env)
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /^junction: CONNECTOR_NOT_FOUND \(HTTP 404\): /)
    const invalid = await cli(['connectors', 'create', '--file', file('invalid.json', { name: `${unique}-x`, type: 'postgresql', config: { host: '127.0.0.1', database: 'test', username: 'postgres', port: 'five' } })], env)
    assert.equal(invalid.code, 1)
    assert.match(invalid.stderr, /VALIDATION_FAILED \(HTTP 400\)/)
    assert.match(invalid.stderr, /^\s+config\.port: /m)
    const unauthorized = await cli(['connectors', 'list', '--api-secret', 'wrong'], env)
    assert.equal(unauthorized.code, 1)
    assert.match(unauthorized.stderr, /UNAUTHORIZED \(HTTP 401\)/)
    assert.match(unauthorized.stderr, /hint: /)
  })

  it('create --type X --help prints the type\'s fields and defaults from the server\'s schemas', async () => {
    const r = await cli(['connectors', 'create', '--type', 'postgresql', '--help'], env)
    assert.equal(r.code, 0, r.stderr)
    const types = (await j.api('GET', '/api/v1/connector-types')).body.data
    const schema = types.find((t: { type: string }) => t.type === 'postgresql').configSchema
    assert.match(r.stdout, /Usage: junction connectors create/)
    for (const [name, s] of Object.entries(schema.properties as Record<string, { default?: unknown }>)) {
      assert.match(r.stdout, new RegExp(`^  ${name}  `, 'm'), `field ${name}`)
      if (s.default !== undefined && typeof s.default !== 'object') {
        assert.match(r.stdout, new RegExp(`^  ${name}  .*default ${JSON.stringify(s.default).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'), `default of ${name}`)
      }
    }
    assert.match(r.stdout, /^  port  <integer>  \[default 5432/m)
    const unknown = await cli(['connectors', 'create', '--type', 'nope', '--help'], env)
    assert.equal(unknown.code, 2)
    assert.match(unknown.stderr, /unknown connector type "nope"/)
  })

  it('types lists every type the server has', async () => {
    const r = await cli(['connectors', 'types', '--json'], env)
    assert.equal(r.code, 0, r.stderr)
    assert.ok(JSON.parse(r.stdout).data.some((t: { type: string }) => t.type === 'kafka'))
    const one = await cli(['connectors', 'types', 'postgresql'], env)
    assert.equal(one.code, 0, one.stderr)
    assert.match(one.stdout, /^  port  <integer>  \[default 5432/m)
    assert.match(one.stdout, /^rule action params/m)
    assert.match(one.stdout, /^  sql  <string>/m)
  })
})

describe('junction rules', () => {
  it('create, list, disable, test and delete with confirmation', async () => {
    const rule = { name: `${unique}-rule`, sql: 'SELECT payload.t AS t FROM "cli/#"', actions: [] }
    const created = await cli(['rules', 'create', '--file', file('rule.json', rule), '--json'], env)
    assert.equal(created.code, 0, created.stderr)
    const id = JSON.parse(created.stdout).id as string
    const list = await cli(['rules', 'list'], env)
    assert.ok(list.stdout.includes(id), list.stdout)
    const disabled = await cli(['rules', 'disable', id, '--json'], env)
    assert.equal(JSON.parse(disabled.stdout).enabled, false)
    const tested = await cli(['rules', 'test', '--json', '--file', file('sample.json', { sql: rule.sql, context: { topic: 'cli/1', payload: '{"t": 21.5}' } })], env)
    assert.equal(tested.code, 0, tested.stderr)
    assert.deepEqual(JSON.parse(tested.stdout), { matched: true, output: { t: 21.5 } })
    const badSql = await cli(['rules', 'test', '--file', file('bad-sql.json', { sql: 'SELEC x', context: { topic: 'a', payload: '{}' } })], env)
    assert.equal(badSql.code, 1)
    assert.match(badSql.stderr, /INVALID_SQL/)
    assert.equal((await cli(['rules', 'delete', id], env)).code, 2)
    assert.equal((await cli(['rules', 'delete', id, '--confirm', id], env)).code, 0)
    assert.equal((await j.api('GET', `/api/v1/deployments/default/rules/${id}`)).status, 404)
  })
})

describe('junction mqtt', () => {
  it('users create/list/get/delete and acl set/get', async () => {
    const username = `${unique}-dev`
    const created = await cli(['mqtt', 'users', 'create', '--file', file('user.json', { username, password: 'dev-password-123' }), '--json'], env)
    assert.equal(created.code, 0, created.stderr)
    assert.equal(JSON.parse(created.stdout).username, username)
    assert.equal(JSON.parse(created.stdout).password, undefined)
    const list = await cli(['mqtt', 'users', 'list', '--json'], env)
    assert.ok(JSON.parse(list.stdout).data.some((u: { username: string }) => u.username === username))
    const taken = await cli(['mqtt', 'users', 'create', '--file', file('user.json', { username, password: 'dev-password-123' })], env)
    assert.equal(taken.code, 1)
    assert.match(taken.stderr, /USERNAME_TAKEN/)
    assert.equal((await cli(['mqtt', 'users', 'delete', username, '--confirm', 'other'], env)).code, 2)
    assert.equal((await cli(['mqtt', 'users', 'delete', username, '--confirm', username], env)).code, 0)
    const gone = await cli(['mqtt', 'users', 'get', username], env)
    assert.equal(gone.code, 1)
    assert.match(gone.stderr, /DEVICE_USER_NOT_FOUND/)

    const acl = { rules: [{ who: { username }, action: 'publish', topic: 'cli/${username}/#', permission: 'allow' }], default: 'allow' }
    const set = await cli(['mqtt', 'acl', 'set', '--file', file('acl.json', acl)], env)
    assert.equal(set.code, 0, set.stderr)
    assert.match(set.stdout, new RegExp(`username=${username}\\s+publish\\s+cli/\\$\\{username\\}/#\\s+allow`))
    const got = await cli(['mqtt', 'acl', 'get', '--json'], env)
    assert.deepEqual(JSON.parse(got.stdout).rules, acl.rules)
    const bad = await cli(['mqtt', 'acl', 'set', '--file', file('bad-acl.json', { rules: [{ ...acl.rules[0], topic: 'a/#/b' }], default: 'allow' })], env)
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /rules\.0\.topic/)
    await j.api('PUT', '/api/v1/deployments/default/mqtt/acl', { rules: [], default: 'allow' })
  })
})

describe('junction on a terminal', () => {
  it('delete asks for the ID and deletes only when it is typed', async () => {
    const spec = { ...PG_SPEC, name: `${unique}-tty` }
    const id = (await j.api('POST', '/api/v1/deployments/default/connectors', spec)).body.id as string
    // util-linux `script` gives the CLI a terminal; its input is what is typed.
    const typed = (answer: string) => new Promise<Run>((resolve) => {
      const command = ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, '--import', 'tsx', MAIN, 'connectors', 'delete', id]
      const child = execFile('script', ['-qec', command.map((a) => `'${a}'`).join(' '), '/dev/null'], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }))
      // Typed after the prompt shows (script echoes the terminal's output on stdout).
      child.stdout!.on('data', (d) => { if (String(d).includes('Type its ID')) child.stdin!.write(`${answer}\n`) })
    })
    const wrong = await typed('something-else')
    assert.equal(wrong.code, 2, wrong.stdout)
    assert.match(wrong.stdout, /not deleted/)
    assert.equal((await j.api('GET', `/api/v1/deployments/default/connectors/${id}`)).status, 200)
    const right = await typed(id)
    assert.equal(right.code, 0, right.stdout)
    assert.equal((await j.api('GET', `/api/v1/deployments/default/connectors/${id}`)).status, 404)
  })
})

describe('junction settings, usage and reachability', () => {
  it('flags win over the environment; the profile file is used when neither is given', async () => {
    const port = await closedPort()
    const flagWins = await cli(['deployments', 'list', '--json', '--url', url], { ...env, JUNCTION_URL: `http://127.0.0.1:${port}` })
    assert.equal(flagWins.code, 0, flagWins.stderr)
    assert.ok(JSON.parse(flagWins.stdout).data.some((d: { id: string }) => d.id === 'default'))
    const profile = file('profile.json', { url: `${url}/api/v1`, apiKey: API_KEY, apiSecret: API_SECRET })
    const fromProfile = await cli(['deployments', 'get', '--json'], { JUNCTION_PROFILE: profile })
    assert.equal(fromProfile.code, 0, fromProfile.stderr)
    assert.equal(JSON.parse(fromProfile.stdout).id, 'default')
  })

  it('no server: exit 3 with a message that says so', async () => {
    const port = await closedPort()
    const r = await cli(['connectors', 'list'], { ...env, JUNCTION_URL: `http://127.0.0.1:${port}` })
    assert.equal(r.code, 3)
    assert.match(r.stderr, /cannot reach Junction at http:\/\/127\.0\.0\.1:\d+ .*is the server running\?/)
    assert.equal(r.stdout, '')
  })

  it('a server that never answers: exit 3 after --timeout', async () => {
    const silent = createServer(() => {})
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    try {
      const r = await cli(['connectors', 'list', '--timeout', '0.5'], { ...env, JUNCTION_URL: `http://127.0.0.1:${(silent.address() as { port: number }).port}` })
      assert.equal(r.code, 3)
      assert.match(r.stderr, /did not answer in time/)
    } finally {
      silent.close()
    }
  })

  it('a server error (5xx) or an answer that is not the API exits 4; an unreadable profile exits 2', async () => {
    // Junction itself must never answer 500 (the API tests see to that), so a stand-in answers
    // here what a failing server or a wrong --url would.
    const stand = createHttpServer((req, res) => {
      if (req.url?.includes('/connectors')) {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'INTERNAL_ERROR', message: 'Internal error', hint: 'The server log has details.' } }))
      } else res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not Junction</html>')
    })
    await new Promise<void>((r) => stand.listen(0, '127.0.0.1', r))
    try {
      const standUrl = `http://127.0.0.1:${(stand.address() as { port: number }).port}`
      const failed = await cli(['connectors', 'list', '--url', standUrl], env)
      assert.equal(failed.code, 4)
      assert.match(failed.stderr, /INTERNAL_ERROR \(HTTP 500\): Internal error\n  hint: The server log has details\./)
      const html = await cli(['deployments', 'list', '--url', standUrl], env)
      assert.equal(html.code, 4)
      assert.match(html.stderr, /not JSON/)
    } finally {
      stand.close()
    }
    const badProfile = await cli(['deployments', 'list'], { JUNCTION_PROFILE: file('bad-profile.json', '{url:') })
    assert.equal(badProfile.code, 2)
    assert.match(badProfile.stderr, /profile .* is not JSON/)
  })

  it('usage errors exit 2: unknown command, unknown option, missing --file, bad --url', async () => {
    for (const args of [['frobnicate'], ['connectors', 'list', '--frob'], ['connectors', 'create'], ['rules', 'get'], ['connectors', 'list', '--url', 'localhost:18083']]) {
      const r = await cli(args, env)
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.notEqual(r.stderr, '')
    }
  })

  it('help per command exits 0; completion prints a script for bash and zsh', async () => {
    const help = await cli(['rules', 'test', '--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /Usage: junction rules test/)
    const bash = await cli(['completion', 'bash'])
    assert.equal(bash.code, 0)
    assert.match(bash.stdout, /complete -F _junction junction/)
    assert.match(bash.stdout, /"connectors"\) words="list get types create edit test delete/)
    const zsh = await cli(['completion', 'zsh'])
    assert.match(zsh.stdout, /^#compdef junction/)
  })
})
