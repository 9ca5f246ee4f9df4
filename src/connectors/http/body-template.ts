import { compileTemplate, parsePath, readPath, toText, TemplateError, type Render } from '../../connector-api/index.js'

/** Literal text, or a placeholder rendered as a JSON value, as a whole JSON string, or escaped inside one. */
type Part = string | { readonly path: ReturnType<typeof parsePath>; readonly as: 'value' | 'string' | 'inString' }

/**
 * The request body. Without a template: the rule output as JSON. A template starting with `{` or
 * `[` is JSON: a bare placeholder renders as a JSON value (missing: null), `"${x}"` as a JSON
 * string (missing: null), one inside a longer string as escaped text, so message data never
 * leaves its place. Other templates are text (missing: null).
 */
export function compileBody(template: string | undefined): { render: Render; json: boolean } {
  if (template === undefined) return { render: outputAsJson, json: true }
  if (!/^\s*[{[]/.test(template)) return { render: compileTemplate(template), json: false }
  const parts = scan(template)
  const render: Render = (o) => parts.map((p) => (typeof p === 'string' ? p : renderValue(readPath(o, p.path), p.as))).join('')
  try {
    JSON.parse(render({}))
  } catch (err) {
    throw new TemplateError(`the body template starts like JSON but is not JSON (${(err as Error).message}); fix it, or start it otherwise to send text`)
  }
  return { render, json: true }
}

/** Splits a JSON template at its placeholders, tracking whether each sits inside a string. */
function scan(template: string): Part[] {
  const parts: Part[] = []
  let text = ''
  let inString = false
  let openedAt = -1
  for (let i = 0; i < template.length; i++) {
    const end = template[i] === '$' && template[i + 1] === '{' ? template.indexOf('}', i) : -1
    if (end > 0) {
      const whole = inString && text.length === openedAt && template[end + 1] === '"'
      if (whole) text = text.slice(0, -1)
      if (text) parts.push(text)
      parts.push({ path: parsePath(template.slice(i + 2, end).trim()), as: whole ? 'string' : inString ? 'inString' : 'value' })
      text = ''
      openedAt = -1
      if (whole) [i, inString] = [end + 1, false]
      else i = end
      continue
    }
    text += template[i]
    if (inString && template[i] === '\\') text += template[++i] ?? ''
    else if (template[i] === '"') [inString, openedAt] = [!inString, text.length]
  }
  if (text) parts.push(text)
  return parts
}

function renderValue(v: unknown, as: 'value' | 'string' | 'inString'): string {
  if (as === 'inString') return JSON.stringify(toText(v)).slice(1, -1)
  if (v === undefined || v === null) return 'null'
  if (as === 'string' || Buffer.isBuffer(v)) return JSON.stringify(toText(v))
  if (typeof v === 'string') return isJsonDocument(v) ? v : JSON.stringify(v)
  return typeof v === 'bigint' ? v.toString() : (JSON.stringify(v) ?? 'null')
}

/** A string holding a JSON object or array (a raw payload) goes in as that JSON, as EMQX does. */
function isJsonDocument(s: string): boolean {
  try {
    return /^\s*[{[]/.test(s) && JSON.parse(s) !== undefined
  } catch {
    return false
  }
}

function outputAsJson(o: Readonly<Record<string, unknown>>): string {
  try {
    return JSON.stringify(o)
  } catch {
    // a BigInt (the only value JSON.stringify refuses in a rule output) as its digits
    return JSON.stringify(o, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))
  }
}
