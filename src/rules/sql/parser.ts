/**
 * Recursive-descent parser for EMQX's rule SQL:
 *
 *   SELECT fields FROM sources [WHERE expr]
 *   FOREACH fields [DO fields] [INCASE expr] FROM sources [WHERE expr]
 *
 * Expression precedence, loosest first: OR, AND, NOT, comparisons / IN / =~ (not chainable),
 * + -, * / div mod, unary + -, then `.key` / `[index]` / `[a..b]` after a field, a call or a
 * parenthesised expression.
 *
 * Errors name the line, the column, what would have been accepted and what was found. Besides the
 * one expectation that failed, the parser remembers optional tokens it looked for at the same place
 * (a `,` that would continue a list, WHERE after FROM, ...) so the message lists every real option.
 */
import type { AliasPath, AliasStep, ArithOp, CompareOp, Expr, PathStep, SelectField, Source, Statement } from './ast.js'
import { RuleSqlError, syntaxError, type SourcePos } from './errors.js'
import { tokenize, type Token } from './lexer.js'

const COMPARE_OPS: ReadonlySet<string> = new Set(['=', '!=', '<>', '<', '>', '<=', '>=', '=~'])

export const EXPR = 'an expression'

const quoteLabel = (punct: string): string => JSON.stringify(punct)

export function parseRuleSql(sql: string): Statement {
  return new Parser(tokenize(sql)).statement()
}

class Parser {
  private i = 0
  /** Optional things looked for at token `softAt` (see the file comment). */
  private softAt = -1
  private soft: string[] = []

  constructor(private readonly tokens: readonly Token[]) {}

  // ---- statement ----------------------------------------------------------------------------

  statement(): Statement {
    const t = this.peek()
    if (this.isKeyword('SELECT')) {
      this.next()
      const fields = this.fields('SELECT')
      this.expectKeyword('FROM')
      const sources = this.sources()
      const where = this.acceptKeyword('WHERE') ? this.expr() : undefined
      this.expectEnd()
      return { kind: 'select', fields, sources, where }
    }
    if (this.isKeyword('FOREACH')) {
      this.next()
      const fields = this.fields('FOREACH')
      const doFields = this.acceptKeyword('DO') ? this.fields('DO') : undefined
      const incase = this.acceptKeyword('INCASE') ? this.expr() : undefined
      this.expectKeyword('FROM')
      const sources = this.sources()
      const where = this.acceptKeyword('WHERE') ? this.expr() : undefined
      this.expectEnd()
      return { kind: 'foreach', fields, doFields, incase, sources, where }
    }
    throw this.fail(['SELECT', 'FOREACH'], t)
  }

  private fields(clause: 'SELECT' | 'FOREACH' | 'DO'): SelectField[] {
    const out: SelectField[] = []
    do out.push(this.field(clause))
    while (this.acceptPunct(','))
    return out
  }

  private field(clause: 'SELECT' | 'FOREACH' | 'DO'): SelectField {
    const t = this.peek()
    if (this.isPunct('*')) {
      if (clause === 'FOREACH') throw new RuleSqlError(t.pos, 'FOREACH needs expressions (the last one gives the list to iterate), not *', [EXPR], t.text)
      this.next()
      return { kind: 'star', pos: t.pos }
    }
    const expr = this.expr()
    let alias: AliasPath | undefined
    if (this.acceptKeyword('AS', false)) alias = this.alias()
    else if (this.peek().kind === 'ident' || this.peek().kind === 'qname') alias = this.alias() // `SELECT a b`: AS is optional
    return { kind: 'field', expr, alias, pos: t.pos }
  }

  private alias(): AliasPath {
    const head = this.peek()
    if (head.kind !== 'ident' && head.kind !== 'qname' && head.kind !== 'string') throw this.fail(['an alias name'], head)
    this.next()
    const steps: AliasStep[] = [{ kind: 'key', key: head.value, pos: head.pos }]
    for (;;) {
      if (this.isPunct('.')) {
        this.next()
        const k = this.keyToken()
        steps.push({ kind: 'key', key: k.value, pos: k.pos })
      } else if (this.isPunct('[')) {
        this.next()
        const first = this.peek()
        if (this.isPunct('-') || this.isPunct('+') || first.kind === 'int') {
          const negative = this.isPunct('-')
          if (first.kind === 'punct') this.next()
          const n = this.peek()
          if (n.kind !== 'int') throw this.fail(['an integer index'], n)
          this.next()
          const value = Number(n.value)
          const index: number | 'head' | 'tail' = value === 0 ? (negative ? 'tail' : 'head') : negative ? -value : value
          steps.push({ kind: 'index', index, pos: first.pos })
        } else {
          const index = this.expr()
          steps.push({ kind: 'dynamic-index', index, pos: first.pos })
        }
        this.expectPunct(']')
      } else {
        return { steps, pos: head.pos }
      }
    }
  }

  private sources(): Source[] {
    const out: Source[] = []
    do {
      const t = this.peek()
      if (t.kind !== 'string' && t.kind !== 'qname' && t.kind !== 'ident') throw this.fail(['a topic in quotes'], t)
      this.next()
      out.push({ topic: t.value, pos: t.pos })
    } while (this.acceptPunct(','))
    return out
  }

  // ---- expressions --------------------------------------------------------------------------

  expr(): Expr {
    return this.or()
  }

  private or(): Expr {
    let left = this.and()
    while (this.isKeyword('OR')) {
      const pos = this.next().pos
      left = { kind: 'or', left, right: this.and(), pos }
    }
    return left
  }

  private and(): Expr {
    let left = this.not()
    while (this.isKeyword('AND')) {
      const pos = this.next().pos
      left = { kind: 'and', left, right: this.not(), pos }
    }
    return left
  }

  private not(): Expr {
    if (this.isKeyword('NOT')) {
      const pos = this.next().pos
      return { kind: 'not', operand: this.not(), pos }
    }
    return this.comparison()
  }

  private comparison(): Expr {
    const left = this.additive()
    const t = this.peek()
    if (t.kind === 'punct' && COMPARE_OPS.has(t.value)) {
      this.next()
      const right = this.additive()
      const after = this.peek()
      if (after.kind === 'punct' && COMPARE_OPS.has(after.value)) {
        throw new RuleSqlError(after.pos, `comparisons cannot be chained: use AND between them`, [], after.text)
      }
      return { kind: 'compare', op: t.value as CompareOp, left, right, pos: t.pos }
    }
    if (this.isKeyword('IN')) {
      this.next()
      return { kind: 'in', negated: false, operand: left, list: this.inList(), pos: t.pos }
    }
    if (this.isKeyword('NOT') && this.tokens[this.i + 1]?.kind === 'keyword' && this.tokens[this.i + 1]?.value === 'IN') {
      this.next()
      this.next()
      return { kind: 'in', negated: true, operand: left, list: this.inList(), pos: t.pos }
    }
    return left
  }

  private inList(): Expr[] {
    this.expectPunct('(')
    const items: Expr[] = []
    do items.push(this.expr())
    while (this.acceptPunct(','))
    this.expectPunct(')')
    return items
  }

  private additive(): Expr {
    let left = this.multiplicative()
    for (;;) {
      const t = this.peek()
      if (t.kind === 'punct' && (t.value === '+' || t.value === '-')) {
        this.next()
        left = { kind: 'binary', op: t.value, left, right: this.multiplicative(), pos: t.pos }
      } else return left
    }
  }

  private multiplicative(): Expr {
    let left = this.unary()
    for (;;) {
      const t = this.peek()
      let op: ArithOp | undefined
      if (t.kind === 'punct' && (t.value === '*' || t.value === '/')) op = t.value
      else if (t.kind === 'keyword' && (t.value === 'DIV' || t.value === 'MOD')) op = t.value === 'DIV' ? 'div' : 'mod'
      if (op === undefined) return left
      this.next()
      left = { kind: 'binary', op, left, right: this.unary(), pos: t.pos }
    }
  }

  private unary(): Expr {
    const t = this.peek()
    if (t.kind === 'punct' && (t.value === '-' || t.value === '+')) {
      this.next()
      return { kind: 'unary', op: t.value, operand: this.unary(), pos: t.pos }
    }
    return this.postfix()
  }

  private postfix(): Expr {
    const start = this.peek()
    const base = this.primary()
    // Like EMQX, `.` and `[]` follow names (and, here, calls and parentheses) but not literals.
    if (base.kind === 'literal' || base.kind === 'list' || base.kind === 'range' || base.kind === 'case') {
      if (start.kind !== 'punct' || start.value !== '(') return base
    }
    const steps: PathStep[] = []
    for (;;) {
      const t = this.peek()
      if (this.isPunct('.')) {
        this.next()
        const k = this.keyToken()
        // `module.function(...)`: EMQX's way to call a function of another Erlang module.
        if (this.isPunct('(') && base.kind === 'var' && steps.length === 0 && start.kind === 'ident') {
          return this.call(`${base.name}.${k.value}`, start.pos)
        }
        steps.push({ kind: 'key', key: k.value, pos: k.pos })
      } else if (this.isPunct('[')) {
        const range = this.rangeAhead()
        if (range !== undefined) {
          const target: Expr = steps.length === 0 ? base : { kind: 'path', base, steps, pos: start.pos }
          return { kind: 'slice', target, from: range.from, to: range.to, pos: t.pos }
        }
        this.next()
        const index = this.expr()
        this.expectPunct(']')
        steps.push({ kind: 'index', index, pos: t.pos })
      } else break
    }
    return steps.length === 0 ? base : { kind: 'path', base, steps, pos: start.pos }
  }

  private primary(): Expr {
    const t = this.peek()
    switch (t.kind) {
      case 'int':
      case 'float':
        this.next()
        return { kind: 'literal', value: Number(t.value), pos: t.pos }
      case 'string':
        this.next()
        return { kind: 'literal', value: t.value, pos: t.pos }
      case 'qname':
        this.next()
        return { kind: 'var', name: t.value, pos: t.pos }
      case 'ident':
        this.next()
        if (this.isPunct('(')) return this.call(t.value, t.pos)
        return { kind: 'var', name: t.value, pos: t.pos }
      case 'keyword':
        if (t.value === 'TRUE' || t.value === 'FALSE') {
          this.next()
          return { kind: 'literal', value: t.value === 'TRUE', pos: t.pos }
        }
        if ((t.value === 'DIV' || t.value === 'MOD') && this.tokens[this.i + 1]?.text === '(') {
          // div(7, 2) and mod(3, 2): EMQX accepts the operators in function form too.
          this.next()
          return this.call(t.value.toLowerCase(), t.pos)
        }
        if (t.value === 'CASE') return this.caseExpr()
        break
      case 'punct':
        if (t.value === '(') {
          this.next()
          const inner = this.expr()
          this.expectPunct(')')
          return inner
        }
        if (t.value === '[') {
          const range = this.rangeAhead()
          if (range !== undefined) return { kind: 'range', from: range.from, to: range.to, pos: t.pos }
          this.next()
          const items: Expr[] = []
          if (!this.acceptPunct(']', false)) {
            do items.push(this.expr())
            while (this.acceptPunct(','))
            this.expectPunct(']')
          }
          return { kind: 'list', items, pos: t.pos }
        }
        break
      default:
        break
    }
    throw this.fail([EXPR], t)
  }

  private call(name: string, pos: SourcePos): Expr {
    this.expectPunct('(')
    const args: Expr[] = []
    if (!this.acceptPunct(')', false)) {
      do args.push(this.expr())
      while (this.acceptPunct(','))
      this.expectPunct(')')
    }
    return { kind: 'call', name, args, pos }
  }

  private caseExpr(): Expr {
    const pos = this.next().pos
    const subject = this.isKeyword('WHEN') ? undefined : this.expr()
    const whens: { when: Expr; then: Expr }[] = []
    this.expectKeyword('WHEN')
    do {
      const when = this.expr()
      this.expectKeyword('THEN')
      whens.push({ when, then: this.expr() })
    } while (this.acceptKeyword('WHEN'))
    const otherwise = this.acceptKeyword('ELSE') ? this.expr() : undefined
    this.expectKeyword('END')
    return { kind: 'case', subject, whens, otherwise, pos }
  }

  /** `[a..b]` with optionally signed integers, starting at the current `[`: consumes it and returns the ends. */
  private rangeAhead(): { from: number; to: number } | undefined {
    let j = this.i + 1
    const int = (): number | undefined => {
      let sign = 1
      const s = this.tokens[j]
      if (s?.kind === 'punct' && (s.value === '-' || s.value === '+')) {
        sign = s.value === '-' ? -1 : 1
        j++
      }
      const n = this.tokens[j]
      if (n?.kind !== 'int') return undefined
      j++
      return sign * Number(n.value)
    }
    const from = int()
    if (from === undefined || this.tokens[j]?.text !== '..') return undefined
    j++
    const to = int()
    if (to === undefined) {
      this.i = j
      throw this.fail(['an integer'], this.peek())
    }
    if (this.tokens[j]?.text !== ']') {
      this.i = j
      throw this.fail([quoteLabel(']')], this.peek())
    }
    this.i = j + 1
    return { from, to }
  }

  /** A key after `.`: a name, an integer (`a.1` is the key "1") or a quoted string (`a.'from'` for a keyword). */
  private keyToken(): Token {
    const t = this.peek()
    if (t.kind === 'ident' || t.kind === 'int' || t.kind === 'string' || t.kind === 'qname') {
      this.next()
      return t
    }
    throw this.fail(['a field name'], t)
  }

  // ---- token helpers ------------------------------------------------------------------------

  private peek(): Token {
    const t = this.tokens[this.i]!
    if (t.kind === 'unterminated') {
      const q = t.text[0]!
      throw new RuleSqlError(t.pos, `${q === "'" ? 'string' : 'quoted name'} is not closed: the closing ${q} is missing`, [q], undefined)
    }
    return t
  }

  private next(): Token {
    const t = this.peek()
    if (t.kind !== 'eof') this.i++
    return t
  }

  private isKeyword(k: string): boolean {
    const t = this.peek()
    return t.kind === 'keyword' && t.value === k
  }

  private isPunct(p: string): boolean {
    const t = this.peek()
    return t.kind === 'punct' && t.value === p
  }

  private remember(label: string): void {
    if (this.softAt !== this.i) {
      this.softAt = this.i
      this.soft = []
    }
    if (!this.soft.includes(label)) this.soft.push(label)
  }

  private acceptKeyword(k: string, record = true): boolean {
    if (this.isKeyword(k)) {
      this.next()
      return true
    }
    if (record) this.remember(k)
    return false
  }

  private acceptPunct(p: string, record = true): boolean {
    if (this.isPunct(p)) {
      this.next()
      return true
    }
    if (record) this.remember(quoteLabel(p))
    return false
  }

  private expectKeyword(k: string): void {
    if (!this.isKeyword(k)) throw this.fail([k], this.peek())
    this.next()
  }

  private expectPunct(p: string): void {
    if (!this.isPunct(p)) throw this.fail([quoteLabel(p)], this.peek())
    this.next()
  }

  private expectEnd(): void {
    const t = this.peek()
    if (t.kind !== 'eof') throw this.fail(['end of input'], t)
  }

  private fail(expected: readonly string[], t: Token): RuleSqlError {
    const all = [...expected]
    if (this.softAt === this.i) for (const s of this.soft) if (!all.includes(s)) all.push(s)
    return syntaxError(t.pos, all, t.kind === 'eof' ? undefined : t.text)
  }
}
