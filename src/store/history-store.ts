import type { AuditDiffEntry } from './audit-store.js'
import { isUniqueViolation, type Db, type Tables } from './database.js'

export type HistoryObjectType = 'connector' | 'rule'

export interface HistoryEntry {
  objectType: HistoryObjectType
  objectId: string
  deploymentId: string
  version: number
  at: string
  actor: { kind: string; name: string }
  source: string
  action: string
  revertedFrom: number | null
  /** The whole object as stored: a connector's secrets are sealed (SecretBox), never in clear. */
  snapshot: Record<string, unknown>
  diff: AuditDiffEntry[] | null
}

const toEntry = (r: Tables['change_history']): HistoryEntry => ({
  objectType: r.object_type as HistoryObjectType, objectId: r.object_id, deploymentId: r.deployment_id, version: r.version, at: r.at,
  actor: { kind: r.actor_kind, name: r.actor }, source: r.source, action: r.action, revertedFrom: r.reverted_from,
  snapshot: JSON.parse(r.snapshot) as Record<string, unknown>, diff: r.diff === null ? null : (JSON.parse(r.diff) as AuditDiffEntry[]),
})

/** Versions of connectors and rules: appended on each change, capped per object, dropped with the object. */
export class HistoryStore {
  constructor(private readonly db: Db) {}

  /** Writes `e`; with `version` undefined it takes the object's next number. Keeps at most `maxVersions` per object. */
  async append(e: Omit<HistoryEntry, 'version'> & { version?: number }, maxVersions: number): Promise<HistoryEntry> {
    // Two changes of one rule at once may pick the same number: the primary key refuses one, which takes the next.
    for (let attempt = 0; ; attempt++) {
      const version = e.version ?? ((await this.latest(e.objectType, e.objectId))?.version ?? 0) + 1
      try {
        await this.db.insertInto('change_history').values({
          object_type: e.objectType, object_id: e.objectId, version, deployment_id: e.deploymentId, at: e.at,
          actor_kind: e.actor.kind, actor: e.actor.name, source: e.source, action: e.action, reverted_from: e.revertedFrom,
          snapshot: JSON.stringify(e.snapshot), diff: e.diff === null ? null : JSON.stringify(e.diff),
        }).execute()
        if (maxVersions > 0) {
          await this.db.deleteFrom('change_history').where('object_type', '=', e.objectType).where('object_id', '=', e.objectId)
            .where('version', '<=', version - maxVersions).execute()
        }
        return { ...e, version }
      } catch (err) {
        if (!isUniqueViolation(err) || e.version !== undefined || attempt >= 5) throw err
      }
    }
  }

  async latest(objectType: HistoryObjectType, objectId: string): Promise<HistoryEntry | undefined> {
    const row = await this.db.selectFrom('change_history').selectAll().where('object_type', '=', objectType).where('object_id', '=', objectId)
      .orderBy('version', 'desc').limit(1).executeTakeFirst()
    return row && toEntry(row)
  }

  async get(objectType: HistoryObjectType, objectId: string, version: number): Promise<HistoryEntry | undefined> {
    const row = await this.db.selectFrom('change_history').selectAll().where('object_type', '=', objectType).where('object_id', '=', objectId)
      .where('version', '=', version).executeTakeFirst()
    return row && toEntry(row)
  }

  /** Newest first; `before` pages on from a version number. */
  async list(objectType: HistoryObjectType, objectId: string, q: { limit: number; before?: number }): Promise<HistoryEntry[]> {
    let s = this.db.selectFrom('change_history').selectAll().where('object_type', '=', objectType).where('object_id', '=', objectId)
    if (q.before !== undefined) s = s.where('version', '<', q.before)
    return (await s.orderBy('version', 'desc').limit(q.limit).execute()).map(toEntry)
  }

  async deleteObject(objectType: HistoryObjectType, objectId: string): Promise<void> {
    await this.db.deleteFrom('change_history').where('object_type', '=', objectType).where('object_id', '=', objectId).execute()
  }

  async deleteDeployment(deploymentId: string): Promise<void> {
    await this.db.deleteFrom('change_history').where('deployment_id', '=', deploymentId).execute()
  }
}
