/**
 * EMQX's functions that read the event being processed (emqx_rule_funcs: msgid/0, qos/0, topic/0,1,
 * flags/0, flag/1, clientid/0, clientip/0, peerhost/0, username/0, payload/0,1, null/0). As in
 * EMQX, each returns a function of the event, which the SQL compiler calls with the event's fields
 * (see src/rules/sql/README.md, "Functions"); a field the event lacks reads as undefined (flags as
 * `{}`), as it does in EMQX.
 */
import { type FunctionFamily, decodeJson, describe, fail, integerArg, isBinary, isMap, ownGet, spec, binaryText } from './values.js'

type Event = Readonly<Record<string, unknown>>

const field =
  (name: string) =>
  (): ((event: Event) => unknown) =>
  (event) =>
    isMap(event) ? ownGet(event, name) : undefined

/** `topic(N)`: the N-th level of the topic, from 1 (EMQX lists:nth: a level past the end is an error). */
function topicLevel(n: unknown): (event: Event) => unknown {
  const level = integerArg('topic', n, 'a topic level number')
  return (event) => {
    const topic = isMap(event) ? ownGet(event, 'topic') : undefined
    if (!isBinary(topic)) return undefined
    const levels = binaryText('topic', topic, 'a topic').split('/')
    if (level < 1 || level > levels.length) return fail('topic', `the topic has ${levels.length} levels, no level ${level}`)
    return levels[level - 1]
  }
}

/** `flag(Name)`: one flag of the message (`retain`, `dup`). */
function flag(name: unknown): (event: Event) => unknown {
  if (!isBinary(name)) return fail('flag', `expected a flag name, got ${describe(name)}`)
  const key = binaryText('flag', name, 'a flag name')
  return (event) => {
    const flags = isMap(event) ? ownGet(event, 'flags') : undefined
    return isMap(flags) ? ownGet(flags, key) : undefined
  }
}

/** `payload(Path)`: a value in the JSON payload at a dotted path (`'a.b.c'`); undefined when the payload is not JSON. */
function payloadAt(path: unknown): (event: Event) => unknown {
  if (!isBinary(path)) return fail('payload', `expected a path such as 'a.b', got ${describe(path)}`)
  const keys = binaryText('payload', path, 'a path').split('.')
  return (event) => {
    const payload = isMap(event) ? ownGet(event, 'payload') : undefined
    if (!isBinary(payload)) return undefined
    let value: unknown
    try {
      value = decodeJson('payload', binaryText('payload', payload, 'JSON text'))
    } catch {
      return undefined
    }
    for (const key of keys) {
      if (!isMap(value)) return undefined
      value = ownGet(value, key)
    }
    return value
  }
}

export const contextFunctions: FunctionFamily = {
  msgid: spec(0, 0, field('id')),
  qos: spec(0, 0, field('qos')),
  topic: spec(0, 1, (...args) => (args.length === 0 ? field('topic')() : topicLevel(args[0]))),
  flags: spec(0, 0, () => (event: Event) => {
    const flags = isMap(event) ? ownGet(event, 'flags') : undefined
    return flags === undefined ? {} : flags
  }),
  flag: spec(1, 1, flag),
  clientid: spec(0, 0, field('clientid')),
  clientip: spec(0, 0, field('peerhost')),
  peerhost: spec(0, 0, field('peerhost')),
  username: spec(0, 0, field('username')),
  payload: spec(0, 1, (...args) => (args.length === 0 ? field('payload')() : payloadAt(args[0]))),
  null: spec(0, 0, () => undefined),
}
