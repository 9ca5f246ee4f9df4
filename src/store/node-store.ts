import type { Db } from './database.js'

export interface NodeRow {
  readonly name: string
  readonly address: string
  readonly version: string
  /** Random per process: tells a restarted node from the one before it under the same name. */
  readonly instance: string
  readonly startedAt: string
  readonly heartbeatAt: string
  /** The node's last report (JSON text as stored), null before its first heartbeat with one. */
  readonly report: string | null
}

/** The `nodes` table: the Junction processes sharing this store and their heartbeats. */
export class NodeStore {
  constructor(private readonly db: Db) {}

  /** Registers a starting node, replacing an earlier row of the same name. */
  async register(row: Omit<NodeRow, 'report'>): Promise<void> {
    await this.db.deleteFrom('nodes').where('name', '=', row.name).execute()
    await this.db.insertInto('nodes').values({
      name: row.name, address: row.address, version: row.version, instance: row.instance,
      started_at: row.startedAt, heartbeat_at: row.heartbeatAt, report: null,
    }).execute()
  }

  /** A heartbeat (`report` undefined: the stored one stays); false when the row is gone or taken by another instance of the name. */
  async beat(name: string, instance: string, at: string, address: string, report: string | null | undefined): Promise<boolean> {
    const r = await this.db.updateTable('nodes').set(report === undefined ? { heartbeat_at: at, address } : { heartbeat_at: at, address, report })
      .where('name', '=', name).where('instance', '=', instance).executeTakeFirst()
    return Number(r.numUpdatedRows) > 0
  }

  async get(name: string): Promise<NodeRow | undefined> {
    const r = await this.db.selectFrom('nodes').selectAll().where('name', '=', name).executeTakeFirst()
    return r && toRow(r)
  }

  /** Every node but `name`. */
  async others(name: string): Promise<NodeRow[]> {
    return (await this.db.selectFrom('nodes').selectAll().where('name', '<>', name).orderBy('name').execute()).map(toRow)
  }

  async list(): Promise<NodeRow[]> {
    return (await this.db.selectFrom('nodes').selectAll().orderBy('name').execute()).map(toRow)
  }
}

const toRow = (r: { name: string; address: string; version: string; instance: string; started_at: string; heartbeat_at: string; report: string | null }): NodeRow => ({
  name: r.name, address: r.address, version: r.version, instance: r.instance, startedAt: r.started_at, heartbeatAt: r.heartbeat_at, report: r.report,
})
