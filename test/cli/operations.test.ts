/**
 * `junction` operations commands end to end, as cli.test.ts: export and import (with the plan,
 * --apply and --from-emqx), console users, API keys, the audit log and failed messages, against a
 * Junction in this process and the machine's PostgreSQL.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { device, randomName } from '../e2e/support.js'
import { sharedPostgres } from '../support/postgres.js'
import { API_KEY, API_SECRET, eventually, startJunction, type TestJunction } from '../support/junction.js'

const ROOT = new URL('../../', import.meta.url).pathname
const MAIN = join(ROOT, 'src/cli/main.ts')
const rulesApi = '/api/v1/deployments/default/rules'

interface Run {
  code: number
  stdout: string
  stderr: string
}

let j: TestJunction
let home: string
let dir: string
let env: Record<string, string>
const unique = `ops${process.pid}${Date.now().toString(36)}`

/** Runs the CLI with only the environment given; `input` is its standard input (a pipe, never a terminal). */
function cli(args: string[], extraEnv: Record<string, string> = {}, input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', MAIN, ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: home, ...env, ...extraEnv }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    )
    child.stdin!.end(input ?? '')
  })
}

function file(name: string, content: unknown): string {
  const p = join(dir, name)
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content))
  return p
}

before(async () => {
  j = await startJunction()
  const url = await j.junction.listen()
  home = mkdtempSync(join(tmpdir(), 'junction-cli-home-'))
  dir = mkdtempSync(join(tmpdir(), 'junction-cli-files-'))
  env = { JUNCTION_URL: url, JUNCTION_API_KEY: API_KEY, JUNCTION_API_SECRET: API_SECRET }
})

after(async () => {
  await j?.close()
  rmSync(home, { recursive: true, force: true })
  rmSync(dir, { recursive: true, force: true })
})

describe('junction export and import', () => {
  let connectorId: string
  let ruleId: string
  const shared = sharedPostgres()

  before(async () => {
    const c = await j.api('POST', '/api/v1/deployments/default/connectors', { name: `${unique}-pg`, type: 'postgresql', config: { host: shared.host, port: shared.port, database: shared.database, username: shared.user } })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    connectorId = c.body.id
    const r = await j.api('POST', rulesApi, { name: `${unique}-rule`, sql: 'SELECT payload.t AS t FROM "ops/#"', actions: [] })
    assert.equal(r.status, 201, JSON.stringify(r.body))
    ruleId = r.body.id
  })

  it('export --json prints only the document; --format yaml --output writes the file (0600) and says what it holds', async () => {
    const r = await cli(['export', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const doc = JSON.parse(r.stdout)
    assert.equal(doc.junction, 1)
    const dep = doc.deployments.find((d: { id: string }) => d.id === 'default')
    assert.ok(dep.connectors.some((c: { id: string }) => c.id === connectorId))
    assert.ok(dep.rules.some((x: { id: string }) => x.id === ruleId))

    const out = join(dir, 'export.yaml')
    const y = await cli(['export', '-d', 'default', '--format', 'yaml', '--output', out])
    assert.equal(y.code, 0, y.stderr)
    assert.match(y.stdout, new RegExp(`^exported 1 deployment \\(\\d+ connectors?, \\d+ rules?, 0 device users\\) to ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, secrets as references\\n$`))
    const yaml = readFileSync(out, 'utf8')
    assert.match(yaml, /^junction: 1$/m)
    assert.match(yaml, new RegExp(`id: ${connectorId}`))
    assert.equal(statSync(out).mode & 0o777, 0o600)

    const missing = await cli(['export', '-d', 'no-such-deployment'])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /DEPLOYMENT_NOT_FOUND \(HTTP 404\)/)
    assert.equal(missing.stdout, '')
  })

  it('export --secrets encrypted takes the passphrase from the named variable, never a flag; without it, usage errors', async () => {
    const noVar = await cli(['export', '--secrets', 'encrypted'])
    assert.equal(noVar.code, 2)
    assert.match(noVar.stderr, /--passphrase-env/)
    const unset = await cli(['export', '--secrets', 'encrypted', '--passphrase-env', 'OPS_PASSPHRASE'])
    assert.equal(unset.code, 2)
    assert.match(unset.stderr, /OPS_PASSPHRASE is not set/)
    const enc = await cli(['export', '--json', '--secrets', 'encrypted', '--passphrase-env', 'OPS_PASSPHRASE'], { OPS_PASSPHRASE: 'correct horse battery' })
    assert.equal(enc.code, 0, enc.stderr)
    assert.equal(JSON.parse(enc.stdout).encryption.cipher, 'aes-256-gcm')
    const badChoice = await cli(['export', '--format', 'xml'])
    assert.equal(badChoice.code, 2)
  })

  it('import prints the plan with field diffs and changes nothing; --json is the API\'s plan; --apply applies it', async () => {
    const doc = JSON.parse((await cli(['export', '--json', '-d', 'default'])).stdout)
    const rule = doc.deployments[0].rules.find((x: { id: string }) => x.id === ruleId)
    rule.sql = 'SELECT payload.t AS t, clientid AS who FROM "ops/#"'
    const edited = file('edited.json', doc)

    const plan = await cli(['import', '--file', edited])
    assert.equal(plan.code, 0, plan.stderr)
    assert.match(plan.stdout, /^ACTION\s+KIND\s+DEPLOYMENT\s+ID\s+NAME$/m)
    assert.match(plan.stdout, new RegExp(`^update\\s+rule\\s+default\\s+${ruleId}\\s+${unique}-rule$`, 'm'))
    assert.match(plan.stdout, new RegExp(`^unchanged\\s+connector\\s+default\\s+${connectorId}`, 'm'))
    assert.match(plan.stdout, /^  sql: "SELECT payload\.t AS t FROM \\"ops\/#\\"" -> "SELECT payload\.t AS t, clientid AS who FROM \\"ops\/#\\""$/m)
    assert.match(plan.stdout, /^plan: 0 to create, 1 to update, \d+ unchanged, 0 to delete; nothing was changed \(add --apply to apply it\)$/m)
    assert.equal((await j.api('GET', `${rulesApi}/${ruleId}`)).body.sql, 'SELECT payload.t AS t FROM "ops/#"', 'the plan changed nothing')

    const asJson = await cli(['import', '--file', edited, '--json'])
    assert.equal(asJson.code, 0, asJson.stderr)
    const body = JSON.parse(asJson.stdout)
    assert.equal(body.summary.update, 1)
    assert.deepEqual(body.items.find((i: { id: string }) => i.id === ruleId).changes.map((c: { path: string }) => c.path), ['sql'])

    const applied = await cli(['import', '--file', edited, '--apply'])
    assert.equal(applied.code, 0, applied.stderr)
    assert.match(applied.stdout, /^applied: 0 created, 1 updated, \d+ unchanged, 0 deleted$/m)
    assert.equal((await j.api('GET', `${rulesApi}/${ruleId}`)).body.sql, rule.sql)
    const again = JSON.parse((await cli(['import', '--file', edited, '--json'])).stdout)
    assert.equal(again.summary.update, 0, 'applied: nothing left to change')
  })

  it('import of a YAML document and of an encrypted one (with and without its passphrase); a bad document exits 1 with its path', async () => {
    const yamlFile = join(dir, 'again.yaml')
    assert.equal((await cli(['export', '-d', 'default', '--format', 'yaml', '-o', yamlFile])).code, 0)
    const fromYaml = await cli(['import', '--file', yamlFile, '--json'])
    assert.equal(fromYaml.code, 0, fromYaml.stderr)
    assert.equal(JSON.parse(fromYaml.stdout).summary.update, 0)

    const encrypted = await cli(['export', '--json', '-d', 'default', '--secrets', 'encrypted', '--passphrase-env', 'P'], { P: 'correct horse battery' })
    const encFile = file('encrypted.json', encrypted.stdout)
    const without = await cli(['import', '--file', encFile])
    assert.equal(without.code, 1)
    assert.match(without.stderr, /VALIDATION_FAILED \(HTTP 400\)/)
    assert.match(without.stderr, /^\s+encryption: /m)
    const withIt = await cli(['import', '--file', encFile, '--passphrase-env', 'P', '--json'], { P: 'correct horse battery' })
    assert.equal(withIt.code, 0, withIt.stderr)
    assert.equal(JSON.parse(withIt.stdout).summary.update, 0)

    const bad = await cli(['import', '--file', file('bad-doc.json', { junction: 2, deployments: [] })])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /^\s+junction: /m)
    const noFile = await cli(['import'])
    assert.equal(noFile.code, 2)
    assert.match(noFile.stderr, /--file <path> is required/)
  })

  it('import --from-emqx plans connectors and rules from cluster.hocon and lists what it cannot map, with the reason', async () => {
    const hocon = readFileSync(new URL('../api/fixtures/emqx-cluster.hocon', import.meta.url), 'utf8')
      .replaceAll('PG_HOST', shared.host).replaceAll('PG_PORT', String(shared.port)).replaceAll('PG_PASSWORD', 'unused-password').replaceAll('PG_USER', shared.user).replaceAll('PG_DATABASE', shared.database)
    const hoconFile = file('cluster.hocon', hocon)
    const before = (await j.api('GET', '/api/v1/deployments/default/connectors')).body.data.length
    const r = await cli(['import', '--from-emqx', '--file', hoconFile])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^create\s+connector\s+default\s+c-emqx-\S+\s+warehouse_pg$/m)
    assert.match(r.stdout, /^create\s+rule\s+default\s+\S+\s+readings to postgres$/m)
    assert.match(r.stdout, /^not mapped \(\d+\):\nKIND\s+NAME\s+REASON$/m)
    assert.match(r.stdout, /^connector\s+mongodb:archive_mongo\s+Junction has no mongodb connector/m)
    const json = await cli(['import', '--from-emqx', '--file', hoconFile, '--json'])
    assert.ok(JSON.parse(json.stdout).unmapped.some((u: { name: string }) => u.name === 'mongodb:archive_mongo'))
    assert.equal((await j.api('GET', '/api/v1/deployments/default/connectors')).body.data.length, before, 'the plan changed nothing')

    const broken = await cli(['import', '--from-emqx', '--file', file('broken.hocon', 'connectors { pgsql { a = ${b} } }')])
    assert.equal(broken.code, 1, broken.stderr)
    assert.match(broken.stderr, /\(HTTP 400\)/)
    const prune = await cli(['import', '--from-emqx', '--prune', '--file', hoconFile])
    assert.equal(prune.code, 2)
  })
})

describe('junction users and api-keys', () => {
  const username = `${unique}-ed`

  it('users create takes the password from a variable or stdin, never a flag; list, set-role, delete with confirmation', async () => {
    const noPassword = await cli(['users', 'create', username, '--role', 'editor'])
    assert.equal(noPassword.code, 2)
    assert.match(noPassword.stderr, /--password-env/)
    const badRole = await cli(['users', 'create', username, '--role', 'root', '--password-env', 'PW'], { PW: 'password-1234' })
    assert.equal(badRole.code, 2)
    const created = await cli(['users', 'create', username, '--role', 'editor', '--password-env', 'PW', '--json'], { PW: 'password-1234' })
    assert.equal(created.code, 0, created.stderr)
    assert.deepEqual(Object.keys(JSON.parse(created.stdout)).sort(), ['createdAt', 'role', 'updatedAt', 'username'])
    const taken = await cli(['users', 'create', username, '--role', 'viewer', '--password-stdin'], {}, 'another-password\n')
    assert.equal(taken.code, 1)
    assert.match(taken.stderr, /USER_EXISTS \(HTTP 409\)/)
    const viaStdin = await cli(['users', 'create', `${username}2`, '--role', 'viewer', '--password-stdin'], {}, 'stdin-password-123\n')
    assert.equal(viaStdin.code, 0, viaStdin.stderr)
    assert.equal(viaStdin.stdout, `created console user ${username}2 (viewer)\n`)
    const login = await j.api('POST', '/api/v1/login', { username: `${username}2`, password: 'stdin-password-123' })
    assert.equal(login.status, 200, 'the password read from stdin is the user\'s')

    const list = await cli(['users', 'list'])
    assert.match(list.stdout, /^USERNAME\s+ROLE\s+CREATED\s+UPDATED$/m)
    assert.match(list.stdout, new RegExp(`^${username}\\s+editor\\s`, 'm'))
    const role = await cli(['users', 'set-role', username, 'viewer'])
    assert.equal(role.code, 0, role.stderr)
    assert.equal(role.stdout, `console user ${username} is now viewer\n`)
    assert.equal((await j.api('GET', `/api/v1/users/${username}`)).body.role, 'viewer')

    const unconfirmed = await cli(['users', 'delete', username])
    assert.equal(unconfirmed.code, 2)
    assert.match(unconfirmed.stderr, new RegExp(`--confirm ${username}`))
    assert.equal((await j.api('GET', `/api/v1/users/${username}`)).status, 200)
    assert.equal((await cli(['users', 'delete', username, '--confirm', 'someone-else'])).code, 2)
    const deleted = await cli(['users', 'delete', username, '--confirm', username, '--json'])
    assert.equal(deleted.code, 0, deleted.stderr)
    assert.deepEqual(JSON.parse(deleted.stdout), { deleted: username })
    const gone = await cli(['users', 'get', username])
    assert.equal(gone.code, 1)
    assert.match(gone.stderr, /USER_NOT_FOUND \(HTTP 404\)/)
  })

  it('--password-stdin on a terminal is a usage error (the password would be echoed), and creates nobody', async () => {
    const name = `${unique}-tty`
    // util-linux `script` gives the CLI a terminal, as in cli.test.ts.
    const command = ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), `HOME=${home}`, process.execPath, '--import', 'tsx', MAIN, 'users', 'create', name, '--role', 'viewer', '--password-stdin']
    const r = await new Promise<Run>((resolve) => {
      execFile('script', ['-qec', command.map((a) => `'${a}'`).join(' '), '/dev/null'], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }))
    })
    assert.equal(r.code, 2, r.stdout)
    assert.match(r.stdout, /--password-stdin reads a pipe, not a terminal/)
    assert.equal((await j.api('GET', `/api/v1/users/${name}`)).status, 404)
  })

  it('api-keys create prints the secret once; the key works with its role; list never shows a secret; delete revokes it', async () => {
    const key = `${unique}-viewer`
    const created = await cli(['api-keys', 'create', '--role', 'viewer', '--key', key, '--description', 'CLI test'])
    assert.equal(created.code, 0, created.stderr)
    const secret = /^secret: (\S+)$/m.exec(created.stdout)?.[1]
    assert.ok(secret, created.stdout)
    assert.match(created.stdout, new RegExp(`^created API key ${key} \\(viewer\\)$`, 'm'))
    assert.match(created.stderr, /shown this once/)
    const asViewer = { JUNCTION_API_KEY: key, JUNCTION_API_SECRET: secret }
    assert.equal((await cli(['connectors', 'list', '--json'], asViewer)).code, 0)
    const forbidden = await cli(['users', 'list'], asViewer)
    assert.equal(forbidden.code, 1)
    assert.match(forbidden.stderr, /FORBIDDEN \(HTTP 403\)/)

    const list = await cli(['api-keys', 'list'])
    assert.match(list.stdout, new RegExp(`^${key}\\s+viewer\\s+\\S+\\s+CLI test$`, 'm'))
    assert.ok(!list.stdout.includes(secret!))
    const listJson = await cli(['api-keys', 'list', '--json'])
    assert.ok(!listJson.stdout.includes(secret!))
    const generated = await cli(['api-keys', 'create', '--role', 'editor', '--json'])
    const body = JSON.parse(generated.stdout)
    assert.match(body.key, /^jk-/)
    assert.equal(typeof body.secret, 'string')
    assert.equal(generated.stderr, '')
    assert.equal((await cli(['api-keys', 'set-role', body.key, 'viewer'])).stdout, `API key ${body.key} is now viewer\n`)

    assert.equal((await cli(['api-keys', 'delete', key])).code, 2)
    assert.equal((await cli(['api-keys', 'delete', key, '--confirm', key])).code, 0)
    const revoked = await cli(['connectors', 'list'], asViewer)
    assert.equal(revoked.code, 1)
    assert.match(revoked.stderr, /UNAUTHORIZED \(HTTP 401\)/)
    const noRole = await cli(['api-keys', 'create'])
    assert.equal(noRole.code, 2)
  })
})

describe('junction audit', () => {
  it('list with filters as the API has them (table, --json, pages); export writes NDJSON; a 4xx exits 1', async () => {
    const key = `${unique}-audited`
    assert.equal((await cli(['api-keys', 'create', '--role', 'viewer', '--key', key])).code, 0)
    const list = await cli(['audit', 'list', '--object-type', 'api-key', '--action', 'create'])
    assert.equal(list.code, 0, list.stderr)
    assert.match(list.stdout, /^AT\s+ACTOR\s+ACTION\s+OBJECT\s+DEPLOYMENT\s+STATUS\s+SOURCE\s+CHANGED$/m)
    assert.match(list.stdout, new RegExp(`^\\S+\\s+${API_KEY} \\(api_key\\)\\s+create\\s+api-key ${key}\\s+-\\s+201\\s`, 'm'))
    const json = await cli(['audit', 'list', '--object-type', 'api-key', '--json'])
    const body = JSON.parse(json.stdout)
    assert.ok(body.data.length >= 2)
    assert.ok(body.data.every((e: { objectType: string }) => e.objectType === 'api-key'))
    const page = await cli(['audit', 'list', '--object-type', 'api-key', '--limit', '1'])
    const next = /^\(more: --after (\S+)\)$/m.exec(page.stdout)?.[1]
    assert.ok(next, page.stdout)
    const second = JSON.parse((await cli(['audit', 'list', '--object-type', 'api-key', '--limit', '1', '--after', next!, '--json'])).stdout)
    assert.notEqual(second.data[0].id, body.data[0].id)

    const stdout = await cli(['audit', 'export', '--object-type', 'api-key'])
    assert.equal(stdout.code, 0, stdout.stderr)
    const lines = stdout.stdout.trim().split('\n').map((l) => JSON.parse(l))
    assert.ok(lines.some((e) => e.objectId === key))
    const out = join(dir, 'audit.jsonl')
    const toFile = await cli(['audit', 'export', '--object-type', 'api-key', '--output', out])
    assert.equal(toFile.code, 0, toFile.stderr)
    assert.equal(toFile.stdout, `wrote ${lines.length} audit entries to ${out}\n`)
    assert.equal(readFileSync(out, 'utf8'), stdout.stdout)

    const bad = await cli(['audit', 'list', '--since', 'yesterday'])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /VALIDATION_FAILED \(HTTP 400\)/)
  })
})

describe('junction rules failed-messages', () => {
  const shared = sharedPostgres()
  const table = randomName('cli_failed')
  let db: pg.Client
  let ruleId: string

  before(async () => {
    db = new pg.Client({ host: shared.host, port: shared.port, database: shared.database, user: shared.user, password: shared.password })
    await db.connect()
    await db.query(`CREATE TABLE ${table} (seq integer NOT NULL, v integer CONSTRAINT ${table}_positive CHECK (v > 0))`)
    const c = await j.api('POST', '/api/v1/deployments/default/connectors', { name: `${unique}-failing`, type: 'postgresql', config: { host: shared.host, port: shared.port, database: shared.database, username: shared.user } })
    assert.equal(c.status, 201, JSON.stringify(c.body))
    await eventually(() => j.api('GET', `/api/v1/deployments/default/connectors/${c.body.id}`), (r) => r.body.status === 'connected', 'connected')
    const rule = await j.api('POST', rulesApi, {
      name: `${unique}-checked`, sql: 'SELECT payload.seq AS seq, payload.v AS v FROM "opsfail/#"',
      actions: [{ connectorId: c.body.id, params: { sql: `INSERT INTO ${table} (seq, v) VALUES (\${seq}, \${v})` }, options: { keepFailed: true } }],
    })
    assert.equal(rule.status, 201, JSON.stringify(rule.body))
    ruleId = rule.body.id
    const d = await device(j)
    for (let i = 0; i < 3; i++) await d.publishAsync('opsfail/1', JSON.stringify({ seq: i, v: -1 }), { qos: 1 })
    await d.endAsync()
    await eventually(() => j.api('GET', `${rulesApi}/${ruleId}/actions/0/failed-messages`), (r) => r.body.stored === 3, '3 kept')
  })
  after(async () => {
    await db?.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined)
    await db?.end().catch(() => undefined)
  })

  it('list, get, discard and replay', async () => {
    const list = await cli(['rules', 'failed-messages', 'list', ruleId])
    assert.equal(list.code, 0, list.stderr)
    assert.match(list.stdout, /^kept: 3 \(\d+ bytes; at most \d+ messages, \d+ bytes\), evicted: 0, keeping failures now: yes$/m)
    assert.match(list.stdout, /^ID\s+AT\s+REASON\s+CODE\s+ATTEMPTS\s+MESSAGE$/m)
    assert.match(list.stdout, /^\d+\s+\S+\s+failed\s+CONSTRAINT_VIOLATION\s+1\s+\{"seq":\d,"v":-1\}$/m)
    const body = JSON.parse((await cli(['rules', 'failed-messages', 'list', ruleId, '--action', '0', '--json'])).stdout)
    assert.equal(body.stored, 3)
    const first = body.data[0].id as string
    const firstSeq = (await j.api('GET', `${rulesApi}/${ruleId}/actions/0/failed-messages/${first}`)).body.message.seq as number

    const got = await cli(['rules', 'failed-messages', 'get', ruleId, first!])
    assert.equal(got.code, 0, got.stderr)
    assert.match(got.stdout, /^reason:\s+failed$/m)
    assert.match(got.stdout, /^error:\s+.*check constraint/im)
    assert.match(got.stdout, /^message:\n  \{\n    "seq": \d,\n    "v": -1\n  \}$/m)

    const noAction = await cli(['rules', 'failed-messages', 'list', ruleId, '--action', '7'])
    assert.equal(noAction.code, 1)
    assert.match(noAction.stderr, /ACTION_NOT_FOUND \(HTTP 404\)/)
    assert.equal((await cli(['rules', 'failed-messages', 'list', ruleId, '--action', 'first'])).code, 2)
    const neither = await cli(['rules', 'failed-messages', 'discard', ruleId])
    assert.equal(neither.code, 2, 'discarding everything needs --all')
    assert.match(neither.stderr, /--all/)

    const discarded = await cli(['rules', 'failed-messages', 'discard', ruleId, first!, '999999'])
    assert.equal(discarded.code, 0, discarded.stderr)
    assert.equal(discarded.stdout, 'discarded 1\n')
    assert.match(discarded.stderr, /not in the store .*: 999999/)

    await db.query(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_positive`)
    const replayed = await cli(['rules', 'failed-messages', 'replay', ruleId, '--all', '--json'])
    assert.equal(replayed.code, 0, replayed.stderr)
    assert.deepEqual(JSON.parse(replayed.stdout), { replayed: 2, notFound: [] })
    const rows = await eventually(async () => (await db.query(`SELECT seq FROM ${table} ORDER BY seq`)).rows.map((r) => r.seq as number), (s) => s.length >= 2, '2 rows')
    assert.deepEqual(rows, [0, 1, 2].filter((s) => s !== firstSeq), 'the discarded one is gone, the replayed ones arrived once')
    const empty = await cli(['rules', 'failed-messages', 'list', ruleId])
    assert.match(empty.stdout, /^\(no failed messages\)$/m)
  })
})

describe('junction completion', () => {
  it('knows the new commands and their flags', async () => {
    const bash = await cli(['completion', 'bash'])
    assert.equal(bash.code, 0)
    assert.match(bash.stdout, /^    ""\) words="serve status deployments connectors rules mqtt export import users api-keys audit completion /m)
    assert.match(bash.stdout, /"rules"\) words="list get create edit enable disable test delete failed-messages /)
    assert.match(bash.stdout, /"rules failed-messages"\) words="list get replay discard /)
    assert.match(bash.stdout, /"users"\) words="list get create set-role set-password delete /)
    assert.match(bash.stdout, /"api-keys"\) words="list get create set-role delete /)
    assert.match(bash.stdout, /"audit"\) words="list export /)
    assert.match(bash.stdout, /"import"\) words="[^"]*--from-emqx[^"]*--apply/)
    assert.match(bash.stdout, /"export"\) words="[^"]*--passphrase-env/)
  })
})
