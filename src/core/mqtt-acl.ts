/**
 * A deployment's MQTT access control list: ordered rules, first match wins, else the default.
 * Pure logic (validation, compilation per client, matching); the control layer stores it and
 * serves it to the broker through DeviceAccess.
 */
import type { FieldError } from './schema-validation.js'

export type AclWho = { readonly username: string } | { readonly clientid: string } | 'all'
export type AclAction = 'publish' | 'subscribe' | 'all'
export type AclPermission = 'allow' | 'deny'

export interface AclRule {
  readonly who: AclWho
  readonly action: AclAction
  /** An MQTT topic filter; `${username}` / `${clientid}` are replaced per client; `eq ` matches the text literally. */
  readonly topic: string
  readonly permission: AclPermission
}

export interface MqttAcl {
  readonly rules: readonly AclRule[]
  readonly default: AclPermission
}

/** No rules, everything allowed: what a deployment has until its ACL is first saved. */
export const DEFAULT_MQTT_ACL: MqttAcl = { rules: [], default: 'allow' }

export const MAX_ACL_RULES = 1000
const PLACEHOLDER = /\$\{([^}]*)\}/g
const KNOWN_PLACEHOLDERS = new Set(['username', 'clientid'])
const EQ_PREFIX = 'eq '

/**
 * Why `topic` is not a valid ACL topic filter, or undefined when it is. Checks what MQTT requires
 * of a filter (`#` only as the whole last level, `+` only as a whole level, no NUL, not empty) and
 * that placeholders are ones Junction fills in.
 */
export function topicFilterProblem(topic: string): { message: string; hint: string } | undefined {
  const filter = topic.startsWith(EQ_PREFIX) ? topic.slice(EQ_PREFIX.length) : topic
  if (filter === '') return { message: 'must not be empty', hint: 'Give a topic filter such as "sensors/+/temp" or "devices/${clientid}/#".' }
  if (filter.includes('\u0000')) return { message: 'must not contain the NUL character', hint: 'Remove the NUL character (U+0000).' }
  if (Buffer.byteLength(filter, 'utf8') > 65535) return { message: 'is longer than MQTT allows (65535 bytes)', hint: 'Shorten the filter.' }
  for (const m of filter.matchAll(PLACEHOLDER)) {
    if (!KNOWN_PLACEHOLDERS.has(m[1]!)) return { message: `unknown placeholder "${m[0]}"`, hint: 'Use ${username} or ${clientid}.' }
  }
  if (topic.startsWith(EQ_PREFIX)) return undefined // a literal: wildcards in it are plain characters
  const levels = filter.split('/')
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      return { message: '"#" must be a whole level and the last one', hint: 'Write "a/#", not "a#" or "a/#/b".' }
    }
    if (level.includes('+') && level !== '+') return { message: '"+" must be a whole level', hint: 'Write "a/+/c", not "a/b+/c".' }
  }
  return undefined
}

/** Field errors of an ACL's topic filters (`rules.N.topic`); the JSON Schema checks the rest. */
export function aclProblems(acl: MqttAcl, prefix = ''): FieldError[] {
  const out: FieldError[] = []
  acl.rules.forEach((rule, i) => {
    const problem = topicFilterProblem(rule.topic)
    if (problem) out.push({ path: [prefix, 'rules', String(i), 'topic'].filter((s) => s !== '').join('.'), ...problem })
  })
  return out
}

/** The client an ACL is compiled for. */
export interface AclClient {
  readonly clientid: string
  readonly username: string | undefined
}

interface CompiledRule {
  readonly publish: boolean
  readonly subscribe: boolean
  readonly allow: boolean
  /** `eq` rules: the literal text; otherwise undefined. */
  readonly literal: string | undefined
  /** Filter levels (wildcards intact), placeholders already filled in. */
  readonly levels: readonly string[]
}

/**
 * An ACL compiled for one client: the rules for someone else are gone and placeholders are filled
 * in, so a check walks only this client's rules.
 */
export class ClientAcl {
  private readonly rules: readonly CompiledRule[]
  private readonly allowByDefault: boolean

  constructor(acl: MqttAcl, client: AclClient) {
    const rules: CompiledRule[] = []
    for (const rule of acl.rules) {
      if (!appliesTo(rule.who, client)) continue
      const eq = rule.topic.startsWith(EQ_PREFIX)
      const filled = fillPlaceholders(eq ? rule.topic.slice(EQ_PREFIX.length) : rule.topic, client)
      // A placeholder the client cannot fill (no username) or could abuse (a "+" or "/" in its
      // client ID would widen the filter) makes the rule not apply to it.
      if (filled === undefined) continue
      rules.push({
        publish: rule.action !== 'subscribe',
        subscribe: rule.action !== 'publish',
        allow: rule.permission === 'allow',
        literal: eq ? filled : undefined,
        levels: filled.split('/'),
      })
    }
    this.rules = rules
    this.allowByDefault = acl.default === 'allow'
  }

  /** May the client publish to `topic` (a topic name, no wildcards)? */
  canPublish(topic: string): boolean {
    const levels = topic.split('/')
    for (const rule of this.rules) {
      if (!rule.publish) continue
      const hit = rule.literal !== undefined ? rule.literal === topic : filterMatchesTopic(rule.levels, levels)
      if (hit) return rule.allow
    }
    return this.allowByDefault
  }

  /**
   * May the client subscribe to `filter`? An allow rule applies when its filter covers every
   * topic the subscription can receive; a deny rule applies as soon as the two share a topic, so a
   * wide subscription (`a/#`) cannot reach what a deny rule (`a/secret`) keeps out.
   */
  canSubscribe(filter: string): boolean {
    const levels = filter.split('/')
    for (const rule of this.rules) {
      if (!rule.subscribe) continue
      let hit: boolean
      if (rule.literal !== undefined) hit = rule.literal === filter
      else hit = rule.allow ? filterCovers(rule.levels, levels) : filtersOverlap(rule.levels, levels)
      if (hit) return rule.allow
    }
    return this.allowByDefault
  }
}

function appliesTo(who: AclWho, client: AclClient): boolean {
  if (who === 'all') return true
  if ('username' in who) return client.username !== undefined && who.username === client.username
  return who.clientid === client.clientid
}

function fillPlaceholders(filter: string, client: AclClient): string | undefined {
  let unusable = false
  const filled = filter.replace(PLACEHOLDER, (_m, name: string) => {
    const value = name === 'username' ? client.username : client.clientid
    if (value === undefined || value === '' || /[/+#\u0000]/.test(value)) {
      unusable = true
      return ''
    }
    return value
  })
  return unusable ? undefined : filled
}

const isWild = (level: string) => level === '+' || level === '#'

/** EMQX's matching: `+` one level (empty too), `#` the rest (nothing too); `$` topics need a literal first level. */
export function filterMatchesTopic(filter: readonly string[], topic: readonly string[]): boolean {
  if (topic[0]?.startsWith('$') && isWild(filter[0]!)) return false
  for (let i = 0; i < filter.length; i++) {
    const level = filter[i]!
    if (level === '#') return true
    if (i >= topic.length) return false
    if (level !== '+' && level !== topic[i]) return false
  }
  return filter.length === topic.length
}

/** Does every topic `sub` matches also match `filter`? */
export function filterCovers(filter: readonly string[], sub: readonly string[]): boolean {
  if (sub[0]?.startsWith('$') && isWild(filter[0]!)) return false
  for (let i = 0; i < filter.length; i++) {
    const level = filter[i]!
    if (level === '#') return true
    if (i >= sub.length) return false
    const s = sub[i]!
    if (s === '#') return false // sub reaches deeper (and shallower) than this filter can
    if (level === '+') continue
    if (s === '+' || s !== level) return false
  }
  return filter.length === sub.length
}

/** Is there a topic both filters match? */
export function filtersOverlap(a: readonly string[], b: readonly string[]): boolean {
  const dollarA = a[0]?.startsWith('$') ?? false
  const dollarB = b[0]?.startsWith('$') ?? false
  if ((dollarA && isWild(b[0]!)) || (dollarB && isWild(a[0]!))) return false
  const n = Math.max(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a[i]
    const y = b[i]
    if (x === '#' || y === '#') return true
    if (x === undefined || y === undefined) return false
    if (x === '+' || y === '+') continue
    if (x !== y) return false
  }
  return true
}
