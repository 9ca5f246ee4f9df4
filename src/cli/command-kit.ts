/**
 * What every command shares: the context it runs in (API client, --json, --deployment), reading
 * input files, delete confirmations and printing.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { createInterface } from 'node:readline/promises'
import type { Command } from 'commander'
import { ApiClient, CliError } from './client.js'
import { EXIT } from './exit-codes.js'
import { json } from './output.js'
import { resolveConnection } from './settings.js'

export interface Context {
  api: ApiClient
  json: boolean
  deployment: string
  /** --deployment was on the command line (not its default): for commands whose default is all deployments. */
  deploymentGiven: boolean
  /** `--version <n>` of `history` and `revert` (a root flag: see buildProgram); true when given without a number. */
  version: string | boolean | undefined
  out(text: string): void
}

export function contextOf(cmd: Command): Context {
  const o = cmd.optsWithGlobals()
  return {
    api: new ApiClient(resolveConnection({ url: o.url, apiKey: o.apiKey, apiSecret: o.apiSecret, timeout: o.timeout })),
    json: Boolean(o.json),
    deployment: o.deployment ?? 'default',
    deploymentGiven: cmd.getOptionValueSourceWithGlobals('deployment') === 'cli',
    version: o.version,
    out: (text) => void process.stdout.write(text),
  }
}

/** Wraps an action: the Command commander passes last becomes a Context. */
export function action<A extends unknown[]>(fn: (ctx: Context, ...args: A) => Promise<void>) {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command
    await fn(contextOf(cmd), ...(args.slice(0, -1) as A))
  }
}

export function readTextFile(path: string | undefined, what: string, kind = 'a JSON file'): string {
  if (path === undefined) throw new CliError(`${what}: --file <path> is required`, EXIT.usage, `Give ${kind}, or - for standard input.`)
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8')
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`, EXIT.usage)
  }
}

export function readJsonFile(path: string | undefined, what: string): any {
  const text = readTextFile(path, what)
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new CliError(`${path} is not valid JSON: ${(err as Error).message}`, EXIT.usage)
  }
}

/**
 * A secret (passphrase, password) from the environment variable the user names: never a flag's
 * value, which shells keep in their history and `ps` shows to everyone.
 */
export function secretFromEnv(variable: string, what: string): string {
  const value = process.env[variable]
  if (value === undefined || value === '') throw new CliError(`${what}: the environment variable ${variable} is not set`, EXIT.usage, `export ${variable}=... first (it is read from the environment, never from the command line).`)
  return value
}

/** Writes what a command produced to --output; 0600, as it may hold password hashes or secrets' ciphertexts. */
export function writeOutputFile(path: string, text: string): void {
  try {
    writeFileSync(path, text, { mode: 0o600 })
  } catch (err) {
    throw new CliError(`cannot write ${path}: ${(err as Error).message}`, EXIT.usage)
  }
}

export const enc = encodeURIComponent

/**
 * A delete names its ID twice: `--confirm <id>`, or typed at a prompt on a terminal. Without a
 * terminal nothing waits for input that will not come: a usage error.
 */
export async function confirmDeletion(kind: string, id: string, confirm: string | undefined): Promise<string> {
  if (confirm !== undefined) return confirm
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new CliError(`deleting ${kind} ${id} needs --confirm ${id}`, EXIT.usage, 'There is no terminal to ask on; pass --confirm with the same ID.')
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    const answer = (await rl.question(`Delete ${kind} ${id}? Type its ID to confirm: `)).trim()
    if (answer !== id) throw new CliError(`not deleted: "${answer}" is not ${id}`, EXIT.usage)
    return answer
  } finally {
    rl.close()
  }
}

export function confirmMatches(kind: string, id: string, confirm: string): void {
  if (confirm !== id) throw new CliError(`not deleted: --confirm ${confirm} does not match ${kind} ${id}`, EXIT.usage)
}

export function print(ctx: Context, value: unknown, human: () => string): void {
  ctx.out(ctx.json ? json(value) : human())
}

export function printWarnings(ctx: Context, body: any): void {
  if (ctx.json) return
  for (const w of body?.warnings ?? []) process.stderr.write(`warning: ${w.path}: ${w.message}\n`)
}
