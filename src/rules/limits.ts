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

/** The largest answer of `rules/test` (its outputs as JSON, estimated): 2 MiB. */
export const MAX_TEST_OUTPUT_SIZE = 2 * 1024 * 1024

/**
 * Whether `value` would take more than `limit` characters as JSON, estimated from below (strings,
 * binaries and keys by length, other scalars as a few characters). Walks without recursion and
 * stops as soon as the limit is passed, so a huge or deeply shared value costs no more than the
 * limit; a value reached twice counts twice, as JSON writes it twice.
 */
export function exceedsJsonSize(value: unknown, limit: number): boolean {
  let size = 0
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v === 'string') size += v.length + 2
    else if (v instanceof Uint8Array) size += v.length + 2
    else if (Array.isArray(v)) {
      size += 2 + v.length
      for (const x of v) stack.push(x)
    } else if (typeof v === 'object' && v !== null) {
      size += 2
      for (const [k, x] of Object.entries(v)) {
        size += k.length + 4
        stack.push(x)
      }
    } else size += 4
    if (size > limit) return true
  }
  return false
}

/**
 * The deepest JSON a rule decodes (a payload on `payload.x`, `json_decode`, `map`): 1000 levels.
 * V8 parses any depth, but what comes next (copying, comparing, writing outputs as JSON, the
 * action queue's size estimate) recurses and would overflow the stack on the broker thread.
 */
export const MAX_JSON_DEPTH = 1000

/** Whether JSON text nests arrays and objects deeper than MAX_JSON_DEPTH; text too short for that is not scanned. */
export function jsonTextTooDeep(text: string): boolean {
  if (text.length <= 2 * MAX_JSON_DEPTH) return false
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++ // backslash: skip the escaped character
      else if (c === 34) inString = false
    } else if (c === 34) inString = true
    else if (c === 91 || c === 123) {
      if (++depth > MAX_JSON_DEPTH) return true
    } else if (c === 93 || c === 125) depth--
  }
  return false
}

/** Whether a value (objects and arrays) nests deeper than `limit`; walked without recursion. */
export function valueTooDeep(value: unknown, limit = MAX_JSON_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 0]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!
    if (typeof v !== 'object' || v === null || v instanceof Uint8Array) continue
    if (depth + 1 > limit) return true
    for (const x of Array.isArray(v) ? v : Object.values(v)) stack.push([x, depth + 1])
  }
  return false
}
