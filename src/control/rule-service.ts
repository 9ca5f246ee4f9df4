import { Type, type Static, type TObject } from '@sinclair/typebox'
import { stringEnum, TemplateParamsError, type ConnectorLogger } from '../connector-api/index.js'
import type { RuleAction, RuleRecord } from '../core/domain.js'
import { ApiError, validationError } from '../core/errors.js'
import type { FieldError } from '../core/schema-validation.js'
import { validateWithSchema } from '../core/schema-validation.js'
import { newId } from '../core/ids.js'
import { NODE_NAME, messageId } from '../rules/event-context.js'
import { exceedsJsonSize, MAX_JSON_DEPTH, MAX_TEST_OUTPUT_SIZE, valueTooDeep } from '../rules/limits.js'
import { compileRuleSql, RuleSqlError, topicMatches, type CompiledRuleSql } from '../rules/sql/index.js'
import { DEFAULT_ACTION_OPTIONS, type ActionOptions } from '../runtime/action-worker.js'
import type { BuiltinActionDefinition } from '../runtime/builtin-action.js'
import { builtinActions } from '../runtime/builtin-actions.js'
import type { HealthState } from '../runtime/action-health.js'
import { sumActionTotals, type ActionCounters } from '../runtime/metrics.js'
import type { ActionSpec, RuleCounters } from '../runtime/rule-runtime.js'
import type { Store } from '../store/store.js'
import { checkActions, testAction, type RuleWarning, type TestActionResult, type TestActionTarget } from './action-checks.js'
import { sameJson, SYSTEM_AUTHOR, type ChangeAuthor, type ChangeHistory, type HistoryVersion, type HistoryVersionDetails } from './change-history.js'
import type { DeploymentService } from './deployment-service.js'
import type { TypeRegistry } from './type-registry.js'

/** Queue settings a user may set per action; anything left out takes the connector type's default. */
export const ActionOptionsSchema = Type.Object({
  batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'Messages per request (default: the connector type\'s, e.g. 100 for PostgreSQL).' })),
  batchTimeMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000, description: 'The longest a message waits for its batch to fill while earlier requests are in flight (with none in flight it leaves at once); 0: never waits.' })),
  inflightWindow: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'Requests in flight at once (default 100).' })),
  requestTtlMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 86_400_000, description: 'A message not delivered this long after it was queued is dropped as expired (default 45 s).' })),
  maxBufferBytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: 8 * 1024 ** 3, description: 'Queue bound in bytes; beyond it the oldest are dropped (default 256 MiB).' })),
  diskBuffer: Type.Optional(Type.Boolean({ description: 'Also keep the queue on disk, so queued messages survive a restart (at-least-once; default false).' })),
  acknowledge: Type.Optional(stringEnum(['on-arrival', 'on-delivery'], { description: 'When a device\'s QoS 1/2 publish is acknowledged: on-arrival (default) as the broker receives it; on-delivery once this action has delivered it, or written it to its disk buffer (end-to-end; see docs/delivery.md).' })),
  keepFailed: Type.Optional(Type.Boolean({ description: 'Keep messages that finally fail or are dropped (permanent error, expired, queue full, stopped) in a failed-message store on disk, to look at, replay or discard (default false).' })),
  keepFailedMaxMessages: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Most failed messages kept; beyond it the oldest go, counted (default 10000).' })),
  keepFailedMaxBytes: Type.Optional(Type.Integer({ minimum: 65_536, maximum: 256 * 1024 ** 2, description: 'Most bytes (JSON) of failed messages kept; beyond it the oldest go, counted (default 16 MiB).' })),
}, { additionalProperties: false })

/**
 * What validating an action needs from its target, a connector type or a built-in action alike.
 * `checkParams` (built-ins have it) checks what a schema cannot, such as templates.
 */
interface ActionTargetDefinition {
  readonly paramsSchema: TObject
  checkParams?(params: Record<string, unknown>): void
}

export interface RuleInput {
  name: string
  sql: string
  description?: string
  enabled?: boolean
  actions: unknown[]
  /** Import only (not in the API body): keeps an exported rule's ID. */
  id?: string
}

/** A rule's counters on one node (since that node installed it). */
export interface RuleCounts {
  readonly matched: number; readonly passed: number; readonly noResult: number; readonly failed: number
  readonly actions: { readonly total: number; readonly success: number; readonly failed: number; readonly discarded: number }
}

/** A rule's counters on one node, with each action's (in the rule's order). */
export interface NodeRuleCounts extends RuleCounts {
  readonly node: string
  /** Each action's counters and health on this node, by its index in the rule's `actions`; empty from a node too old to report them. */
  readonly perAction: readonly ActionCounters[]
}

/** The sum over the nodes: each action's counters added up, its health the worst of the nodes'. */
export interface RuleTotals extends RuleCounts {
  readonly perAction: readonly ActionCounters[]
}

/** The rule's summed action counters, as EMQX names them, from its actions' (fallbacks not counted: their action counts what they handle). */
export function ruleCounts(rule: RuleCounters, actions: readonly ActionCounters[]): RuleCounts {
  return { matched: rule.matched, passed: rule.passed, noResult: rule.noResult, failed: rule.failed, actions: sumActionTotals(actions, (a) => a.dropped) }
}

function addCounts(a: RuleCounts, b: RuleCounts): RuleCounts {
  return {
    matched: a.matched + b.matched, passed: a.passed + b.passed, noResult: a.noResult + b.noResult, failed: a.failed + b.failed,
    actions: { total: a.actions.total + b.actions.total, success: a.actions.success + b.actions.success, failed: a.actions.failed + b.actions.failed, discarded: a.actions.discarded + b.actions.discarded },
  }
}

const NO_COUNTS: RuleCounts = { matched: 0, passed: 0, noResult: 0, failed: 0, actions: { total: 0, success: 0, failed: 0, discarded: 0 } }
const NO_ACTION_COUNTS: ActionCounters = { matched: 0, success: 0, failed: 0, dropped: 0, queuing: 0, inflight: 0, retried: 0, health: 'ok' }
const HEALTH_RANK: Record<HealthState, number> = { ok: 0, stalled: 1, failing: 2 }

function addActionCounts(a: ActionCounters, b: ActionCounters): ActionCounters {
  const sum = {
    matched: a.matched + b.matched, success: a.success + b.success, failed: a.failed + b.failed, dropped: a.dropped + b.dropped,
    queuing: a.queuing + b.queuing, inflight: a.inflight + b.inflight, retried: a.retried + b.retried,
    health: HEALTH_RANK[b.health] > HEALTH_RANK[a.health] ? b.health : a.health,
  }
  const fallback = a.fallback && b.fallback ? addActionCounts(a.fallback, b.fallback) : (a.fallback ?? b.fallback)
  return fallback ? { ...sum, fallback } : sum
}

/**
 * The nodes' counters added up; per action by index, over the rule's `actionCount` actions (a node
 * still running the rule's previous version for a moment after an edit adds only what it has).
 */
export function ruleTotals(nodes: readonly NodeRuleCounts[], actionCount: number): RuleTotals {
  const perAction = Array.from({ length: actionCount }, (_, i) => nodes.reduce<ActionCounters>((sum, n) => {
    const c = n.perAction[i]
    return c ? addActionCounts(sum, c) : sum
  }, NO_ACTION_COUNTS))
  return { ...nodes.reduce<RuleCounts>((sum, n) => addCounts(sum, n), NO_COUNTS), perAction }
}

/** This node's counters of an action, from its metrics snapshot (so they agree with `metrics`). */
function snapshotCounters(a: { matched: number; success: number; failed: number; dropped: number; queuing: number; inflight: number; retried: number; health: { state: HealthState }; fallback?: { matched: number; success: number; failed: number; dropped: number; queuing: number; inflight: number; retried: number; health: { state: HealthState } } }): ActionCounters {
  const c = { matched: a.matched, success: a.success, failed: a.failed, dropped: a.dropped, queuing: a.queuing, inflight: a.inflight, retried: a.retried, health: a.health.state }
  return a.fallback ? { ...c, fallback: snapshotCounters(a.fallback) } : c
}

export interface RuleView extends RuleRecord {
  /** This node's metrics; null while the rule does not run here. */
  readonly metrics: unknown
  /** The rule's counters on each node that is up and runs it, this node first (docs/cluster.md). */
  readonly nodes: readonly NodeRuleCounts[]
  /** The sum of `nodes`. */
  readonly totals: RuleTotals
  /** On create and update: actions that could not be checked against their resource, and what the checks noted. */
  readonly warnings?: RuleWarning[]
}

export interface TestActionInput {
  action: unknown
  output: Record<string, unknown>
  rollback?: boolean
}

/** Rules: SQL compiled and actions validated before anything is stored; the runtime kept in step. */
export class RuleService {
  private readonly builtins: ReadonlyMap<string, BuiltinActionDefinition>

  constructor(
    private readonly store: Store,
    private readonly types: TypeRegistry,
    private readonly deployments: DeploymentService,
    private readonly logger: ConnectorLogger,
    private readonly history: ChangeHistory,
    builtins: readonly BuiltinActionDefinition[] = builtinActions,
  ) {
    this.builtins = new Map(builtins.map((b) => [b.name, b]))
    deployments.addStartHook((id) => this.runDeploymentRules(id))
  }

  private node: { name: string; peers(id: string): readonly NodeRuleCounts[] } = { name: 'local', peers: () => [] }

  /** This node's name and how to read the other nodes' counters of a rule (set by the composition root). */
  useNodes(node: { name: string; peers(id: string): readonly NodeRuleCounts[] }): void {
    this.node = node
  }

  /** The actions Junction performs itself (`{builtin: <name>, params}` in a rule). */
  builtinActions(): BuiltinActionDefinition[] {
    return [...this.builtins.values()]
  }

  async runDeploymentRules(deploymentId: string): Promise<void> {
    for (const r of await this.store.rules.list(deploymentId)) {
      if (!r.enabled) continue
      try {
        await this.install(r)
      } catch (err) {
        this.logger.error(`rule ${r.id} could not start: ${(err as Error).message}`)
      }
    }
  }

  /**
   * Another node changed this rule (cluster change feed): installs, replaces or removes it in this
   * node's runtime, writing nothing; `undefined` = it was deleted (`actionCount`: its actions then).
   */
  async applyStored(deploymentId: string, id: string, rule: RuleRecord | undefined, actionCount: number): Promise<void> {
    const runtime = this.deployments.runtime(deploymentId)
    if (!rule) {
      runtime.rules.uninstall(id)
      runtime.rules.failedMessages.removeRule(id, actionCount)
      return
    }
    if (!rule.enabled) {
      runtime.rules.uninstall(id)
      return
    }
    if (!runtime.running) return // installed by the start hook when the deployment starts
    try {
      await this.install(rule)
    } catch (err) {
      this.logger.error(`rule ${rule.id} could not start: ${(err as Error).message}`)
    }
  }

  async list(deploymentId: string): Promise<RuleView[]> {
    await this.deployments.record(deploymentId)
    return (await this.store.rules.list(deploymentId)).map((r) => this.view(r))
  }

  /** One rule, with the last minute of rates per second for charts. */
  async get(deploymentId: string, id: string): Promise<RuleView> {
    return this.view(await this.record(deploymentId, id), true)
  }

  async create(deploymentId: string, input: RuleInput, by: ChangeAuthor = SYSTEM_AUTHOR): Promise<RuleView> {
    await this.deployments.record(deploymentId)
    compile(input.sql)
    const actions = await this.validateActions(deploymentId, input.actions)
    const warnings = await checkActions(this.deployments.runtime(deploymentId), actions)
    const now = new Date().toISOString()
    const rule: RuleRecord = {
      id: input.id ?? newId('r'), deploymentId, name: input.name, sql: input.sql, description: input.description ?? '',
      enabled: input.enabled ?? true, actions, createdAt: now, updatedAt: now,
    }
    await this.store.rules.insert(rule)
    await this.history.recordRule(rule, 'create', by)
    if (rule.enabled) await this.install(rule)
    return { ...this.view(rule), warnings }
  }

  async update(deploymentId: string, id: string, input: Partial<RuleInput>, by: ChangeAuthor = SYSTEM_AUTHOR, action = 'update', revertedFrom?: number): Promise<RuleView> {
    const stored = await this.record(deploymentId, id)
    if (input.sql !== undefined) compile(input.sql)
    const actions = input.actions === undefined ? stored.actions : await this.validateActions(deploymentId, input.actions)
    // Only actions sent are checked: a rename or an enable must not fail because a resource is down.
    const warnings = input.actions === undefined ? [] : await checkActions(this.deployments.runtime(deploymentId), actions)
    const next: RuleRecord = {
      ...stored,
      name: input.name ?? stored.name,
      sql: input.sql ?? stored.sql,
      description: input.description ?? stored.description,
      enabled: input.enabled ?? stored.enabled,
      actions,
      updatedAt: new Date().toISOString(),
    }
    await this.store.rules.update(next)
    await this.history.recordRule(next, action, by, revertedFrom)
    const runtime = this.deployments.runtime(deploymentId)
    if (next.enabled) await this.install(next)
    else runtime.rules.uninstall(id)
    return { ...this.view(next), warnings }
  }

  async setEnabled(deploymentId: string, id: string, enabled: boolean, by: ChangeAuthor = SYSTEM_AUTHOR): Promise<RuleView> {
    return this.update(deploymentId, id, { enabled }, by, enabled ? 'enable' : 'disable')
  }

  /** Puts back a version from the change history through the same checks as an edit; recorded as a new version. */
  async revert(deploymentId: string, id: string, version: number, by: ChangeAuthor = SYSTEM_AUTHOR): Promise<RuleView> {
    const stored = await this.record(deploymentId, id)
    const target = await this.history.ruleToRestore(stored, version)
    const now = { name: stored.name, sql: stored.sql, description: stored.description, enabled: stored.enabled, actions: stored.actions }
    if (sameJson(target, now)) {
      throw new ApiError('NOTHING_TO_REVERT', `Rule ${id} is already as it was in version ${version}`, { hint: 'Pick another version from its history; nothing was changed.' })
    }
    return this.update(deploymentId, id, { ...target, actions: target.actions as unknown[] }, by, 'revert', version)
  }

  async historyOf(deploymentId: string, id: string, q: { limit: number; before?: number }): Promise<HistoryVersion[]> {
    await this.record(deploymentId, id)
    return this.history.list('rule', id, q)
  }

  async versionOf(deploymentId: string, id: string, version: number): Promise<HistoryVersionDetails> {
    return this.history.ruleVersion(await this.record(deploymentId, id), version)
  }

  async remove(deploymentId: string, id: string): Promise<void> {
    const rule = await this.record(deploymentId, id)
    this.deployments.runtime(deploymentId).rules.uninstall(id)
    await this.store.rules.delete(id)
    await this.history.forget('rule', id)
    this.deployments.runtime(deploymentId).rules.failedMessages.removeRule(id, rule.actions.length)
  }

  /** Runs SQL on a sample context, with no side effects. */
  test(sql: string, context: Record<string, unknown>): { matched: boolean; output?: Record<string, unknown>; outputs?: Record<string, unknown>[]; reason?: string } {
    const compiled = compile(sql)
    if (valueTooDeep(context)) {
      const message = `the sample event nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep`
      throw new ApiError('VALIDATION_FAILED', `Invalid sample: ${message}`, { fields: [{ path: 'context', message, hint: 'Rules refuse JSON that deep; use a flatter sample.' }] })
    }
    const ctx = sampleContext(compiled, context)
    const topic = typeof ctx.topic === 'string' ? ctx.topic : undefined
    const plainSources = compiled.sources.filter((s) => !s.startsWith('$events/'))
    if (topic !== undefined && plainSources.length > 0 && !plainSources.some((f) => topicMatches(f, topic)) && compiled.sources.length === plainSources.length) {
      return { matched: false, reason: `topic "${topic}" does not match FROM ${compiled.sources.map((s) => `"${s}"`).join(', ')}` }
    }
    let result: { matched: boolean; outputs: Record<string, unknown>[] }
    try {
      result = compiled.match(ctx)
    } catch (err) {
      throw new ApiError('VALIDATION_FAILED', `The rule failed on this input: ${(err as Error).message}`, {
        fields: [{ path: 'context', message: (err as Error).message, hint: 'Check the sample payload and the functions the SQL calls.' }],
      })
    }
    // A FOREACH over an empty collection matches with no outputs, as EMQX answers `[]` there.
    const { outputs } = result
    if (!result.matched) return { matched: false, reason: 'WHERE is false for this input' }
    if (exceedsJsonSize(outputs, MAX_TEST_OUTPUT_SIZE)) {
      const message = `the output is larger than ${MAX_TEST_OUTPUT_SIZE} characters, more than a test answers`
      throw new ApiError('VALIDATION_FAILED', `The rule ran, but ${message}`, {
        fields: [{ path: 'sql', message, hint: 'Test with a smaller sample payload, or select fewer or smaller fields (FOREACH: fewer elements).' }],
      })
    }
    if (compiled.isForeach) return outputs.length > 0 ? { matched: true, outputs, output: outputs[0]! } : { matched: true, outputs }
    return { matched: true, output: outputs[0]! }
  }

  /**
   * Test action: one sample output through an action (validated as in a rule, without fallback)
   * on the live resource, and what the resource answered.
   */
  async testAction(deploymentId: string, input: TestActionInput): Promise<TestActionResult> {
    await this.deployments.record(deploymentId)
    const errors: FieldError[] = []
    const action = await this.validateAction(deploymentId, input.action, 'action', errors, false)
    if (valueTooDeep(input.output)) {
      errors.push({ path: 'output', message: `nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep`, hint: 'Use a flatter sample output.' })
    }
    if (errors.length > 0 || !action) throw validationError(errors)
    let target: TestActionTarget
    if (action.builtin !== undefined) target = { kind: 'builtin', definition: this.builtins.get(action.builtin)!, params: action.params }
    else target = { kind: 'connector', connectorId: action.connectorId!, params: action.params }
    return testAction(this.deployments.runtime(deploymentId), target, input.output, input.rollback ?? false, this.logger)
  }

  private async install(rule: RuleRecord): Promise<void> {
    const runtime = this.deployments.runtime(rule.deploymentId)
    const actions: ActionSpec[] = []
    for (const a of rule.actions) actions.push(await this.spec(rule.deploymentId, a))
    runtime.rules.install({ id: rule.id, sql: compile(rule.sql), actions })
  }

  private async spec(deploymentId: string, a: RuleAction): Promise<ActionSpec> {
    const fallback = a.fallback ? await this.spec(deploymentId, a.fallback) : undefined
    if (a.builtin !== undefined) {
      const definition = this.builtins.get(a.builtin)
      if (!definition) throw new Error(`built-in action ${a.builtin} not found`)
      return {
        target: { kind: 'builtin', definition, params: a.params },
        options: effectiveOptions(a.options, definition.batching),
        ...(fallback ? { fallback } : {}),
      }
    }
    const connector = await this.store.connectors.get(deploymentId, a.connectorId ?? '')
    const definition = connector && this.types.find(connector.type)
    if (!connector || !definition) throw new Error(`connector ${a.connectorId ?? ''} not found`)
    return {
      target: { kind: 'connector', connectorId: connector.id, definition, params: a.params },
      options: effectiveOptions(a.options, definition.batching),
      ...(fallback ? { fallback } : {}),
    }
  }

  /** Validates every action; throws one VALIDATION_FAILED listing every failing path. */
  private async validateActions(deploymentId: string, actions: unknown[]): Promise<RuleAction[]> {
    const errors: FieldError[] = []
    const out: RuleAction[] = []
    for (let i = 0; i < actions.length; i++) {
      const a = await this.validateAction(deploymentId, actions[i], `actions.${i}`, errors, true)
      if (a) out.push(a)
    }
    if (errors.length > 0) throw validationError(errors)
    return out
  }

  private async validateAction(deploymentId: string, raw: unknown, path: string, errors: FieldError[], allowFallback: boolean): Promise<RuleAction | undefined> {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      errors.push({ path, message: 'must be an object', hint: 'An action is {"connectorId": "...", "params": {...}} or {"builtin": "republish", "params": {...}}.' })
      return undefined
    }
    const a = raw as Record<string, unknown>
    const known = new Set(['connectorId', 'builtin', 'params', 'options', ...(allowFallback ? ['fallback'] : [])])
    for (const k of Object.keys(a)) {
      if (!known.has(k)) errors.push({ path: `${path}.${k}`, message: `unknown field "${k}"`, hint: `Remove it, or use one of: ${[...known].join(', ')}.` })
    }
    let definition: ActionTargetDefinition
    let base: { connectorId?: string; builtin?: string }
    if (a.builtin !== undefined) {
      if (a.connectorId !== undefined) errors.push({ path, message: 'has both connectorId and builtin', hint: 'Give one of them.' })
      const builtin = typeof a.builtin === 'string' ? this.builtins.get(a.builtin) : undefined
      if (!builtin) {
        errors.push({ path: `${path}.builtin`, message: `unknown built-in action ${JSON.stringify(a.builtin)}`, hint: `Use one of: ${[...this.builtins.keys()].join(', ')}.` })
        return undefined
      }
      definition = builtin
      base = { builtin: builtin.name }
    } else if (typeof a.connectorId === 'string') {
      const connector = await this.store.connectors.get(deploymentId, a.connectorId)
      if (!connector) {
        errors.push({ path: `${path}.connectorId`, message: `connector "${a.connectorId}" does not exist in deployment "${deploymentId}"`, hint: `Use a connector ID from GET /api/v1/deployments/${deploymentId}/connectors.` })
        return undefined
      }
      definition = this.types.get(connector.type)
      base = { connectorId: connector.id }
    } else {
      errors.push({ path: `${path}.connectorId`, message: 'connectorId (a string) or builtin is required', hint: 'Name the connector this action sends through.' })
      return undefined
    }
    const params = validateWithSchema<Record<string, unknown>>(definition.paramsSchema, a.params ?? {}, `${path}.params`)
    let paramsOk = params.ok
    if (!params.ok) errors.push(...params.errors)
    else if (definition.checkParams) {
      try {
        definition.checkParams(params.value)
      } catch (err) {
        if (!(err instanceof TemplateParamsError)) throw err
        errors.push({ path: `${path}.params.${err.path}`, message: err.message, hint: err.hint })
        paramsOk = false
      }
    }
    const options = validateWithSchema<Static<typeof ActionOptionsSchema>>(ActionOptionsSchema, a.options ?? {}, `${path}.options`)
    if (!options.ok) errors.push(...options.errors)
    else if (!allowFallback && options.value.keepFailed) {
      errors.push({ path: `${path}.options.keepFailed`, message: 'a fallback cannot keep failed messages', hint: 'Set keepFailed on the action itself (or on no fallback): its store is what the failed-messages API shows.' })
    }
    const fallback = allowFallback && a.fallback !== undefined ? await this.validateAction(deploymentId, a.fallback, `${path}.fallback`, errors, false) : undefined
    if (!paramsOk || !params.ok || !options.ok) return undefined
    return {
      ...base,
      params: params.value,
      ...(a.options === undefined ? {} : { options: options.value as Record<string, unknown> }),
      ...(fallback ? { fallback } : {}),
    }
  }

  private async record(deploymentId: string, id: string): Promise<RuleRecord> {
    await this.deployments.record(deploymentId)
    const r = await this.store.rules.get(deploymentId, id)
    if (!r) throw new ApiError('RULE_NOT_FOUND', `Rule "${id}" does not exist in deployment "${deploymentId}"`, { hint: `List rules with GET /api/v1/deployments/${deploymentId}/rules.` })
    return r
  }

  private view(r: RuleRecord, series = false): RuleView {
    const metrics = this.deployments.runtime(r.deploymentId).rules.metrics(r.id, series)
    const mine: NodeRuleCounts[] = []
    if (metrics) {
      const perAction = metrics.actions.map(snapshotCounters)
      mine.push({ node: this.node.name, ...ruleCounts(metrics.rule, perAction), perAction })
    }
    const nodes = [...mine, ...this.node.peers(r.id)]
    return { ...r, metrics: metrics ?? null, nodes, totals: ruleTotals(nodes, r.actions.length) }
  }
}

function compile(sql: string): CompiledRuleSql {
  try {
    return compileRuleSql(sql)
  } catch (err) {
    if (err instanceof RuleSqlError) {
      const hint = err.hint ?? (err.expected.length > 0 ? `Expected ${err.expected.join(', ')}.` : 'Check the SQL near that position.')
      throw new ApiError('INVALID_SQL', `Invalid rule SQL: ${err.message}`, {
        hint,
        fields: [{ path: 'sql', message: err.message, hint }],
        extra: { line: err.line, column: err.column, expected: err.expected, ...(err.found === undefined ? {} : { found: err.found }) },
      })
    }
    throw err
  }
}

export function effectiveOptions(given: Record<string, unknown> | undefined, batching: { maxSize: number; maxWaitMs: number } | undefined): ActionOptions {
  return {
    ...DEFAULT_ACTION_OPTIONS,
    ...(batching ? { batchSize: batching.maxSize, batchTimeMs: batching.maxWaitMs } : {}),
    ...(given as Partial<ActionOptions> | undefined),
  }
}

/** EMQX's message fields with sample values, under what the user gave. */
function sampleContext(compiled: CompiledRuleSql, given: Record<string, unknown>): Record<string, unknown> {
  const now = Date.now()
  const firstTopic = compiled.sources.find((s) => !s.startsWith('$') && !/[+#]/.test(s)) ?? 't/1'
  const ctx: Record<string, unknown> = {
    id: messageId(), event: 'message.publish', clientid: 'c_test', username: 'u_test', payload: '{"msg":"hello"}',
    peerhost: '127.0.0.1', topic: firstTopic, qos: 1, flags: { retain: false, dup: false }, pub_props: { 'User-Property': {} },
    timestamp: now, publish_received_at: now, node: NODE_NAME,
    ...given,
  }
  // A sample payload may be given as JSON; the engine sees what a device sends: text.
  if (ctx.payload !== undefined && typeof ctx.payload !== 'string') ctx.payload = JSON.stringify(ctx.payload)
  return ctx
}
