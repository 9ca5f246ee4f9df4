/**
 * System function (EMQX: "System Function"). getenv(Name) reads the environment variable
 * `EMQXVAR_<Name>` (the same prefix as EMQX, so rules move between the two unchanged); a missing
 * variable reads as ''. A value is read once and then kept, as EMQX does.
 */
import { type FunctionFamily, binaryText, describe, fail, isBinary, spec } from './values.js'

export const ENV_PREFIX = 'EMQXVAR_'

const cache = new Map<string, string>()

/** Forgets the values read so far (for tests). */
export function clearEnvCache(): void {
  cache.clear()
}

function getenv(name: unknown): string {
  if (!isBinary(name)) return fail('getenv', `expected a variable name, got ${describe(name)}`)
  const key = ENV_PREFIX + binaryText('getenv', name, 'a variable name')
  let value = cache.get(key)
  if (value === undefined) {
    value = process.env[key] ?? ''
    cache.set(key, value)
  }
  return value
}

export const systemFunctions: FunctionFamily = {
  getenv: spec(1, 1, getenv),
}
