/**
 * TypeScript declarations from the API's OpenAPI document, for clients (the console) that would
 * otherwise keep hand-written copies of the shapes: one type per component schema (by its title)
 * and per route, its path parameters, body and success answer. Covers what the document uses:
 * objects, arrays, enums, anyOf/oneOf, nullable, $ref to components.
 */

type Schema = Record<string, unknown>
interface Document { paths: Record<string, Record<string, Schema>>; components?: { schemas?: Record<string, Schema> } }

export function openApiToTypeScript(doc: Document): string {
  const components = doc.components?.schemas ?? {}
  const refName = (ref: string) => {
    const key = ref.split('/').pop()!
    return componentName(components[key] ?? {}, key)
  }
  const out: string[] = [
    '// Generated from GET /api/v1/openapi.json by `npm run generate:api-types`; do not edit.',
    '// test/api/generated-types.test.ts fails when it is not up to date.',
    '/* eslint-disable */',
    '',
  ]
  for (const [key, schema] of Object.entries(components)) {
    out.push(`${doc_(schema, '')}export type ${componentName(schema, key)} = ${render(schema, '', refName)}`, '')
  }
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue
      const base = typeName(`${method} ${path.replace(/^\/api\/v1/, '').replace(/[{}]/g, '')}`)
      const summary = typeof op.summary === 'string' ? `/** ${method.toUpperCase()} ${path}: ${op.summary} */\n` : `/** ${method.toUpperCase()} ${path} */\n`
      const params = (op.parameters as Schema[] | undefined)?.filter((p) => p.in === 'path') ?? []
      if (params.length > 0) {
        out.push(`${summary}export interface ${base}Params {\n${params.map((p) => `  ${p.name}: ${render(p.schema as Schema, '  ', refName)}`).join('\n')}\n}`, '')
      }
      const body = ((op.requestBody as Schema | undefined)?.content as Record<string, Schema> | undefined)?.['application/json']?.schema as Schema | undefined
      if (body) out.push(`${summary}export type ${base}Body = ${render(body, '', refName)}`, '')
      const responses = (op.responses ?? {}) as Record<string, Schema>
      const ok = Object.keys(responses).find((s) => /^2\d\d$/.test(s) && s !== '204')
      const answer = ok ? ((responses[ok]!.content as Record<string, Schema> | undefined)?.['application/json']?.schema as Schema | undefined) : undefined
      if (answer) out.push(`${summary}export type ${base}Response = ${render(answer, '', refName)}`, '')
    }
  }
  return out.join('\n')
}

/** A component's title as a type name; `Error` would shadow the global Error in the module. */
function componentName(schema: Schema, key: string): string {
  const name = typeName(String(schema.title ?? key))
  return name === 'Error' ? 'ErrorBody' : name
}

function typeName(words: string): string {
  return words.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')
}

function doc_(schema: Schema, indent: string): string {
  const d = schema.description
  return typeof d === 'string' ? `${indent}/** ${d.replace(/\*\//g, '* /').replace(/\n/g, ' ')} */\n` : ''
}

function render(schema: Schema | undefined, indent: string, refName: (ref: string) => string): string {
  if (!schema) return 'unknown'
  const nullable = schema.nullable === true ? ' | null' : ''
  if (typeof schema.$ref === 'string') return refName(schema.$ref) + nullable
  const branches = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined
  if (branches) return `(${branches.map((b) => render(b, indent, refName)).join(' | ')})${nullable}`
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ') + nullable
  if ('const' in schema) return JSON.stringify(schema.const) + nullable
  switch (schema.type) {
    case 'string': return `string${nullable}`
    case 'integer': case 'number': return `number${nullable}`
    case 'boolean': return `boolean${nullable}`
    case 'null': return 'null'
    case 'array': return `Array<${render(schema.items as Schema, indent, refName)}>${nullable}`
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, Schema>
      const required = new Set((schema.required ?? []) as string[])
      const inner = `${indent}  `
      const lines = Object.entries(props).map(([k, p]) => `${doc_(p, inner)}${inner}${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}${required.has(k) ? '' : '?'}: ${render(p, inner, refName)}`)
      const extra = schema.additionalProperties
      if (extra !== false && (extra !== undefined || lines.length === 0)) {
        lines.push(`${inner}[key: string]: ${typeof extra === 'object' && extra !== null && Object.keys(extra).length > 0 ? `${render(extra as Schema, inner, refName)} | undefined` : 'unknown'}`)
      }
      return (lines.length === 0 ? '{}' : `{\n${lines.join('\n')}\n${indent}}`) + nullable
    }
    default: return 'unknown'
  }
}
