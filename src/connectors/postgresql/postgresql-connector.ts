import { connect as netConnect, isIP } from 'node:net'
import { connect as tlsConnect, type TLSSocket } from 'node:tls'
import pg from 'pg'
// Drops a client's socket at once: `end()` waits for the server, which a hung server never answers.
import { destroyPgSocket as destroyClient } from '../../library-patches/pg.js'
import { acquireWithin, ConnectorError, KeptConnection, NOT_STARTED, notStarted, probeConnection, roundTrip, settleWithin, SqlActions, timedOut, tlsOptions, untilAborted } from '../../connector-api/index.js'
import type { Channel, ChannelMessage, Connector, ConnectorContext, Health, ProbeResult } from '../../connector-api/index.js'
import { NoPasswordError, classifyPgError } from './classify-error.js'
import type { PostgresqlConfig, PostgresqlParams } from './config-schema.js'
import { PostgresqlChannel, type PgChannelHost } from './postgresql-channel.js'

/** How long a Test waits for the server to acknowledge its Terminate before dropping the socket. */
const PROBE_CLOSE_WAIT_MS = 1_000

/** PostgreSQL's SSLRequest message: length 8, request code 80877103. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])

/**
 * One PostgreSQL connector instance: between `start` and `stop` a `pg.Pool` for the rule actions'
 * statements plus one connection of its own for health checks; short-lived single connections
 * for `probe`.
 */
export class PostgresqlConnector implements Connector<PostgresqlParams>, PgChannelHost {
  private pool: pg.Pool | undefined
  /** Every connection the pool holds open, so that a stop that runs out of time can drop them. */
  private readonly pooled = new Set<pg.Client>()
  /** The health check's own connection, outside the pool (see `health`). */
  private readonly healthConnection = new KeptConnection<HealthSlot>({
    open: () => this.openHealthConnection(),
    close: (slot) => { slot.dead = true; destroyClient(slot.client) },
    alive: (slot) => !slot.dead,
  })
  /** Pool connections checked out by channels right now. */
  private leased = 0
  readonly target: string
  readonly poolSize: number
  private readonly actions = new SqlActions({ open: (sql) => new PostgresqlChannel(sql, this), started: () => this.pool !== undefined, validateMs: () => this.config.connectTimeoutMs * 2 })

  constructor(
    private readonly config: PostgresqlConfig,
    private readonly ctx: ConnectorContext,
  ) {
    this.target = `${config.host}:${config.port}/${config.database}`
    this.poolSize = config.poolSize
  }

  /** Resolve, connect, tls (an SSLRequest upgrade), then login as `authenticate` and a `SELECT 1` as `query`. */
  probe(signal: AbortSignal): Promise<ProbeResult> {
    const c = this.config
    let client: pg.Client | undefined
    let connected = false
    // Each step drops the client's socket the moment it gives up, so nothing waits on a hung server.
    const bounded = <T>(work: Promise<T>, bound: AbortSignal, probeClient: pg.Client) =>
      untilAborted(work, bound, () => timedOut(this.target), () => destroyClient(probeClient))
    return probeConnection({
      host: c.host, port: c.port, timeoutMs: c.connectTimeoutMs, tls: c.tls,
      tlsStep: (address, bound) => this.sslRequest(address, bound),
      steps: [
        {
          name: 'authenticate',
          run: async (bound) => {
            const probeClient = new pg.Client({ ...this.clientConfig(), query_timeout: c.connectTimeoutMs })
            client = probeClient
            probeClient.on('error', () => undefined) // a late socket error must not crash the process
            await bounded(probeClient.connect(), bound, probeClient)
            connected = true
            return `logged in as "${c.username}" to database "${c.database}"${c.tls.enable ? ' over TLS' : ''}`
          },
        },
        {
          name: 'query',
          run: async (bound) => {
            const info = await bounded(serverInfo(client!), bound, client!)
            if (info.one !== 1) throw new ConnectorError('CONNECTION_FAILED', `SELECT 1 on ${this.target} answered ${String(info.one)}`)
            return describeServer(info)
          },
        },
      ],
      classify: (err) => this.connectError(err),
      cleanup: () => client && endClient(client, connected, AbortSignal.timeout(PROBE_CLOSE_WAIT_MS)),
    }, signal)
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.pool) return
    const pool = new pg.Pool({ ...this.clientConfig(), max: this.config.poolSize })
    // An idle connection that dies (server restart, network cut) is removed by the pool; without
    // this listener its error would crash the process.
    pool.on('error', (err) => {
      const e = this.connectError(err)
      this.ctx.logger.warn('PostgreSQL connection closed while idle', { code: e.code, reason: e.message })
    })
    pool.on('connect', (client) => this.pooled.add(client))
    pool.on('remove', (client) => this.pooled.delete(client))
    this.pool = pool
    await this.roundTrip(pool, signal)
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
    if (!this.pool) return NOT_STARTED
    const ms = this.config.connectTimeoutMs
    return this.healthConnection.check(signal, { timeoutMs: ms, target: this.target, classify: (e) => this.connectError(e) }, async (slot) => {
      await slot.ready
      await slot.client.query({ text: 'SELECT 1', query_timeout: ms } as pg.QueryConfig)
    })
  }

  /**
   * A channel for one rule action: compiles the SQL template and has the server parse and plan
   * it (nothing runs), so a statement PostgreSQL rejects (unknown table or column, syntax, a
   * missing privilege) fails here with a `permanent` error carrying PostgreSQL's message. A
   * connection problem fails it with `not_connected` (the runtime opens it again later).
   */
  openChannel(params: PostgresqlParams): Promise<Channel> {
    // Waiting for a pool connection and then the two statements.
    return this.actions.openChannel(params)
  }

  /**
   * On a rule's save: the server prepares the statement as `openChannel` does, and a statement
   * that only reads a table is refused (STATEMENT_WRITES_NOTHING). Every refusal names `sql`.
   */
  checkAction(params: PostgresqlParams, signal: AbortSignal): Promise<void> {
    return this.actions.checkAction(params, signal)
  }

  /** Test action with rollback: the statement runs in a transaction that is rolled back. */
  sendRolledBack(params: PostgresqlParams, message: ChannelMessage, signal: AbortSignal): Promise<void> {
    return this.actions.sendRolledBack(params, message, signal)
  }

  // --- PgChannelHost (used by channels) ---

  acquire(signal: AbortSignal): Promise<pg.PoolClient> {
    const pool = this.pool
    if (!pool) return Promise.reject(notStarted())
    const waitedOut = () => new ConnectorError('TIMEOUT', `Gave up waiting for a free connection to ${this.target}`, {
      kind: 'retryable', hint: `All ${this.config.poolSize} pooled connections stayed busy; raise poolSize or lower the action's inflight window.`,
    })
    if (signal.aborted) return Promise.reject(waitedOut())
    const getting = pool.connect().then((client) => {
      this.leased++
      return client
    }, (err: unknown) => {
      // pg-pool says "timeout exceeded" both when the server does not answer and when every
      // connection stayed checked out: only the first means the connection is gone.
      if (this.leased >= this.config.poolSize && /timeout exceeded/i.test(String((err as Error | undefined)?.message))) throw waitedOut()
      throw this.connectError(err)
    })
    return acquireWithin(getting, signal, waitedOut, (client) => this.release(client, undefined))
  }

  /** With `broken`, the pool closes the connection instead of reusing it. */
  release(client: pg.PoolClient, broken: Error | undefined): void {
    this.leased--
    client.release(broken ?? false)
  }

  /** A statement's failure. */
  classify(err: unknown): ConnectorError {
    return classifyPgError(err, this.target, this.config.username, 'query')
  }

  private connectError(err: unknown): ConnectorError {
    return classifyPgError(err, this.target, this.config.username, 'connect')
  }

  /** Closes the pool and the health connection politely until `signal` aborts, then drops their sockets. */
  async stop(signal: AbortSignal): Promise<void> {
    const pool = this.pool
    this.pool = undefined
    const health = this.healthConnection.take()
    if (health) health.dead = true
    const closing = Promise.all([pool?.end(), health && endClient(health.client, health.connected, signal)])
    if (await settleWithin(closing, signal)) return
    this.ctx.logger.debug('PostgreSQL connections did not close in time; dropping them', { open: this.pooled.size })
    for (const client of this.pooled) destroyClient(client)
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

  /** A new health-check connection, connecting from now. */
  private openHealthConnection(): HealthSlot {
    const client = new pg.Client(this.clientConfig())
    const slot = { client, ready: client.connect(), connected: false, dead: false }
    slot.ready.then(() => { slot.connected = true }, () => undefined) // a failure is reported by the check that awaits it
    // A server that goes away closes this idle connection: the next check opens a new one.
    client.on('error', (err) => {
      slot.dead = true
      this.ctx.logger.debug('PostgreSQL health-check connection closed', { code: this.connectError(err).code })
    })
    client.on('end', () => { slot.dead = true })
    return slot
  }

  /** One `SELECT 1` through the pool, bounded by the connect timeout as a whole (getting a connection plus the query), so a dead or hung server cannot stall start. */
  private async roundTrip(pool: pg.Pool, signal: AbortSignal): Promise<void> {
    const ms = this.config.connectTimeoutMs
    let abandoned = false
    await roundTrip(signal, { timeoutMs: ms, target: this.target, classify: (e) => this.connectError(e), onFailure: () => { abandoned = true } }, async () => {
      const client = await pool.connect()
      if (abandoned) return client.release()
      try {
        await client.query({ text: 'SELECT 1', query_timeout: ms } as pg.QueryConfig)
        client.release()
      } catch (err) {
        client.release(err instanceof Error ? err : true) // drop this connection from the pool
        throw err
      }
    })
  }

  /**
   * The `tls` step: asks the server for TLS (SSLRequest) on a connection of its own and runs the
   * handshake with the connector's TLS settings, so TLS failures show apart from login failures.
   */
  private sslRequest(address: string, signal: AbortSignal): Promise<string> {
    const c = this.config
    const servername = c.tls.serverName ?? (isIP(c.host) === 0 ? c.host : undefined)
    const raw = netConnect({ host: address, port: c.port })
    let secure: TLSSocket | undefined
    const upgraded = new Promise<string>((resolve, reject) => {
      raw.once('error', reject)
      raw.once('close', () => reject(new Error('Connection terminated unexpectedly')))
      raw.once('connect', () => raw.write(SSL_REQUEST))
      raw.once('data', (chunk: Buffer) => {
        if (chunk[0] !== 0x53 /* 'S' */) return reject(new Error('The server does not support SSL connections'))
        const tls = tlsConnect({ socket: raw, ...tlsOptions(c.tls), ...(servername ? { servername } : {}) })
        secure = tls
        tls.once('error', reject)
        tls.once('secureConnect', () => resolve(`${tls.getProtocol() ?? 'TLS'}, certificate ${c.tls.verify ? 'verified' : 'not verified (verify is off)'}`))
      })
    })
    return untilAborted(upgraded, signal, () => timedOut(this.target)).finally(() => {
      secure?.destroy()
      raw.destroy()
    })
  }
}

/** The health check's connection: `connected` once logged in (a stop then ends it politely), `dead` once closed. */
type HealthSlot = { client: pg.Client; ready: Promise<unknown>; connected: boolean; dead: boolean }

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

/** Closes a client: a logged-in one politely (Terminate) until `signal` aborts; otherwise, or then, by dropping its socket. */
async function endClient(client: pg.Client, connected: boolean, signal: AbortSignal): Promise<void> {
  if (connected && await settleWithin(client.end(), signal)) return
  destroyClient(client)
}
