import type { AuditDiffEntry, AuditEntry, AuditQuery, AuditStore } from '../store/audit-store.js'

export type { AuditEntry, AuditQuery }

/** Field names whose values are secrets wherever they appear (the API masks schema secrets already). */
export const SECRET_NAME = /secret|password|passphrase|token|private.?key|credential/i
export const MASK = '******'
const MAX_DIFF_ENTRIES = 200
/** Live state answered beside an object's configuration: it moves on its own, so it is no part of a change. */
const VOLATILE = new Set(['metrics', 'delivery', 'statusSince', 'lastConnectedAt', 'uptimeS'])

export interface AuditChange {
  readonly actor: { kind: string; name: string }
  readonly source: string
  readonly method: string
  readonly path: string
  readonly action: string
  readonly objectType: string
  readonly objectId: string | null
  readonly deploymentId: string | null
  readonly status: number
  /** The object as answered before and after the change (undefined = no such state). */
  readonly before?: unknown
  readonly after?: unknown
  /** The request body: a secret it set (a password) is never answered back, so the diff notes it, masked. */
  readonly sent?: unknown
}

/** Every change made through the API, with who, where from, what and the diff (secrets masked). */
export class AuditService {
  /** `retentionDays` 0 keeps every entry. */
  constructor(private readonly store: AuditStore, private readonly retentionDays = 0) {}

  /** Deletes the entries older than the retention; returns how many went. */
  async prune(now = Date.now()): Promise<number> {
    if (this.retentionDays <= 0) return 0
    return this.store.prune(new Date(now - this.retentionDays * 86_400_000).toISOString())
  }

  async record(change: AuditChange): Promise<AuditEntry> {
    const { before, after, sent, ...rest } = change
    let diff = before === undefined && after === undefined ? null : diffValues(maskSecretsByName(before), maskSecretsByName(after))
    const secretsSet = sentSecretNames(sent).filter((name) => !diff?.some((d) => d.path === name))
    if (secretsSet.length > 0) diff = [...(diff ?? []), ...secretsSet.map((path) => ({ path, after: MASK }))]
    return this.store.append({ ...rest, at: new Date().toISOString(), diff })
  }

  /** Newest first; `after` pages on from an entry's id. */
  list(query: AuditQuery): Promise<AuditEntry[]> {
    return this.store.list(query)
  }

  /** Every matching entry, oldest first, a page at a time (for JSON-lines export). */
  async *export(query: Omit<AuditQuery, 'limit' | 'after' | 'ascending' | 'from'>): AsyncGenerator<AuditEntry> {
    let from: string | undefined
    for (;;) {
      const page = await this.store.list({ ...query, limit: 500, ascending: true, from })
      yield* page
      if (page.length < 500) return
      from = page[page.length - 1]!.id
    }
  }
}

/** Top-level fields of a request body named like secrets and given a value. */
function sentSecretNames(sent: unknown): string[] {
  if (sent === null || typeof sent !== 'object' || Array.isArray(sent)) return []
  return Object.entries(sent).filter(([k, v]) => SECRET_NAME.test(k) && typeof v === 'string' && v !== '' && v !== MASK).map(([k]) => k)
}

export function maskSecretsByName(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecretsByName)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_NAME.test(k) && v !== null && typeof v !== 'object' && typeof v !== 'boolean' ? MASK : maskSecretsByName(v)]))
  }
  return value
}

/** Changed leaves as `{path, before, after}` (paths like `config.host`, `actions.0.params`); absent sides left out. */
export function diffValues(before: unknown, after: unknown): AuditDiffEntry[] {
  const out: AuditDiffEntry[] = []
  const isObj = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v)
  const walk = (a: unknown, b: unknown, path: string) => {
    if (out.length >= MAX_DIFF_ENTRIES) return
    // An object created or removed lists each of its fields, as a change from or to nothing.
    if (a === undefined && isObj(b)) a = {}
    if (b === undefined && isObj(a)) b = {}
    const objA = a !== null && typeof a === 'object'
    const objB = b !== null && typeof b === 'object'
    if (objA && objB && Array.isArray(a) === Array.isArray(b)) {
      const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)])
      for (const k of keys) if (!(path === '' && VOLATILE.has(k))) walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k)
      return
    }
    if (JSON.stringify(a) === JSON.stringify(b)) return
    const e: AuditDiffEntry = { path }
    if (a !== undefined) e.before = a
    if (b !== undefined) e.after = b
    out.push(e)
  }
  walk(before, after, '')
  return out
}
