/**
 * The two errors of the rule SQL engine: RuleSqlError when a statement does not parse or compile
 * (always with a position), RuleEvalError when running a compiled rule on one event fails (the caller
 * counts the event as "failed", as EMQX counts an exception).
 */

/** A place in the SQL text: 1-based line and column (columns count Unicode code points). */
export interface SourcePos {
  readonly offset: number
  readonly line: number
  readonly column: number
}

/** The statement does not parse, or parses but cannot be compiled (unknown function, bad alias, ...). */
export class RuleSqlError extends Error {
  readonly line: number
  readonly column: number
  /** What the parser would have accepted here (empty for errors that are not about syntax). */
  readonly expected: readonly string[]
  /** The text found at the position, `undefined` at the end of the input. */
  readonly found: string | undefined
  /** The message without the `line L, column C: ` prefix. */
  readonly detail: string
  /** What to do about it, when the error is not a plain syntax error (a limit, an unsupported feature). */
  readonly hint: string | undefined

  constructor(pos: Pick<SourcePos, 'line' | 'column'>, detail: string, expected: readonly string[] = [], found?: string, hint?: string) {
    super(`line ${pos.line}, column ${pos.column}: ${detail}`)
    this.name = 'RuleSqlError'
    this.line = pos.line
    this.column = pos.column
    this.expected = expected
    this.found = found
    this.detail = detail
    this.hint = hint
  }
}

/** A syntax error message: `expected FROM or ",", found "WHERE"`. */
export function syntaxError(pos: Pick<SourcePos, 'line' | 'column'>, expected: readonly string[], found: string | undefined): RuleSqlError {
  const list = expected.length === 0 ? 'something else' : expected.length === 1 ? expected[0]! : `${expected.slice(0, -1).join(', ')} or ${expected[expected.length - 1]!}`
  const what = found === undefined ? 'end of input' : JSON.stringify(found)
  return new RuleSqlError(pos, `expected ${list}, found ${what}`, expected, found)
}

/** The clause of the statement being evaluated when a runtime error happened (EMQX reports the same split). */
export type RuleClause = 'SELECT' | 'WHERE' | 'FOREACH' | 'DO' | 'INCASE'

/** Running the rule on one event failed: a function failed, an operator got values it cannot take, the payload is not JSON, ... */
export class RuleEvalError extends Error {
  readonly clause: RuleClause | undefined
  readonly line: number | undefined
  readonly column: number | undefined
  readonly detail: string

  constructor(detail: string, opts: { clause?: RuleClause; pos?: Pick<SourcePos, 'line' | 'column'>; cause?: unknown } = {}) {
    const where = [opts.clause === undefined ? undefined : `${opts.clause} clause`, opts.pos === undefined ? undefined : `line ${opts.pos.line}, column ${opts.pos.column}`]
      .filter((s) => s !== undefined)
      .join(', ')
    super(where === '' ? detail : `${where}: ${detail}`, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'RuleEvalError'
    this.clause = opts.clause
    this.line = opts.pos?.line
    this.column = opts.pos?.column
    this.detail = detail
  }
}

/**
 * Thrown inside compiled closures and value operations; the evaluator turns it into a RuleEvalError
 * with the clause. `pos` is filled by the innermost closure that knows where it is.
 */
export class EvalFailure extends Error {
  pos: SourcePos | undefined

  constructor(detail: string, pos?: SourcePos, cause?: unknown) {
    super(detail, cause === undefined ? undefined : { cause })
    this.name = 'EvalFailure'
    this.pos = pos
  }
}

/** Gives an EvalFailure a position if it has none yet; wraps anything else thrown. */
export function failureAt(err: unknown, pos: SourcePos, what?: string): EvalFailure {
  if (err instanceof EvalFailure) {
    if (err.pos === undefined) err.pos = pos
    return err
  }
  const msg = err instanceof Error ? err.message : String(err)
  return new EvalFailure(what === undefined ? msg : `${what}: ${msg}`, pos, err)
}
