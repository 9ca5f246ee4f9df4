/**
 * PostgreSQL servers for tests: the machine's shared server (never stopped or reconfigured) and
 * private throwaway servers (initdb + pg_ctl on a free loopback port) for auth, TLS and outage
 * cases. A private server lives in its own temp dir and is stopped when the test process exits.
 */
import { execFile, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { appendFile, chmod, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before } from 'node:test'
import { promisify } from 'node:util'
import pg from 'pg'
import { selfSignedCertificate } from './certificate.js'
import { freePort } from './connector-battery.js'
import { cleanUpAtExit } from './leftovers.js'

const run = promisify(execFile)

export interface PostgresAddress {
  readonly host: string
  readonly port: number
  readonly database: string
  readonly user: string
  readonly password: string | undefined
}

/** The machine's PostgreSQL (trust auth, no TLS); overridable with JUNCTION_TEST_PG_* variables. */
export function sharedPostgres(): PostgresAddress {
  const env = process.env
  return {
    host: env.JUNCTION_TEST_PG_HOST ?? '127.0.0.1',
    port: Number(env.JUNCTION_TEST_PG_PORT ?? 5432),
    database: env.JUNCTION_TEST_PG_DATABASE ?? 'test',
    user: env.JUNCTION_TEST_PG_USER ?? 'postgres',
    password: env.JUNCTION_TEST_PG_PASSWORD,
  }
}

/** Runs one statement on the shared server's own database, on a connection of its own (CREATE/DROP DATABASE). */
export async function onSharedServer(statement: string): Promise<void> {
  const shared = sharedPostgres()
  const c = new pg.Client({ host: shared.host, port: shared.port, user: shared.user, database: shared.database })
  await c.connect()
  try {
    await c.query(statement)
  } finally {
    await c.end()
  }
}

/**
 * A throwaway database on the shared server for the tests of the calling `describe`: its
 * `before` hook creates it and its `after` hook drops it, even with connections still open.
 * Returns the database's connection URL.
 */
export function privateDatabase(): string {
  const shared = sharedPostgres()
  const database = `junction_test_${randomBytes(4).toString('hex')}`
  before(() => onSharedServer(`CREATE DATABASE ${database}`))
  after(() => onSharedServer(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`))
  return `postgres://${shared.user}@${shared.host}:${shared.port}/${database}`
}

export interface PrivatePostgresOptions {
  /** `trust` (default): any password is accepted; `scram`: scram-sha-256 with `password`. */
  auth?: 'trust' | 'scram'
  /** The superuser's password (scram); generated when left out. */
  password?: string
  /** `on`: TLS offered with a self-signed certificate; `required`: TCP clients must use TLS. */
  ssl?: 'off' | 'on' | 'required'
}

export interface PrivatePostgres extends PostgresAddress {
  readonly database: 'postgres'
  /** PEM of the self-signed server certificate (its own CA) when ssl is on, else undefined. */
  readonly certPem: string | undefined
  /** Runs SQL as the superuser over the server's Unix socket (psql). */
  sql(statement: string): Promise<string>
  /** `pg_ctl stop -m fast`; a no-op when already stopped. */
  stop(): Promise<void>
  /** Starts it again on the same port with the same data. */
  start(): Promise<void>
  /** Stops it and removes its directory. */
  destroy(): Promise<void>
}

/** Binaries of the newest installed PostgreSQL (Debian layout), or whatever is on PATH. */
function pgBin(name: string): string {
  const root = '/usr/lib/postgresql'
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))
    for (const v of versions) {
      const p = join(root, v, 'bin', name)
      if (existsSync(p)) return p
    }
  }
  return name
}

const isRoot = process.getuid?.() === 0
/** initdb and postgres refuse to run as root: run them as the `postgres` OS user then. */
const asPg = (cmd: string, args: string[]): [string, string[]] => (isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args])

async function exec(cmd: string, args: string[], cwd: string): Promise<string> {
  const [c, a] = asPg(cmd, args)
  try {
    const { stdout } = await run(c, a, { cwd, env: { ...process.env, LC_ALL: 'C' }, timeout: 60_000 })
    return stdout
  } catch (err) {
    const e = err as { stderr?: string; message: string }
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr || e.message}`)
  }
}

/** initdb + pg_ctl start of a throwaway server on a free 127.0.0.1 port (~1-2 s). */
export async function startPrivatePostgres(opts: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const auth = opts.auth ?? 'trust'
  const ssl = opts.ssl ?? 'off'
  const user = 'junction'
  const password = auth === 'scram' ? (opts.password ?? `pw-${Math.random().toString(36).slice(2)}`) : opts.password
  const dir = await mkdtemp(join(tmpdir(), 'junction-pg-'))
  const data = join(dir, 'data')
  const owned = async (path: string) => {
    if (isRoot) {
      const { uid, gid } = pgUser()
      await chown(path, uid, gid)
    }
  }
  await owned(dir)

  const initArgs = ['-D', data, '-U', user, '--no-sync', '--no-instructions', '-E', 'UTF8', '--locale=C', '--auth=trust']
  if (password !== undefined) {
    const pwfile = join(dir, 'pwfile')
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 })
    await owned(pwfile)
    initArgs.push(`--pwfile=${pwfile}`)
  }
  await exec(pgBin('initdb'), initArgs, dir)

  const port = await freePort()
  const conf = [
    `port = ${port}`,
    `listen_addresses = '127.0.0.1'`,
    `unix_socket_directories = '${dir}'`,
    'fsync = off',
    'synchronous_commit = off',
    'full_page_writes = off',
    'shared_buffers = 16MB',
    'max_connections = 50',
    `password_encryption = 'scram-sha-256'`,
  ]
  let certPem: string | undefined
  if (ssl !== 'off') {
    const cert = await selfSignedCertificate(data)
    // postgres refuses a key that others may read.
    await chmod(cert.keyFile, 0o600)
    await owned(cert.keyFile)
    await owned(cert.certFile)
    certPem = cert.certPem
    conf.push('ssl = on', `ssl_cert_file = '${cert.certFile}'`, `ssl_key_file = '${cert.keyFile}'`)
  }
  await appendFile(join(data, 'postgresql.conf'), `\n# junction test server\n${conf.join('\n')}\n`)
  const method = auth === 'scram' ? 'scram-sha-256' : 'trust'
  const hostType = ssl === 'required' ? 'hostssl' : 'host'
  // The Unix socket stays trusted so the harness can run SQL with psql whatever the TCP rules are.
  await writeFile(join(data, 'pg_hba.conf'), `local all all trust\n${hostType} all all 127.0.0.1/32 ${method}\n`)

  const logFile = join(dir, 'postgres.log')
  let up = false
  let forget = () => {}
  const start = async () => {
    if (up) return
    try {
      await exec(pgBin('pg_ctl'), ['-D', data, '-l', logFile, '-w', '-t', '30', 'start'], dir)
    } catch (err) {
      const log = await readFile(logFile, 'utf8').catch(() => '')
      throw new Error(`${(err as Error).message}\n${log.split('\n').slice(-20).join('\n')}`)
    }
    up = true
    // A server still running when the process exits is stopped at once and its dir removed.
    forget = cleanUpAtExit(() => {
      const [c, a] = asPg(pgBin('pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'])
      spawnSync(c, a, { stdio: 'ignore', cwd: '/' })
      rmSync(dir, { recursive: true, force: true })
    })
  }
  const stop = async () => {
    if (!up) return
    await exec(pgBin('pg_ctl'), ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop'], dir)
    up = false
    forget()
  }
  await start()
  return {
    host: '127.0.0.1',
    port,
    database: 'postgres',
    user,
    password,
    certPem,
    sql: (statement) => exec(pgBin('psql'), ['-h', dir, '-p', String(port), '-U', user, '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-Atqc', statement], dir),
    start,
    stop,
    destroy: async () => {
      await stop().catch(() => undefined)
      await rm(dir, { recursive: true, force: true })
    },
  }
}

let pgIds: { uid: number; gid: number } | undefined
function pgUser(): { uid: number; gid: number } {
  if (!pgIds) {
    const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
    const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' })
    if (r.status !== 0 || g.status !== 0) throw new Error('running as root needs a `postgres` OS user to run initdb and pg_ctl')
    pgIds = { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) }
  }
  return pgIds
}
