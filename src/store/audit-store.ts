import type { Db } from './database.js'

export interface AuditDiffEntry { path: string; before?: unknown; after?: unknown }

export interface AuditEntry {
  id: string
  at: string
  actor: { kind: string; name: string }
  source: string
  method: string
  path: string
  action: string
  objectType: string
  objectId: string | null
  deploymentId: string | null
  status: number
  diff: AuditDiffEntry[] | null
}

export interface AuditQuery {
  actor?: string
  action?: string
  objectType?: string
  /** ISO-8601, inclusive. */
  since?: string
  /** ISO-8601, exclusive. */
  until?: string
  /** An entry's id: only entries written before it (the next page of a newest-first list). */
  after?: string
  limit: number
  /** Oldest first (export) instead of newest first (browsing). */
  ascending?: boolean
  /** With ascending: only entries written after this id. */
  from?: string
}

/** The audit log: appended to, read back filtered; never updated. */
export class AuditStore {
  private seq = 0
  private lastMs = 0

  constructor(private readonly db: Db) {}

  /** Ids sort in the order entries were written (ms, then a per-process sequence). */
  nextId(now: number): string {
    if (now !== this.lastMs) { this.lastMs = now; this.seq = 0 }
    return `${String(now).padStart(15, '0')}-${String(this.seq++).padStart(6, '0')}`
  }

  async append(e: Omit<AuditEntry, 'id'>): Promise<AuditEntry> {
    const id = this.nextId(Date.parse(e.at))
    await this.db.insertInto('audit_log').values({
      id, at: e.at, actor_kind: e.actor.kind, actor: e.actor.name, source: e.source, method: e.method, path: e.path,
      action: e.action, object_type: e.objectType, object_id: e.objectId, deployment_id: e.deploymentId, status: e.status,
      diff: e.diff === null ? null : JSON.stringify(e.diff),
    }).execute()
    return { id, ...e }
  }

  async list(q: AuditQuery): Promise<AuditEntry[]> {
    let s = this.db.selectFrom('audit_log').selectAll()
    if (q.actor !== undefined) s = s.where('actor', '=', q.actor)
    if (q.action !== undefined) s = s.where('action', '=', q.action)
    if (q.objectType !== undefined) s = s.where('object_type', '=', q.objectType)
    if (q.since !== undefined) s = s.where('at', '>=', q.since)
    if (q.until !== undefined) s = s.where('at', '<', q.until)
    if (q.after !== undefined) s = s.where('id', '<', q.after)
    if (q.from !== undefined) s = s.where('id', '>', q.from)
    const rows = await s.orderBy('id', q.ascending ? 'asc' : 'desc').limit(q.limit).execute()
    return rows.map((r) => ({
      id: r.id, at: r.at, actor: { kind: r.actor_kind, name: r.actor }, source: r.source, method: r.method, path: r.path,
      action: r.action, objectType: r.object_type, objectId: r.object_id, deploymentId: r.deployment_id, status: r.status,
      diff: r.diff === null ? null : (JSON.parse(r.diff) as AuditDiffEntry[]),
    }))
  }

  /** Deletes entries written before `before` (ISO-8601); returns how many. */
  async prune(before: string): Promise<number> {
    const r = await this.db.deleteFrom('audit_log').where('at', '<', before).executeTakeFirst()
    return Number(r.numDeletedRows)
  }
}
