/**
 * `junction rules failed-messages`: the failed-message store of a rule's action (its keepFailed
 * option): list, show, replay through the action as it is now, discard.
 */
import type { Command } from 'commander'
import { CliError } from './client.js'
import { action, enc, print, type Context } from './command-kit.js'
import { EXIT } from './exit-codes.js'
import type {
  GetDeploymentsDepRulesIdActionsIndexFailedMessagesMessageIdResponse as FailedMessage,
  GetDeploymentsDepRulesIdActionsIndexFailedMessagesResponse as FailedMessageList,
  PostDeploymentsDepRulesIdActionsIndexFailedMessagesDiscardResponse as DiscardResult,
  PostDeploymentsDepRulesIdActionsIndexFailedMessagesReplayResponse as ReplayResult,
} from '../core/api-types.js'
import { details, json, table } from './output.js'

interface ActionOption {
  action: string
}

function actionIndex(opts: ActionOption): string {
  if (!/^(0|[1-9][0-9]{0,2})$/.test(opts.action)) throw new CliError(`--action ${opts.action}: give the action's index in the rule, from 0`, EXIT.usage)
  return opts.action
}

const base = (ctx: Context, ruleId: string, opts: ActionOption) =>
  `/deployments/${enc(ctx.deployment)}/rules/${enc(ruleId)}/actions/${actionIndex(opts)}/failed-messages`

/** The IDs given, or all of them with --all: one of the two, so "all" is never an accident. */
function selection(ids: string[], all: boolean | undefined, verb: string): { ids?: string[] } {
  if (ids.length > 0 && all) throw new CliError(`${verb}: give message IDs or --all, not both`, EXIT.usage)
  if (ids.length === 0 && !all) throw new CliError(`${verb}: give the message IDs, or --all for every failed message of the action`, EXIT.usage)
  return all ? {} : { ids }
}

function notFoundWarning(ctx: Context, notFound: string[]): void {
  if (!ctx.json && notFound.length > 0) process.stderr.write(`warning: not in the store (replayed, discarded or evicted): ${notFound.join(', ')}\n`)
}

export function addFailedMessages(rules: Command): void {
  const failed = rules.command('failed-messages').description('what a rule\'s action finally failed to deliver, kept with its keepFailed option: list, get, replay, discard')
  const withAction = (cmd: Command) => cmd.option('-a, --action <index>', 'the action\'s index in the rule, from 0', '0')

  withAction(failed.command('list').description('list an action\'s failed messages, oldest first, one page at a time').argument('<ruleId>'))
    .option('--limit <n>', 'messages per page, 1 to 1000 (default 100)')
    .option('--after <id>', 'the next page: the `next` the previous page printed')
    .action(action(async (ctx, ruleId: string, opts: ActionOption & { limit?: string; after?: string }) => {
      const q = new URLSearchParams()
      if (opts.limit !== undefined) q.set('limit', opts.limit)
      if (opts.after !== undefined) q.set('after', opts.after)
      const body = await ctx.api.request<FailedMessageList>('GET', `${base(ctx, ruleId, opts)}${q.size ? `?${q}` : ''}`)
      print(ctx, body, () =>
        `kept: ${body.stored} (${body.bytes} bytes; at most ${body.maxMessages} messages, ${body.maxBytes} bytes), evicted: ${body.evicted}, keeping failures now: ${body.enabled ? 'yes' : 'no'}\n` +
        table(body.data, [
          ['id', (m) => m.id],
          ['at', (m) => m.at],
          ['reason', (m) => m.reason],
          ['code', (m) => m.code],
          ['attempts', (m) => m.attempts],
          ['message', (m) => m.excerpt],
        ], '(no failed messages)') +
        (body.next ? `(more: --after ${body.next})\n` : ''))
    }))

  withAction(failed.command('get').description('show one failed message with its content and error').argument('<ruleId>').argument('<messageId>'))
    .action(action(async (ctx, ruleId: string, messageId: string, opts: ActionOption) => {
      const m = await ctx.api.request<FailedMessage>('GET', `${base(ctx, ruleId, opts)}/${enc(messageId)}`)
      print(ctx, m, () => {
        const { message, ...rest } = m
        return `${details(rest)}message:\n${json(message).replace(/^/gm, '  ')}`
      })
    }))

  withAction(failed.command('replay').description('replay failed messages through the action\'s queue (some, or all with --all); one that fails again comes back')
    .argument('<ruleId>').argument('[messageIds...]'))
    .option('--all', 'every failed message of the action')
    .action(action(async (ctx, ruleId: string, ids: string[], opts: ActionOption & { all?: boolean }) => {
      const r = await ctx.api.request<ReplayResult>('POST', `${base(ctx, ruleId, opts)}/replay`, selection(ids, opts.all, 'replay'))
      notFoundWarning(ctx, r.notFound)
      print(ctx, r, () => `replayed ${r.replayed}\n`)
    }))

  withAction(failed.command('discard').description('discard failed messages (some, or all with --all)')
    .argument('<ruleId>').argument('[messageIds...]'))
    .option('--all', 'every failed message of the action')
    .action(action(async (ctx, ruleId: string, ids: string[], opts: ActionOption & { all?: boolean }) => {
      const r = await ctx.api.request<DiscardResult>('POST', `${base(ctx, ruleId, opts)}/discard`, selection(ids, opts.all, 'discard'))
      notFoundWarning(ctx, r.notFound)
      print(ctx, r, () => `discarded ${r.discarded}\n`)
    }))
}
