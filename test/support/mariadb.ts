/**
 * MariaDB servers for tests: the machine's shared server (never stopped or reconfigured) and
 * private throwaway servers (mariadb-install-db + mariadbd on a free loopback port, in a temp
 * dir) for TLS and outage cases. A private server is killed and its dir removed when the test
 * process exits, whatever happened.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { chown, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import mysql from 'mysql2/promise'
import { selfSignedCertificate } from './certificate.js'
import { freePort } from './connector-battery.js'
import { cleanUpAtExit } from './leftovers.js'

const run = promisify(execFile)

export interface MariadbAddress {
  readonly host: string
  readonly port: number
  readonly database: string
  readonly user: string
  readonly password?: string | undefined
}

/** The machine's MariaDB (root without a password, database `test`); overridable with JUNCTION_TEST_MYSQL_* variables. */
export function sharedMariadb(): MariadbAddress {
  const env = process.env
  return {
    host: env.JUNCTION_TEST_MYSQL_HOST ?? '127.0.0.1',
    port: Number(env.JUNCTION_TEST_MYSQL_PORT ?? 3306),
    database: env.JUNCTION_TEST_MYSQL_DATABASE ?? 'test',
    user: env.JUNCTION_TEST_MYSQL_USER ?? 'root',
    password: env.JUNCTION_TEST_MYSQL_PASSWORD,
  }
}

/** Runs statements on a server as its admin, on a connection of their own. */
export async function adminSql<T = unknown>(address: MariadbAddress, sql: string, values: unknown[] = []): Promise<T> {
  const conn = await mysql.createConnection({ host: address.host, port: address.port, user: address.user, password: address.password ?? '', database: address.database })
  try {
    const [rows] = await conn.query(sql, values)
    return rows as T
  } finally {
    await conn.end()
  }
}

/** A name for a test table, user or database, unique per call. */
export const uniqueName = (prefix: string) => `${prefix}_${randomBytes(5).toString('hex')}`

export interface PrivateMariadbOptions {
  /** `on`: TLS offered with a self-signed certificate; `required`: also require_secure_transport. */
  tls?: 'off' | 'on' | 'required'
}

export interface PrivateMariadb extends MariadbAddress {
  /** PEM of the self-signed server certificate when TLS is on. */
  readonly certPem: string | undefined
  stop(): Promise<void>
  /** Starts it again on the same port with its data. */
  start(): Promise<void>
  /** Stops it and removes its directory. */
  destroy(): Promise<void>
}

const isRoot = process.getuid?.() === 0
const userArgs = isRoot ? ['--user=mysql'] : []
const removeDir = (dir: string) => rmSync(dir, { recursive: true, force: true })

/** mysqld refuses to run as root: as root, the files belong to the `mysql` user and it runs as that. */
async function owned(path: string): Promise<void> {
  if (isRoot) {
    const { uid, gid } = mysqlUser()
    await chown(path, uid, gid)
  }
}

let template: Promise<string> | undefined
/** One initialised data dir per process (mariadb-install-db takes seconds); each server starts from a copy. */
function installedTemplate(): Promise<string> {
  template ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'junction-mariadb-template-'))
    cleanUpAtExit(() => removeDir(dir))
    await owned(dir)
    try {
      await run('mariadb-install-db', ['--no-defaults', `--datadir=${join(dir, 'data')}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...userArgs], { timeout: 60_000 })
    } catch (err) {
      throw new Error(`mariadb-install-db failed: ${(err as { stderr?: string }).stderr ?? String(err)}`)
    }
    return dir
  })()
  return template
}

/** mariadb-install-db + mariadbd on a free 127.0.0.1 port (~1-2 s); database `test`, user root without a password over TCP. */
export async function startPrivateMariadb(opts: PrivateMariadbOptions = {}): Promise<PrivateMariadb> {
  const tls = opts.tls ?? 'off'
  const dir = await mkdtemp(join(tmpdir(), 'junction-mariadb-'))
  const data = join(dir, 'data')
  let child: ChildProcess | undefined
  // Private servers are killed and their dirs removed when the process exits, whatever happened.
  const forget = cleanUpAtExit(() => {
    child?.kill('SIGKILL')
    removeDir(dir)
  })
  await owned(dir)
  await run('cp', ['-a', join(await installedTemplate(), 'data'), data])
  let certPem: string | undefined
  const args = ['--no-defaults', `--datadir=${data}`, `--socket=${join(dir, 'sock')}`, `--pid-file=${join(dir, 'pid')}`, '--bind-address=127.0.0.1',
    '--skip-name-resolve', '--skip-log-bin', '--innodb-buffer-pool-size=16M', '--innodb-log-file-size=8M', '--innodb-flush-log-at-trx-commit=2', ...userArgs]
  if (tls !== 'off') {
    const cert = await selfSignedCertificate(dir)
    for (const f of [cert.certFile, cert.keyFile]) await owned(f)
    certPem = cert.certPem
    args.push(`--ssl-cert=${cert.certFile}`, `--ssl-key=${cert.keyFile}`)
    if (tls === 'required') args.push('--require-secure-transport=ON')
  }
  const port = await freePort()
  args.push(`--port=${port}`)
  const address: MariadbAddress = { host: '127.0.0.1', port, database: 'test', user: 'root' }
  const start = async () => {
    if (child) return
    const c = spawn('mariadbd', args, { stdio: ['ignore', 'ignore', 'pipe'] })
    let log = ''
    c.stderr!.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000) })
    child = c
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()))
    c.once('exit', () => { if (child === c) child = undefined })
    // Ready once root can log in over the socket (TCP needs TLS when it is required).
    for (const end = Date.now() + 30_000; ;) {
      const r = spawnSync('mariadb', ['--no-defaults', `--socket=${join(dir, 'sock')}`, '-uroot', '-e', 'CREATE DATABASE IF NOT EXISTS test'], { stdio: 'ignore' })
      if (r.status === 0) break
      if (child !== c || Date.now() > end) {
        c.kill('SIGKILL')
        await exited
        throw new Error(`mariadbd did not start:\n${log}`)
      }
      await sleep(100)
    }
  }
  const stop = async () => {
    const c = child
    if (!c) return
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()))
    c.kill('SIGTERM')
    let timer: NodeJS.Timeout | undefined
    await Promise.race([exited, new Promise((resolve) => { timer = setTimeout(resolve, 20_000) })])
    clearTimeout(timer)
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL')
      await exited
    }
  }
  await start()
  return {
    ...address,
    certPem,
    start,
    stop,
    destroy: async () => {
      await stop()
      await rm(dir, { recursive: true, force: true })
      forget()
    },
  }
}

let ids: { uid: number; gid: number } | undefined
function mysqlUser(): { uid: number; gid: number } {
  if (!ids) {
    const u = spawnSync('id', ['-u', 'mysql'], { encoding: 'utf8' })
    const g = spawnSync('id', ['-g', 'mysql'], { encoding: 'utf8' })
    if (u.status !== 0 || g.status !== 0) throw new Error('running as root needs a `mysql` OS user to run mariadbd')
    ids = { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) }
  }
  return ids
}
