import { ConnectorError, errorMessage, untilAborted, type Channel, type Connector, type ConnectorLogger } from '../connector-api/index.js'
import type { RuleAction } from '../core/domain.js'
import { ApiError } from '../core/errors.js'
import type { FieldError } from '../core/schema-validation.js'
import type { BuiltinActionDefinition } from '../runtime/builtin-action.js'
import type { DeploymentRuntime } from '../runtime/deployment-runtime.js'
import type { ManagedConnector } from '../runtime/managed-connector.js'

/** How long one action's check may take on save; past it the rule is saved with a warning (a slow resource is no verdict). */
export const ACTION_CHECK_TIMEOUT_MS = 5_000
/**
 * A connector still making its first connection (created a moment ago, as a script does before
 * its rules) is waited for this long, so its actions are checked rather than skipped.
 */
const CONNECTING_WAIT_MS = 2_000
/** How long a Test action may take: opening the action on the connection plus the one delivery. */
export const TEST_ACTION_TIMEOUT_MS = 10_000

/** Something the user should know about a saved rule: an action that could not be checked, or what its check noted. */
export interface RuleWarning {
  /** The field it is about: `actions.0`, `actions.1.params.topic`. */
  readonly path: string
  /** The connector's error or status code, when there is one (`CONNECTION_REFUSED`, `TIMEOUT`). */
  readonly code?: string
  readonly message: string
}

interface Refusal extends FieldError {
  readonly code: string
}

/**
 * Checks each connector action (fallbacks too) against its live resource, all at once, each
 * bounded by ACTION_CHECK_TIMEOUT_MS. Throws ACTION_CHECK_FAILED naming every action the resource
 * refused; otherwise returns what the rule should be saved with as warnings (actions not checked
 * because their connector is not connected or did not answer in time, and the checks' notes).
 */
export async function checkActions(runtime: Pick<DeploymentRuntime, 'connector'>, actions: readonly RuleAction[], timeoutMs = ACTION_CHECK_TIMEOUT_MS): Promise<RuleWarning[]> {
  const targets: Array<{ path: string; action: RuleAction }> = []
  actions.forEach((action, i) => {
    targets.push({ path: `actions.${i}`, action })
    if (action.fallback) targets.push({ path: `actions.${i}.fallback`, action: action.fallback })
  })
  const warnings: RuleWarning[] = []
  const refusals: Refusal[] = []
  await Promise.all(targets.map(async ({ path, action }) => {
    if (action.connectorId === undefined) return // built-in actions: their checkParams ran with the schema
    const outcome = await checkOne(runtime.connector(action.connectorId), action.connectorId, action.params, timeoutMs)
    if (outcome.refusal) {
      const e = outcome.refusal
      refusals.push({
        path: `${path}.params${e.param ? `.${e.param}` : ''}`, code: e.code, message: e.message,
        hint: e.hint ?? 'Fix the action so that the resource accepts it.',
      })
    }
    for (const w of outcome.warnings) warnings.push({ ...w, path: `${path}${w.path}` })
  }))
  if (refusals.length > 0) {
    const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
    refusals.sort(byPath)
    const first = refusals[0]!
    const more = refusals.length > 1 ? ` (and ${refusals.length - 1} more)` : ''
    throw new ApiError('ACTION_CHECK_FAILED', `The resource refused an action: ${first.path}: ${first.message}${more}`, {
      hint: first.hint,
      fields: refusals.map(({ path, message, hint }) => ({ path, message, hint })),
      extra: { checks: refusals.map(({ path, code }) => ({ path, code })) },
    })
  }
  return warnings.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/** Warnings' paths here are relative to the action (`''`, `.params.topic`). */
async function checkOne(managed: ManagedConnector | undefined, connectorId: string, params: Record<string, unknown>, timeoutMs: number): Promise<{ refusal?: ConnectorError; warnings: RuleWarning[] }> {
  const connection = managed && await connectionOf(managed)
  if (!connection) {
    const s = managed?.status
    const why = s ? `${s.status}${s.statusReason ? `: ${s.statusReason}` : ''}` : 'not running'
    return { warnings: [{ path: '', ...(s?.statusCode ? { code: s.statusCode } : {}), message: `Not checked against its resource: connector "${connectorId}" is ${why}. The action starts once the connector connects; a mistake the resource refuses then shows in the action's lastError.` }] }
  }
  if (!connection.checkAction) return { warnings: [] }
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), timeoutMs)
  try {
    const notes = await untilAborted(connection.checkAction(params, controller.signal), controller.signal, () => new ConnectorError('TIMEOUT', `The check got no answer within ${timeoutMs} ms`, { kind: 'retryable' }))
    return { warnings: (notes ?? []).map((n) => ({ path: n.param ? `.params.${n.param}` : '', message: n.message })) }
  } catch (err) {
    if (err instanceof ConnectorError && err.kind === 'permanent') return { refusal: err, warnings: [] }
    const code = err instanceof ConnectorError ? err.code : undefined
    return { warnings: [{ path: '', ...(code ? { code } : {}), message: `Not checked against its resource: ${errorMessage(err)}` }] }
  } finally {
    clearTimeout(timer)
  }
}

/** The connector's live connection; one still connecting for the first time is waited for, briefly. */
async function connectionOf(managed: ManagedConnector): Promise<Connector | undefined> {
  if (managed.status.status !== 'connecting') return managed.connection
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, CONNECTING_WAIT_MS)
    const unsubscribe = managed.subscribe((view) => {
      if (view.status !== 'connecting') done()
    })
    function done() {
      clearTimeout(timer)
      unsubscribe()
      resolve()
    }
  })
  return managed.connection
}

export type TestActionTarget =
  | { readonly kind: 'connector'; readonly connectorId: string; readonly params: Record<string, unknown> }
  | { readonly kind: 'builtin'; readonly definition: BuiltinActionDefinition; readonly params: Record<string, unknown> }

export interface TestActionResult {
  /** The resource accepted the delivery. */
  readonly ok: boolean
  /** From the start of the test to the resource's answer, opening the action included. */
  readonly durationMs: number
  /** The delivery was undone (only with `rollback: true`, and only when it was made). */
  readonly rolledBack: boolean
  readonly error?: { readonly code: string; readonly message: string; readonly kind: string; readonly hint?: string }
}

/**
 * Sends one output through an action on its live connection (or the deployment's broker, for a
 * built-in action), outside the rule's queue: no retry, no batching, one answer. With `rollback`
 * the connector's `sendRolledBack` makes it and undoes it; a type without one is refused (400).
 */
export async function testAction(runtime: Pick<DeploymentRuntime, 'connector' | 'deploymentBroker'>, target: TestActionTarget, output: Record<string, unknown>, rollback: boolean, logger: ConnectorLogger): Promise<TestActionResult> {
  const started = performance.now()
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), TEST_ACTION_TIMEOUT_MS)
  const signal = controller.signal
  const bounded = <T>(work: Promise<T>) => untilAborted(work, signal, () => new ConnectorError('TIMEOUT', `The resource gave no answer within ${TEST_ACTION_TIMEOUT_MS} ms`, { kind: 'retryable', hint: 'The resource is slow or hung; check it. Without rollback the delivery may or may not have been made.' }))
  const answer = (error?: ConnectorError): TestActionResult => ({
    ok: error === undefined, durationMs: Math.round((performance.now() - started) * 10) / 10, rolledBack: error === undefined && rollback,
    ...(error ? { error: { code: error.code, message: error.message, kind: error.kind, ...(error.hint ? { hint: error.hint } : {}) } } : {}),
  })
  try {
    if (target.kind === 'builtin') {
      if (rollback) throw rollbackRefused(`The built-in action ${target.definition.name} cannot undo what it publishes.`)
      if (!runtime.deploymentBroker()) return answer(new ConnectorError('CONNECTION_FAILED', 'The deployment is not running: its broker cannot publish', { kind: 'not_connected', hint: 'Start the deployment.' }))
      const channel = target.definition.openChannel(target.params, { actionId: 'test-action', logger, broker: () => runtime.deploymentBroker() })
      return await sendOnce(channel, output, signal, bounded, answer)
    }
    const managed = runtime.connector(target.connectorId)
    const connection = managed?.connection
    if (!connection) {
      const s = managed?.status
      return answer(new ConnectorError('CONNECTION_FAILED', `Connector "${target.connectorId}" is ${s ? `${s.status}${s.statusReason ? `: ${s.statusReason}` : ''}` : 'not running'}`, {
        kind: 'not_connected', hint: 'Test the connector; an action can be tested once it is connected.',
      }))
    }
    if (rollback) {
      if (!connection.sendRolledBack) throw rollbackRefused('This connector type cannot undo a delivery; only SQL databases (PostgreSQL, MySQL) roll a Test action back.')
      try {
        await bounded(connection.sendRolledBack(target.params, output, signal))
        return answer()
      } catch (err) {
        return answer(asConnectorError(err))
      }
    }
    if (!connection.openChannel) return answer(new ConnectorError('INVALID_PARAMS', 'This connector type cannot be used in rule actions', { kind: 'permanent' }))
    let channel: Channel
    try {
      channel = await bounded(connection.openChannel(target.params))
    } catch (err) {
      return answer(asConnectorError(err))
    }
    return await sendOnce(channel, output, signal, bounded, answer)
  } finally {
    clearTimeout(timer)
  }
}

async function sendOnce(channel: Channel, output: Record<string, unknown>, signal: AbortSignal, bounded: <T>(w: Promise<T>) => Promise<T>, answer: (e?: ConnectorError) => TestActionResult): Promise<TestActionResult> {
  try {
    await bounded(channel.send(output, signal))
    return answer()
  } catch (err) {
    return answer(asConnectorError(err))
  } finally {
    channel.close?.().catch(() => {})
  }
}

function asConnectorError(err: unknown): ConnectorError {
  return err instanceof ConnectorError ? err : new ConnectorError('CONNECTION_FAILED', errorMessage(err), { kind: 'permanent' })
}

function rollbackRefused(message: string): ApiError {
  const hint = 'Test without rollback (the delivery is really made), e.g. against a scratch topic or table.'
  return new ApiError('VALIDATION_FAILED', `Invalid request: rollback: ${message}`, { hint, fields: [{ path: 'rollback', message, hint }] })
}
