import type { Channel, ConnectorDefinition, ConnectorLogger } from '../connector-api/index.js'
import { ConnectorError } from '../connector-api/index.js'
import type { RuleEngine } from '../rules/rule-engine.js'
import { RuleMetrics } from '../rules/rule-metrics.js'
import type { CompiledRuleSql } from '../rules/sql/index.js'
import { ActionWorker, type ActionOptions, type ChannelSource, type FinalFailureHandler } from './action-worker.js'
import { DiskBuffer } from './disk-buffer.js'
import { FailedMessageStores, failedLimits, type FailedMessagesStats } from './failed-messages.js'
import type { ConnectorStatusView, ManagedConnector } from './managed-connector.js'
import type { BuiltinActionDefinition, DeploymentBroker } from './builtin-action.js'
import { ActionMetrics, actionCounters, ruleActionTotals, type ActionCounters, type RuleActionTotals } from './metrics.js'
import { stallBoundMs } from './action-health.js'

export type ActionTarget =
  | { readonly kind: 'connector'; readonly connectorId: string; readonly definition: ConnectorDefinition; readonly params: Record<string, unknown> }
  | { readonly kind: 'builtin'; readonly definition: BuiltinActionDefinition; readonly params: Record<string, unknown> }

export interface ActionSpec {
  readonly target: ActionTarget
  readonly options: ActionOptions
  /** Gets the messages this action finally fails (permanent error) or drops as expired. */
  readonly fallback?: ActionSpec
}

export interface RuleSpec {
  readonly id: string
  readonly sql: CompiledRuleSql
  readonly actions: readonly ActionSpec[]
}

/** What a rule runtime needs from its deployment. */
export interface RuleRuntimeHost {
  connector(id: string): ManagedConnector | undefined
  onConnectorStatus(id: string, listener: (view: ConnectorStatusView) => void): () => void
  /** The deployment's broker while it runs (built-in actions such as republish publish into it). */
  broker(): DeploymentBroker | undefined
  /** Directory for an action's disk buffer. */
  bufferDir(actionId: string): string
}

interface RunningAction {
  readonly worker: ActionWorker
  readonly target: ActionTarget
  readonly fallback: RunningAction | undefined
}

/** A rule's own counters: matched = passed + noResult + failed. */
export interface RuleCounters {
  readonly matched: number; readonly passed: number; readonly noResult: number; readonly failed: number
}

interface RunningRule {
  readonly metrics: RuleMetrics
  readonly actions: readonly RunningAction[]
}

/**
 * Turns rule specs into running pieces: an ActionWorker per action (and per fallback), fed by the
 * engine. Replacing a rule retires its old workers: they take no new messages and finish what
 * they hold, so an edit loses nothing queued.
 */
export class RuleRuntime {
  private readonly running = new Map<string, RunningRule>()
  /** Workers of replaced or deleted rules still delivering what they hold; a deployment stop ends them too. */
  private readonly retiring = new Set<ActionWorker>()
  /** Per action with `keepFailed`: what it failed or dropped, next to its disk buffer; outlives edits and stops. */
  readonly failedMessages: FailedMessageStores

  constructor(private readonly engine: RuleEngine, private readonly host: RuleRuntimeHost, private readonly logger: ConnectorLogger) {
    this.failedMessages = new FailedMessageStores((actionId) => `${host.bufferDir(actionId)}.failed`, logger)
  }

  install(spec: RuleSpec): void {
    this.retire(spec.id, 'replaced')
    const metrics = new RuleMetrics()
    const actions = spec.actions.map((a, i) => this.startAction(`${spec.id}#${i}`, a))
    this.running.set(spec.id, { metrics, actions })
    this.engine.install({ id: spec.id, sql: spec.sql, metrics, actions: actions.map((a) => a.worker) })
  }

  /** Stops feeding the rule; queued messages still go out (a disk buffer is removed once empty). */
  uninstall(id: string): void {
    this.retire(id, 'deleted')
  }

  /** Deployment stop: drops what is queued (counted as `stopped`). */
  stopAll(): void {
    for (const [id, rule] of this.running) {
      this.engine.uninstall(id)
      for (const a of rule.actions) stopAction(a)
    }
    this.running.clear()
    for (const w of this.retiring) w.stop()
    this.retiring.clear()
    this.failedMessages.closeAll()
  }

  metrics(id: string, series = false): { rule: ReturnType<RuleMetrics['snapshot']> & { actions: RuleActionTotals }; actions: Array<ReturnType<ActionMetrics['snapshot']> & { fallback?: ReturnType<ActionMetrics['snapshot']> }> } | undefined {
    const r = this.running.get(id)
    if (!r) return undefined
    return {
      rule: { ...r.metrics.snapshot(series), actions: ruleActionTotals(r.actions.map((a) => a.worker.metrics)) },
      actions: r.actions.map((a) => {
        const kept = this.failedMessages.peek(a.worker.id)?.stats()
        return { ...a.worker.metrics.snapshot(series), ...(a.fallback ? { fallback: a.fallback.worker.metrics.snapshot(series) } : {}), ...(kept ? { failedMessages: kept } : {}) }
      }),
    }
  }

  /**
   * Each running rule's counters and its actions' (fallbacks nested), read from the counters
   * themselves: unlike `metrics`, no snapshot, rates, series or failed-message stats, so a node's
   * heartbeat can report a thousand rules each second for little.
   */
  counters(now = Date.now()): Array<{ id: string; rule: RuleCounters; actions: ActionCounters[] }> {
    const out: Array<{ id: string; rule: RuleCounters; actions: ActionCounters[] }> = []
    for (const [id, r] of this.running) {
      const m = r.metrics
      out.push({
        id,
        rule: { matched: m.matched, passed: m.passed, noResult: m.noResult, failed: m.failed },
        actions: r.actions.map((a) => actionCounters(a.worker.metrics, now, a.fallback?.worker.metrics)),
      })
    }
    return out
  }

  /** Every running action's metrics (fallbacks included) by the connector it sends through, in one pass. */
  actionMetricsByConnector(): Map<string, ActionMetrics[]> {
    const out = new Map<string, ActionMetrics[]>()
    const visit = (a: RunningAction | undefined) => {
      if (!a) return
      if (a.target.kind === 'connector') {
        const list = out.get(a.target.connectorId)
        if (list) list.push(a.worker.metrics)
        else out.set(a.target.connectorId, [a.worker.metrics])
      }
      visit(a.fallback)
    }
    for (const r of this.running.values()) for (const a of r.actions) visit(a)
    return out
  }

  /** IDs of the rules installed now. */
  runningIds(): string[] {
    return [...this.running.keys()]
  }

  /** Every action metrics object that sends through `connectorId` (for the connector's totals). */
  actionMetricsOf(connectorId: string): ActionMetrics[] {
    const out: ActionMetrics[] = []
    const visit = (a: RunningAction | undefined) => {
      if (!a) return
      if (a.target.kind === 'connector' && a.target.connectorId === connectorId) out.push(a.worker.metrics)
      visit(a.fallback)
    }
    for (const r of this.running.values()) for (const a of r.actions) visit(a)
    return out
  }

  ruleMetricsAll(): Array<{ id: string; metrics: RuleMetrics; actions: Array<{ index: number; target: string; metrics: ActionMetrics; failedMessages?: FailedMessagesStats }> }> {
    return [...this.running].map(([id, r]) => ({
      id, metrics: r.metrics,
      actions: r.actions.map((a, index) => ({ index, target: a.target.kind === 'connector' ? a.target.connectorId : a.target.definition.name, metrics: a.worker.metrics, failedMessages: this.failedMessages.peek(a.worker.id)?.stats() })),
    }))
  }

  /** The running worker of a rule's action: replayed failed messages go into its queue. */
  actionWorker(ruleId: string, index: number): ActionWorker | undefined {
    return this.running.get(ruleId)?.actions[index]?.worker
  }

  /** Waits until no action of the rule holds a message (tests, benchmarks). */
  async drained(id: string, timeoutMs = 30_000): Promise<boolean> {
    const r = this.running.get(id)
    if (!r) return true
    const all = r.actions.flatMap((a) => (a.fallback ? [a.worker, a.fallback.worker] : [a.worker]))
    return (await Promise.all(all.map((w) => w.drained(timeoutMs)))).every(Boolean)
  }

  /**
   * Takes a rule out of the engine. Its workers finish what they hold, except disk-buffered ones
   * being replaced: those stop at once and hand their queue, on disk, to the new workers.
   */
  private retire(id: string, why: 'replaced' | 'deleted'): void {
    const rule = this.running.get(id)
    if (!rule) return
    this.engine.uninstall(id)
    this.running.delete(id)
    const visit = (a: RunningAction | undefined) => {
      if (!a) return
      const disk = a.worker.diskBuffer
      if (disk && why === 'replaced') a.worker.stop()
      // Once empty, stop() drops nothing: it unsubscribes from the connector and clears timers.
      else {
        this.retiring.add(a.worker)
        void a.worker.drained(24 * 3600_000).then(() => {
          this.retiring.delete(a.worker)
          a.worker.stop()
          if (disk) disk.destroy()
        })
      }
      visit(a.fallback)
    }
    for (const a of rule.actions) visit(a)
  }

  private startAction(id: string, spec: ActionSpec): RunningAction {
    const fallback = spec.fallback ? this.startAction(`${id}/fallback`, spec.fallback) : undefined
    const source = spec.target.kind === 'connector' ? this.connectorSource(spec.target) : this.builtinSource(id, spec.target)
    const kept = spec.options.keepFailed ? this.failedMessages.use(id, failedLimits(spec.options)) : undefined
    // The fallback gets what this action failed or let expire, as it always did; the store keeps every loss.
    const onFinal: FinalFailureHandler | undefined = fallback || kept ? (message, reason, detail) => {
      kept?.add(message, reason, detail)
      if (fallback && (reason === 'failed' || reason === 'expired')) fallback.worker.enqueue(message)
    } : undefined
    const disk = spec.options.diskBuffer ? DiskBuffer.open(this.host.bufferDir(id)) : undefined
    const worker = new ActionWorker(id, source, spec.options, new ActionMetrics(stallBoundMs(spec.options)), this.logger, onFinal, disk)
    return { worker, target: spec.target, fallback }
  }

  private connectorSource(target: Extract<ActionTarget, { kind: 'connector' }>): ChannelSource {
    let instance: object | undefined
    let channel: Promise<Channel> | undefined
    /** The channel `channel` resolved to, while `instance` is still the connector's connection. */
    let opened: Channel | undefined
    return {
      current: () => (opened && this.host.connector(target.connectorId)?.connection === instance ? opened : undefined),
      acquire: async () => {
        const connection = this.host.connector(target.connectorId)?.connection
        if (!connection) return undefined
        if (connection !== instance) {
          // A new connection (edit or reconnect): open the channel again on it.
          const old = channel
          instance = connection
          opened = undefined
          channel = connection.openChannel
            ? connection.openChannel(target.params)
            : Promise.reject(new ConnectorError('CONNECTION_FAILED', `Connector type ${target.definition.type} cannot be used in rule actions yet`, { kind: 'permanent' }))
          old?.then((c) => c.close?.()).catch(() => {})
        }
        const current = channel!
        try {
          const open = await current
          if (channel === current) opened = open
          return open
        } catch (err) {
          if (channel === current) {
            instance = undefined
            channel = undefined
            opened = undefined
          }
          throw err
        }
      },
      reportLost: () => this.host.connector(target.connectorId)?.checkNow(),
      onReady: (listener) => this.host.onConnectorStatus(target.connectorId, (view) => {
        if (view.status === 'connected') listener()
      }),
    }
  }

  /**
   * A built-in action's channel is opened once, when the action starts: it needs no connection,
   * only the deployment's broker, which it asks for per send. Messages wait (as for a connector
   * not connected) while the broker does not run.
   */
  private builtinSource(actionId: string, target: Extract<ActionTarget, { kind: 'builtin' }>): ChannelSource {
    const channel = target.definition.openChannel(target.params, { actionId, logger: this.logger, broker: () => this.host.broker() })
    return {
      acquire: async () => (this.host.broker() ? channel : undefined),
      reportLost: () => {},
      onReady: () => () => {},
    }
  }
}

function stopAction(a: RunningAction): void {
  a.worker.stop()
  if (a.fallback) stopAction(a.fallback)
}
