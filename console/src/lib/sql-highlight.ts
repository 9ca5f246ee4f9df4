/** A small tokenizer for EMQX rule SQL, for the editor's highlighted overlay (not a parser). */

export type TokenKind = 'keyword' | 'string' | 'number' | 'function' | 'comment' | 'operator' | 'identifier' | 'space' | 'other'

export interface Token {
  kind: TokenKind
  text: string
}

const KEYWORDS = new Set([
  'select', 'from', 'where', 'as', 'and', 'or', 'not', 'case', 'when', 'then', 'else', 'end', 'foreach', 'do',
  'incase', 'in', 'is', 'null', 'true', 'false', 'like', 'between', 'distinct', 'xor',
])

const RULES: Array<[TokenKind, RegExp]> = [
  ['space', /^\s+/],
  ['comment', /^(--[^\n]*|\/\*[\s\S]*?(\*\/|$))/],
  ['string', /^('(?:[^'\\]|\\.|'')*'?|"(?:[^"\\]|\\.)*"?)/],
  ['number', /^(0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/],
  ['identifier', /^[A-Za-z_$][A-Za-z0-9_$]*/],
  ['operator', /^(<>|!=|>=|<=|=~|[=<>+\-*/%,.()[\]{}])/],
]

export function tokenize(sql: string): Token[] {
  const out: Token[] = []
  let rest = sql
  while (rest.length > 0) {
    let matched = false
    for (const [kind, re] of RULES) {
      const m = re.exec(rest)
      if (!m || m[0].length === 0) continue
      let k: TokenKind = kind
      if (kind === 'identifier') {
        if (KEYWORDS.has(m[0].toLowerCase())) k = 'keyword'
        else if (/^\s*\(/.test(rest.slice(m[0].length))) k = 'function'
      }
      out.push({ kind: k, text: m[0] })
      rest = rest.slice(m[0].length)
      matched = true
      break
    }
    if (!matched) {
      out.push({ kind: 'other', text: rest.charAt(0) })
      rest = rest.slice(1)
    }
  }
  return out
}
