/**
 * Bounds on what one rule may cost. The broker thread evaluates rules, so nothing a device sends
 * (a payload) or an API caller writes (SQL, a sample event) may make one evaluation allocate or
 * compute without bound: every limit here turns into a clear error instead (a RuleSqlError when
 * the rule is created, a failed message for the rule at run time). docs/rules.md ("Limits")
 * lists them.
 */

/**
 * The largest string (UTF-16 code units) or binary (bytes) a function or `+` may produce:
 * 1 MiB. A result may still be as large as the largest argument it was computed from, so a big
 * payload can go through `lower(payload)`; only growth beyond both is refused.
 */
export const MAX_VALUE_SIZE = 1024 * 1024

/**
 * What one evaluation of a rule may produce in strings and binaries, added up over every function
 * call and `+`: 16 MiB, or four times the payload when that is larger.
 */
export const MAX_EVALUATION_SIZE = 16 * 1024 * 1024

/** The most nested parentheses, calls, lists, CASEs and operators one rule SQL expression may have. */
export const MAX_SQL_DEPTH = 100

/** The longest rule SQL text (UTF-16 code units), as the API also enforces. */
export const MAX_SQL_LENGTH = 65_536

/** The longest regular expression a rule may use (characters of the pattern). */
export const MAX_REGEX_LENGTH = 4096

/** Size of a string or binary value as the limits count it; 0 for other values. */
export function valueSize(v: unknown): number {
  if (typeof v === 'string') return v.length
  if (v instanceof Uint8Array) return v.length
  return 0
}
