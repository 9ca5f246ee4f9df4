/**
 * A connector type's fields, defaults and descriptions as help text, read from the JSON Schema
 * the server serves at GET /api/v1/connector-types (the one the API validates with).
 */

type Schema = Record<string, any>

export interface ConnectorType {
  type: string
  title: string
  summary: string
  configSchema: Schema
  paramsSchema?: Schema
}

function typeName(s: Schema): string {
  if (s.enum) return (s.enum as unknown[]).map((v) => JSON.stringify(v)).join(' | ')
  if (s.const !== undefined) return JSON.stringify(s.const)
  if (Array.isArray(s.anyOf)) return [...new Set((s.anyOf as Schema[]).map(typeName))].join(' | ')
  if (s.type === 'array') return `${s.items ? typeName(s.items) : 'any'}[]`
  if (Array.isArray(s.type)) return s.type.join(' | ')
  return s.type ?? 'any'
}

function bounds(s: Schema): string {
  const parts: string[] = []
  if (s.minimum !== undefined && s.maximum !== undefined) parts.push(`${s.minimum}..${s.maximum}`)
  else if (s.minimum !== undefined) parts.push(`>= ${s.minimum}`)
  else if (s.maximum !== undefined) parts.push(`<= ${s.maximum}`)
  return parts.join(' ')
}

/** One line per field (nested objects as `tls.enable`), with what it takes and its default. */
export function fieldLines(schema: Schema, prefix = ''): string[] {
  const props = (schema.properties ?? {}) as Record<string, Schema>
  const required = new Set<string>(schema.required ?? [])
  const lines: string[] = []
  for (const [name, s] of Object.entries(props)) {
    const path = prefix + name
    if (s.type === 'object' && s.properties) {
      lines.push(`  ${path}  (object)${s.description ? `  ${s.description}` : ''}`)
      lines.push(...fieldLines(s, `${path}.`))
      continue
    }
    const notes: string[] = []
    // A field the schema requires but fills in itself is not the user's to give.
    if (required.has(name) && s.default === undefined) notes.push('required')
    if (s.default !== undefined) notes.push(`default ${JSON.stringify(s.default)}`)
    if (s.writeOnly) notes.push('secret')
    const b = bounds(s)
    if (b) notes.push(b)
    lines.push(`  ${path}  <${typeName(s)}>${notes.length ? `  [${notes.join(', ')}]` : ''}`)
    if (s.description) lines.push(`      ${s.description}`)
  }
  return lines
}

export function connectorTypeHelp(t: ConnectorType): string {
  const example = exampleSpec(t)
  return [
    `Connector type ${t.type}: ${t.title}`,
    t.summary,
    '',
    'config fields (from GET /api/v1/connector-types):',
    ...fieldLines(t.configSchema),
    '',
    'Example spec.json (required fields only; the rest take their defaults):',
    JSON.stringify(example, null, 2),
    '',
  ].join('\n')
}

/** `connectors types X`: the config fields, then what a rule action through this type takes. */
export function connectorTypeDetails(t: ConnectorType): string {
  const params = t.paramsSchema?.properties ? ['rule action params (actions[].params of a rule sending through this type):', ...fieldLines(t.paramsSchema), ''] : []
  return [connectorTypeHelp(t), ...params].join('\n')
}

function exampleSpec(t: ConnectorType): unknown {
  const config: Record<string, unknown> = {}
  const schema = t.configSchema
  for (const name of schema.required ?? []) {
    const s = (schema.properties ?? {})[name] as Schema | undefined
    if (!s || s.default !== undefined) continue
    config[name] = s.examples?.[0] ?? (s.enum ? s.enum[0] : s.type === 'integer' || s.type === 'number' ? 0 : s.type === 'boolean' ? false : '...')
  }
  return { name: `my-${t.type}`, type: t.type, config }
}
