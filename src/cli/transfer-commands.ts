/**
 * `junction export` and `junction import`: configuration as one document (docs/export-import.md),
 * and an import that shows its plan and changes nothing until --apply.
 */
import { Command, Option } from 'commander'
import { parse as parseYaml } from 'yaml'
import { CliError } from './client.js'
import { action, print, readTextFile, secretFromEnv, writeOutputFile, type Context } from './command-kit.js'
import { EXIT } from './exit-codes.js'
import type { ImportPlan } from '../core/api-types.js'
import { cell, json, table } from './output.js'

const PASSPHRASE_HEADER = 'x-junction-passphrase'

interface ExportOptions {
  format: 'json' | 'yaml'
  secrets: 'reference' | 'encrypted'
  passphraseEnv?: string
  output?: string
}

interface ImportOptions {
  file?: string
  fromEmqx?: boolean
  passphraseEnv?: string
  prune?: boolean
  apply?: boolean
}

export function addTransfer(program: Command): void {
  program
    .command('export')
    .description('export configuration (connectors, rules, device users, ACL) as one versioned document: every deployment, or the one given with --deployment')
    .addOption(new Option('--format <format>', 'json or yaml').choices(['json', 'yaml']).default('json'))
    .addOption(new Option('--secrets <mode>', 'reference: {"$secret": ...} references that resolve on this instance only; encrypted: with the passphrase of --passphrase-env').choices(['reference', 'encrypted']).default('reference'))
    .option('--passphrase-env <variable>', 'the environment variable holding the passphrase (at least 8 characters) for --secrets encrypted')
    .option('-o, --output <file>', 'write the document to this file (mode 0600) instead of standard output')
    .action(action(async (ctx, opts: ExportOptions) => {
      if (ctx.json && opts.format === 'yaml') throw new CliError('export: --json prints JSON; leave it out for --format yaml', EXIT.usage)
      if (opts.secrets === 'encrypted' && opts.passphraseEnv === undefined) throw new CliError('export: --secrets encrypted needs --passphrase-env <variable>', EXIT.usage, 'Put the passphrase in an environment variable and name it: --passphrase-env JUNCTION_EXPORT_PASSPHRASE.')
      if (opts.secrets === 'reference' && opts.passphraseEnv !== undefined) throw new CliError('export: --passphrase-env is for --secrets encrypted', EXIT.usage)
      const headers: Record<string, string> = opts.passphraseEnv === undefined ? {} : { [PASSPHRASE_HEADER]: secretFromEnv(opts.passphraseEnv, 'export') }
      const query = new URLSearchParams({ format: opts.format, ...(ctx.deploymentGiven ? { deployment: ctx.deployment } : {}) })
      const res = await ctx.api.send('GET', `/export?${query}`, { headers })
      const text = opts.format === 'yaml' ? res.text : json(JSON.parse(res.text))
      if (opts.output === undefined) {
        ctx.out(text)
        return
      }
      writeOutputFile(opts.output, text)
      const counts = countsOf(opts.format === 'yaml' ? parseYaml(res.text) : JSON.parse(res.text))
      print(ctx, { output: opts.output, ...counts }, () =>
        `exported ${plural(counts.deployments, 'deployment')} (${plural(counts.connectors, 'connector')}, ${plural(counts.rules, 'rule')}, ${plural(counts.mqttUsers, 'device user')}) to ${opts.output}, secrets ${opts.secrets === 'encrypted' ? 'encrypted' : 'as references'}\n`)
    }))

  program
    .command('import')
    .description('show what importing a document would change (create / update / unchanged / delete, with field diffs) and change nothing; --apply applies it')
    .option('-f, --file <path>', 'an export document (JSON or YAML), or with --from-emqx an EMQX 5 cluster.hocon or its JSON form; - for stdin')
    .option('--from-emqx', 'the file is EMQX 5 configuration: its connectors, actions and rules go into --deployment')
    .option('--passphrase-env <variable>', 'the environment variable holding the passphrase of an encrypted document')
    .option('--prune', 'also delete the connectors, rules and device users of the document\'s deployments that the document does not have')
    .option('--apply', 'apply the plan (without it nothing changes)')
    .action(action(async (ctx, opts: ImportOptions) => {
      if (opts.fromEmqx && opts.passphraseEnv !== undefined) throw new CliError('import: --passphrase-env is for Junction documents, not --from-emqx', EXIT.usage)
      if (opts.fromEmqx && opts.prune) throw new CliError('import: --prune is for Junction documents; an EMQX import never deletes', EXIT.usage)
      const text = readTextFile(opts.file, 'import', 'the document')
      const step = opts.apply ? 'apply' : 'plan'
      const path = opts.fromEmqx
        ? `/import/emqx/${step}?${new URLSearchParams({ deployment: ctx.deployment })}`
        : `/import/${step}${opts.prune ? '?prune=true' : ''}`
      const headers: Record<string, string> = opts.passphraseEnv === undefined ? {} : { [PASSPHRASE_HEADER]: secretFromEnv(opts.passphraseEnv, 'import') }
      const res = await ctx.api.send('POST', path, { text, contentType: isJson(text) ? 'application/json' : opts.fromEmqx ? 'application/hocon' : 'application/yaml', headers })
      const plan = JSON.parse(res.text) as ImportPlan
      print(ctx, plan, () => planText(plan, Boolean(opts.apply)))
    }))
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

function countsOf(doc: any): { deployments: number; connectors: number; rules: number; mqttUsers: number } {
  const deps: any[] = Array.isArray(doc?.deployments) ? doc.deployments : []
  const sum = (key: string) => deps.reduce((n, d) => n + (Array.isArray(d[key]) ? d[key].length : 0), 0)
  return { deployments: deps.length, connectors: sum('connectors'), rules: sum('rules'), mqttUsers: sum('mqttUsers') }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

const diffValue = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v))

export function planText(plan: ImportPlan, applied: boolean): string {
  let out = table(plan.items, [
    ['action', (i) => i.action],
    ['kind', (i) => i.kind],
    ['deployment', (i) => i.deployment],
    ['id', (i) => i.id],
    ['name', (i) => i.name],
  ], '(nothing in the document)')
  for (const item of plan.items) {
    if (!item.changes?.length) continue
    out += `\n${item.kind} ${item.id} (${item.name}):\n`
    for (const c of item.changes) out += `  ${c.path}: ${diffValue(c.from)} -> ${diffValue(c.to)}\n`
  }
  if (plan.unmapped?.length) {
    out += `\nnot mapped (${plan.unmapped.length}):\n`
    out += table(plan.unmapped, [['kind', (u) => u.kind], ['name', (u) => u.name], ['reason', (u) => cell(u.reason)]])
  }
  const s = plan.summary
  out += applied
    ? `\napplied: ${s.create} created, ${s.update} updated, ${s.unchanged} unchanged, ${s.delete} deleted\n`
    : `\nplan: ${s.create} to create, ${s.update} to update, ${s.unchanged} unchanged, ${s.delete} to delete; nothing was changed (add --apply to apply it)\n`
  return out
}
