import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'

/** One failing field of a request body, as the API reports it. */
export interface FieldError {
  /** Dotted path from the body's root, e.g. `config.tls.caCert`, `config.port`. */
  readonly path: string
  readonly message: string
  /** What to do about it. */
  readonly hint: string
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] }

/**
 * One Ajv for every connector schema: `useDefaults` fills in every default (so details show the
 * whole effective configuration), `allErrors` reports every failing field at once, and unknown
 * fields are errors rather than silently dropped, so a typo never goes unnoticed.
 */
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, coerceTypes: false, verbose: true })

const cache = new WeakMap<object, ValidateFunction>()

/**
 * Validates `input` against `schema` on a deep copy, filling defaults. `prefix` is prepended to
 * every error path (e.g. `config`).
 */
export function validateWithSchema<T>(schema: object, input: unknown, prefix = ''): ValidationResult<T> {
  let validate = cache.get(schema)
  if (!validate) {
    validate = ajv.compile(schema)
    cache.set(schema, validate)
  }
  const value = input === undefined ? undefined : structuredClone(input)
  if (validate(value)) return { ok: true, value: value as T }
  return { ok: false, errors: toFieldErrors(validate.errors ?? [], prefix) }
}

/**
 * Maps Ajv's errors to one FieldError per problem. A failed `anyOf` (how TypeBox writes unions,
 * e.g. of literals) would otherwise also report each branch's own error; those are folded into it.
 */
export function toFieldErrors(errors: readonly ErrorObject[], prefix: string): FieldError[] {
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf')
  const inUnion = (e: ErrorObject) => unions.some((u) => u !== e && e.instancePath === u.instancePath && e.schemaPath.startsWith(u.schemaPath + '/'))
  // An if/then/else adds an `if` error of its own beside the real errors of its branch: noise.
  const out: FieldError[] = []
  const seen = new Set<string>()
  for (const e of errors) {
    if (inUnion(e) || e.keyword === 'if') continue
    const f = toFieldError(e, prefix)
    // One problem per field is enough to act on (an empty name is also "an invalid format").
    if (seen.has(f.path)) continue
    seen.add(f.path)
    out.push(f)
  }
  return out
}

/** Maps one Ajv error to a FieldError; used for route validation too. */
export function toFieldError(e: ErrorObject, prefix: string): FieldError {
  const segments = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
  const p = e.params as Record<string, unknown>
  let path = [prefix, ...segments].filter((s) => s !== '').join('.')
  const schema = e.parentSchema as Record<string, unknown> | undefined
  const described = typeof schema?.description === 'string' ? ` (${schema.description.replace(/\.$/, '')})` : ''
  switch (e.keyword) {
    case 'required': {
      const field = String(p.missingProperty)
      path = path ? `${path}.${field}` : field
      return { path, message: `${field} is required`, hint: `Add the field "${field}".` }
    }
    case 'additionalProperties': {
      const field = String(p.additionalProperty)
      const allowed = Object.keys((schema?.properties as object | undefined) ?? {})
      path = path ? `${path}.${field}` : field
      return { path, message: `unknown field "${field}"`, hint: `Remove it, or use one of: ${allowed.join(', ')}.` }
    }
    case 'type':
      return { path, message: `must be ${article(String(p.type))}`, hint: `Give ${article(String(p.type))}${described}.` }
    case 'enum':
      return { path, message: 'must be one of the allowed values', hint: `Use one of: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}.` }
    case 'const':
      return { path, message: `must be ${JSON.stringify(p.allowedValue)}`, hint: `Use ${JSON.stringify(p.allowedValue)}.` }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, message: `must be ${String(p.comparison)} ${String(p.limit)}`, hint: `Give a number ${rangeText(schema)}.` }
    case 'minLength':
      return { path, message: Number(p.limit) === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters`, hint: `Fill in this field${described}.` }
    case 'maxLength':
      return { path, message: `must be at most ${String(p.limit)} characters`, hint: 'Shorten the value.' }
    case 'pattern':
      // The regular expression itself helps nobody; the field's description says the format.
      return { path, message: 'has an invalid format', hint: described ? `Check the value${described}.` : 'Check the format of the value.' }
    case 'anyOf':
    case 'oneOf': {
      const branches = (e.schema as Array<Record<string, unknown>> | undefined) ?? []
      const consts = branches.filter((b) => 'const' in b).map((b) => JSON.stringify(b.const))
      const types = branches.filter((b) => !('const' in b)).map((b) => {
        if (b.type === 'null') return 'null'
        const bounded = (b.type === 'integer' || b.type === 'number') && (b.minimum !== undefined || b.maximum !== undefined || b.exclusiveMinimum !== undefined)
        return bounded ? `${article(String(b.type))} ${rangeText(b)}` : article(String(b.type))
      })
      // Object branches say little as "an object": the union's own description says which.
      if (schema?.description && branches.some((b) => b.type === 'object')) {
        return { path, message: 'must be one of the allowed values', hint: `${String(schema.description).replace(/\.$/, '')}.` }
      }
      const allowed = [...consts, ...types]
      return { path, message: 'must be one of the allowed values', hint: `Use one of: ${allowed.join(', ')}.` }
    }
    case 'minItems':
      return { path, message: `must have at least ${String(p.limit)} item(s)`, hint: 'Add a value.' }
    default:
      return { path, message: e.message ?? 'is invalid', hint: `Check the value${described}.` }
  }
}

function article(type: string): string {
  if (type === 'integer') return 'an integer'
  if (type === 'object') return 'an object'
  if (type === 'array') return 'an array'
  return `a ${type}`
}

function rangeText(schema: Record<string, unknown> | undefined): string {
  if (schema?.exclusiveMinimum !== undefined && schema.maximum !== undefined) return `above ${String(schema.exclusiveMinimum)} and at most ${String(schema.maximum)}`
  const min = schema?.minimum
  const max = schema?.maximum
  if (min !== undefined && max !== undefined) return `from ${String(min)} to ${String(max)}`
  if (min !== undefined) return `of at least ${String(min)}`
  if (max !== undefined) return `of at most ${String(max)}`
  return 'in range'
}
