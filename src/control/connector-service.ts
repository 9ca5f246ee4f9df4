import type { ConnectorLogger, ProbeResult } from '../connector-api/index.js'
import type { ConnectorRecord, RuleRef } from '../core/domain.js'
import { EDITABLE_PLANS } from '../core/domain.js'
import { ApiError } from '../core/errors.js'
import type { FieldError } from '../core/schema-validation.js'
import { newId } from '../core/ids.js'
import { maskSecrets, restoreMaskedSecrets } from '../core/secrets.js'
import { isUniqueViolation } from '../store/database.js'
import type { Store } from '../store/store.js'
import type { ConnectorStatusView } from '../runtime/managed-connector.js'
import { connectorDelivery, type ConnectorDelivery, type HealthState } from '../runtime/action-health.js'
import { connectorCounters, type ConnectorCounters } from '../runtime/metrics.js'
import { probeTimeoutMs, runProbe } from '../runtime/run-probe.js'
import { sameJson, SYSTEM_AUTHOR, type ChangeAuthor, type ChangeHistory, type HistoryVersion, type HistoryVersionDetails } from './change-history.js'
import type { DeploymentService } from './deployment-service.js'
import type { TypeRegistry } from './type-registry.js'

export interface ConnectorSummary extends Omit<ConnectorStatusView, 'status'> {
  /** This node's connection status; `inconsistent` when the nodes of the installation disagree (see `nodes`). */
  readonly status: ConnectorStatusView['status'] | 'inconsistent'
  /** The connection status, delivery state and metrics on each node that is up, this node first (one entry on a single node). */
  readonly nodes: readonly ConnectorNode[]
  /** The sum of the nodes' `metrics`. */
  readonly totals: ConnectorCounters
  readonly id: string
  readonly deploymentId: string
  readonly name: string
  readonly type: string
  readonly description: string
  readonly enabled: boolean
  readonly version: number
  readonly ruleCount: number
  /** Totals of every rule action sending through this connector. */
  readonly metrics: ConnectorMetrics
  /**
   * Whether what the actions send through it arrives (`status` says only whether the connection
   * is up): failing or stalled as the worst of their health says.
   */
  readonly delivery: ConnectorDelivery
  readonly createdAt: string
  readonly updatedAt: string
}

/** A connector on one node of the installation. */
export interface ConnectorNode {
  readonly node: string
  readonly status: string
  readonly statusReason: string | null
  /** Whether what its actions send through it arrives on that node (`delivery.state` there). */
  readonly delivery: HealthState
  /** What its actions sent through it on that node (`metrics` there, without series). */
  readonly metrics: ConnectorCounters
}

export interface ConnectorMetrics extends ConnectorCounters {
  /** Details only: the last minute per second, oldest first, for charts. */
  readonly series?: { readonly success: number[]; readonly failed: number[]; readonly dropped: number[] }
}

export interface ConnectorDetails extends ConnectorSummary {
  /** Every field with defaults filled in; secrets as "******". */
  readonly config: Record<string, unknown>
  readonly rules: readonly RuleRef[]
}

export interface CreateConnector {
  name: string; type: string; description?: string; config: Record<string, unknown>; enabled?: boolean
  /** Import only (not in the API body): keeps an exported connector's ID. */
  id?: string
}
export interface UpdateConnector { name?: string; description?: string; config?: Record<string, unknown>; enabled?: boolean; version?: number }

/** The connector use cases behind the API: validate, persist, and keep the runtime in step. */
export class ConnectorService {
  constructor(
    private readonly store: Store,
    private readonly types: TypeRegistry,
    private readonly deployments: DeploymentService,
    private readonly logger: ConnectorLogger,
    private readonly history: ChangeHistory,
  ) {
    deployments.addStartHook((id) => this.runDeploymentConnectors(id))
  }

  private node: { name: string; peers(id: string): readonly ConnectorNode[] } = { name: 'local', peers: () => [] }

  /** This node's name and how to read the other nodes' statuses and metrics of a connector (set by the composition root). */
  useNodes(node: { name: string; peers(id: string): readonly ConnectorNode[] }): void {
    this.node = node
  }

  /** Registers every stored connector of a deployment with its runtime (at boot and on start). */
  async runDeploymentConnectors(deploymentId: string): Promise<void> {
    const runtime = this.deployments.runtime(deploymentId)
    for (const c of await this.store.connectors.list(deploymentId)) {
      const definition = this.types.find(c.type)
      if (!definition) {
        this.logger.error(`connector ${c.id} has unknown type "${c.type}"; not started`)
        continue
      }
      await runtime.runConnector(c, definition, this.statusLogger)
    }
  }

  /**
   * Another node changed this connector (cluster change feed): applies the stored record to this
   * node's runtime, writing nothing; `undefined` = it was deleted.
   */
  async applyStored(deploymentId: string, id: string, record: ConnectorRecord | undefined): Promise<void> {
    const runtime = this.deployments.runtime(deploymentId)
    if (!record) {
      await runtime.removeConnector(id)
      return
    }
    const definition = this.types.find(record.type)
    if (!definition) {
      this.logger.error(`connector ${record.id} has unknown type "${record.type}"; not started`)
      return
    }
    await runtime.runConnector(record, definition, this.statusLogger)
  }

  async list(deploymentId: string): Promise<ConnectorSummary[]> {
    await this.deployments.record(deploymentId)
    const records = await this.store.connectors.list(deploymentId)
    const counts = await this.store.connectors.ruleCounts(records.map((r) => r.id))
    return records.map((r) => this.summary(r, counts.get(r.id) ?? 0))
  }

  async get(deploymentId: string, id: string): Promise<ConnectorDetails> {
    const record = await this.record(deploymentId, id)
    return this.details(record)
  }

  async create(deploymentId: string, input: CreateConnector, by: ChangeAuthor = SYSTEM_AUTHOR): Promise<ConnectorDetails> {
    await this.deployments.record(deploymentId)
    const runtime = this.deployments.runtime(deploymentId)
    if (!runtime.running) {
      throw new ApiError('DEPLOYMENT_NOT_RUNNING', `Deployment "${deploymentId}" is not running: connectors can be created only while it runs`, {
        hint: `Start it with POST /api/v1/deployments/${deploymentId}/start.`,
      })
    }
    const definition = this.types.get(input.type)
    const config = this.types.validateConfig(definition, input.config)
    const now = new Date().toISOString()
    const record: ConnectorRecord = {
      id: input.id ?? newId('c'), deploymentId, name: input.name, type: input.type, description: input.description ?? '',
      config, enabled: input.enabled ?? true, version: 1, createdAt: now, updatedAt: now,
    }
    try {
      await this.store.connectors.insert(record)
    } catch (err) {
      if (isUniqueViolation(err)) throw nameTaken(input.name)
      throw err
    }
    await this.history.recordConnector(record, 'create', by)
    await runtime.runConnector(record, definition, this.statusLogger)
    this.logger.info(`connector ${record.id} created`, { type: record.type, deployment: deploymentId })
    return this.details(record)
  }

  async update(deploymentId: string, id: string, input: UpdateConnector, by: ChangeAuthor = SYSTEM_AUTHOR): Promise<ConnectorDetails> {
    const stored = await this.editable(deploymentId, id)
    if (input.version !== undefined && input.version !== stored.version) throw versionConflict(stored.version)
    const definition = this.types.get(stored.type)
    const config = input.config === undefined
      ? stored.config
      : this.types.validateConfig(definition, restoreMaskedSecrets(input.config, stored.config, definition.configSchema))
    return this.save(stored, {
      name: input.name ?? stored.name,
      description: input.description ?? stored.description,
      enabled: input.enabled ?? stored.enabled,
      config,
    }, by, 'update')
  }

  /**
   * Puts back a version from the change history, through the same checks as an edit (plan,
   * config validation), with that version's real secrets; recorded as a new version.
   */
  async revert(deploymentId: string, id: string, version: number, by: ChangeAuthor = SYSTEM_AUTHOR): Promise<ConnectorDetails> {
    const stored = await this.editable(deploymentId, id)
    const target = await this.history.connectorToRestore(stored, version)
    const now = { name: stored.name, description: stored.description, enabled: stored.enabled, config: stored.config }
    if (sameJson(target, now)) {
      throw new ApiError('NOTHING_TO_REVERT', `Connector ${id} is already as it was in version ${version}`, {
        hint: 'Pick another version from its history; nothing was changed.', extra: { currentVersion: stored.version },
      })
    }
    const definition = this.types.get(stored.type)
    return this.save(stored, { ...target, config: this.types.validateConfig(definition, target.config) }, by, 'revert', version)
  }

  async historyOf(deploymentId: string, id: string, q: { limit: number; before?: number }): Promise<HistoryVersion[]> {
    await this.record(deploymentId, id)
    return this.history.list('connector', id, q)
  }

  async versionOf(deploymentId: string, id: string, version: number): Promise<HistoryVersionDetails> {
    return this.history.connectorVersion(await this.record(deploymentId, id), version)
  }

  /** The connector, when its deployment's plan allows edits (a revert is an edit). */
  private async editable(deploymentId: string, id: string): Promise<ConnectorRecord> {
    const deployment = await this.deployments.record(deploymentId)
    const stored = await this.record(deploymentId, id)
    if (!EDITABLE_PLANS.has(deployment.plan)) {
      throw new ApiError('EDIT_NOT_ALLOWED_ON_PLAN', `Editing a connector needs a dedicated or premium deployment; "${deploymentId}" is ${deployment.plan}`, {
        hint: 'Upgrade the deployment plan, or delete the connector and create a new one.',
      })
    }
    return stored
  }

  private async save(
    stored: ConnectorRecord, change: Pick<ConnectorRecord, 'name' | 'description' | 'enabled' | 'config'>,
    by: ChangeAuthor, action: 'update' | 'revert', revertedFrom?: number,
  ): Promise<ConnectorDetails> {
    const { deploymentId, id } = stored
    const definition = this.types.get(stored.type)
    const { config } = change
    const next: ConnectorRecord = { ...stored, ...change, version: stored.version + 1, updatedAt: new Date().toISOString() }
    let saved: boolean
    try {
      saved = await this.store.connectors.update(next, stored.version)
    } catch (err) {
      if (isUniqueViolation(err)) throw nameTaken(next.name)
      throw err
    }
    if (!saved) throw versionConflict((await this.record(deploymentId, id)).version)
    await this.history.recordConnector(next, action, by, revertedFrom)
    const changed = JSON.stringify(config) !== JSON.stringify(stored.config) || next.enabled !== stored.enabled
    if (changed) await this.deployments.runtime(deploymentId).runConnector(next, definition, this.statusLogger)
    return this.details(next)
  }

  /**
   * The config's field errors for a type, without throwing (none when the type is unknown): lets
   * the API report them together with errors elsewhere in the body, in one answer.
   */
  configErrors(type: unknown, config: unknown): FieldError[] {
    const definition = typeof type === 'string' ? this.types.find(type) : undefined
    if (!definition) return []
    try {
      this.types.validateConfig(definition, config)
      return []
    } catch (err) {
      return err instanceof ApiError ? [...(err.fields ?? [])] : []
    }
  }

  /** Tests an unsaved config. */
  async test(deploymentId: string, input: { type: string; config: Record<string, unknown> }): Promise<ProbeResult> {
    await this.deployments.record(deploymentId)
    const definition = this.types.get(input.type)
    const config = this.types.validateConfig(definition, input.config)
    return runProbe(definition, config, { connectorId: 'probe', logger: this.logger }, probeTimeoutMs(config))
  }

  /** Tests a saved connector, or an edit of it before saving (masked secrets resolve to the stored ones). */
  async testSaved(deploymentId: string, id: string, edit: Record<string, unknown> | undefined): Promise<ProbeResult> {
    const stored = await this.record(deploymentId, id)
    const definition = this.types.get(stored.type)
    const config = edit === undefined ? stored.config : this.types.validateConfig(definition, restoreMaskedSecrets(edit, stored.config, definition.configSchema))
    return runProbe(definition, config, { connectorId: id, logger: this.logger }, probeTimeoutMs(config))
  }

  async remove(deploymentId: string, id: string, confirm: string | undefined): Promise<void> {
    await this.record(deploymentId, id)
    if (confirm !== id) {
      throw new ApiError('CONFIRMATION_REQUIRED', confirm === undefined
        ? `Deleting connector ${id} needs confirmation`
        : `The confirmation "${confirm}" does not match the connector ID ${id}`, { hint: `Send ?confirm=${id}.` })
    }
    const rules = await this.store.connectors.rulesUsing(id)
    if (rules.length > 0) {
      throw new ApiError('CONNECTOR_IN_USE', `Connector ${id} is used by ${rules.length} rule(s): ${rules.map((r) => r.name).join(', ')}`, {
        hint: 'Remove the connector from these rules (or delete them) first.',
        extra: { rules },
      })
    }
    await this.deployments.runtime(deploymentId).removeConnector(id)
    await this.store.connectors.delete(id)
    await this.history.forget('connector', id)
    this.logger.info(`connector ${id} deleted`, { deployment: deploymentId })
  }

  async countIn(deploymentId: string): Promise<number> {
    return this.store.connectors.count(deploymentId)
  }

  private async record(deploymentId: string, id: string): Promise<ConnectorRecord> {
    await this.deployments.record(deploymentId)
    const c = await this.store.connectors.get(deploymentId, id)
    if (!c) throw new ApiError('CONNECTOR_NOT_FOUND', `Connector "${id}" does not exist in deployment "${deploymentId}"`, { hint: `List connectors with GET /api/v1/deployments/${deploymentId}/connectors.` })
    return c
  }

  private summary(r: ConnectorRecord, ruleCount: number, series = false): ConnectorSummary {
    const runtime = this.deployments.runtime(r.deploymentId)
    const status = runtime.connectorStatus(r.id, r.enabled)
    const metrics = this.metricsOf(r, series)
    const delivery = this.deliveryOf(r)
    const { series: _series, ...counters } = metrics
    const nodes = [{ node: this.node.name, status: status.status, statusReason: status.statusReason, delivery: delivery.state, metrics: counters }, ...this.node.peers(r.id)]
    const agreed = nodes.every((n) => n.status === status.status)
    return {
      id: r.id, deploymentId: r.deploymentId, name: r.name, type: r.type, description: r.description,
      enabled: r.enabled, version: r.version, ...status, status: agreed ? status.status : 'inconsistent', nodes, totals: connectorTotals(nodes.map((n) => n.metrics)),
      ruleCount, metrics, delivery, createdAt: r.createdAt, updatedAt: r.updatedAt,
    }
  }

  private metricsOf(r: ConnectorRecord, series = false): ConnectorMetrics {
    const all = this.deployments.runtime(r.deploymentId).rules.actionMetricsOf(r.id)
    return {
      ...connectorCounters(all),
      ...(series ? { series: {
        success: sumSeries(all.map((m) => m.successRate.series())),
        failed: sumSeries(all.map((m) => m.failedRate.series())),
        dropped: sumSeries(all.map((m) => m.droppedRate.series())),
      } } : {}),
    }
  }

  private deliveryOf(r: ConnectorRecord): ConnectorDelivery {
    const now = Date.now()
    return connectorDelivery(this.deployments.runtime(r.deploymentId).rules.actionMetricsOf(r.id).map((m) => m.health(now)))
  }

  /** Status and delivery state of every connector (for /metrics). */
  async statuses(): Promise<Array<{ deploymentId: string; id: string; type: string; status: string; delivery: string }>> {
    return (await this.store.connectors.listAll()).map((c) => ({
      deploymentId: c.deploymentId, id: c.id, type: c.type,
      status: this.deployments.runtime(c.deploymentId).connectorStatus(c.id, c.enabled).status, delivery: this.deliveryOf(c).state,
    }))
  }

  private async details(r: ConnectorRecord): Promise<ConnectorDetails> {
    const rules = await this.store.connectors.rulesUsing(r.id)
    const definition = this.types.find(r.type)
    const config = definition ? maskSecrets(r.config, definition.configSchema) : {}
    return { ...this.summary(r, rules.length, true), config, rules }
  }

  private readonly statusLogger = (id: string, view: ConnectorStatusView): void => {
    const data = { connector: id, status: view.status, ...(view.statusCode ? { code: view.statusCode } : {}) }
    if (view.status === 'disconnected') this.logger.warn(`connector ${id} disconnected: ${view.statusReason ?? ''}`, data)
    else this.logger.info(`connector ${id} ${view.status}`, data)
  }
}

/**
 * The nodes' metrics added up: counters and rates summed, the latest success, and the first
 * node's last error that has one (this node's first).
 */
export function connectorTotals(all: readonly ConnectorCounters[]): ConnectorCounters {
  const round = (n: number) => Math.round(n * 10) / 10
  const sum = (f: (m: ConnectorCounters) => number) => all.reduce((n, m) => n + f(m), 0)
  return {
    matched: sum((m) => m.matched), success: sum((m) => m.success), failed: sum((m) => m.failed), dropped: sum((m) => m.dropped),
    queuing: sum((m) => m.queuing), inflight: sum((m) => m.inflight), retried: sum((m) => m.retried),
    rate: { success: round(sum((m) => m.rate.success)), failed: round(sum((m) => m.rate.failed)), dropped: round(sum((m) => m.rate.dropped)) },
    lastSuccessAt: all.map((m) => m.lastSuccessAt).filter((v): v is string => v !== null).sort().at(-1) ?? null,
    lastError: all.find((m) => m.lastError !== null)?.lastError ?? null,
  }
}

function sumSeries(all: number[][]): number[] {
  const out = new Array<number>(60).fill(0)
  for (const s of all) s.forEach((v, i) => { out[i]! += v })
  return out
}

function nameTaken(name: string): ApiError {
  return new ApiError('NAME_TAKEN', `A connector named "${name}" already exists in this deployment`, { hint: 'Choose another name.' })
}

function versionConflict(current: number): ApiError {
  return new ApiError('VERSION_CONFLICT', `The connector was changed meanwhile (now version ${current})`, {
    hint: 'Reload the connector and apply your change again.', extra: { currentVersion: current },
  })
}
