import { parsePath, readPath, toText, TemplateError, type Render } from '../../connector-api/index.js'

type Path = ReturnType<typeof parsePath>
/** Literal text, or a placeholder rendered as a JSON value, as a whole JSON string, or inside one. */
type Part = string | { readonly path: Path; readonly as: 'value' | 'string' | 'inString' }

/**
 * The request body. Without a template: the rule output as JSON. A template starting with `{` or
 * `[` is JSON: a bare placeholder renders as a JSON value (missing: null), `"${x}"` as a JSON
 * string (missing: null), one inside a longer string as escaped text; so message data never
 * breaks out of its place. Other templates are text (missing: null).
 */
export function compileBody(template: string | undefined): { render: Render; json: boolean } {
  if (template === undefined) return { render: outputAsJson, json: true }
  const start = template.trimStart()[0]
  if (start !== '{' && start !== '[') {
    const parts = scan(template, false)
    return { json: false, render: (o) => parts.map((p) => (typeof p === 'string' ? p : toText(readPath(o, p.path)))).join('') }
  }
  const parts = scan(template, true)
  const render: Render = (o) => {
    let s = ''
    for (const p of parts) s += typeof p === 'string' ? p : renderJson(readPath(o, p.path), p.as)
    return s
  }
  try {
    JSON.parse(render({}))
  } catch (err) {
    throw new TemplateError(`the body template starts like JSON but is not JSON (${(err as Error).message}); fix it, or start it with something else to send text`)
  }
  return { render, json: true }
}

function scan(template: string, json: boolean): Part[] {
  const parts: Part[] = []
  let text = ''
  let inString = false
  let openedAt = -1
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!
    if (c === '$' && template[i + 1] === '{' && template.indexOf('}', i) > 0) {
      const end = template.indexOf('}', i)
      const path = parsePath(template.slice(i + 2, end).trim())
      const whole = json && inString && text.length === openedAt && template[end + 1] === '"'
      if (whole) text = text.slice(0, -1)
      if (text) parts.push(text)
      text = ''
      openedAt = -1
      parts.push({ path, as: !json ? 'inString' : whole ? 'string' : inString ? 'inString' : 'value' })
      i = whole ? end + 1 : end
      if (whole) inString = false
      continue
    }
    text += c
    if (!json) continue
    if (inString && c === '\\') text += template[++i] ?? ''
    else if (c === '"') {
      inString = !inString
      openedAt = text.length
    }
  }
  if (text) parts.push(text)
  return parts
}

function renderJson(v: unknown, as: 'value' | 'string' | 'inString'): string {
  if (as === 'inString') return JSON.stringify(toText(v)).slice(1, -1)
  if (v === undefined || v === null) return 'null'
  if (as === 'string') return JSON.stringify(toText(v))
  if (typeof v === 'string') return embeddedJson(v) ?? JSON.stringify(v)
  if (typeof v === 'bigint') return v.toString()
  if (Buffer.isBuffer(v)) return JSON.stringify(v.toString('utf8'))
  return JSON.stringify(v) ?? 'null'
}

/** A string holding a JSON object or array (a raw payload) goes in as that JSON, as EMQX does. */
function embeddedJson(s: string): string | undefined {
  const c = s.trimStart()[0]
  if (c !== '{' && c !== '[') return undefined
  try {
    JSON.parse(s)
    return s
  } catch {
    return undefined
  }
}

function outputAsJson(o: Readonly<Record<string, unknown>>): string {
  try {
    return JSON.stringify(o)
  } catch {
    return JSON.stringify(o, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))
  }
}
