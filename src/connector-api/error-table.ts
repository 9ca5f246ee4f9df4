import type { ConnectorErrorCode, FailureKind } from './error-codes.js'
import { ConnectorError } from './errors.js'

/**
 * What a type reads off a library's or a server's error before looking it up in its table: the
 * key its rows list (an error number, an SQLSTATE, a status, a library's code), the text, and
 * whatever else its messages and rules name (`target`, `user`, the phase...).
 */
export interface ErrorFacts {
  /** The error as thrown: the answer's cause. */
  readonly err?: unknown
  readonly key?: string | number
  readonly message?: string
  /** The least wait before a retry that the resource asked for (HTTP Retry-After). */
  readonly retryAfterMs?: number | undefined
}

/**
 * One row of a type's error table: which errors it covers (keys compared with `facts.key`, a
 * pattern of `facts.message`, or a test of the facts), and the code, kind, message and hint they
 * become. In `text` and `hint`, `{name}` stands for `facts.name` (names the facts lack stay as
 * written). No kind is `not_connected`, as for any ConnectorError.
 */
export type ErrorRow<F extends ErrorFacts> = readonly [
  match: ReadonlyArray<string | number> | RegExp | ((facts: F) => boolean),
  code: ConnectorErrorCode,
  kind: FailureKind | ((facts: F) => FailureKind) | undefined,
  text: string,
  hint: string | ((facts: F) => string),
]

/**
 * A type's classifier from its table: the first row that matches makes the error; no row,
 * undefined (the type then tries the kit's `classifyNetworkError`, or its own fallback). Rows are
 * tried in order, so a specific row goes before a broader one.
 */
export function classifyBy<F extends ErrorFacts>(rows: ReadonlyArray<ErrorRow<F>>): (facts: F) => ConnectorError | undefined {
  const tests = rows.map(([match]): ((f: F) => boolean) => {
    if (typeof match === 'function') return match
    if (match instanceof RegExp) return (f) => match.test(f.message ?? '')
    const keys = new Set<string | number>(match)
    return (f) => f.key !== undefined && keys.has(f.key)
  })
  return (facts) => {
    const i = tests.findIndex((test) => test(facts))
    if (i < 0) return undefined
    const [, code, kind, text, hint] = rows[i]!
    return new ConnectorError(code, fill(text, facts), {
      kind: typeof kind === 'function' ? kind(facts) : kind,
      hint: fill(typeof hint === 'function' ? hint(facts) : hint, facts),
      cause: facts.err,
      ...(facts.retryAfterMs === undefined ? {} : { retryAfterMs: facts.retryAfterMs }),
    })
  }
}

/** `{name}` -> `facts.name`; one pass over the template, so a value holding `{...}` is never expanded in turn. */
function fill(template: string, facts: ErrorFacts): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in facts ? String((facts as unknown as Record<string, unknown>)[name] ?? '') : whole))
}
