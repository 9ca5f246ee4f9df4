import { parsePath, readPath } from '../../connector-api/index.js'

/** One argument of a Redis command as sent: text, or bytes when the value was a Buffer. */
export type RedisArgument = string | Buffer
type Output = Readonly<Record<string, unknown>>

/** A compiled command template: the literal command name and a renderer for its arguments. */
export interface CommandTemplate {
  readonly name: string
  readonly render: (output: Output) => RedisArgument[]
}

/**
 * Splits EMQX's string form of a command into arguments at whitespace; a double-quoted part
 * (`"a b"`, with `\"` and `\\` inside) or a single-quoted one stays one argument. Splitting
 * happens on the template, before rendering, so a value with spaces never becomes two arguments.
 */
export function splitCommand(command: string): string[] {
  return [...command.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!)))
}

/**
 * Compiles each element to exactly one argument. A placeholder alone (`${payload.temp}`) sends
 * the value itself: a string as it is, a Buffer as its bytes, a number or boolean as its text,
 * an object or array as JSON; a missing (or null) value is the empty argument "". Placeholders
 * inside text are rendered into it the same way. The command name must be literal, so that
 * message data can never choose which command runs. Throws on an invalid template.
 */
export function compileCommand(command: readonly string[] | string): CommandTemplate {
  const parts = typeof command === 'string' ? splitCommand(command) : [...command]
  const name = parts[0]
  if (name === undefined || name.trim() === '') throw new Error('the command is empty')
  if (name.includes('${')) throw new Error(`the command name "${name}" must be literal, not a placeholder`)
  const renderers = parts.slice(1).map(compileArgument)
  return { name, render: (o) => renderers.map((r) => r(o)) }
}

function compileArgument(template: string): (o: Output) => RedisArgument {
  const pieces: Array<(o: Output) => RedisArgument> = []
  let last = 0
  const literal = (text: string) => pieces.push(() => text)
  for (const m of template.matchAll(/\$\{\s*([^}]*?)\s*\}/g)) {
    if (m.index > last) literal(template.slice(last, m.index))
    const path = parsePath(m[1]!)
    pieces.push((o) => toArgument(readPath(o, path)))
    last = m.index + m[0].length
  }
  if (last < template.length || pieces.length === 0) literal(template.slice(last))
  if (pieces.length === 1) return pieces[0]!
  return (o) => pieces.map((p) => p(o).toString()).join('')
}

function toArgument(v: unknown): RedisArgument {
  if (typeof v === 'string' || Buffer.isBuffer(v)) return v
  if (v === undefined || v === null) return ''
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  return JSON.stringify(v)
}
