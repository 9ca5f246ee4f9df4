/**
 * Secret fields are those a connector schema marks `writeOnly` (see connector-api secretString).
 * These helpers walk a config along its schema: mask for answers, restore masked values on edit,
 * and map over secrets for encryption at rest.
 */

export const MASK = '******'

type Schema = { type?: unknown; properties?: Record<string, Schema>; writeOnly?: boolean }
type Obj = Record<string, unknown>

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Dotted paths of every secret field in a schema, e.g. `password`, `tls.clientKey`. */
export function secretPaths(schema: Schema, prefix = ''): string[] {
  const out: string[] = []
  for (const [name, sub] of Object.entries(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${name}` : name
    if (sub.writeOnly) out.push(path)
    else if (sub.properties) out.push(...secretPaths(sub, path))
  }
  return out
}

/** A copy of `config` with every present secret replaced by `fn(value)`. */
export function mapSecrets(config: Obj, schema: Schema, fn: (value: string, path: string) => string): Obj {
  const copy = structuredClone(config)
  for (const path of secretPaths(schema)) {
    const keys = path.split('.')
    let holder: unknown = copy
    for (const k of keys.slice(0, -1)) holder = isObj(holder) ? holder[k] : undefined
    const last = keys[keys.length - 1] as string
    if (isObj(holder) && typeof holder[last] === 'string' && holder[last] !== '') holder[last] = fn(holder[last] as string, path)
  }
  return copy
}

/** For answers: secrets shown as "******" (an empty or absent secret stays as it is). */
export function maskSecrets(config: Obj, schema: Schema): Obj {
  return mapSecrets(config, schema, () => MASK)
}

/**
 * For edits and tests of saved connectors: a secret sent back as "******" means "keep the stored
 * one". Any other value replaces it. Returns the config to validate and save.
 */
export function restoreMaskedSecrets(incoming: Obj, stored: Obj, schema: Schema): Obj {
  return mapSecrets(incoming, schema, (value, path) => {
    if (value !== MASK) return value
    const keep = path.split('.').reduce<unknown>((o, k) => (isObj(o) ? o[k] : undefined), stored)
    return typeof keep === 'string' ? keep : value
  })
}

/** True when some secret in `config` is still the mask (nothing stored to restore it from). */
export function hasUnresolvedMask(config: Obj, schema: Schema): string | undefined {
  let found: string | undefined
  mapSecrets(config, schema, (value, path) => {
    if (value === MASK && found === undefined) found = path
    return value
  })
  return found
}
