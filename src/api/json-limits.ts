import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ApiError } from '../core/errors.js'

/**
 * The deepest nesting of objects and arrays an API request body may have (MQTT payloads have
 * their own, larger limit: src/rules/limits.ts). Real bodies (a rule with
 * actions, options and a sample payload) stay under 10 levels; validation, rule evaluation and
 * serialization walk values recursively, and a 10,000-deep value overflowed their stacks (a 500).
 */
export const MAX_BODY_DEPTH = 64

/**
 * Where `text` (JSON) nests deeper than `maxDepth`, as the dotted path of the container that goes
 * too deep (`context.payload.a.a`), or undefined when it does not. Scans the text once with an
 * explicit stack, so that the check itself cannot overflow; runs before JSON.parse for the same
 * reason. Strings are skipped (brackets in them do not count); the text need not be valid JSON
 * (the parser reports syntax errors afterwards).
 */
export function tooDeepAt(text: string, maxDepth: number = MAX_BODY_DEPTH): string | undefined {
  // One frame per open container, with the key or index being read in it: the frames' cursors
  // are the path of the value being read.
  const frames: Array<{ array: boolean; cursor: string }> = []
  let lastString = ''
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22 /* " */) {
      const start = i + 1
      for (i = start; i < text.length; i++) {
        const s = text.charCodeAt(i)
        if (s === 0x5c /* \ */) i++
        else if (s === 0x22) break
      }
      lastString = text.slice(start, Math.min(i, start + 200))
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (frames.length >= maxDepth) return frames.map((f) => f.cursor).join('.')
      frames.push({ array: c === 0x5b, cursor: c === 0x5b ? '0' : '' })
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      frames.pop()
    } else if (c === 0x3a /* : */) {
      const top = frames[frames.length - 1]
      if (top && !top.array) top.cursor = unescapeKey(lastString)
    } else if (c === 0x2c /* , */) {
      const top = frames[frames.length - 1]
      if (top?.array) top.cursor = String(Number(top.cursor) + 1)
    }
  }
  return undefined
}

function unescapeKey(raw: string): string {
  if (!raw.includes('\\')) return raw
  try { return JSON.parse(`"${raw}"`) as string } catch { return raw }
}

/**
 * Replaces Fastify's JSON parser with one that refuses too-deep bodies before parsing them (400
 * JSON_TOO_DEEP with the path), then parses as Fastify does (`__proto__` and `constructor.prototype`
 * keys refused as invalid JSON). Every route with a body goes through it, so the limit holds before
 * any validation or processing.
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request: FastifyRequest, body: string | Buffer, done: (err: Error | null, value?: unknown) => void) => {
    const text = typeof body === 'string' ? body : body.toString('utf8')
    const path = tooDeepAt(text)
    if (path !== undefined) {
      const where = path === '' ? 'the body' : path
      const hint = `Nest objects and arrays at most ${MAX_BODY_DEPTH} levels deep.`
      done(new ApiError('JSON_TOO_DEEP', `The body nests deeper than ${MAX_BODY_DEPTH} levels at ${where.length > 120 ? `${where.slice(0, 120)}...` : where}`, {
        hint, fields: [{ path, message: `nests deeper than ${MAX_BODY_DEPTH} levels`, hint }],
      }))
      return
    }
    parse(request, text, done)
  })
}
