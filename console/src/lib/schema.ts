/**
 * Helpers for forms generated from the JSON Schemas the API serves (connector config, action
 * params). The form keeps raw values: strings for text, number and select inputs, booleans for
 * checkboxes, [key, value] rows for maps; `toPayload` turns them into what the API expects.
 */

/** A JSON Schema node as the API serves it (TypeBox output): only what the form generator reads. */
export interface JsonSchema {
  type?: string | string[]
  title?: string
  description?: string
  default?: unknown
  enum?: unknown[]
  const?: unknown
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  properties?: Record<string, JsonSchema>
  patternProperties?: Record<string, JsonSchema>
  required?: string[]
  writeOnly?: boolean
  minimum?: number
  maximum?: number
  minLength?: number
  maxLength?: number
  pattern?: string
  examples?: unknown[]
  if?: JsonSchema
  then?: JsonSchema
  else?: JsonSchema
}

export type FieldKind = 'object' | 'map' | 'boolean' | 'integer' | 'number' | 'enum' | 'string' | 'json'

export type FormValue = string | boolean | FormObject | MapRows
export interface FormObject {
  [key: string]: FormValue
}
export type MapRows = Array<[string, string]>

const ACRONYMS: Record<string, string> = {
  id: 'ID', ca: 'CA', tls: 'TLS', ssl: 'SSL', sql: 'SQL', qos: 'QoS', mqtt: 'MQTT', url: 'URL', ttl: 'TTL',
  sni: 'SNI', sasl: 'SASL', api: 'API', http: 'HTTP', ip: 'IP', dns: 'DNS',
}

/** `bootstrapServers` -> "Bootstrap servers", `connectTimeoutMs` -> "Connect timeout (ms)", `tls` -> "TLS". */
export function humanise(key: string): string {
  let unit = ''
  let base = key
  const m = /^(.*[a-z0-9])(Ms|S)$/.exec(key)
  if (m && m[1]) {
    base = m[1]
    unit = m[2] === 'Ms' ? ' (ms)' : ' (s)'
  }
  const words = base
    .replace(/[_-]+/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .trim()
    .split(/\s+/)
    .map((w) => ACRONYMS[w.toLowerCase()] ?? w.toLowerCase())
  const first = words[0] ?? ''
  if (first && first === first.toLowerCase()) words[0] = first.charAt(0).toUpperCase() + first.slice(1)
  return words.join(' ') + unit
}

export function fieldLabel(key: string, schema: JsonSchema): string {
  return schema.title ?? humanise(key)
}

function typeOf(schema: JsonSchema): string | undefined {
  return Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type
}

/** The values of an enum, or of `anyOf`/`oneOf` made of consts (TypeBox unions of literals). */
export function enumOptions(schema: JsonSchema): unknown[] | undefined {
  if (schema.enum) return schema.enum
  const alts = schema.anyOf ?? schema.oneOf
  if (alts && alts.length > 0 && alts.every((a) => a.const !== undefined || (a.enum && a.enum.length === 1))) {
    return alts.map((a) => (a.const !== undefined ? a.const : a.enum?.[0]))
  }
  return undefined
}

export function fieldKind(schema: JsonSchema): FieldKind {
  if (enumOptions(schema)) return 'enum'
  const t = typeOf(schema)
  if (t === 'object') return schema.properties ? 'object' : 'map'
  if (t === 'boolean') return 'boolean'
  if (t === 'integer') return 'integer'
  if (t === 'number') return 'number'
  if (t === 'string') return 'string'
  return 'json'
}

/** PEM blocks, SQL and payload templates get a multi-line text area. */
export function isMultiline(key: string, schema: JsonSchema): boolean {
  return ['sql', 'payload', 'value', 'body'].includes(key) || /\bPEM\b/.test(schema.description ?? '')
}

/** Connector params are templates: "Topic template", "SQL template" (and never just "Topic"). */
export function paramLabel(key: string, schema: JsonSchema): string {
  const label = fieldLabel(key, schema)
  if (fieldKind(schema) === 'string' && /template|placeholder/i.test(schema.description ?? '')) return `${label} template`
  return label
}

/**
 * Fields shown before "Advanced settings": top-level scalars that are required and have no
 * default, plus credentials (user name and secrets), which almost every connection needs.
 */
export function isPrimaryField(key: string, schema: JsonSchema, required: boolean): boolean {
  const kind = fieldKind(schema)
  if (kind === 'object' || kind === 'map') return false
  if (required && schema.default === undefined) return true
  // The port is part of the address: a non-standard one is common and must not hide under "Advanced".
  return schema.writeOnly === true || key === 'username' || key === 'port'
}

/** Required fields of an object schema for the current values (follows a simple `if/then/else`). */
export function requiredKeys(schema: JsonSchema, values: FormObject | undefined): Set<string> {
  const out = new Set(schema.required ?? [])
  if (schema.if && (schema.then || schema.else)) {
    const branch = conditionHolds(schema.if, values ?? {}) ? schema.then : schema.else
    for (const k of branch?.required ?? []) out.add(k)
  }
  return out
}

function conditionHolds(cond: JsonSchema, values: FormObject): boolean {
  for (const [k, sub] of Object.entries(cond.properties ?? {})) {
    const v = values[k]
    if (sub.const !== undefined && typeof v === 'string' && v !== String(sub.const)) return false
    if (sub.const !== undefined && typeof v === 'boolean' && v !== sub.const) return false
  }
  for (const k of cond.required ?? []) if (values[k] === undefined || values[k] === '') return false
  return true
}

/** The form's starting values: from `existing` (edit) or the schema's defaults (create). */
export function initialValues(schema: JsonSchema, existing?: Record<string, unknown>): FormObject {
  const out: FormObject = {}
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    const cur = existing?.[key]
    switch (fieldKind(sub)) {
      case 'object':
        out[key] = initialValues(sub, isRecord(cur) ? cur : isRecord(sub.default) ? sub.default : undefined)
        break
      case 'map':
        out[key] = isRecord(cur) ? Object.entries(cur).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)]) : []
        break
      case 'boolean':
        out[key] = typeof cur === 'boolean' ? cur : sub.default === true
        break
      case 'enum':
        out[key] = cur !== undefined ? String(cur) : sub.default !== undefined ? String(sub.default) : ''
        break
      case 'json':
        out[key] = cur !== undefined ? JSON.stringify(cur) : ''
        break
      default:
        // Text and numbers start empty on create: the default shows as the placeholder and the
        // server fills it in; on edit they show the stored value (secrets as "******"), except
        // a value equal to the default, which stays a placeholder so it does not read as set.
        out[key] = cur === undefined || cur === null || (existing !== undefined && isDefaultValue(sub, cur)) ? '' : String(cur)
    }
  }
  return out
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Raw form values -> the JSON the API takes. Empty inputs are left out (the server applies defaults). */
export function toPayload(schema: JsonSchema, values: FormObject): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    const raw = values[key]
    if (raw === undefined) continue
    switch (fieldKind(sub)) {
      case 'object': {
        const nested = toPayload(sub, isFormObject(raw) ? raw : {})
        if (Object.keys(nested).length > 0) out[key] = nested
        break
      }
      case 'map': {
        const rows = Array.isArray(raw) ? raw : []
        const entries = rows.filter(([k]) => k.trim() !== '')
        if (entries.length > 0) out[key] = Object.fromEntries(entries)
        break
      }
      case 'boolean':
        out[key] = raw === true
        break
      case 'enum': {
        if (raw === '') break
        const opt = (enumOptions(sub) ?? []).find((o) => String(o) === raw)
        out[key] = opt !== undefined ? opt : raw
        break
      }
      case 'integer':
      case 'number': {
        if (typeof raw !== 'string' || raw.trim() === '') break
        const n = Number(raw)
        // Not a number: send the text so the server names the field and says why.
        out[key] = Number.isFinite(n) ? n : raw
        break
      }
      case 'json': {
        if (typeof raw !== 'string' || raw.trim() === '') break
        try {
          out[key] = JSON.parse(raw)
        } catch {
          out[key] = raw
        }
        break
      }
      default:
        if (typeof raw === 'string' && raw !== '') out[key] = raw
    }
  }
  return out
}

function isFormObject(v: FormValue): v is FormObject {
  return typeof v === 'object' && !Array.isArray(v)
}

export function asFormObject(v: FormValue | undefined): FormObject {
  return v !== undefined && isFormObject(v) ? v : {}
}

/** Is `value` (from a GET with defaults filled) the schema's default? */
export function isDefaultValue(schema: JsonSchema, value: unknown): boolean {
  if (schema.default === undefined) return false
  return JSON.stringify(schema.default) === JSON.stringify(value)
}

/** Field errors by path ("config.port") -> message; `prefix` keeps those under one part of the request. */
export function errorsUnder(errors: Record<string, string>, prefix: string): string[] {
  return Object.keys(errors).filter((p) => p === prefix || p.startsWith(`${prefix}.`))
}
