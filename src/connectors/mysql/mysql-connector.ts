import { connect as netConnect } from 'node:net'
import mysql, { type Connection, type ConnectionOptions, type Pool, type PoolConnection } from 'mysql2'
import { acquireWithin, ConnectorError, deadline, KeptConnection, NOT_STARTED, notStarted, probeConnection, settleWithin, SqlActions, timedOut, untilAborted, withLease } from '../../connector-api/index.js'
import type { Channel, ChannelMessage, Connector, ConnectorContext, Health, ProbeResult } from '../../connector-api/index.js'
import { classifyMysqlError } from './classify-error.js'
import type { MysqlConfig, MysqlParams } from './config-schema.js'
import { MysqlChannel, query, type MysqlChannelHost } from './mysql-channel.js'

/** Strict mode on every session, whatever the server's default: a value a column cannot hold fails its row instead of being stored mangled with a warning. */
const STRICT_SESSION = "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES')"

/** Between `start` and `stop`: a mysql2 pool for the actions and one connection of its own for health checks. */
export class MysqlConnector implements Connector<MysqlParams>, MysqlChannelHost {
  private pool: Pool | undefined
  /** Pooled connections not yet ended, to drop their sockets when a stop runs out of time. */
  private readonly opened = new Set<PoolConnection>()
  /** `SELECT 1` outside the pool, on a connection of its own. */
  private readonly healthConnection = new KeptConnection({ open: (signal) => this.connect(signal), close: (conn) => conn.then((c) => c.destroy(), () => undefined) })
  readonly target: string
  readonly poolSize: number
  private readonly actions = new SqlActions({ open: (sql) => new MysqlChannel(sql, this), started: () => this.pool !== undefined, validateMs: () => this.config.connectTimeoutMs * 2 })

  constructor(private readonly config: MysqlConfig, private readonly ctx: ConnectorContext) {
    [this.target, this.poolSize] = [`${config.host}:${config.port}/${config.database}`, config.poolSize]
  }

  /** MySQL upgrades to TLS in-band, before the login: the `tls` step starts the login and fails on a TLS error; the login's answer is the `authenticate` step's. */
  probe(signal: AbortSignal): Promise<ProbeResult> {
    const c = this.config
    let login: Promise<Connection> | undefined
    return probeConnection({
      host: c.host, port: c.port, timeoutMs: c.connectTimeoutMs, tls: c.tls,
      tlsStep: async (_address, bound) => {
        login = this.connect(bound)
        const conn = await login.catch((err: unknown) => { if (['TLS_FAILED', 'TLS_NOT_SUPPORTED'].includes(this.connectError(err).code)) throw err })
        const protocol = conn && (await query<Array<{ Value: string }>>(conn, "SHOW SESSION STATUS LIKE 'Ssl_version'"))[0]?.Value
        return `${protocol || 'TLS'}, certificate ${c.tls.verify ? 'verified' : 'not verified (verify is off)'}`
      },
      steps: [{
        name: 'authenticate',
        run: async (bound) => {
          await (login ??= this.connect(bound)).catch(async (err: ConnectorError) => {
            // MariaDB refuses a plain login under require_secure_transport as it refuses a wrong password (1045): a TLS login that works tells the two apart.
            if (c.tls.enable || err.code !== 'AUTHENTICATION_FAILED' || !(await this.connect(bound, { enable: true, verify: false }).then((x) => { x.destroy(); return true }, () => false))) throw err
            throw new ConnectorError('TLS_REQUIRED', `${this.target} accepts only TLS connections`, { hint: 'Turn on TLS (tls.enable) for this connector.', cause: err })
          })
          return `logged in as "${c.username}" to database "${c.database}"${c.tls.enable ? ' over TLS' : ''}`
        },
      }, {
        name: 'query',
        run: async (bound) => {
          const version = (await untilAborted(login!.then((conn) => query<Array<{ v: string }>>(conn, 'SELECT VERSION() AS v')), bound, () => timedOut(this.target)))[0]?.v ?? '?'
          return `${/mariadb/i.test(version) ? 'MariaDB' : 'MySQL'} ${version}`
        },
      }],
      classify: (err) => this.connectError(err),
      cleanup: () => login?.then((conn) => conn.destroy(), () => undefined),
    }, signal)
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.pool) return
    const pool = mysql.createPool({ ...this.options(), connectionLimit: this.poolSize, maxIdle: this.poolSize, maxPreparedStatements: 64 })
    pool.on('connection', (conn) => {
      this.opened.add(conn)
      conn.once('end', () => this.opened.delete(conn))
      // A connection that dies idle (server restart) leaves the pool; unheard, its error would crash the process.
      conn.on('error', (err) => this.opened.delete(conn) && this.ctx.logger.warn('MySQL connection closed', { code: this.connectError(err).code }))
      // Queued before the connection is handed out, so every statement on it runs in strict mode.
      conn.query(STRICT_SESSION, (err) => { if (err) this.ctx.logger.warn('MySQL session setup failed', { reason: err.message }) })
    })
    this.pool = pool
    await withLease(this, deadline(signal, this.config.connectTimeoutMs), ({ conn, run }) => run(query(conn, 'SELECT 1')))
  }

  async health(signal: AbortSignal): Promise<Health> {
    if (!this.pool) return NOT_STARTED
    return this.healthConnection.check(signal, { timeoutMs: this.config.connectTimeoutMs, target: this.target, classify: (x) => this.connectError(x) },
      (conn) => conn.then((c) => query(c, 'SELECT 1')))
  }

  openChannel(params: MysqlParams): Promise<Channel> {
    return this.actions.openChannel(params)
  }

  /** On a rule's save: the server prepares the statement, and one that only reads is refused. */
  checkAction(params: MysqlParams, signal: AbortSignal): Promise<void> {
    return this.actions.checkAction(params, signal)
  }

  /** Test action with rollback: the statement runs in a transaction that is rolled back. */
  sendRolledBack(params: MysqlParams, message: ChannelMessage, signal: AbortSignal): Promise<void> {
    return this.actions.sendRolledBack(params, message, signal)
  }

  async stop(signal: AbortSignal): Promise<void> {
    const pool = this.pool
    this.pool = undefined
    this.healthConnection.drop()
    if (pool && !(await settleWithin(new Promise<void>((resolve) => pool.end(() => resolve())), signal))) for (const conn of this.opened) conn.destroy()
    this.opened.clear()
  }

  /** A pooled connection for a lease (the kit's withLease); one that comes after the caller gave up goes back to the pool. */
  acquire(signal: AbortSignal): Promise<PoolConnection> {
    const pool = this.pool
    if (!pool) return Promise.reject(notStarted())
    const getting = new Promise<PoolConnection>((resolve, reject) => pool.getConnection((err, conn) => (err ? reject(this.connectError(err)) : resolve(conn))))
    return acquireWithin(getting, signal, () => new ConnectorError('TIMEOUT', `Gave up waiting for a connection to ${this.target}`, {
      kind: 'retryable', hint: 'The server is slow or every pooled connection stayed busy; check the server, raise poolSize or allow more time (the request TTL).',
    }), (conn) => conn.release())
  }

  /** A connection whose statement's outcome is unknown, or that failed other than permanently, is closed rather than handed to the next send. */
  release(conn: PoolConnection, broken: Error | undefined): void {
    if (broken) conn.destroy()
    else conn.release()
  }

  /** A statement's failure. */
  classify(err: unknown): ConnectorError {
    return classifyMysqlError(err, this.target, this.config.username, 'query')
  }

  private connectError(err: unknown): ConnectorError {
    return classifyMysqlError(err, this.target, this.config.username, 'connect')
  }

  /** A logged-in single connection, or the classified error; destroyed when `signal` aborts first. */
  private connect(signal: AbortSignal, tls?: MysqlConfig['tls']): Promise<Connection> {
    const conn = mysql.createConnection(this.options(tls))
    conn.on('error', () => undefined) // a late socket error must not crash the process
    const ready = new Promise<Connection>((resolve, reject) => conn.connect((err) => (err ? reject(this.connectError(err)) : resolve(conn))))
    return untilAborted(ready, signal, () => timedOut(this.target), () => conn.destroy())
  }

  private options(tls = this.config.tls): ConnectionOptions {
    const c = this.config
    // With tls.serverName, mysql2 verifies `host`, so host is that name and the stream goes to the real host.
    const named = tls.enable && tls.serverName !== undefined
    return {
      host: named ? tls.serverName : c.host, port: c.port, ...(named ? { stream: () => netConnect({ host: c.host, port: c.port }) } : {}),
      database: c.database, user: c.username, password: c.password ?? '', connectTimeout: c.connectTimeoutMs, charset: 'utf8mb4_general_ci',
      flags: ['-LOCAL_FILES'], // a server must not make Junction read local files (LOAD DATA LOCAL)
      ssl: tls.enable ? { ca: tls.caCert, cert: tls.clientCert, key: tls.clientKey, rejectUnauthorized: tls.verify, verifyIdentity: tls.verify } : undefined,
    }
  }
}
