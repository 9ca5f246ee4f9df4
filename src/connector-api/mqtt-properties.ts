import { Type, type Static } from '@sinclair/typebox'
import { compileTemplate, compileValue, TemplateError, toText } from './templates.js'

/**
 * MQTT 5 PUBLISH properties an action sets from templates, with EMQX's parameter names and
 * semantics (its republish action and MQTT bridge): `mqtt_properties` maps a property name
 * (`Content-Type`...) to a template, `user_properties` is one template that yields a map of user
 * properties (or a list of `{key, value}` pairs), e.g. `${pub_props.'User-Property'}` to pass a
 * message's own through. Shared by the `republish` built-in and the MQTT connector.
 */

/** MQTT 5 PUBLISH properties as mqtt-packet and mqtt.js name them. */
export interface PublishProperties {
  payloadFormatIndicator?: boolean
  messageExpiryInterval?: number
  contentType?: string
  responseTopic?: string
  correlationData?: Buffer
  /** A name given more than once keeps every value, in order. */
  userProperties?: Record<string, string | string[]>
}

/** EMQX's default: a rule that selects `... AS user_properties` sets them; otherwise none. */
export const DEFAULT_USER_PROPERTIES = '${user_properties}'

const TEMPLATE = '.*\\$\\{.*\\}.*'
const property = (description: string, literal?: string) =>
  Type.Optional(Type.String({ minLength: 1, maxLength: 65_535, description, ...(literal ? { pattern: `^(?:${literal}|${TEMPLATE})$` } : {}) }))

/** `mqtt_properties`: the PUBLISH properties EMQX's republish action can set, each a template. */
export const mqttPropertiesSchema = Type.Object(
  {
    'Payload-Format-Indicator': property('0 (unspecified bytes) or 1 (UTF-8 text), or a template that renders to one, e.g. `${pub_props.\'Payload-Format-Indicator\'}`.', '[01]'),
    'Message-Expiry-Interval': property('Seconds the broker keeps the message for subscribers that have not received it yet (0 to 4294967295), or a template that renders to them.', '[0-9]{1,10}'),
    'Content-Type': property('MIME type of the payload, e.g. `application/json`; a template.'),
    'Response-Topic': property('Topic a receiver should answer to, e.g. `replies/${clientid}`; a template. A value that renders empty or with + or # is not sent.', '[^+#]*'),
    'Correlation-Data': property('Data a requester uses to match the answer to its request; a template (sent as its UTF-8 bytes).'),
  },
  {
    additionalProperties: false,
    default: {},
    description:
      'MQTT 5 PUBLISH properties of each message, as EMQX names them; each value is a template. A single placeholder whose value is ' +
      'missing or null leaves the property out, and so does a value that is not valid for it (e.g. a Message-Expiry-Interval that is not a whole number).',
  },
)

/** `user_properties`: one template that yields every user property. */
export const userPropertiesSchema = Type.String({
  maxLength: 65_535,
  default: DEFAULT_USER_PROPERTIES,
  description:
    'MQTT 5 user properties: a template that renders to a map (name -> value) or a list of {"key", "value"} pairs, e.g. ' +
    '`${pub_props.\'User-Property\'}` (the rule must select pub_props, as SELECT * does) or `${pub_props.\'User-Property-Pairs\'}` ' +
    '(keeps repeated names). The default, `${user_properties}`, takes what the rule selects AS user_properties. Empty: none.',
})

export type MqttPropertiesParam = Static<typeof mqttPropertiesSchema>

export interface PropertyParams {
  readonly mqtt_properties?: MqttPropertiesParam
  readonly user_properties?: string
  /** Junction's own: one template per user property name; a name here replaces the same name from `user_properties`. */
  readonly userProperties?: Readonly<Record<string, string>>
}

/** Whether params ask for properties explicitly (beyond the default `user_properties`). */
export function asksForProperties(p: PropertyParams): boolean {
  const userTemplate = p.user_properties ?? DEFAULT_USER_PROPERTIES
  return Object.keys(p.mqtt_properties ?? {}).length > 0
    || (userTemplate !== '' && userTemplate !== DEFAULT_USER_PROPERTIES)
    || Object.keys(p.userProperties ?? {}).length > 0
}

/** A params problem found when compiling: the field's path (under the params) and why. */
export class TemplateParamsError extends Error {
  constructor(readonly path: string, message: string, readonly hint: string) {
    super(message)
    this.name = 'TemplateParamsError'
  }
}

/** Why a property was left out of one message (for a debug log, as EMQX logs it). */
export type OnSkipped = (property: string, reason: string) => void

export type RenderProperties = (output: Readonly<Record<string, unknown>>) => PublishProperties | undefined

type Setter = (output: Readonly<Record<string, unknown>>, into: PublishProperties, skipped: OnSkipped | undefined) => void

/**
 * Compiles the property templates once; rendering gives the properties of one message, or
 * undefined when there are none. Throws TemplateParamsError for a malformed template or a fixed
 * value the property cannot take.
 */
export function compilePublishProperties(p: PropertyParams, skipped?: OnSkipped): RenderProperties {
  const setters: Setter[] = []
  for (const [name, template] of Object.entries(p.mqtt_properties ?? {})) {
    if (template === undefined) continue
    setters.push(propertySetter(name, template))
  }
  const userTemplate = p.user_properties ?? DEFAULT_USER_PROPERTIES
  if (userTemplate !== '') {
    const value = compileAt('user_properties', userTemplate, compileValue)
    if (!/\$\{/.test(userTemplate) && !toUserProperties(userTemplate)) {
      throw new TemplateParamsError('user_properties', 'is neither a template nor a JSON object of user properties',
        "Give a placeholder such as ${pub_props.'User-Property'}, a JSON object such as {\"site\": \"a\"}, or leave it empty for none.")
    }
    setters.push((o, into) => {
      const user = toUserProperties(value(o))
      if (user) into.userProperties = user
    })
  }
  const named = Object.entries(p.userProperties ?? {}).map(([name, t]) => [name, compileAt(`userProperties.${name}`, t, compileTemplate)] as const)
  if (named.length > 0) {
    setters.push((o, into, skip) => {
      const user = { ...into.userProperties }
      for (const [name, render] of named) {
        const v = render(o)
        if (v.includes('\u0000')) skip?.(`User-Property ${name}`, 'the value contains a NUL character')
        else user[name] = v
      }
      into.userProperties = user
    })
  }
  if (setters.length === 0) return () => undefined
  return (o) => {
    const into: PublishProperties = {}
    for (const set of setters) set(o, into, skipped)
    for (const _ in into) return into
    return undefined
  }
}

function propertySetter(name: string, template: string): Setter {
  const path = `mqtt_properties.${name}`
  const value = compileAt(path, template, compileValue)
  const setter = <T>(key: keyof PublishProperties, convert: (v: unknown) => T | Problem) => checked(path, name, template, value, key, convert)
  switch (name) {
    case 'Payload-Format-Indicator': return setter('payloadFormatIndicator', toPayloadFormat)
    case 'Message-Expiry-Interval': return setter('messageExpiryInterval', toExpiryInterval)
    case 'Content-Type': return setter('contentType', toUtf8String)
    case 'Response-Topic': return setter('responseTopic', toResponseTopic)
    case 'Correlation-Data': return setter('correlationData', (v) => (Buffer.isBuffer(v) ? v : Buffer.from(toText(v), 'utf8')))
    default:
      throw new TemplateParamsError(path, `unknown MQTT property "${name}"`, 'Use Payload-Format-Indicator, Message-Expiry-Interval, Content-Type, Response-Topic or Correlation-Data.')
  }
}

/** Why a value cannot be a property's. */
class Problem {
  constructor(readonly reason: string) {}
}

/** A setter for one property; a fixed value (no placeholder) is checked once, now. */
function checked<T>(
  path: string, name: string, template: string, value: (o: Readonly<Record<string, unknown>>) => unknown,
  key: keyof PublishProperties, convert: (v: unknown) => T | Problem,
): Setter {
  if (!/\$\{/.test(template)) {
    const v = convert(template)
    if (v instanceof Problem) throw new TemplateParamsError(path, `${name}: ${v.reason}`, `Give a valid ${name}, or a template that renders to one.`)
    return (_o, into) => { (into as Record<string, unknown>)[key] = v }
  }
  return (o, into, skip) => {
    const raw = value(o)
    // A lone placeholder whose value is missing sets nothing (a text template would say "null").
    if (raw === undefined || raw === null) return
    const v = convert(raw)
    if (v instanceof Problem) skip?.(name, v.reason)
    else (into as Record<string, unknown>)[key] = v
  }
}

function toPayloadFormat(v: unknown): boolean | Problem {
  const s = typeof v === 'string' ? v.trim() : v
  if (s === true || s === 1 || s === '1' || s === 'true') return true
  if (s === false || s === 0 || s === '0' || s === 'false') return false
  return new Problem(`${JSON.stringify(toText(v))} is not 0 or 1`)
}

const MAX_U32 = 4_294_967_295

function toExpiryInterval(v: unknown): number | Problem {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN
  if (Number.isInteger(n) && n >= 0 && n <= MAX_U32) return n
  return new Problem(`${JSON.stringify(toText(v))} is not a whole number of seconds from 0 to ${MAX_U32}`)
}

function toUtf8String(v: unknown): string | Problem {
  const s = toText(v)
  return s.includes('\u0000') ? new Problem('the value contains a NUL character') : s
}

function toResponseTopic(v: unknown): string | Problem {
  const s = toText(v)
  if (s === '') return new Problem('the topic is empty')
  if (s.includes('+') || s.includes('#')) return new Problem(`the topic "${s}" contains a wildcard (+ or #)`)
  if (s.includes('\u0000')) return new Problem('the topic contains a NUL character')
  return s
}

/**
 * User properties from what a `user_properties` template yields: a map (name -> value), a list of
 * `{key, value}` pairs (or `[key, value]` lists), or either as JSON text. Anything else, and an
 * empty result, is none. Values that are not strings are written as text (objects as JSON).
 */
export function toUserProperties(v: unknown): Record<string, string | string[]> | undefined {
  if (Buffer.isBuffer(v)) v = v.toString('utf8')
  if (typeof v === 'string') {
    const c = v.trimStart()[0]
    if (c !== '{' && c !== '[') return undefined
    try {
      v = JSON.parse(v)
    } catch {
      return undefined
    }
  }
  if (typeof v !== 'object' || v === null) return undefined
  const out: Record<string, string | string[]> = {}
  const add = (key: unknown, value: unknown) => {
    if (typeof key !== 'string' || key.includes('\u0000') || value === undefined || value === null) return
    const values = Array.isArray(value) ? value.filter((x) => x !== undefined && x !== null) : [value]
    for (const one of values) {
      const text = toText(one)
      if (text.includes('\u0000')) continue
      const had = out[key]
      out[key] = had === undefined ? text : Array.isArray(had) ? [...had, text] : [had, text]
    }
  }
  if (Array.isArray(v)) {
    for (const pair of v) {
      if (Array.isArray(pair) && pair.length === 2) add(pair[0], pair[1])
      else if (typeof pair === 'object' && pair !== null) add((pair as Record<string, unknown>).key, (pair as Record<string, unknown>).value)
    }
  } else {
    for (const [key, value] of Object.entries(v)) add(key, value)
  }
  for (const _ in out) return out
  return undefined
}

function compileAt<T>(path: string, template: string, compile: (t: string) => T): T {
  try {
    return compile(template)
  } catch (err) {
    if (err instanceof TemplateError) throw new TemplateParamsError(path, `the template is invalid: ${err.message}`, "Placeholders look like ${payload.temp} or ${pub_props.'User-Property'}.")
    throw err
  }
}

