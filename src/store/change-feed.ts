import { sql } from 'kysely'
import pg from 'pg'
import type { Db, StoreLocation } from './database.js'

/** What changed: the kind of object (as the audit log names them), its ID and deployment. */
export interface Change {
  /** The node that made the change; nodes skip their own. */
  readonly origin: string
  readonly kind: string
  /** null: every object of the kind in the deployment (a create whose ID the URL does not hold, an import). */
  readonly id: string | null
  readonly deployment: string | null
}

export interface ChangeHandlers {
  onChange(change: Change): void
  /** After (re)connecting: notifications may have been missed, so everything is to be compared again. */
  onResync(): void
  /** The feed's connection failed; it reconnects by itself. */
  onError(message: string): void
}

/**
 * Tells the other nodes on the store that configuration changed. On PostgreSQL it is NOTIFY on
 * one channel and a dedicated LISTEN connection per node; the embedded SQLite store has a single
 * node, so there it does nothing.
 */
export interface ChangeFeed {
  /** True when other nodes can share this store (PostgreSQL). */
  readonly shared: boolean
  publish(change: Change): Promise<void>
  /** Resolves once listening; throws when the first connection fails. */
  listen(handlers: ChangeHandlers): Promise<void>
  close(): Promise<void>
}

export const CHANGE_CHANNEL = 'junction_changes'

export function openChangeFeed(db: Db, location: StoreLocation): ChangeFeed {
  return location.kind === 'postgres' ? new PgChangeFeed(db, location.url) : NO_FEED
}

const NO_FEED: ChangeFeed = {
  shared: false,
  async publish() {},
  async listen() {},
  async close() {},
}

class PgChangeFeed implements ChangeFeed {
  readonly shared = true
  private client: pg.Client | undefined
  private closed = false
  private retryTimer: NodeJS.Timeout | undefined
  private retryMs = 250

  constructor(private readonly db: Db, private readonly url: string) {}

  async publish(change: Change): Promise<void> {
    // Sent on the pool after the change's own statements committed (autocommit), so a listener
    // that reads the object back sees it.
    await sql`select pg_notify(${CHANGE_CHANNEL}, ${JSON.stringify(change)})`.execute(this.db)
  }

  async listen(handlers: ChangeHandlers): Promise<void> {
    await this.connect(handlers)
  }

  private async connect(handlers: ChangeHandlers): Promise<void> {
    // keepAlive: a connection cut without a FIN is noticed, and the feed reconnects and resyncs.
    const client = new pg.Client({ connectionString: this.url, keepAlive: true, keepAliveInitialDelayMillis: 5000 })
    const lost = (why: string) => {
      if (this.client !== client) return
      this.client = undefined
      client.removeAllListeners('notification')
      void client.end().catch(() => {})
      if (this.closed) return
      handlers.onError(why)
      this.scheduleReconnect(handlers)
    }
    client.on('error', (err) => lost(err.message))
    client.on('end', () => lost('connection ended'))
    client.on('notification', (n) => {
      if (n.channel !== CHANGE_CHANNEL || n.payload === undefined) return
      let change: Change
      try {
        change = JSON.parse(n.payload) as Change
      } catch {
        return
      }
      handlers.onChange(change)
    })
    await client.connect()
    if (this.closed) {
      await client.end()
      return
    }
    await client.query(`LISTEN ${CHANGE_CHANNEL}`)
    this.client = client
    this.retryMs = 250
  }

  private scheduleReconnect(handlers: ChangeHandlers): void {
    clearTimeout(this.retryTimer)
    this.retryTimer = setTimeout(() => {
      this.connect(handlers).then(() => {
        if (!this.closed) handlers.onResync()
      }, (err: unknown) => {
        handlers.onError((err as Error).message)
        this.retryMs = Math.min(this.retryMs * 2, 5000)
        if (!this.closed) this.scheduleReconnect(handlers)
      })
    }, this.retryMs)
    this.retryTimer.unref()
  }

  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.retryTimer)
    const client = this.client
    this.client = undefined
    await client?.end().catch(() => {})
  }
}
