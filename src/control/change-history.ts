import type { ConnectorRecord, RuleRecord } from '../core/domain.js'
import { ApiError } from '../core/errors.js'
import { maskSecrets, secretPaths } from '../core/secrets.js'
import type { AuditDiffEntry } from '../store/audit-store.js'
import type { HistoryEntry, HistoryObjectType } from '../store/history-store.js'
import type { Store } from '../store/store.js'
import { diffValues, MASK, maskSecretsByName, SECRET_NAME } from './audit-service.js'
import type { TypeRegistry } from './type-registry.js'

/** Who made a change and from where, as the audit log records it. */
export interface ChangeAuthor {
  readonly actor: { readonly kind: string; readonly name: string }
  readonly source: string
}

/** Changes not made through the API (start-up, tests calling services directly). */
export const SYSTEM_AUTHOR: ChangeAuthor = { actor: { kind: 'system', name: 'junction' }, source: '' }

export const DEFAULT_HISTORY_MAX_VERSIONS = 100

/** A version as listed: everything but the object itself. */
export interface HistoryVersion {
  readonly version: number
  readonly at: string
  readonly actor: { readonly kind: string; readonly name: string }
  readonly source: string
  readonly action: string
  readonly revertedFrom?: number
  /** Against the version before (null for the first kept); secrets `******`. */
  readonly diff: AuditDiffEntry[] | null
}

/** One version with the object as it was then, secrets `******`. */
export interface HistoryVersionDetails extends HistoryVersion {
  readonly config: Record<string, unknown>
}

/** What a connector version keeps (the record's editable part). */
export interface ConnectorSnapshot { name: string; description: string; enabled: boolean; config: Record<string, unknown> }
/** What a rule version keeps. */
export interface RuleSnapshot { name: string; sql: string; description: string; enabled: boolean; actions: RuleRecord['actions'] }

export const connectorSnapshot = (c: ConnectorRecord): ConnectorSnapshot => ({ name: c.name, description: c.description, enabled: c.enabled, config: c.config })
export const ruleSnapshot = (r: RuleRecord): RuleSnapshot => ({ name: r.name, sql: r.sql, description: r.description, enabled: r.enabled, actions: r.actions })

/**
 * The versions of each connector and rule: written by the services on every change, read by the
 * history routes, and read back whole (a connector's real secrets included) for a revert.
 */
export class ChangeHistory {
  constructor(private readonly store: Store, private readonly types: TypeRegistry, private readonly maxVersions = DEFAULT_HISTORY_MAX_VERSIONS) {}

  async recordConnector(c: ConnectorRecord, action: string, by: ChangeAuthor, revertedFrom?: number): Promise<void> {
    const previous = await this.store.history.latest('connector', c.id)
    const before = previous && this.openConnector(c.type, previous.snapshot)
    const after = connectorSnapshot(c)
    const secrets = new Set(this.secretPathsOf(c.type).map((p) => `config.${p}`))
    await this.store.history.append({
      objectType: 'connector', objectId: c.id, deploymentId: c.deploymentId, version: c.version, at: c.updatedAt,
      actor: by.actor, source: by.source, action, revertedFrom: revertedFrom ?? null,
      snapshot: { ...after, config: this.store.connectors.sealConfig(c.type, c.config) },
      diff: previous ? maskedDiff(before, after, secrets) : null,
    }, this.maxVersions)
  }

  async recordRule(r: RuleRecord, action: string, by: ChangeAuthor, revertedFrom?: number): Promise<void> {
    const previous = await this.store.history.latest('rule', r.id)
    const after = ruleSnapshot(r)
    await this.store.history.append({
      objectType: 'rule', objectId: r.id, deploymentId: r.deploymentId, at: r.updatedAt,
      actor: by.actor, source: by.source, action, revertedFrom: revertedFrom ?? null,
      snapshot: { ...after }, diff: previous ? maskedDiff(previous.snapshot, after, new Set()) : null,
    }, this.maxVersions)
  }

  /** Newest first, `limit` at most; `before` is a version number (the next page). */
  async list(objectType: HistoryObjectType, objectId: string, q: { limit: number; before?: number }): Promise<HistoryVersion[]> {
    return (await this.store.history.list(objectType, objectId, q)).map(listed)
  }

  /** A connector's version as answered: secrets masked. */
  async connectorVersion(c: ConnectorRecord, version: number): Promise<HistoryVersionDetails> {
    const e = await this.entry('connector', c.id, version)
    const s = e.snapshot as unknown as ConnectorSnapshot
    const schema = this.types.find(c.type)?.configSchema
    return { ...listed(e), config: { ...s, config: schema ? maskSecrets(s.config, schema) : maskSecretsByName(s.config) as Record<string, unknown> } }
  }

  async ruleVersion(r: RuleRecord, version: number): Promise<HistoryVersionDetails> {
    const e = await this.entry('rule', r.id, version)
    return { ...listed(e), config: e.snapshot }
  }

  /** What a revert applies: the connector as it was, its real secrets decrypted. */
  async connectorToRestore(c: ConnectorRecord, version: number): Promise<ConnectorSnapshot> {
    return this.openConnector(c.type, (await this.entry('connector', c.id, version)).snapshot)
  }

  async ruleToRestore(r: RuleRecord, version: number): Promise<RuleSnapshot> {
    return (await this.entry('rule', r.id, version)).snapshot as unknown as RuleSnapshot
  }

  /** History is kept while the object exists (docs/api.md, "Change history"). */
  async forget(objectType: HistoryObjectType, objectId: string): Promise<void> {
    await this.store.history.deleteObject(objectType, objectId)
  }

  private openConnector(type: string, snapshot: Record<string, unknown>): ConnectorSnapshot {
    const s = snapshot as unknown as ConnectorSnapshot
    return { ...s, config: this.store.connectors.openConfig(type, s.config) }
  }

  private secretPathsOf(type: string): string[] {
    const schema = this.types.find(type)?.configSchema
    return schema ? secretPaths(schema) : []
  }

  private async entry(objectType: HistoryObjectType, objectId: string, version: number): Promise<HistoryEntry> {
    const e = await this.store.history.get(objectType, objectId, version)
    if (!e) {
      throw new ApiError('VERSION_NOT_FOUND', `The ${objectType} ${objectId} has no version ${version}`, {
        hint: `List its versions with GET .../${objectType}s/${objectId}/history (the oldest beyond the kept number are dropped).`,
      })
    }
    return e
  }
}

function listed(e: HistoryEntry): HistoryVersion {
  return {
    version: e.version, at: e.at, actor: e.actor, source: e.source, action: e.action,
    ...(e.revertedFrom === null ? {} : { revertedFrom: e.revertedFrom }), diff: e.diff,
  }
}

/**
 * The diff of two versions in clear, then masked: comparing clear values notes a changed secret
 * (as `******` -> `******`), which comparing masked ones would miss.
 */
function maskedDiff(before: unknown, after: unknown, secretPathSet: ReadonlySet<string>): AuditDiffEntry[] {
  return diffValues(before, after).map((d) => {
    const secret = secretPathSet.has(d.path) || SECRET_NAME.test(d.path.split('.').at(-1) ?? '')
    const mask = (v: unknown) => (secret && v !== null && v !== '' && typeof v !== 'object' ? MASK : maskSecretsByName(v))
    return { path: d.path, ...('before' in d ? { before: mask(d.before) } : {}), ...('after' in d ? { after: mask(d.after) } : {}) }
  })
}

/** Key order aside, the same JSON: a revert to what is there already changes nothing. */
export function sameJson(a: unknown, b: unknown): boolean {
  const canon = (v: unknown): unknown => Array.isArray(v) ? v.map(canon)
    : v !== null && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])])) : v
  return JSON.stringify(canon(a)) === JSON.stringify(canon(b))
}
