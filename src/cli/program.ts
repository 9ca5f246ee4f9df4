/**
 * The command tree. Every command is a call to the REST API (client.ts) and a rendering of its
 * answer: a table or key/value listing, or with --json the API's JSON only.
 */
import { Command, Option } from 'commander'
import { CliError } from './client.js'
import { action, confirmDeletion, confirmMatches, enc, print, printWarnings, readJsonFile, type Context } from './command-kit.js'
import { addAccounts, addAudit } from './account-commands.js'
import { addFailedMessages } from './failed-message-commands.js'
import { addTransfer } from './transfer-commands.js'
import { completionScript } from './completion.js'
import { serve } from './serve.js'
import { EXIT } from './exit-codes.js'
import { table, details, json, cell, truncate, type Column } from './output.js'
import { connectorTypeDetails, connectorTypeHelp, type ConnectorType } from './schema-help.js'
import { profilePath } from './settings.js'

export const VERSION = '0.1.0'

// ---------------------------------------------------------------------------------------------
// Rendering

const DEPLOYMENT_COLUMNS: Column<any>[] = [
  ['id', (d) => d.id],
  ['name', (d) => d.name],
  ['plan', (d) => d.plan],
  ['status', (d) => d.status + (d.statusReason ? ` (${d.statusReason})` : '')],
  ['mqtt', (d) => (d.mqtt?.addresses ?? []).map((a: any) => a.urls?.[0]).filter(Boolean).join(', ') || null],
]

const CONNECTOR_COLUMNS: Column<any>[] = [
  ['id', (c) => c.id],
  ['name', (c) => c.name],
  ['type', (c) => c.type],
  ['enabled', (c) => c.enabled],
  ['status', (c) => c.status + (c.statusCode ? ` (${c.statusCode})` : '')],
  ['delivery', (c) => c.delivery?.state],
  ['rules', (c) => c.ruleCount],
]

const RULE_COLUMNS: Column<any>[] = [
  ['id', (r) => r.id],
  ['name', (r) => r.name],
  ['enabled', (r) => r.enabled],
  ['actions', (r) => (r.actions ?? []).length],
  ['sql', (r) => truncate(r.sql, 60)],
]

const HISTORY_COLUMNS: Column<any>[] = [
  ['version', (v) => v.version],
  ['at', (v) => v.at],
  ['actor', (v) => `${v.actor.name} (${v.actor.kind})`],
  ['source', (v) => v.source || null],
  ['action', (v) => v.action + (v.revertedFrom ? ` (to ${v.revertedFrom})` : '')],
  ['changes', (v) => (v.diff === null ? null : truncate(v.diff.map((d: any) => `${d.path}: ${'before' in d ? cell(d.before) : '(none)'} -> ${'after' in d ? cell(d.after) : '(none)'}`).join('; '), 120))],
]

function probeText(result: any): string {
  const steps = table(result.steps ?? [], [
    ['step', (s: any) => s.name],
    ['ok', (s: any) => s.ok],
    ['ms', (s: any) => s.ms],
    ['detail', (s: any) => s.detail],
  ])
  const head = result.ok ? `ok (${result.latencyMs} ms)\n` : `failed: ${result.error?.code}: ${result.error?.message}\n${result.error?.hint ? `  hint: ${result.error.hint}\n` : ''}`
  return head + steps
}

// ---------------------------------------------------------------------------------------------

export function buildProgram(): Command {
  const program = new Command('junction')
    .description('Junction: MQTT data integration. Talks to a running Junction over its REST API; `junction serve` runs the server.')
    // Not .version(): commander reads a root flag anywhere on the line, so `revert <id> --version 3`
    // would print the CLI's version. The flag takes an optional number instead; `history` and
    // `revert` read it as the object's version, anywhere else it prints the CLI's.
    .addOption(new Option('-V, --version [n]', 'output the version number; after `history` and `revert`, a version of the connector or rule'))
    .option('--url <url>', 'base URL of Junction, without /api/v1 (env JUNCTION_URL, default http://localhost:18083)')
    .option('--api-key <key>', 'API key (env JUNCTION_API_KEY)')
    .option('--api-secret <secret>', 'API secret (env JUNCTION_API_SECRET)')
    .option('-d, --deployment <id>', 'deployment of connectors, rules, mqtt and failed-message commands and of import --from-emqx; export: only this deployment when given', 'default')
    .option('--json', 'print only the API\'s JSON (list, get and every answer)')
    .option('--timeout <seconds>', 'how long to wait for an answer', '30')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .addHelpText('after', `
Settings come from flags, else JUNCTION_URL / JUNCTION_API_KEY / JUNCTION_API_SECRET, else the
profile file ${profilePath()} ({"url", "apiKey", "apiSecret"}; JUNCTION_PROFILE names another).
Exit codes: 0 ok, 1 the API refused (4xx), 2 usage, 3 server unreachable, 4 server error (5xx),
5 a connector Test failed. See docs/cli.md.`)

  program
    .command('serve')
    .description('run the Junction server in this process (as `npm start`; settings from JUNCTION_* variables, see README)')
    .action(serve)

  program
    .command('status')
    .description('check that the server answers (GET /api/v1/health)')
    .action(action(async (ctx) => {
      const h = await ctx.api.request('GET', '/health')
      print(ctx, h, () => `Junction ${h.version} at ${ctx.api.baseUrl}: ${h.status}, up ${h.uptimeS} s\n`)
    }))

  const VERSION_TAKERS = new Set(['history', 'revert'])
  program.hook('preAction', (root, actionCommand) => {
    if (root.opts().version !== undefined && !VERSION_TAKERS.has(actionCommand.name())) {
      process.stdout.write(`${VERSION}\n`)
      process.exit(EXIT.ok)
    }
  })

  addDeployments(program)
  addConnectors(program)
  addRules(program)
  addMqtt(program)
  addTransfer(program)
  addAccounts(program)
  addAudit(program)

  program
    .command('completion')
    .description('print a shell completion script: `source <(junction completion bash)`')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh') throw new CliError(`completion: unknown shell "${shell}"`, EXIT.usage, 'Use bash or zsh.')
      process.stdout.write(completionScript(program, shell))
    })

  return program
}

function addDeployments(program: Command): void {
  const dep = program.command('deployments').description('deployments (one MQTT broker each)')
  dep.command('list').description('list deployments').action(action(async (ctx) => {
    const body = await ctx.api.request('GET', '/deployments')
    print(ctx, body, () => table(body.data, DEPLOYMENT_COLUMNS))
  }))
  dep.command('get').description('show one deployment (default: --deployment)').argument('[id]').action(action(async (ctx, id?: string) => {
    const d = await ctx.api.request('GET', `/deployments/${enc(id ?? ctx.deployment)}`)
    print(ctx, d, () => details(d))
  }))
  for (const verb of ['start', 'stop'] as const) {
    dep.command(verb).description(`${verb} a deployment's broker (default: --deployment)`).argument('[id]').action(action(async (ctx, id?: string) => {
      const d = await ctx.api.request('POST', `/deployments/${enc(id ?? ctx.deployment)}/${verb}`)
      print(ctx, d, () => `${d.id}: ${d.status}${d.statusReason ? ` (${d.statusReason})` : ''}\n`)
    }))
  }
}

async function connectorTypes(ctx: Context): Promise<ConnectorType[]> {
  return (await ctx.api.request<{ data: ConnectorType[] }>('GET', '/connector-types')).data
}

async function connectorType(ctx: Context, type: string): Promise<ConnectorType> {
  const types = await connectorTypes(ctx)
  const t = types.find((x) => x.type === type)
  if (!t) throw new CliError(`unknown connector type "${type}"`, EXIT.usage, `Types: ${types.map((x) => x.type).join(', ')}.`)
  return t
}

function addConnectors(program: Command): void {
  const con = program.command('connectors').description('connectors of a deployment (--deployment)')
  const base = (ctx: Context) => `/deployments/${enc(ctx.deployment)}/connectors`

  con.command('list').description('list connectors').action(action(async (ctx) => {
    const body = await ctx.api.request('GET', base(ctx))
    print(ctx, body, () => table(body.data, CONNECTOR_COLUMNS))
  }))

  con.command('get').description('show a connector with its configuration (secrets as ******)').argument('<id>').action(action(async (ctx, id: string) => {
    const c = await ctx.api.request('GET', `${base(ctx)}/${enc(id)}`)
    print(ctx, c, () => details(c))
  }))

  con.command('types').description('list connector types, or one type\'s config fields and rule action params with their defaults').argument('[type]').action(action(async (ctx, type?: string) => {
    if (type !== undefined) {
      const t = await connectorType(ctx, type)
      print(ctx, t, () => connectorTypeDetails(t))
      return
    }
    const types = await connectorTypes(ctx)
    print(ctx, { data: types }, () => table(types, [['type', (t) => t.type], ['title', (t) => t.title], ['summary', (t) => t.summary]]))
  }))

  // Its own --help: with --type it adds that type's fields, fetched from the server.
  const create = con.command('create')
    .description('create a connector from a JSON file {name, type, config, description?, enabled?}')
    .option('-f, --file <path>', 'the connector spec (JSON; - for stdin)')
    .option('-t, --type <type>', 'connector type (when the file has none); with --help, show its fields and defaults')
    .helpOption(false)
    .addOption(new Option('-h, --help', 'show help; with --type X, the fields and defaults of type X'))
  create.action(action(async (ctx, opts: { file?: string; type?: string; help?: boolean }) => {
    if (opts.help) {
      ctx.out(create.helpInformation())
      if (opts.type !== undefined) ctx.out(`\n${connectorTypeHelp(await connectorType(ctx, opts.type))}`)
      else ctx.out(`\nTypes and their fields: junction connectors create --type <type> --help\n`)
      return
    }
    const spec = readJsonFile(opts.file, 'connectors create')
    if (opts.type !== undefined && spec && typeof spec === 'object' && !Array.isArray(spec)) {
      if (spec.type !== undefined && spec.type !== opts.type) throw new CliError(`--type ${opts.type} but the file says "type": "${spec.type}"`, EXIT.usage)
      spec.type = opts.type
    }
    const c = await ctx.api.request('POST', base(ctx), spec)
    print(ctx, c, () => `created connector ${c.id} (${c.type}), status ${c.status}\n`)
  }))

  con.command('edit')
    .description('replace a connector\'s settings from a JSON file {name?, description?, enabled?, config?, version?} (secrets sent as ****** are kept)')
    .argument('<id>')
    .option('-f, --file <path>', 'the changes (JSON; - for stdin)')
    .action(action(async (ctx, id: string, opts: { file?: string }) => {
      const spec = readJsonFile(opts.file, 'connectors edit')
      // A file written for `create` (or saved from `get --json`) carries fields the update does
      // not take; the type cannot change, so it is dropped when it matches.
      if (spec && typeof spec === 'object' && !Array.isArray(spec)) {
        if (spec.type !== undefined) {
          const current = await ctx.api.request('GET', `${base(ctx)}/${enc(id)}`)
          if (spec.type !== current.type) throw new CliError(`the type of a connector cannot change (${current.type} -> ${spec.type})`, EXIT.usage, 'Create a new connector instead.')
          delete spec.type
        }
      }
      const c = await ctx.api.request('PUT', `${base(ctx)}/${enc(id)}`, spec)
      print(ctx, c, () => `updated connector ${c.id}, version ${c.version}, status ${c.status}\n`)
    }))

  con.command('test')
    .description('test a saved connector, or with --file an unsaved {type, config}')
    .argument('[id]')
    .option('-f, --file <path>', 'an unsaved spec {type, config} to test (JSON; - for stdin)')
    .action(action(async (ctx, id: string | undefined, opts: { file?: string }) => {
      if (id === undefined && opts.file === undefined) throw new CliError('connectors test: give a connector ID or --file', EXIT.usage)
      let result: any
      if (opts.file !== undefined) {
        const spec = readJsonFile(opts.file, 'connectors test')
        if (id !== undefined) result = await ctx.api.request('POST', `${base(ctx)}/${enc(id)}/test`, { config: spec.config ?? spec })
        else result = await ctx.api.request('POST', `${base(ctx)}/test`, { type: spec.type, config: spec.config })
      } else {
        result = await ctx.api.request('POST', `${base(ctx)}/${enc(id!)}/test`)
      }
      print(ctx, result, () => probeText(result))
      if (!result.ok) process.exitCode = EXIT.checkFailed
    }))

  con.command('delete')
    .description('delete a connector; asks for its ID on a terminal, else needs --confirm <id>')
    .argument('<id>')
    .option('--confirm <id>', 'the same ID again')
    .action(action(async (ctx, id: string, opts: { confirm?: string }) => {
      const confirm = await confirmDeletion('connector', id, opts.confirm)
      // The API checks the confirmation too (400 CONFIRMATION_REQUIRED).
      await ctx.api.request('DELETE', `${base(ctx)}/${enc(id)}?confirm=${enc(confirm)}`)
      print(ctx, { deleted: id }, () => `deleted connector ${id}\n`)
    }))
  addHistory(con, 'connector', base, (c) => `version ${c.version}, status ${c.status}`)
}

/** `history <id> [--version N]` and `revert <id> --version N` of connectors and rules. */
function addHistory(parent: Command, kind: 'connector' | 'rule', base: (ctx: Context) => string, state: (answer: any) => string): void {
  parent.command('history')
    .description(`list a ${kind}'s versions, newest first (who, when, from where, what changed; secrets as ******), or with --version N show that version whole`)
    .argument('<id>')
    .option('--limit <n>', 'versions to list (1-1000)', '100')
    .action(action(async (ctx, id: string, opts: { limit: string }) => {
      if (ctx.version !== undefined) {
        const v = await ctx.api.request('GET', `${base(ctx)}/${enc(id)}/history/${enc(versionNumber(ctx, `${kind}s history`))}`)
        print(ctx, v, () => details(v))
        return
      }
      const body = await ctx.api.request('GET', `${base(ctx)}/${enc(id)}/history?limit=${enc(opts.limit)}`)
      print(ctx, body, () => table(body.data, HISTORY_COLUMNS) + (body.next ? `(older versions: the API's ?after=${body.next})\n` : ''))
    }))
  parent.command('revert')
    .description(`put back an earlier version of a ${kind} (an edit: same checks as \`edit\`), recorded as a new version`)
    .argument('<id>')
    .addHelpText('after', '\nRequired: --version <n>, a version from `history`.')
    .action(action(async (ctx, id: string) => {
      const version = Number(versionNumber(ctx, `${kind}s revert`))
      const r = await ctx.api.request('POST', `${base(ctx)}/${enc(id)}/revert`, { version })
      printWarnings(ctx, r)
      print(ctx, r, () => `reverted ${kind} ${r.id} to version ${version}: ${state(r)}\n`)
    }))
}

function versionNumber(ctx: Context, command: string): string {
  if (typeof ctx.version !== 'string' || !/^[1-9][0-9]{0,9}$/.test(ctx.version)) {
    throw new CliError(`${command}: --version <n> needs a version number`, EXIT.usage, 'Version numbers are in the history: junction connectors|rules history <id>.')
  }
  return ctx.version
}

function addRules(program: Command): void {
  const rules = program.command('rules').description('rules of a deployment (--deployment)')
  const base = (ctx: Context) => `/deployments/${enc(ctx.deployment)}/rules`

  rules.command('list').description('list rules').action(action(async (ctx) => {
    const body = await ctx.api.request('GET', base(ctx))
    print(ctx, body, () => table(body.data, RULE_COLUMNS))
  }))
  rules.command('get').description('show a rule with its actions and metrics').argument('<id>').action(action(async (ctx, id: string) => {
    const r = await ctx.api.request('GET', `${base(ctx)}/${enc(id)}`)
    print(ctx, r, () => details(r))
  }))
  rules.command('create').description('create a rule from a JSON file {name, sql, actions, description?, enabled?}')
    .option('-f, --file <path>', 'the rule (JSON; - for stdin)')
    .action(action(async (ctx, opts: { file?: string }) => {
      const r = await ctx.api.request('POST', base(ctx), readJsonFile(opts.file, 'rules create'))
      printWarnings(ctx, r)
      print(ctx, r, () => `created rule ${r.id}\n`)
    }))
  rules.command('edit').description('change a rule from a JSON file {name?, sql?, actions?, description?, enabled?}')
    .argument('<id>')
    .option('-f, --file <path>', 'the changes (JSON; - for stdin)')
    .action(action(async (ctx, id: string, opts: { file?: string }) => {
      const spec = readJsonFile(opts.file, 'rules edit')
      // What `rules get --json` answers and the update does not take.
      if (spec && typeof spec === 'object' && !Array.isArray(spec)) for (const k of ['id', 'deploymentId', 'metrics', 'createdAt', 'updatedAt', 'warnings']) delete spec[k]
      const r = await ctx.api.request('PUT', `${base(ctx)}/${enc(id)}`, spec)
      printWarnings(ctx, r)
      print(ctx, r, () => `updated rule ${r.id}\n`)
    }))
  for (const verb of ['enable', 'disable'] as const) {
    rules.command(verb).description(`${verb} a rule`).argument('<id>').action(action(async (ctx, id: string) => {
      const r = await ctx.api.request('POST', `${base(ctx)}/${enc(id)}/${verb}`)
      print(ctx, r, () => `rule ${r.id} ${r.enabled ? 'enabled' : 'disabled'}\n`)
    }))
  }
  rules.command('test').description('run rule SQL on a sample message: a JSON file {sql, context}')
    .option('-f, --file <path>', '{sql, context: {topic, payload, ...}} (JSON; - for stdin)')
    .action(action(async (ctx, opts: { file?: string }) => {
      const result = await ctx.api.request('POST', `${base(ctx)}/test`, readJsonFile(opts.file, 'rules test'))
      print(ctx, result, () => {
        if (!result.matched) return `not matched${result.reason ? `: ${result.reason}` : ''}\n`
        return `matched\n${json(result.outputs ?? result.output)}`
      })
    }))
  rules.command('delete').description('delete a rule; asks for its ID on a terminal, else needs --confirm <id>')
    .argument('<id>')
    .option('--confirm <id>', 'the same ID again')
    .action(action(async (ctx, id: string, opts: { confirm?: string }) => {
      confirmMatches('rule', id, await confirmDeletion('rule', id, opts.confirm))
      await ctx.api.request('DELETE', `${base(ctx)}/${enc(id)}`)
      print(ctx, { deleted: id }, () => `deleted rule ${id}\n`)
    }))
  addFailedMessages(rules)
  addHistory(rules, 'rule', base, (r) => (r.enabled ? 'enabled' : 'disabled'))
}

function addMqtt(program: Command): void {
  const mqtt = program.command('mqtt').description('the deployment\'s MQTT broker: device users and ACL (--deployment)')
  const base = (ctx: Context) => `/deployments/${enc(ctx.deployment)}/mqtt`

  const users = mqtt.command('users').description('device users (MQTT username and password)')
  users.command('list').description('list device users').action(action(async (ctx) => {
    const body = await ctx.api.request('GET', `${base(ctx)}/users`)
    print(ctx, body, () => table(body.data, [['username', (u: any) => u.username], ['superuser', (u: any) => u.superuser], ['created', (u: any) => u.createdAt], ['updated', (u: any) => u.updatedAt]]))
  }))
  users.command('get').description('show a device user').argument('<username>').action(action(async (ctx, username: string) => {
    const u = await ctx.api.request('GET', `${base(ctx)}/users/${enc(username)}`)
    print(ctx, u, () => details(u))
  }))
  users.command('create').description('create a device user from a JSON file {username, password, superuser?} (a password never goes on the command line)')
    .option('-f, --file <path>', 'the user (JSON; - for stdin)')
    .action(action(async (ctx, opts: { file?: string }) => {
      const u = await ctx.api.request('POST', `${base(ctx)}/users`, readJsonFile(opts.file, 'mqtt users create'))
      print(ctx, u, () => `created device user ${u.username}\n`)
    }))
  users.command('edit').description('change a device user from a JSON file {password?, superuser?}')
    .argument('<username>')
    .option('-f, --file <path>', 'the changes (JSON; - for stdin)')
    .action(action(async (ctx, username: string, opts: { file?: string }) => {
      const u = await ctx.api.request('PATCH', `${base(ctx)}/users/${enc(username)}`, readJsonFile(opts.file, 'mqtt users edit'))
      print(ctx, u, () => `updated device user ${u.username}\n`)
    }))
  users.command('delete').description('delete a device user; asks for the username on a terminal, else needs --confirm <username>')
    .argument('<username>')
    .option('--confirm <username>', 'the same username again')
    .action(action(async (ctx, username: string, opts: { confirm?: string }) => {
      confirmMatches('device user', username, await confirmDeletion('device user', username, opts.confirm))
      await ctx.api.request('DELETE', `${base(ctx)}/users/${enc(username)}`)
      print(ctx, { deleted: username }, () => `deleted device user ${username}\n`)
    }))

  const acl = mqtt.command('acl').description('the deployment\'s ACL (first matching rule decides)')
  const aclText = (a: any) =>
    `default: ${a.default}\nupdated: ${cell(a.updatedAt)}\n` +
    table(a.rules ?? [], [
      ['#', (_r: any) => ''],
      ['who', (r: any) => (typeof r.who === 'string' ? r.who : Object.entries(r.who).map(([k, v]) => `${k}=${v}`).join(''))],
      ['action', (r: any) => r.action],
      ['topic', (r: any) => r.topic],
      ['permission', (r: any) => r.permission],
    ].map(([h, f], i) => (i === 0 ? [h, (r: any) => (a.rules as unknown[]).indexOf(r)] : [h, f])) as Column<any>[], '(no rules)')
  acl.command('get').description('show the ACL').action(action(async (ctx) => {
    const a = await ctx.api.request('GET', `${base(ctx)}/acl`)
    print(ctx, a, () => aclText(a))
  }))
  acl.command('set').description('replace the whole ACL from a JSON file {rules, default}')
    .option('-f, --file <path>', 'the ACL (JSON; - for stdin)')
    .action(action(async (ctx, opts: { file?: string }) => {
      const spec = readJsonFile(opts.file, 'mqtt acl set')
      if (spec && typeof spec === 'object' && !Array.isArray(spec)) delete spec.updatedAt
      const a = await ctx.api.request('PUT', `${base(ctx)}/acl`, spec)
      print(ctx, a, () => aclText(a))
    }))
}
