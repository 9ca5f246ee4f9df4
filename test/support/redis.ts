/**
 * Redis servers for tests: the machine's shared one on 6379 (never reconfigured or flushed: tests
 * use unique key prefixes and delete their keys) and private `redis-server` processes on free
 * loopback ports (password, TLS, outage, a 3-node cluster). Each private server lives in a temp
 * dir; `close()` stops it and removes the dir, and whatever is left is killed when the process exits.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { selfSignedCertificate } from './certificate.js'
import { freePort } from './connector-battery.js'
import { cleanUpAtExit } from './leftovers.js'

const run = promisify(execFile)

/** The machine's Redis; overridable with JUNCTION_TEST_REDIS_HOST / _PORT. */
export function sharedRedis(): { host: string; port: number } {
  return { host: process.env.JUNCTION_TEST_REDIS_HOST ?? '127.0.0.1', port: Number(process.env.JUNCTION_TEST_REDIS_PORT ?? 6379) }
}

export interface PrivateRedisOptions {
  /** `requirepass` (the default user's password); none when left out. */
  readonly password?: string
  /** TLS only (`--port 0 --tls-port P`) with a self-signed certificate for localhost and 127.0.0.1. */
  readonly tls?: boolean
  /** `--cluster-enabled yes` (the node is joined by `startPrivateCluster`). */
  readonly cluster?: boolean
}

export interface PrivateRedis {
  readonly host: '127.0.0.1'
  readonly port: number
  readonly password: string | undefined
  /** PEM of the self-signed certificate when TLS is on. */
  readonly certPem: string | undefined
  /** Runs one command with redis-cli (plain servers only) and answers its output. */
  cli(...args: string[]): Promise<string>
  /** SIGTERM; the server saves its data set first (`shutdown-on-sigterm save`). */
  stop(): Promise<void>
  /** Starts it again on the same port with the saved data. */
  start(): Promise<void>
  /** Stops it and removes its directory. */
  close(): Promise<void>
}

/** A throwaway `redis-server` on a free 127.0.0.1 port, up in a few milliseconds. */
export async function startPrivateRedis(opts: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'junction-redis-'))
  const port = await freePort()
  const args = ['--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--shutdown-on-sigterm', 'save', '--protected-mode', 'no']
  if (opts.password !== undefined) args.push('--requirepass', opts.password)
  let certPem: string | undefined
  if (opts.tls) {
    const cert = await selfSignedCertificate(dir)
    certPem = cert.certPem
    args.push('--port', '0', '--tls-port', String(port), '--tls-cert-file', cert.certFile, '--tls-key-file', cert.keyFile, '--tls-ca-cert-file', cert.certFile, '--tls-auth-clients', 'no')
  } else {
    args.push('--port', String(port))
  }
  if (opts.cluster) args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '2000')
  let child: ChildProcess | undefined
  const start = async () => {
    if (child) return
    child = await spawnRedis(args, dir)
  }
  const stop = async () => {
    const c = child
    if (!c) return
    child = undefined
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()))
    c.kill('SIGTERM')
    await exited
  }
  await start()
  return {
    host: '127.0.0.1',
    port,
    password: opts.password,
    certPem,
    cli: async (...command) => {
      const auth = opts.password === undefined ? [] : ['--no-auth-warning', '-a', opts.password]
      return (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...auth, ...command], { timeout: 30_000 })).stdout.trim()
    },
    start,
    stop,
    close: async () => {
      await stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** Spawns redis-server and resolves once it accepts connections (it says so on stdout). */
function spawnRedis(args: string[], dir: string): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  // A server still running when the process exits is killed and its dir removed.
  const forget = cleanUpAtExit(() => {
    child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })
  child.once('exit', () => forget())
  return new Promise((resolve, reject) => {
    let log = ''
    const timer = setTimeout(() => fail(new Error('redis-server did not get ready in 15 s')), 15_000)
    const fail = (err: Error) => {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(new Error(`${err.message}\n${log.split('\n').slice(-15).join('\n')}`))
    }
    child.stdout!.on('data', (chunk: Buffer) => {
      if (log.length < 100_000) log += chunk.toString('utf8')
      // A Sentinel says it watches its master instead of being ready.
      if (/Ready to accept connections|\+monitor master/.test(log)) {
        clearTimeout(timer)
        child.stdout!.removeAllListeners('data')
        child.stdout!.resume()
        resolve(child)
      }
    })
    child.stderr!.on('data', (chunk: Buffer) => { log += chunk.toString('utf8') })
    child.once('error', fail)
    child.once('exit', (code) => fail(new Error(`redis-server exited with ${String(code)}`)))
  })
}

export interface PrivateCluster {
  /** `127.0.0.1:P` of every master. */
  readonly servers: readonly string[]
  close(): Promise<void>
}

/** Three masters (no replicas) joined with `redis-cli --cluster create`, every slot assigned. */
export async function startPrivateCluster(): Promise<PrivateCluster> {
  const nodes: PrivateRedis[] = []
  try {
    for (let i = 0; i < 3; i++) nodes.push(await startPrivateRedis({ cluster: true }))
    const servers = nodes.map((n) => `127.0.0.1:${n.port}`)
    await run('redis-cli', ['--cluster', 'create', ...servers, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 60_000 })
    // `create` returns once the slots are assigned; the nodes agree on `cluster_state:ok` a moment later.
    for (let i = 0; i < 100; i++) {
      const states = await Promise.all(nodes.map((n) => n.cli('CLUSTER', 'INFO')))
      if (states.every((s) => /cluster_state:ok/.test(s))) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    return { servers, close: async () => { await Promise.all(nodes.map((n) => n.close())) } }
  } catch (err) {
    await Promise.all(nodes.map((n) => n.close()))
    throw err
  }
}

/** A Sentinel on a free port watching `master` under `name` (quorum 1). */
export async function startPrivateSentinel(master: PrivateRedis, name: string): Promise<{ readonly port: number; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'junction-sentinel-'))
  const port = await freePort()
  const conf = join(dir, 'sentinel.conf')
  const auth = master.password === undefined ? '' : `sentinel auth-pass ${name} ${master.password}\n`
  await writeFile(conf, `port ${port}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor ${name} 127.0.0.1 ${master.port} 1\n${auth}`)
  const child = await spawnRedis([conf, '--sentinel'], dir)
  return {
    port,
    close: async () => {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      await exited
      await rm(dir, { recursive: true, force: true })
    },
  }
}
