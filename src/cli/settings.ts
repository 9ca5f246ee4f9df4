/**
 * Where the CLI finds Junction: flags, else JUNCTION_URL / JUNCTION_API_KEY / JUNCTION_API_SECRET,
 * else a profile file (JUNCTION_PROFILE, else $XDG_CONFIG_HOME/junction/profile.json, else
 * ~/.config/junction/profile.json), else http://localhost:18083 without credentials.
 */
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { Connection } from './client.js'
import { CliError } from './client.js'
import { EXIT } from './exit-codes.js'

export const DEFAULT_URL = 'http://localhost:18083'

export interface ConnectionFlags {
  url?: string
  apiKey?: string
  apiSecret?: string
  timeout?: string
}

interface Profile {
  url?: string
  apiKey?: string
  apiSecret?: string
}

export function profilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.JUNCTION_PROFILE) return env.JUNCTION_PROFILE
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'junction', 'profile.json')
}

function readProfile(env: NodeJS.ProcessEnv): Profile {
  const path = profilePath(env)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    // No profile is the usual case; one named explicitly must exist.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !env.JUNCTION_PROFILE) return {}
    throw new CliError(`cannot read the profile ${path}: ${(err as Error).message}`, EXIT.usage)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new CliError(`the profile ${path} is not JSON: ${(err as Error).message}`, EXIT.usage, 'It holds {"url": "...", "apiKey": "...", "apiSecret": "..."}.')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CliError(`the profile ${path} is not a JSON object`, EXIT.usage, 'It holds {"url": "...", "apiKey": "...", "apiSecret": "..."}.')
  }
  const p = parsed as Record<string, unknown>
  const str = (k: string) => (typeof p[k] === 'string' ? (p[k] as string) : undefined)
  return { url: str('url'), apiKey: str('apiKey'), apiSecret: str('apiSecret') }
}

export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Connection {
  // The profile is read only when flags and environment leave something open.
  let profile: Profile | undefined
  const fromProfile = () => (profile ??= readProfile(env))
  const pick = (flag: string | undefined, envName: string, key: keyof Profile) => flag ?? (env[envName] || undefined) ?? fromProfile()[key]
  const url = pick(flags.url, 'JUNCTION_URL', 'url') ?? DEFAULT_URL
  if (!/^https?:\/\//.test(url)) {
    throw new CliError(`--url must be an http:// or https:// URL, got "${url}"`, EXIT.usage, `e.g. ${DEFAULT_URL} (without /api/v1)`)
  }
  const timeoutS = flags.timeout === undefined ? 30 : Number(flags.timeout)
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new CliError(`--timeout must be a number of seconds above 0, got "${flags.timeout}"`, EXIT.usage)
  return {
    // A trailing /api/v1 is what people paste; the API path is added by the client.
    url: url.replace(/\/+$/, '').replace(/\/api\/v1$/, ''),
    apiKey: pick(flags.apiKey, 'JUNCTION_API_KEY', 'apiKey'),
    apiSecret: pick(flags.apiSecret, 'JUNCTION_API_SECRET', 'apiSecret'),
    timeoutMs: timeoutS * 1000,
  }
}
