/**
 * The placeholders a rule's output offers its actions, read from the SQL's SELECT list, so the
 * help next to a template names this rule's fields (`${temp}` after `payload.temp AS temp`) rather
 * than the connector's generic example. `*` (the whole event) gives null: any field of it works.
 */
export function sqlOutputNames(sql: string): string[] | null {
  const m = /\bSELECT\b([\s\S]*?)\bFROM\b/i.exec(stripComments(sql))
  if (!m?.[1]) return []
  const names: string[] = []
  for (const item of splitTopLevel(m[1])) {
    const expr = item.trim()
    if (expr === '') continue
    if (expr === '*') return null
    const alias = /\bAS\s+("?)([\w.$-]+)\1\s*$/i.exec(expr)
    if (alias?.[2]) names.push(alias[2])
    // A bare path keeps its shape in the output: `payload.temp` is `${payload.temp}`.
    else if (/^[A-Za-z_][\w]*(\.[\w]+)*$/.test(expr)) names.push(expr)
  }
  return [...new Set(names)]
}

function stripComments(sql: string): string {
  return sql.replace(/--[^\n]*/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ')
}

/** Splits on commas outside parentheses and quotes. */
function splitTopLevel(s: string): string[] {
  const out: string[] = []
  let depth = 0
  let quote: string | null = null
  let cur = ''
  for (const ch of s) {
    if (quote) {
      if (ch === quote) quote = null
    } else if (ch === "'" || ch === '"') quote = ch
    else if (ch === '(') depth++
    else if (ch === ')') depth--
    else if (ch === ',' && depth === 0) {
      out.push(cur)
      cur = ''
      continue
    }
    cur += ch
  }
  out.push(cur)
  return out
}
