/**
 * MQTT brokers for tests: the machine's Mosquitto (never stopped or reconfigured) and private
 * throwaway Mosquitto instances (own temp dir, free loopback port) for auth, ACL, TLS and outage
 * cases. A private broker is killed when the test process exits.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect as netConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { selfSignedCertificate } from './certificate.js'
import { freePort } from './connector-battery.js'
import { cleanUpAtExit } from './leftovers.js'

const run = promisify(execFile)

export interface MosquittoAddress {
  readonly host: string
  readonly port: number
}

/** The machine's Mosquitto (anonymous, no TLS); overridable with JUNCTION_TEST_MQTT_HOST/PORT. */
export function sharedMosquitto(): MosquittoAddress {
  return {
    host: process.env.JUNCTION_TEST_MQTT_HOST ?? '127.0.0.1',
    port: Number(process.env.JUNCTION_TEST_MQTT_PORT ?? 1883),
  }
}

export interface PrivateMosquittoOptions {
  /** User name -> password, written with mosquitto_passwd. */
  users?: Record<string, string>
  /** Whether clients without a user name may connect; default: only when no users are given. */
  anonymous?: boolean
  /** Contents of an ACL file (`user alice` / `topic write out/#`...); without it every client may do anything. */
  acl?: string
  /** A TLS-only listener with a self-signed certificate for 127.0.0.1 and localhost (see `certPem`). */
  tls?: boolean
  /** Keep sessions, their queued messages and retained messages across stop/start (written to its directory). */
  persistence?: boolean
  /** More mosquitto.conf lines, e.g. `max_packet_size 200`. */
  config?: string[]
}

export interface PrivateMosquitto extends MosquittoAddress {
  /** The self-signed certificate (its own CA) when `tls` is on. */
  readonly certPem: string | undefined
  /** SIGTERM (SIGKILL after 5 s) and waits for the process to exit; a no-op when stopped. */
  stop(): Promise<void>
  /** Starts it again on the same port; resolves when the port accepts connections. */
  start(): Promise<void>
  /** SIGSTOP: the broker keeps its sockets but answers nothing (a hung server). */
  freeze(): void
  /** SIGCONT after `freeze`. */
  thaw(): void
  /** Kills it and removes its directory. Idempotent. */
  destroy(): Promise<void>
}

/** Starts a private Mosquitto on a free 127.0.0.1 port (well under a second). */
export async function startPrivateMosquitto(opts: PrivateMosquittoOptions = {}): Promise<PrivateMosquitto> {
  const dir = await mkdtemp(join(tmpdir(), 'junction-mosquitto-'))
  const port = await freePort()
  const users = Object.entries(opts.users ?? {})
  const conf = [
    `listener ${port} 127.0.0.1`,
    `allow_anonymous ${opts.anonymous ?? users.length === 0}`,
    ...(opts.persistence ? ['persistence true', `persistence_location ${dir}/`] : ['persistence false']),
    `log_dest file ${join(dir, 'mosquitto.log')}`,
    'log_type error',
    'log_type warning',
    'log_type notice',
  ]
  // As root Mosquitto would switch to the `mosquitto` user, which cannot read this directory.
  if (process.getuid?.() === 0) conf.push('user root')
  if (users.length > 0) {
    const file = join(dir, 'passwd')
    for (const [i, [user, password]] of users.entries()) {
      await run('mosquitto_passwd', [...(i === 0 ? ['-c'] : []), '-b', file, user, password], { timeout: 10_000 })
    }
    conf.push(`password_file ${file}`)
  }
  if (opts.acl !== undefined) {
    const file = join(dir, 'acl')
    await writeFile(file, opts.acl)
    conf.push(`acl_file ${file}`)
  }
  let certPem: string | undefined
  if (opts.tls) {
    const cert = await selfSignedCertificate(dir)
    certPem = cert.certPem
    conf.push(`certfile ${cert.certFile}`, `keyfile ${cert.keyFile}`)
  }
  conf.push(...(opts.config ?? []))
  const confFile = join(dir, 'mosquitto.conf')
  await writeFile(confFile, `${conf.join('\n')}\n`)

  let child: ChildProcess | undefined
  let forget = () => {}
  let exited: Promise<void> = Promise.resolve()
  const start = async () => {
    if (child) return
    const proc = spawn('mosquitto', ['-c', confFile], { stdio: 'ignore', cwd: dir })
    child = proc
    // A broker still running when the process exits is killed and its dir removed.
    forget = cleanUpAtExit(() => {
      proc.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    })
    exited = new Promise((resolve) => proc.once('exit', () => resolve()))
    let gone = false
    void exited.then(() => { gone = true })
    const deadline = Date.now() + 10_000
    while (!(await accepts(port))) {
      if (gone || Date.now() > deadline) {
        const log = await readFile(join(dir, 'mosquitto.log'), 'utf8').catch(() => '')
        proc.kill('SIGKILL')
        child = undefined
        forget()
        throw new Error(`mosquitto did not start on port ${port}:\n${log}`)
      }
      await new Promise((r) => setTimeout(r, 25))
    }
  }
  const stop = async () => {
    const proc = child
    if (!proc) return
    proc.kill('SIGCONT') // a frozen process would not act on SIGTERM
    proc.kill('SIGTERM')
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
    child = undefined
    forget()
  }
  await start()
  return {
    host: '127.0.0.1',
    port,
    certPem,
    start,
    stop,
    freeze: () => { child?.kill('SIGSTOP') },
    thaw: () => { child?.kill('SIGCONT') },
    destroy: async () => {
      await stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port })
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => { socket.destroy(); resolve(false) })
  })
}
