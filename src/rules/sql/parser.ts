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
import { MAX_SQL_DEPTH, MAX_SQL_LENGTH } from '../limits.js'
import type { AliasPath, AliasStep, ArithOp, CompareOp, Expr, PathStep, SelectField, Source, Statement } from './ast.js'
import { RuleSqlError, syntaxError, type SourcePos } from './errors.js'
import { tokenize, type Token } from './lexer.js'

/**
 * The deepest expression tree accepted. Nesting (parentheses, calls, lists, NOT, unary signs) is
 * held to MAX_SQL_DEPTH while parsing, which keeps the parser's own recursion small; a chain of
 * operators (`a OR b OR c ...`) is a loop there but a deep tree for the compiler and the
 * evaluator, which recurse on it, so the whole tree is held to this.
 */
export const MAX_SQL_TREE_DEPTH = 1000

const COMPARE_OPS: ReadonlySet<string> = new Set(['=', '!=', '<>', '<', '>', '<=', '>=', '=~'])

export const EXPR = 'an expression'

const quoteLabel = (punct: string): string => JSON.stringify(punct)

export function parseRuleSql(sql: string): Statement {
  if (sql.length > MAX_SQL_LENGTH) {
    throw new RuleSqlError(positionOf(sql, MAX_SQL_LENGTH), `the SQL is too long: ${sql.length} characters, at most ${MAX_SQL_LENGTH}`, [], undefined, 'Shorten the statement: split it into several rules.')
  }
  const stmt = new Parser(tokenize(sql)).statement()
  checkTreeDepth(stmt)
  return stmt
}

function positionOf(text: string, offset: number): SourcePos {
  let line = 1
  let lineStart = 0
  for (let i = 0; i < offset; i++) {
    if (text.charCodeAt(i) === 10) {
      line++
      lineStart = i + 1
    }
  }
  return { offset, line, column: Array.from(text.slice(lineStart, offset)).length + 1 }
}

const NESTING_HINT = `Rule SQL may nest parentheses, function calls, lists, CASE, NOT and signs at most ${MAX_SQL_DEPTH} levels deep; compute parts in earlier SELECT fields (AS name) and use the names.`

function children(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case 'literal':
    case 'var':
    case 'range':
      return []
    case 'path':
      return [e.base, ...e.steps.flatMap((s) => (s.kind === 'index' ? [s.index] : []))]
    case 'slice':
      return [e.target]
    case 'call':
      return e.args
    case 'unary':
    case 'not':
      return [e.operand]
    case 'binary':
    case 'compare':
    case 'and':
    case 'or':
      return [e.left, e.right]
    case 'in':
      return [e.operand, ...e.list]
    case 'list':
      return e.items
    case 'case':
      return [...(e.subject === undefined ? [] : [e.subject]), ...e.whens.flatMap((w) => [w.when, w.then]), ...(e.otherwise === undefined ? [] : [e.otherwise])]
  }
}

/** Rejects a statement whose expression trees are deeper than MAX_SQL_TREE_DEPTH (walked without recursion). */
function checkTreeDepth(stmt: Statement): void {
  const roots: Expr[] = []
  const fields = stmt.kind === 'select' ? stmt.fields : [...stmt.fields, ...(stmt.doFields ?? [])]
  for (const f of fields) {
    if (f.kind !== 'field') continue
    roots.push(f.expr)
    for (const step of f.alias?.steps ?? []) if (step.kind === 'dynamic-index') roots.push(step.index)
  }
  if (stmt.where !== undefined) roots.push(stmt.where)
  if (stmt.kind === 'foreach' && stmt.incase !== undefined) roots.push(stmt.incase)
  const stack: [Expr, number][] = roots.map((r) => [r, 1])
  while (stack.length > 0) {
    const [e, depth] = stack.pop()!
    if (depth > MAX_SQL_TREE_DEPTH) {
      throw new RuleSqlError(e.pos, `the expression is too deeply nested (more than ${MAX_SQL_TREE_DEPTH} levels of operators and operands)`, [], undefined, 'Split long chains of operators: compute parts in earlier SELECT fields (AS name), or use IN (...) instead of many ORs.')
    }
    for (const c of children(e)) stack.push([c, depth + 1])
  }
}

class Parser {
  private i = 0
  /** How deeply the expression being parsed is nested (see MAX_SQL_DEPTH). */
  private depth = 0
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
    this.enter()
    try {
      return this.or()
    } finally {
      this.depth--
    }
  }

  /** One level deeper; too deep is an error here, before the recursion can exhaust the stack. */
  private enter(): void {
    if (++this.depth > MAX_SQL_DEPTH) {
      const t = this.peek()
      throw new RuleSqlError(t.pos, `the expression is nested too deeply (more than ${MAX_SQL_DEPTH} levels)`, [], t.kind === 'eof' ? undefined : t.text, NESTING_HINT)
    }
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
      this.enter()
      try {
        return { kind: 'not', operand: this.not(), pos }
      } finally {
        this.depth--
      }
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
      this.enter()
      try {
        return { kind: 'unary', op: t.value, operand: this.unary(), pos: t.pos }
      } finally {
        this.depth--
      }
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
