import { connect as netConnect, isIP } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import pg from 'pg'
// Drops a client's socket at once: `end()` waits for the server, which a hung server never answers.
import { destroyPgSocket as destroyClient } from '../../library-patches/pg.js'
import {
  ConnectorError,
  ProbeRun,
  TemplateError,
  resolveHost,
  tcpConnect,
  tlsOptions,
  type Channel,
  type Connector,
  type ConnectorContext,
  type Health,
  type ProbeResult,
} from '../../connector-api/index.js'
import { NoPasswordError, classifyPgError, type PgPhase } from './classify-error.js'
import type { PostgresqlConfig, PostgresqlParams } from './config-schema.js'
import { PostgresqlChannel, type PgChannelHost } from './postgresql-channel.js'

/** How long `stop()` waits for the pool to close its connections before giving up on them. */
const STOP_WAIT_MS = 5_000

/** PostgreSQL's SSLRequest message: length 8, request code 80877103. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])

/**
 * One PostgreSQL connector instance: between `start` and `stop` a `pg.Pool` for the rule actions'
 * statements plus one connection of its own for health checks; short-lived single connections
 * for `probe`.
 */
export class PostgresqlConnector implements Connector<PostgresqlParams>, PgChannelHost {
  private pool: pg.Pool | undefined
  /** The health check's own connection, outside the pool (see `health`). */
  private healthClient: { client: pg.Client; ready: Promise<unknown>; connected: boolean; dead: boolean } | undefined
  /** Pool connections checked out by channels right now. */
  private leased = 0
  readonly target: string
  readonly poolSize: number

  constructor(
    private readonly config: PostgresqlConfig,
    private readonly ctx: ConnectorContext,
  ) {
    this.target = `${config.host}:${config.port}/${config.database}`
    this.poolSize = config.poolSize
  }

  async probe(signal: AbortSignal): Promise<ProbeResult> {
    const c = this.config
    const run = new ProbeRun()
    let client: pg.Client | undefined
    let connected = false
    try {
      const address = await run.step('resolve', () => this.guard(resolveHost(c.host, signal), signal), (a) => a)
      await run.step('connect', () => this.guard(tcpConnect(address, c.port, c.connectTimeoutMs, signal), signal), () => `${address}:${c.port}`)
      if (c.tls.enable) {
        await run.step('tls', () => this.guard(this.tlsHandshake(address, signal), signal), (d) => d)
      }
      const probeClient = new pg.Client({ ...this.clientConfig(), query_timeout: c.connectTimeoutMs })
      client = probeClient
      probeClient.on('error', () => undefined) // a late socket error must not crash the process
      await run.step('authenticate', () => this.guard(probeClient.connect(), signal, () => destroyClient(probeClient)),
        () => `logged in as "${c.username}" to database "${c.database}"${c.tls.enable ? ' over TLS' : ''}`)
      connected = true
      const info = await run.step('query', () => this.guard(serverInfo(probeClient), signal, () => destroyClient(probeClient)), describeServer)
      if (info.one !== 1) throw new ConnectorError('CONNECTION_FAILED', `SELECT 1 on ${this.target} answered ${String(info.one)}`)
      return run.succeed()
    } catch (err) {
      return run.fail(this.classify(err, signal))
    } finally {
      if (client) await endClient(client, connected)
    }
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.pool) return
    const pool = new pg.Pool({ ...this.clientConfig(), max: this.config.poolSize })
    // An idle connection that dies (server restart, network cut) is removed by the pool; without
    // this listener its error would crash the process.
    pool.on('error', (err) => {
      const e = classifyPgError(err, this.target, this.config.username)
      this.ctx.logger.warn('PostgreSQL connection closed while idle', { code: e.code, reason: e.message })
    })
    this.pool = pool
    try {
      await this.roundTrip(pool, signal)
    } catch (err) {
      throw this.classify(err, signal)
    }
  }

  /**
   * A `SELECT 1` on a connection of its own, not one from the pool: when every pool connection is
   * busy with deliveries, a check through the pool would wait for a free one and could time out,
   * reporting a busy but healthy server as disconnected. The connection is opened on the first
   * check and kept; after a failure it is closed and the next check opens a new one. Bounded by
   * `connectTimeoutMs` as a whole (connect plus query), so a dead or hung server answers
   * `disconnected` instead of a hang.
   */
  async health(signal: AbortSignal): Promise<Health> {
    if (!this.pool) return { status: 'disconnected', code: 'CONNECTION_FAILED', reason: 'The connector is not started.' }
    const ms = this.config.connectTimeoutMs
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(ms)])
    const slot = this.healthConnection()
    try {
      await this.guard((async () => {
        await slot.ready
        await slot.client.query({ text: 'SELECT 1', query_timeout: ms } as pg.QueryConfig)
      })(), deadline, () => destroyClient(slot.client))
      return { status: 'connected' }
    } catch (err) {
      this.dropHealthConnection(slot)
      const e = this.classify(err, deadline)
      return { status: 'disconnected', code: e.code, reason: e.message }
    }
  }

  /**
   * A channel for one rule action: compiles the SQL template and has the server parse and plan
   * it (nothing runs), so a statement PostgreSQL rejects (unknown table or column, syntax, a
   * missing privilege) fails here with a `permanent` error carrying PostgreSQL's message. A
   * connection problem fails it with `not_connected` (the runtime opens it again later).
   */
  async openChannel(params: PostgresqlParams): Promise<Channel> {
    if (!this.pool) throw new ConnectorError('CONNECTION_LOST', 'The connector is not started', { kind: 'not_connected' })
    let channel: PostgresqlChannel
    try {
      channel = new PostgresqlChannel(params.sql, this)
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err
      throw new ConnectorError('INVALID_PARAMS', `Invalid placeholder in the action's SQL: ${err.message}`, {
        kind: 'permanent', hint: 'Placeholders look like ${payload.temp} or ${tags[1]}.',
      })
    }
    // Waiting for a pool connection and then the two statements.
    await channel.validate(AbortSignal.timeout(this.config.connectTimeoutMs * 2))
    return channel
  }

  // --- PgChannelHost (used by channels) ---

  async acquire(signal: AbortSignal): Promise<pg.PoolClient> {
    const pool = this.pool
    if (!pool) throw new ConnectorError('CONNECTION_LOST', 'The connector is stopped', { kind: 'not_connected' })
    const waitedOut = () => new ConnectorError('TIMEOUT', `Gave up waiting for a free connection to ${this.target}`, {
      kind: 'retryable', hint: `All ${this.config.poolSize} pooled connections stayed busy; raise poolSize or lower the action's inflight window.`,
    })
    if (signal.aborted) throw waitedOut()
    const pending = pool.connect()
    return new Promise<pg.PoolClient>((resolve, reject) => {
      let done = false
      const onAbort = () => {
        done = true
        reject(waitedOut())
      }
      signal.addEventListener('abort', onAbort, { once: true })
      pending.then((client) => {
        signal.removeEventListener('abort', onAbort)
        if (done) return client.release()
        this.leased++
        resolve(client)
      }, (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        // pg-pool says "timeout exceeded" both when the server does not answer and when every
        // connection stayed checked out: only the first means the connection is gone.
        if (this.leased >= this.config.poolSize && /timeout exceeded/i.test(String((err as Error | undefined)?.message))) reject(waitedOut())
        else reject(this.classifyError(err, 'connect'))
      })
    })
  }

  release(client: pg.PoolClient, err?: Error): void {
    this.leased--
    client.release(err ?? false)
  }

  classifyError(err: unknown, phase: PgPhase): ConnectorError {
    return classifyPgError(err, this.target, this.config.username, phase)
  }

  async stop(): Promise<void> {
    const pool = this.pool
    this.pool = undefined
    const health = this.healthClient
    this.healthClient = undefined
    if (health) health.dead = true
    const closingHealth = health ? endClient(health.client, health.connected) : undefined
    if (!pool) return void (await closingHealth)
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([Promise.all([pool.end(), closingHealth]), new Promise((resolve) => { timer = setTimeout(resolve, STOP_WAIT_MS) })])
    } catch (err) {
      this.ctx.logger.debug('PostgreSQL pool did not close cleanly', { reason: err instanceof Error ? err.message : String(err) })
    } finally {
      clearTimeout(timer)
    }
  }

  /** Settings shared by the pool and the probe's client. Nothing is read from PG* variables. */
  private clientConfig(): pg.ClientConfig {
    const c = this.config
    const password = c.password
    return {
      host: c.host,
      port: c.port,
      database: c.database,
      user: c.username,
      // A function, so pg asks for it only when the server wants a password and never falls back
      // to PGPASSWORD or ~/.pgpass of the Junction process.
      password: () => {
        if (password === undefined || password === '') throw new NoPasswordError()
        return password
      },
      ssl: tlsOptions(c.tls) ?? false,
      connectionTimeoutMillis: c.connectTimeoutMs,
      keepAlive: true,
      application_name: `junction:${this.ctx.connectorId}`.slice(0, 63),
    }
  }

  /** The health check's connection: the open one, or a new one that starts connecting now. */
  private healthConnection(): NonNullable<PostgresqlConnector['healthClient']> {
    const current = this.healthClient
    if (current && !current.dead) return current
    const client = new pg.Client(this.clientConfig())
    const slot = { client, ready: client.connect(), connected: false, dead: false }
    slot.ready.then(() => { slot.connected = true }, () => undefined) // a failure is reported by the check that awaits it
    // A server that goes away closes this idle connection: the next check opens a new one.
    client.on('error', (err) => {
      slot.dead = true
      this.ctx.logger.debug('PostgreSQL health-check connection closed', { code: this.classifyError(err, 'connect').code })
    })
    client.on('end', () => { slot.dead = true })
    this.healthClient = slot
    return slot
  }

  private dropHealthConnection(slot: NonNullable<PostgresqlConnector['healthClient']>): void {
    slot.dead = true
    if (this.healthClient === slot) this.healthClient = undefined
    destroyClient(slot.client)
  }

  /**
   * One `SELECT 1` through the pool, bounded by the connect timeout as a whole (getting a
   * connection plus the query), so a dead or hung server cannot stall health or start.
   */
  private async roundTrip(pool: pg.Pool, signal: AbortSignal): Promise<void> {
    const ms = this.config.connectTimeoutMs
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(ms)])
    let abandoned = false
    const work = (async () => {
      const client = await pool.connect()
      if (abandoned) {
        client.release()
        return
      }
      try {
        await client.query({ text: 'SELECT 1', query_timeout: ms } as pg.QueryConfig)
        client.release()
      } catch (err) {
        client.release(err instanceof Error ? err : true) // drop this connection from the pool
        throw err
      }
    })()
    try {
      await this.guard(work, deadline)
    } finally {
      abandoned = true
    }
  }

  /**
   * The `tls` step: asks the server for TLS (SSLRequest) on a connection of its own and runs the
   * handshake with the connector's TLS settings, so TLS failures show apart from login failures.
   */
  private tlsHandshake(address: string, signal: AbortSignal): Promise<string> {
    const c = this.config
    const opts = tlsOptions(c.tls) ?? {}
    const servername = c.tls.serverName ?? (isIP(c.host) === 0 ? c.host : undefined)
    return new Promise((resolve, reject) => {
      const raw = netConnect({ host: address, port: c.port })
      let secure: ReturnType<typeof tlsConnect> | undefined
      let settled = false
      const finish = (err: unknown, detail = '') => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        secure?.destroy()
        raw.destroy()
        if (err === undefined) resolve(detail)
        else reject(this.classify(err, signal))
      }
      const onAbort = () => finish(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }))
      const timer = setTimeout(() => finish(Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' })), c.connectTimeoutMs)
      signal.addEventListener('abort', onAbort, { once: true })
      raw.once('error', finish)
      raw.once('close', () => finish(new Error('Connection terminated unexpectedly')))
      raw.once('connect', () => raw.write(SSL_REQUEST))
      raw.once('data', (chunk: Buffer) => {
        if (chunk[0] !== 0x53 /* 'S' */) return finish(new Error('The server does not support SSL connections'))
        secure = tlsConnect({ socket: raw, ...opts, ...(servername ? { servername } : {}) })
        secure.once('error', finish)
        secure.once('secureConnect', () => {
          finish(undefined, `${secure?.getProtocol() ?? 'TLS'}, certificate ${c.tls.verify ? 'verified' : 'not verified (verify is off)'}`)
        })
      })
    })
  }

  /**
   * Runs `work` until `signal` aborts; then calls `cancel` (closing what `work` opened) and
   * rejects at once. Errors are classified.
   */
  private guard<T>(work: Promise<T>, signal: AbortSignal, cancel?: () => unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        try {
          Promise.resolve(cancel?.()).catch(() => undefined)
        } catch {
          // cancelling is best effort
        }
        reject(this.classify(signal.reason, signal))
      }
      // Handlers first, so a rejection after an abort is never unhandled (settling twice is a no-op).
      work.then(
        (v) => { signal.removeEventListener('abort', onAbort); resolve(v) },
        (err) => { signal.removeEventListener('abort', onAbort); reject(this.classify(err, signal)) },
      )
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  private classify(err: unknown, signal: AbortSignal): ConnectorError {
    if (err instanceof ConnectorError) return err
    const name = (err as { name?: unknown } | undefined)?.name
    if (signal.aborted || name === 'AbortError' || name === 'TimeoutError') {
      return new ConnectorError('TIMEOUT', `No answer from ${this.target} in time`, {
        hint: 'Check that the server is up and reachable, or raise the timeout.',
        cause: err,
      })
    }
    return classifyPgError(err, this.target, this.config.username)
  }
}

interface ServerInfo {
  one: number
  version: string
  standby: boolean
}

async function serverInfo(client: pg.Client): Promise<ServerInfo> {
  const r = await client.query<ServerInfo>(
    "SELECT 1 AS one, current_setting('server_version') AS version, pg_is_in_recovery() AS standby",
  )
  const row = r.rows[0]
  if (!row) throw new ConnectorError('CONNECTION_FAILED', 'SELECT 1 returned no row')
  return row
}

function describeServer(info: ServerInfo): string {
  const d = `PostgreSQL ${info.version}`
  return info.standby ? `${d}; a read-only standby: writes will fail` : d
}

/**
 * Closes a probe client: a logged-in one politely (Terminate), waiting at most a second for the
 * server; one that never logged in, or does not answer, by destroying its socket.
 */
async function endClient(client: pg.Client, connected: boolean): Promise<void> {
  if (!connected) return destroyClient(client)
  let timer: NodeJS.Timeout | undefined
  const ended = await Promise.race([
    client.end().then(() => true, () => false),
    new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), 1_000) }),
  ])
  clearTimeout(timer)
  if (!ended) destroyClient(client)
}

