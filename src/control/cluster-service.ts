import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type { ConnectorRecord, DeploymentRecord, RuleRecord } from '../core/domain.js'
import type { Change } from '../store/change-feed.js'
import type { Store } from '../store/store.js'
import type { AuthService } from './auth-service.js'
import type { ConnectorService } from './connector-service.js'
import type { DeploymentService } from './deployment-service.js'
import type { HealthState } from '../runtime/action-health.js'
import { connectorCounters, connectorDeliveryState, type ActionCounters, type ConnectorCounters } from '../runtime/metrics.js'
import { ruleCounts, type NodeRuleCounts, type RuleCounts, type RuleService } from './rule-service.js'

/** A node whose last heartbeat is older than this is `down`. */
export const NODE_DOWN_AFTER_MS = 5000
export const HEARTBEAT_MS = 1000

export interface NodeView {
  readonly name: string
  /** Where its API answers (`http://host:port`). */
  readonly address: string
  readonly status: 'up' | 'down'
  readonly version: string
  readonly startedAt: string
  readonly lastHeartbeat: string
  /** True for the node that answers this request. */
  readonly self: boolean
}

/**
 * What a node publishes with its heartbeat: its connectors' connection status, its rules' counters,
 * each rule action's counters and each connector's totals on it. Written every second and read by
 * every other node, so the per-action part, the largest, is tuples rather than objects.
 */
export interface NodeReport {
  readonly connectors: Record<string, { readonly status: string; readonly statusReason: string | null }>
  /**
   * Per running rule: its counters and each action's, as tuples. It replaces `rules` (the same
   * counters as objects, without the actions'), which a node of an earlier version wrote; such a
   * node reads no counters from this one's report, and shows none for it until it is upgraded.
   */
  readonly counters?: Record<string, RuleWire>
  readonly rules?: Record<string, RuleCounts>
  /** Per connector with actions sending through it here: their totals and delivery state. */
  readonly connectorMetrics?: Record<string, ConnectorCounters & { readonly delivery: HealthState }>
}

/** A rule's counters in a report: matched, passed, noResult, failed, and its actions'. */
type RuleWire = [number, number, number, number, ActionWire[]]
/** An action's counters in a report: matched, success, failed, dropped, queuing, inflight, retried, health, and its fallback's. */
type ActionWire = [number, number, number, number, number, number, number, HealthState, ActionWire?]

function toWire(c: ActionCounters): ActionWire {
  const w: ActionWire = [c.matched, c.success, c.failed, c.dropped, c.queuing, c.inflight, c.retried, c.health]
  if (c.fallback) w.push(toWire(c.fallback))
  return w
}

function fromWire(w: ActionWire): ActionCounters {
  const c = { matched: w[0], success: w[1], failed: w[2], dropped: w[3], queuing: w[4], inflight: w[5], retried: w[6], health: w[7] }
  return w[8] ? { ...c, fallback: fromWire(w[8]) } : c
}

export const NO_CONNECTOR_COUNTERS: ConnectorCounters = {
  matched: 0, success: 0, failed: 0, dropped: 0, queuing: 0, inflight: 0, retried: 0,
  rate: { success: 0, failed: 0, dropped: 0 }, lastSuccessAt: null, lastError: null,
}

export interface PeerConnectorStatus {
  readonly node: string
  readonly status: string
  readonly statusReason: string | null
  /** Whether what its actions send through it arrives on that node. */
  readonly delivery: HealthState
  /** What its actions sent through it on that node (zeros where none runs). */
  readonly metrics: ConnectorCounters
}

export interface ClusterLog {
  info(msg: string): void
  warn(msg: string): void
  error(msg: string): void
}

/**
 * This node's name: JUNCTION_NODE_NAME, else the one kept in `<dataDir>/node-name`, made on the
 * first start from the host name and the HTTP port (a random suffix when the port is chosen by
 * the system), so a node keeps its name across restarts.
 */
export function resolveNodeName(given: string | undefined, dataDir: string, httpPort: number): string {
  if (given) return given
  const file = join(dataDir, 'node-name')
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim()
    if (kept) return kept
  }
  const made = httpPort > 0 ? `${hostname()}:${httpPort}` : `${hostname()}-${randomBytes(3).toString('hex')}`
  mkdirSync(dataDir, { recursive: true })
  writeFileSync(file, `${made}\n`)
  return made
}

const KINDS = new Set(['deployment', 'connector', 'rule', 'device-acl', 'api-key', 'configuration', 'emqx-configuration'])

/**
 * Several Junction nodes on one PostgreSQL store form one installation (docs/cluster.md). Each
 * node registers itself and beats every second; a change made through a node's API is announced
 * on the store's change feed, and every other node reads the object back from the store and
 * applies it to its own runtime through the services' `applyStored` paths (nothing is written
 * again on the receiving side). After the feed reconnects, notifications may have been missed,
 * so the node compares everything with the store. On SQLite there is one node; the feed is silent.
 */
export class ClusterService {
  readonly instance = randomBytes(8).toString('hex')
  private readonly startedAt = new Date().toISOString()
  private address = ''
  private timer: NodeJS.Timeout | undefined
  private beating = false
  /** The report as last written to this node's row (undefined: write the next one whatever it is). */
  private written: string | undefined
  /** What this node last applied of each object: connectors and rules by fingerprint, deployments whole. */
  private readonly applied = new Map<string, string>()
  private readonly appliedDeployments = new Map<string, DeploymentRecord>()
  private readonly ruleActionCounts = new Map<string, number>()
  /**
   * One change at a time, in arrival order: a create and an edit right after it apply in that
   * order. Held until the node has booted, so changes announced while it boots wait for it.
   */
  private queue: Promise<void>
  private openQueue!: () => void
  /** The other nodes that are up and what they reported, as of this node's last heartbeat. */
  private peers: Array<{ name: string; report: NodeReport }> = []
  private closed = false

  constructor(
    readonly nodeName: string,
    private readonly version: string,
    private readonly store: Store,
    private readonly services: { deployments: DeploymentService; connectors: ConnectorService; rules: RuleService; auth: AuthService },
    private readonly log: ClusterLog,
  ) {
    this.queue = new Promise<void>((resolve) => { this.openQueue = resolve })
  }

  /** True when other nodes can share the store (PostgreSQL). */
  get shared(): boolean {
    return this.store.changes.shared
  }

  /**
   * Before boot: listens to the change feed, remembers the store's state, registers the node and
   * starts the heartbeat. Listening comes first, so no change made by another node from then on is
   * missed; changes made between the snapshot and the end of boot are applied again (harmless).
   * Changes received are applied once `booted` is called.
   */
  async start(address: string): Promise<void> {
    this.address = address
    // One node on SQLite: nothing to register with, announce or listen to.
    if (!this.shared) return
    await this.store.changes.listen({
      onChange: (c) => {
        if (c.origin === this.nodeName || this.closed) return
        this.enqueue(() => this.apply(c))
      },
      onResync: () => {
        if (this.closed) return
        this.log.info('change feed reconnected: comparing every object with the store')
        this.enqueue(() => this.resync())
      },
      onError: (message) => this.log.warn(`change feed lost its connection (${message}); reconnecting`),
    })
    await this.remember()
    const now = new Date().toISOString()
    const previous = await this.store.nodes.get(this.nodeName)
    if (previous && Date.now() - Date.parse(previous.heartbeatAt) < NODE_DOWN_AFTER_MS) {
      this.log.warn(`node name "${this.nodeName}" was beating ${Date.now() - Date.parse(previous.heartbeatAt)} ms ago from ${previous.address}: if another node runs under this name, give each node its own JUNCTION_NODE_NAME`)
    }
    await this.store.nodes.register({ name: this.nodeName, address, version: this.version, instance: this.instance, startedAt: this.startedAt, heartbeatAt: now })
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_MS)
    this.timer.unref()
  }

  /** The node's runtimes run what the store held at boot: apply the changes received meanwhile. */
  booted(): void {
    this.openQueue()
  }

  /** The listener's address once known (the HTTP port may be chosen at listen). */
  setAddress(address: string): void {
    this.address = address
  }

  async nodes(): Promise<NodeView[]> {
    if (!this.shared) {
      const now = new Date().toISOString()
      return [{ name: this.nodeName, address: this.address, status: 'up', version: this.version, startedAt: this.startedAt, lastHeartbeat: now, self: true }]
    }
    const now = Date.now()
    return (await this.store.nodes.list()).map((n) => ({
      name: n.name, address: n.address, version: n.version, startedAt: n.startedAt, lastHeartbeat: n.heartbeatAt,
      status: now - Date.parse(n.heartbeatAt) > NODE_DOWN_AFTER_MS ? 'down' as const : 'up' as const,
      self: n.name === this.nodeName && n.instance === this.instance,
    }))
  }

  /**
   * A change was made through this node's API and applied here: remember its new state (so the
   * node does not apply it twice after a resync) and announce it to the other nodes.
   */
  async changed(kind: string, id: string | null, deployment: string | null): Promise<void> {
    if (!KINDS.has(kind) || !this.shared) return
    // Not behind the queue: an answer must not wait for another node's change to be applied here.
    try {
      await this.apply({ origin: this.nodeName, kind, id, deployment }, false)
    } catch (err) {
      this.log.warn(`could not read back the change of ${kind} ${id ?? '*'}: ${(err as Error).message}`)
    }
    try {
      await this.store.changes.publish({ origin: this.nodeName, kind, id, deployment })
    } catch (err) {
      // The change is stored: the other nodes find it at their next resync.
      this.log.error(`could not announce the change of ${kind} ${id ?? '*'} to the other nodes: ${(err as Error).message}`)
    }
  }

  async stop(): Promise<void> {
    this.closed = true
    clearInterval(this.timer)
    this.openQueue()
    await this.queue
  }

  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch((err: unknown) => this.log.error(`applying a change from another node failed: ${(err as Error).message}`))
  }

  private async beat(): Promise<void> {
    if (this.beating || this.closed) return
    this.beating = true
    try {
      const report = JSON.stringify(this.report())
      // An unchanged report (an idle installation) is not written again: the row keeps it.
      const changed = report !== this.written
      const mine = await this.store.nodes.beat(this.nodeName, this.instance, new Date().toISOString(), this.address, changed ? report : undefined)
      if (mine) this.written = report
      else if (!this.closed) {
        this.log.warn(`node "${this.nodeName}" was registered again by another process; registering this one`)
        this.written = undefined
        await this.store.nodes.register({ name: this.nodeName, address: this.address, version: this.version, instance: this.instance, startedAt: this.startedAt, heartbeatAt: new Date().toISOString() })
      }
      await this.readPeers()
    } catch (err) {
      this.log.warn(`heartbeat not written: ${(err as Error).message}`)
    } finally {
      this.beating = false
    }
  }

  /**
   * What runs on this node: read from its runtimes, not the store, so it shows what a change did
   * here. Counters are read from the metrics objects directly (RuleRuntime.counters), not through
   * the snapshots the API builds: it runs every second for every rule.
   */
  private report(): NodeReport {
    const connectors: Record<string, { status: string; statusReason: string | null }> = {}
    const counters: Record<string, RuleWire> = {}
    const connectorMetrics: Record<string, ConnectorCounters & { delivery: HealthState }> = {}
    const now = Date.now()
    for (const runtime of this.services.deployments.allRuntimes()) {
      for (const [id, view] of runtime.connectorViews()) connectors[id] = { status: view.status, statusReason: view.statusReason }
      for (const r of runtime.rules.counters(now)) {
        counters[r.id] = [r.rule.matched, r.rule.passed, r.rule.noResult, r.rule.failed, r.actions.map(toWire)]
      }
      for (const [id, all] of runtime.rules.actionMetricsByConnector()) {
        connectorMetrics[id] = { ...connectorCounters(all), delivery: connectorDeliveryState(all, now) }
      }
    }
    return { connectors, counters, connectorMetrics }
  }

  /**
   * The connector's status and metrics on each other node that is up, from their last heartbeats
   * (read at this node's own): one that does not run it counts as stopped. Empty with a single node.
   */
  peerConnectorStatuses(id: string): PeerConnectorStatus[] {
    return this.peers.map((p) => {
      const entry = p.report.connectors[id]
      const m = p.report.connectorMetrics?.[id]
      const metrics = m ? { matched: m.matched, success: m.success, failed: m.failed, dropped: m.dropped, queuing: m.queuing, inflight: m.inflight, retried: m.retried, rate: m.rate, lastSuccessAt: m.lastSuccessAt, lastError: m.lastError } : NO_CONNECTOR_COUNTERS
      const delivery = m?.delivery ?? 'ok'
      return entry
        ? { node: p.name, status: entry.status, statusReason: entry.statusReason, delivery, metrics }
        : { node: p.name, status: 'stopped', statusReason: 'not running on this node', delivery, metrics }
    })
  }

  /** The rule's counters, and its actions', on each other node that is up and runs it. */
  peerRuleCounts(id: string): NodeRuleCounts[] {
    return this.peers.flatMap((p) => {
      const wire = p.report.counters?.[id]
      if (wire) {
        const perAction = wire[4].map(fromWire)
        return [{ node: p.name, ...ruleCounts({ matched: wire[0], passed: wire[1], noResult: wire[2], failed: wire[3] }, perAction), perAction }]
      }
      // A node of an earlier version: the rule's counters without its actions'.
      const counts = p.report.rules?.[id]
      return counts ? [{ node: p.name, ...counts, perAction: [] }] : []
    })
  }

  private async readPeers(): Promise<void> {
    const now = Date.now()
    // Without this node's own row: its report is the largest read and would be thrown away.
    this.peers = (await this.store.nodes.others(this.nodeName))
      .filter((n) => n.instance !== this.instance && now - Date.parse(n.heartbeatAt) <= NODE_DOWN_AFTER_MS)
      .map((n) => ({ name: n.name, report: n.report === null ? { connectors: {} } : JSON.parse(n.report) as NodeReport }))
  }

  /** Records what runs now (after boot), without applying anything. */
  private async remember(): Promise<void> {
    for (const d of await this.store.deployments.list()) {
      this.appliedDeployments.set(d.id, d)
      await this.rememberDeployment(d.id)
    }
  }

  private async rememberDeployment(dep: string): Promise<void> {
    this.rememberObjects(dep, await this.storedObjects(dep))
  }

  private async storedObjects(dep: string): Promise<{ connectors: ConnectorRecord[]; rules: RuleRecord[] }> {
    return { connectors: await this.store.connectors.list(dep), rules: await this.store.rules.list(dep) }
  }

  private rememberObjects(dep: string, objects: { connectors: readonly ConnectorRecord[]; rules: readonly RuleRecord[] }): void {
    for (const c of objects.connectors) this.applied.set(key('connector', dep, c.id), connectorPrint(c))
    for (const r of objects.rules) {
      this.applied.set(key('rule', dep, r.id), rulePrint(r))
      this.ruleActionCounts.set(r.id, r.actions.length)
    }
  }

  /** Everything compared with the store: after the feed reconnected, or an import. */
  private async resync(applyChanges = true): Promise<void> {
    const stored = await this.store.deployments.list()
    const ids = new Set([...stored.map((d) => d.id), ...this.appliedDeployments.keys()])
    for (const id of ids) await this.apply({ origin: '', kind: 'deployment', id, deployment: id }, applyChanges)
    for (const id of ids) {
      await this.apply({ origin: '', kind: 'connector', id: null, deployment: id }, applyChanges)
      await this.apply({ origin: '', kind: 'rule', id: null, deployment: id }, applyChanges)
      await this.apply({ origin: '', kind: 'device-acl', id: null, deployment: id }, applyChanges)
    }
    this.services.auth.forgetVerified()
  }

  /**
   * Brings this node in line with the store for one change. `applyChanges` false: the change was
   * made here, so only remember the stored state.
   */
  private async apply(c: Change, applyChanges = true): Promise<void> {
    const { deployments, connectors, rules } = this.services
    switch (c.kind) {
      case 'deployment': {
        const targets = c.id === null ? (await this.store.deployments.list()).map((d) => d.id) : [c.id]
        for (const id of targets) {
          const record = await this.store.deployments.get(id)
          const before = this.appliedDeployments.get(id)
          if (record) this.appliedDeployments.set(id, record)
          else this.appliedDeployments.delete(id)
          if (!applyChanges) continue
          if (record && before && JSON.stringify(record) === JSON.stringify(before)) continue
          if (!record && !before) continue
          // Read before the restart: a connector or rule created meanwhile by another node may
          // miss the start hooks, and its own change (queued after this one) must then run it.
          const startedWith = record ? await this.storedObjects(id) : undefined
          const { started } = await deployments.applyStored(id, record, before)
          if (!record) this.forgetDeployment(id)
          // A deployment that (re)started here ran its stored connectors and rules from its start hooks.
          else if (started) this.rememberObjects(id, startedWith!)
        }
        return
      }
      case 'connector': {
        if (c.deployment === null) return
        const dep = c.deployment
        const stored = c.id === null ? await this.store.connectors.list(dep) : [await this.store.connectors.get(dep, c.id)].filter((x) => x !== undefined)
        const seen = new Set<string>()
        for (const r of stored) {
          seen.add(r.id)
          const k = key('connector', dep, r.id)
          const print = connectorPrint(r)
          if (this.applied.get(k) === print) continue
          this.applied.set(k, print)
          if (applyChanges) await connectors.applyStored(dep, r.id, r)
        }
        for (const gone of this.known('connector', dep, c.id)) {
          if (seen.has(gone)) continue
          this.applied.delete(key('connector', dep, gone))
          if (applyChanges) await connectors.applyStored(dep, gone, undefined)
        }
        return
      }
      case 'rule': {
        if (c.deployment === null) return
        const dep = c.deployment
        const stored = c.id === null ? await this.store.rules.list(dep) : [await this.store.rules.get(dep, c.id)].filter((x) => x !== undefined)
        const seen = new Set<string>()
        for (const r of stored) {
          seen.add(r.id)
          const k = key('rule', dep, r.id)
          const print = rulePrint(r)
          this.ruleActionCounts.set(r.id, r.actions.length)
          if (this.applied.get(k) === print) continue
          this.applied.set(k, print)
          if (applyChanges) await rules.applyStored(dep, r.id, r, r.actions.length)
        }
        for (const gone of this.known('rule', dep, c.id)) {
          if (seen.has(gone)) continue
          this.applied.delete(key('rule', dep, gone))
          if (applyChanges) await rules.applyStored(dep, gone, undefined, this.ruleActionCounts.get(gone) ?? 0)
          this.ruleActionCounts.delete(gone)
        }
        return
      }
      case 'device-acl': {
        if (c.deployment === null || !applyChanges) return
        if (!(await this.store.deployments.get(c.deployment))) return
        deployments.access(c.deployment).setAcl((await this.store.mqttAccess.getAcl(c.deployment)).acl)
        return
      }
      case 'api-key':
        // Verified keys are kept a minute per node: a deleted or changed key stops working at once.
        this.services.auth.forgetVerified()
        return
      case 'configuration':
      case 'emqx-configuration':
        await this.resync(applyChanges)
        return
    }
  }

  /** IDs of `kind` this node applied in the deployment (just `id` when one is named). */
  private known(kind: string, dep: string, id: string | null): string[] {
    if (id !== null) return this.applied.has(key(kind, dep, id)) ? [id] : []
    const prefix = `${kind}\u0000${dep}\u0000`
    return [...this.applied.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length))
  }

  private forgetDeployment(dep: string): void {
    for (const k of [...this.applied.keys()]) if (k.split('\u0000')[1] === dep) this.applied.delete(k)
  }
}

const key = (kind: string, dep: string, id: string) => `${kind}\u0000${dep}\u0000${id}`

/** What a connector's runtime depends on: a rename or a new description reconnects nothing. */
const connectorPrint = (c: { type: string; config: Record<string, unknown>; enabled: boolean }) => JSON.stringify([c.type, c.enabled, c.config])
/** A rule is reinstalled (its metrics start again) only when what it does changed. */
const rulePrint = (r: { sql: string; enabled: boolean; actions: unknown }) => JSON.stringify([r.sql, r.enabled, r.actions])
