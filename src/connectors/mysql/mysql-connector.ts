import { connect as netConnect } from 'node:net'
import mysql, { type Connection, type ConnectionOptions, type Pool, type PoolConnection } from 'mysql2'
import { aboutParam, ConnectorError, TemplateError, deadline, probeConnection, settleWithin, timedOut, toConnectorError, untilAborted, type Channel, type ChannelMessage, type Connector,
  type ConnectorContext, type Health, type ProbeResult } from '../../connector-api/index.js'
import { classifyMysqlError, type MysqlPhase } from './classify-error.js'
import type { MysqlConfig, MysqlParams } from './config-schema.js'
import { MysqlChannel } from './mysql-channel.js'

/** Strict mode on every session, whatever the server's default: a value a column cannot hold fails its row instead of being stored mangled with a warning. */
const STRICT_SESSION = "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES')"

/** Between `start` and `stop`: a mysql2 pool for the actions and one connection of its own for health checks. */
export class MysqlConnector implements Connector<MysqlParams> {
  private pool: Pool | undefined
  /** Pooled connections not yet ended, to drop their sockets when a stop runs out of time. */
  private readonly opened = new Set<PoolConnection>()
  private healthConnection: Promise<Connection> | undefined
  readonly target: string
  readonly poolSize: number

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
        const conn = await login.catch((err: unknown) => { if (['TLS_FAILED', 'TLS_NOT_SUPPORTED'].includes(this.classify(err, 'connect').code)) throw err })
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
      classify: (err) => this.classify(err, 'connect'),
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
      conn.on('error', (err) => this.opened.delete(conn) && this.ctx.logger.warn('MySQL connection closed', { code: this.classify(err, 'connect').code }))
      // Queued before the connection is handed out, so every statement on it runs in strict mode.
      conn.query(STRICT_SESSION, (err) => { if (err) this.ctx.logger.warn('MySQL session setup failed', { reason: err.message }) })
    })
    this.pool = pool
    await this.lease(deadline(signal, this.config.connectTimeoutMs), (conn) => query(conn, 'SELECT 1'))
  }

  /** `SELECT 1` outside the pool: under load every pooled connection is busy, and waiting for one would report a healthy server as down. */
  async health(signal: AbortSignal): Promise<Health> {
    if (!this.pool) return { status: 'disconnected', code: 'CONNECTION_FAILED', reason: 'The connector is not started.' }
    const bound = deadline(signal, this.config.connectTimeoutMs)
    const slot = (this.healthConnection ??= this.connect(bound))
    try {
      await untilAborted(slot.then((conn) => query(conn, 'SELECT 1')), bound, () => timedOut(this.target))
      return { status: 'connected' }
    } catch (err) {
      if (this.healthConnection === slot) this.healthConnection = undefined
      slot.then((conn) => conn.destroy(), () => undefined)
      const e = toConnectorError(err, this.target, { signal: bound, classify: (x) => this.classify(x, 'connect') })
      return { status: 'disconnected', code: e.code, reason: e.message }
    }
  }

  async openChannel(params: MysqlParams): Promise<Channel> {
    const channel = this.channelFor(params)
    await channel.validate(AbortSignal.timeout(this.config.connectTimeoutMs * 2))
    return channel
  }

  /** On a rule's save: the server prepares the statement, and one that reads FROM a table and returns rows (a SELECT where an INSERT was meant) is refused. */
  async checkAction(params: MysqlParams, signal: AbortSignal): Promise<void> {
    try {
      if ((await this.channelFor(params).validate(signal)) > 0 && /\bFROM\b/i.test(params.sql)) {
        throw new ConnectorError('STATEMENT_WRITES_NOTHING', "The action's SQL only reads (it returns rows) and writes nothing: run for every message, it would store nothing", {
          kind: 'permanent', hint: 'Write the rows with INSERT (or UPDATE, DELETE, REPLACE), e.g. INSERT INTO t (clientid, temp) VALUES (${clientid}, ${temp}).' })
      }
    } catch (err) {
      throw aboutParam(err, 'sql')
    }
  }

  /** Test action with rollback: the statement runs in a transaction that is rolled back. */
  async sendRolledBack(params: MysqlParams, message: ChannelMessage, signal: AbortSignal): Promise<void> {
    await this.channelFor(params).sendRolledBack(message, signal)
  }

  private channelFor(params: MysqlParams): MysqlChannel {
    if (!this.pool) throw new ConnectorError('CONNECTION_LOST', 'The connector is not started', { kind: 'not_connected' })
    try {
      return new MysqlChannel(params.sql, this)
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err
      throw new ConnectorError('INVALID_PARAMS', `Invalid placeholder in the action's SQL: ${err.message}`, { kind: 'permanent', hint: 'Placeholders look like ${payload.temp}.' })
    }
  }

  async stop(signal: AbortSignal): Promise<void> {
    const [pool, health] = [this.pool, this.healthConnection]
    ;[this.pool, this.healthConnection] = [undefined, undefined]
    health?.then((conn) => conn.destroy(), () => undefined)
    if (pool && !(await settleWithin(new Promise<void>((resolve) => pool.end(() => resolve())), signal))) for (const conn of this.opened) conn.destroy()
    this.opened.clear()
  }

  /**
   * Runs `use` on a pooled connection. An abort of `signal` ends the wait at once (retryable TIMEOUT) and destroys the connection (a
   * statement's outcome is then unknown); so does any failure that is not permanent, instead of handing the connection to the next send.
   */
  async lease<T>(signal: AbortSignal, use: (conn: PoolConnection) => Promise<T>): Promise<T> {
    const pool = this.pool
    if (!pool) throw new ConnectorError('CONNECTION_LOST', 'The connector is stopped', { kind: 'not_connected' })
    const gaveUp = (what: string) => () => new ConnectorError('TIMEOUT', `Gave up waiting for ${what}`, {
      kind: 'retryable', hint: 'The server is slow or every pooled connection stayed busy; check the server, raise poolSize or allow more time (the request TTL).',
    })
    let abandoned = false
    const acquiring = new Promise<PoolConnection>((resolve, reject) => pool.getConnection((err, conn) => (err ? reject(this.classify(err, 'connect')) : abandoned ? conn.release() : resolve(conn))))
    const conn = await untilAborted(acquiring, signal, gaveUp(`a connection to ${this.target}`), () => { abandoned = true })
    let healthy = true
    try {
      return await untilAborted(use(conn), signal, gaveUp(`${this.target} to answer; the statement may or may not have been applied`), () => { healthy = false })
    } catch (err) {
      const e = this.classify(err, 'query')
      if (e.kind !== 'permanent') healthy = false
      throw e
    } finally {
      healthy ? conn.release() : conn.destroy()
    }
  }

  classify(err: unknown, phase: MysqlPhase): ConnectorError {
    return classifyMysqlError(err, this.target, this.config.username, phase)
  }

  /** A logged-in single connection, or the classified error; destroyed when `signal` aborts first. */
  private connect(signal: AbortSignal, tls?: MysqlConfig['tls']): Promise<Connection> {
    const conn = mysql.createConnection(this.options(tls))
    conn.on('error', () => undefined) // a late socket error must not crash the process
    const ready = new Promise<Connection>((resolve, reject) => conn.connect((err) => (err ? reject(this.classify(err, 'connect')) : resolve(conn))))
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

/** One text-protocol statement without parameters. */
export function query<T = unknown>(conn: Connection | PoolConnection, sql: string): Promise<T> {
  return new Promise((resolve, reject) => conn.query(sql, (err, rows) => (err ? reject(err) : resolve(rows as T))))
}
