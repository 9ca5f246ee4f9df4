/**
 * Admin commands: console users and API keys with their roles, and the audit log
 * (docs/api.md, "Roles" and "Audit log").
 */
import { readFileSync } from 'node:fs'
import { Argument, Command, Option } from 'commander'
import { CliError } from './client.js'
import { action, confirmDeletion, confirmMatches, enc, print, secretFromEnv, writeOutputFile, type Context } from './command-kit.js'
import { EXIT } from './exit-codes.js'
import type { ApiKey, AuditEntry, ConsoleUser, GetApiKeysResponse, GetAuditResponse, GetUsersResponse, PostApiKeysResponse } from '../core/api-types.js'
import { cell, details, table, truncate } from './output.js'

const ROLES = ['admin', 'editor', 'viewer']
const roleOption = () => new Option('--role <role>', 'admin, editor or viewer').choices(ROLES).makeOptionMandatory()
const roleArgument = () => new Argument('<role>', 'admin, editor or viewer').choices(ROLES)

/** A password from --password-env, or the first line of standard input with --password-stdin; never a flag's value. */
function passwordOf(opts: { passwordEnv?: string; passwordStdin?: boolean }, what: string): string {
  if (opts.passwordEnv !== undefined && opts.passwordStdin) throw new CliError(`${what}: give --password-env or --password-stdin, not both`, EXIT.usage)
  if (opts.passwordEnv !== undefined) return secretFromEnv(opts.passwordEnv, what)
  if (opts.passwordStdin) {
    // On a terminal the password would be echoed as it is typed.
    if (process.stdin.isTTY) throw new CliError(`${what}: --password-stdin reads a pipe, not a terminal`, EXIT.usage, 'Pipe it in (e.g. from a password manager), or use --password-env.')
    const line = readFileSync(0, 'utf8').split(/\r?\n/)[0] ?? ''
    if (line === '') throw new CliError(`${what}: standard input has no password`, EXIT.usage)
    return line
  }
  throw new CliError(`${what}: the password comes from --password-env <variable> or --password-stdin`, EXIT.usage, 'A password is never a command-line value: shells keep those in their history and `ps` shows them.')
}

export function addAccounts(program: Command): void {
  const users = program.command('users').description('console users and their roles (admin only)')
  const userColumns: [string, (u: ConsoleUser) => unknown][] = [['username', (u) => u.username], ['role', (u) => u.role], ['created', (u) => u.createdAt], ['updated', (u) => u.updatedAt]]
  users.command('list').description('list console users').action(action(async (ctx) => {
    const body = await ctx.api.request<GetUsersResponse>('GET', '/users')
    print(ctx, body, () => table(body.data, userColumns))
  }))
  users.command('get').description('show a console user').argument('<username>').action(action(async (ctx, username: string) => {
    const u = await ctx.api.request<ConsoleUser>('GET', `/users/${enc(username)}`)
    print(ctx, u, () => details(u))
  }))
  users.command('create').description('add a console user with a role; the password from an environment variable or standard input')
    .argument('<username>')
    .addOption(roleOption())
    .option('--password-env <variable>', 'the environment variable holding the password (at least 8 characters)')
    .option('--password-stdin', 'read the password from the first line of standard input')
    .action(action(async (ctx, username: string, opts: { role: string; passwordEnv?: string; passwordStdin?: boolean }) => {
      const u = await ctx.api.request<ConsoleUser>('POST', '/users', { username, password: passwordOf(opts, 'users create'), role: opts.role })
      print(ctx, u, () => `created console user ${u.username} (${u.role})\n`)
    }))
  users.command('set-role').description('change a console user\'s role (from its next request)').argument('<username>').addArgument(roleArgument())
    .action(action(async (ctx, username: string, role: string) => {
      const u = await ctx.api.request<ConsoleUser>('PATCH', `/users/${enc(username)}`, { role })
      print(ctx, u, () => `console user ${u.username} is now ${u.role}\n`)
    }))
  users.command('set-password').description('change a console user\'s password').argument('<username>')
    .option('--password-env <variable>', 'the environment variable holding the new password')
    .option('--password-stdin', 'read the new password from the first line of standard input')
    .action(action(async (ctx, username: string, opts: { passwordEnv?: string; passwordStdin?: boolean }) => {
      const u = await ctx.api.request<ConsoleUser>('PATCH', `/users/${enc(username)}`, { password: passwordOf(opts, 'users set-password') })
      print(ctx, u, () => `changed the password of console user ${u.username}\n`)
    }))
  users.command('delete').description('remove a console user (its sessions end at once); asks for the username on a terminal, else needs --confirm <username>')
    .argument('<username>')
    .option('--confirm <username>', 'the same username again')
    .action(action(async (ctx, username: string, opts: { confirm?: string }) => {
      confirmMatches('console user', username, await confirmDeletion('console user', username, opts.confirm))
      await ctx.api.request('DELETE', `/users/${enc(username)}`)
      print(ctx, { deleted: username }, () => `deleted console user ${username}\n`)
    }))

  const keys = program.command('api-keys').description('API keys and their roles (admin only)')
  const keyColumns: [string, (k: ApiKey) => unknown][] = [['key', (k) => k.key], ['role', (k) => k.role], ['created', (k) => k.createdAt], ['description', (k) => k.description || null]]
  keys.command('list').description('list API keys (never their secrets)').action(action(async (ctx) => {
    const body = await ctx.api.request<GetApiKeysResponse>('GET', '/api-keys')
    print(ctx, body, () => table(body.data, keyColumns))
  }))
  keys.command('get').description('show an API key (not its secret)').argument('<key>').action(action(async (ctx, key: string) => {
    const k = await ctx.api.request<ApiKey>('GET', `/api-keys/${enc(key)}`)
    print(ctx, k, () => details(k))
  }))
  keys.command('create').description('make an API key; its secret is printed this once (only its hash is stored)')
    .addOption(roleOption())
    .option('--key <name>', 'the key\'s name (the HTTP Basic user); generated (jk-...) when left out')
    .option('--description <text>', 'what the key is for')
    .action(action(async (ctx, opts: { role: string; key?: string; description?: string }) => {
      const k = await ctx.api.request<PostApiKeysResponse>('POST', '/api-keys', { role: opts.role, ...(opts.key === undefined ? {} : { key: opts.key }), ...(opts.description === undefined ? {} : { description: opts.description }) })
      print(ctx, k, () => `created API key ${k.key} (${k.role})\nsecret: ${k.secret}\n`)
      if (!ctx.json) process.stderr.write('The secret is shown this once: keep it now (JUNCTION_API_KEY / JUNCTION_API_SECRET).\n')
    }))
  keys.command('set-role').description('change an API key\'s role').argument('<key>').addArgument(roleArgument())
    .action(action(async (ctx, key: string, role: string) => {
      const k = await ctx.api.request<ApiKey>('PATCH', `/api-keys/${enc(key)}`, { role })
      print(ctx, k, () => `API key ${k.key} is now ${k.role}\n`)
    }))
  keys.command('delete').description('revoke an API key at once; asks for the key on a terminal, else needs --confirm <key>')
    .argument('<key>')
    .option('--confirm <key>', 'the same key again')
    .action(action(async (ctx, key: string, opts: { confirm?: string }) => {
      confirmMatches('API key', key, await confirmDeletion('API key', key, opts.confirm))
      await ctx.api.request('DELETE', `/api-keys/${enc(key)}`)
      print(ctx, { deleted: key }, () => `deleted API key ${key}\n`)
    }))
}

interface AuditFilters {
  actor?: string
  action?: string
  objectType?: string
  since?: string
  until?: string
}

function withFilters(cmd: Command): Command {
  return cmd
    .option('--actor <name>', 'a user name or API key')
    .option('--action <action>', 'create, update, delete, apply, or a route\'s verb (start, stop, enable, disable, replay, discard)')
    .option('--object-type <type>', 'deployment, connector, rule, failed-message, device-user, device-acl, user, api-key, configuration, emqx-configuration')
    .option('--since <time>', 'entries at or after this time (ISO-8601)')
    .option('--until <time>', 'entries before this time (ISO-8601)')
}

function filterQuery(f: AuditFilters, extra: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries({ ...f, ...extra })) if (v !== undefined) q.set(k, v)
  const s = q.toString()
  return s === '' ? '' : `?${s}`
}

const auditColumns: [string, (e: AuditEntry) => unknown][] = [
  ['at', (e) => e.at],
  ['actor', (e) => `${e.actor.name} (${e.actor.kind})`],
  ['action', (e) => e.action],
  ['object', (e) => `${e.objectType}${e.objectId ? ` ${e.objectId}` : ''}`],
  ['deployment', (e) => e.deploymentId],
  ['status', (e) => e.status],
  ['source', (e) => e.source],
  ['changed', (e) => (e.diff?.length ? truncate(e.diff.map((d) => d.path).join(', '), 60) : null)],
]

export function addAudit(program: Command): void {
  const audit = program.command('audit').description('the audit log of changes made through the API (admin only)')
  withFilters(audit.command('list').description('list audit entries, newest first, one page at a time'))
    .option('--limit <n>', 'entries per page, 1 to 1000 (default 100)')
    .option('--after <id>', 'the next page: the `next` the previous page printed')
    .action(action(async (ctx, opts: AuditFilters & { limit?: string; after?: string }) => {
      const { limit, after, ...filters } = opts
      const body = await ctx.api.request<GetAuditResponse>('GET', `/audit${filterQuery(filters, { limit, after })}`)
      print(ctx, body, () => table(body.data, auditColumns, '(no entries)') + (body.next ? `(more: --after ${body.next})\n` : ''))
    }))
  withFilters(audit.command('export').description('the matching entries as JSON lines (NDJSON), oldest first'))
    .option('-o, --output <file>', 'write them to this file instead of standard output')
    .action(action(async (ctx: Context, opts: AuditFilters & { output?: string }) => {
      const { output, ...filters } = opts
      const res = await ctx.api.send('GET', `/audit/export${filterQuery(filters)}`)
      if (output === undefined) {
        ctx.out(res.text)
        return
      }
      writeOutputFile(output, res.text)
      const entries = res.text.split('\n').filter(Boolean).length
      print(ctx, { output, entries }, () => `wrote ${entries} audit ${entries === 1 ? 'entry' : 'entries'} to ${cell(output)}\n`)
    }))
}
