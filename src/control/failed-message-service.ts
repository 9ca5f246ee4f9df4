import { ApiError } from '../core/errors.js'
import { failedLimits, type FailedMessageStore } from '../runtime/failed-messages.js'
import type { Store } from '../store/store.js'
import type { DeploymentService } from './deployment-service.js'

type KeepFailedOptions = { keepFailed?: boolean; keepFailedMaxMessages?: number; keepFailedMaxBytes?: number }

/** A rule action's failed-message store, through the API: list, show, replay, discard. */
export class FailedMessageService {
  constructor(private readonly store: Store, private readonly deployments: DeploymentService) {}

  async list(dep: string, ruleId: string, index: number, page: { limit: number; after?: string }) {
    const { options, kept } = await this.action(dep, ruleId, index)
    const stats = kept?.stats() ?? { stored: 0, bytes: 0, evicted: 0, ...failedLimits(options) }
    const { data, next } = kept?.list(page.limit, page.after) ?? { data: [], next: null }
    return { enabled: options.keepFailed === true, ...stats, data, next }
  }

  async get(dep: string, ruleId: string, index: number, messageId: string) {
    const { kept } = await this.action(dep, ruleId, index)
    const m = kept?.get(messageId)
    if (!m) throw notFound(dep, ruleId, index, messageId)
    return m
  }

  /** Into the action's queue as it runs now; answers how many went and which IDs were not there. */
  async replay(dep: string, ruleId: string, index: number, ids?: string[]) {
    const { kept } = await this.action(dep, ruleId, index)
    const worker = this.deployments.runtime(dep).rules.actionWorker(ruleId, index)
    if (!worker) {
      throw new ApiError('RULE_NOT_RUNNING', `Rule "${ruleId}" is not running, so its action cannot take replayed messages`, {
        hint: `Enable the rule (POST /api/v1/deployments/${dep}/rules/${ruleId}/enable) and start its deployment, then replay.`,
      })
    }
    return kept ? kept.replay(worker, ids) : { replayed: 0, notFound: ids ?? [] }
  }

  async discard(dep: string, ruleId: string, index: number, ids?: string[]) {
    const { kept } = await this.action(dep, ruleId, index)
    return kept ? kept.discard(ids) : { discarded: 0, notFound: ids ?? [] }
  }

  async discardOne(dep: string, ruleId: string, index: number, messageId: string): Promise<void> {
    const { kept } = await this.action(dep, ruleId, index)
    if (!kept || kept.discard([messageId]).discarded === 0) throw notFound(dep, ruleId, index, messageId)
  }

  private async action(dep: string, ruleId: string, index: number): Promise<{ options: KeepFailedOptions; kept: FailedMessageStore | undefined }> {
    await this.deployments.record(dep)
    const rule = await this.store.rules.get(dep, ruleId)
    if (!rule) throw new ApiError('RULE_NOT_FOUND', `Rule "${ruleId}" does not exist in deployment "${dep}"`, { hint: `List rules with GET /api/v1/deployments/${dep}/rules.` })
    if (index >= rule.actions.length) {
      throw new ApiError('ACTION_NOT_FOUND', `Rule "${ruleId}" has no action ${index} (it has ${rule.actions.length})`, {
        hint: rule.actions.length > 0 ? `Actions count from 0: use 0 to ${rule.actions.length - 1}.` : 'The rule has no actions.',
      })
    }
    const options = (rule.actions[index]!.options ?? {}) as KeepFailedOptions
    return { options, kept: this.deployments.runtime(dep).rules.failedMessages.find(`${ruleId}#${index}`, failedLimits(options)) }
  }
}

function notFound(dep: string, ruleId: string, index: number, messageId: string): ApiError {
  return new ApiError('FAILED_MESSAGE_NOT_FOUND', `No failed message "${messageId}" in action ${index} of rule "${ruleId}"`, {
    hint: `List them with GET /api/v1/deployments/${dep}/rules/${ruleId}/actions/${index}/failed-messages; a replayed, discarded or evicted message is gone.`,
  })
}
