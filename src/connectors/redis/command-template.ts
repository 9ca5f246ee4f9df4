import { parsePath, readPath } from '../../connector-api/index.js'

/** One argument of a Redis command as sent: text, or bytes when the value was a Buffer. */
export type RedisArgument = string | Buffer

/** A compiled command template: the literal command name and a renderer for its arguments. */
export interface CommandTemplate {
  readonly name: string
  readonly render: (output: Readonly<Record<string, unknown>>) => RedisArgument[]
}

/**
 * Splits EMQX's string form of a command into arguments at whitespace; a double-quoted part
 * (`"a b"`, with `\"` and `\\` inside) or a single-quoted one stays one argument. Splitting
 * happens on the template, before rendering, so a value with spaces never becomes two arguments.
 */
export function splitCommand(command: string): string[] {
  const args: string[] = []
  for (const m of command.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) {
    args.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!))
  }
  return args
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
  return {
    name,
    render: (o) => {
      const out = new Array<RedisArgument>(renderers.length)
      for (let i = 0; i < renderers.length; i++) out[i] = renderers[i]!(o)
      return out
    },
  }
}

const PLACEHOLDER = /\$\{\s*([^}]*?)\s*\}/g

function compileArgument(template: string): (o: Readonly<Record<string, unknown>>) => RedisArgument {
  const pieces: Array<string | ReturnType<typeof parsePath>> = []
  let last = 0
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (m.index > last) pieces.push(template.slice(last, m.index))
    pieces.push(parsePath(m[1]!))
    last = m.index + m[0].length
  }
  if (last < template.length) pieces.push(template.slice(last))
  if (pieces.length === 0) return () => ''
  const only = pieces[0]!
  if (pieces.length === 1) return typeof only === 'string' ? () => only : (o) => toArgument(readPath(o, only))
  return (o) => {
    let s = ''
    for (const p of pieces) {
      if (typeof p === 'string') s += p
      else {
        const v = toArgument(readPath(o, p))
        s += typeof v === 'string' ? v : v.toString('utf8')
      }
    }
    return s
  }
}

function toArgument(v: unknown): RedisArgument {
  if (typeof v === 'string' || Buffer.isBuffer(v)) return v
  if (v === undefined || v === null) return ''
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  return JSON.stringify(v)
}
