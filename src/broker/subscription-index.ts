/**
 * The broker's subscriptions, indexed for matching a topic: a trie of filter levels (`+`, `#`),
 * each node holding the plain subscriptions made with exactly that filter and the shared groups
 * (`$share/{group}/{filter}`). The answer for a topic (one delivery per session, shared groups
 * apart) is kept until the subscriptions change: a broker sees the same topics again and again.
 */

export interface SubscriptionOptions {
  readonly qos: 0 | 1 | 2
  /** No Local: not sent back to the session that published. */
  readonly nl: boolean
  /** Retain As Published: keep the RETAIN flag on forwarded messages. */
  readonly rap: boolean
  /** Retain Handling: 0 send retained, 1 only on a new subscription, 2 never. */
  readonly rh: 0 | 1 | 2
  /** MQTT 5 Subscription Identifier. */
  readonly id: number | undefined
}

/** One subscription of one subscriber (`S` is the broker's session type). */
export interface Subscription<S> extends SubscriptionOptions {
  readonly subscriber: S
  /** The filter without a `$share/{group}/` prefix. */
  readonly filter: string
  readonly group: string | undefined
}

/** A shared subscription's members; messages go to one of them in turn. */
export class SharedGroup<S> {
  readonly members = new Map<S, Subscription<S>>()
  private cursor = 0

  constructor(readonly name: string, readonly filter: string) {}

  /** The next member in turn, preferring those `usable` says can take a message now. */
  pick(usable: (s: S) => boolean): Subscription<S> | undefined {
    const all = [...this.members.values()]
    if (all.length === 0) return undefined
    for (let i = 0; i < all.length; i++) {
      const sub = all[(this.cursor + i) % all.length]!
      if (usable(sub.subscriber)) {
        this.cursor = (this.cursor + i + 1) % all.length
        return sub
      }
    }
    const sub = all[this.cursor % all.length]!
    this.cursor = (this.cursor + 1) % all.length
    return sub
  }
}

/** What one session gets of a message: the strongest of its matching subscriptions. */
export interface Delivery<S> {
  readonly subscriber: S
  readonly qos: 0 | 1 | 2
  /** True only when every matching subscription has No Local. */
  readonly nl: boolean
  readonly rap: boolean
  /** Every matching subscription's identifier. */
  readonly ids: readonly number[] | undefined
}

export interface Route<S> {
  readonly deliveries: readonly Delivery<S>[]
  readonly groups: readonly SharedGroup<S>[]
}

interface Node<S> {
  readonly children: Map<string, Node<S>>
  readonly plain: Map<S, Subscription<S>>
  readonly groups: Map<string, SharedGroup<S>>
}

/** Topics whose routes are kept; beyond it the cache starts over (topics can be unbounded). */
const ROUTES_KEPT = 50_000
const EMPTY: Route<never> = { deliveries: [], groups: [] }

export class SubscriptionIndex<S> {
  private readonly root: Node<S> = newNode()
  private routes = new Map<string, Route<S>>()
  private count = 0

  get size(): number {
    return this.count
  }

  /** Adds or replaces `subscriber`'s subscription; says whether it existed before. */
  add(sub: Subscription<S>): boolean {
    const node = this.node(sub.filter, true)!
    let existed: boolean
    if (sub.group === undefined) {
      existed = node.plain.has(sub.subscriber)
      node.plain.set(sub.subscriber, sub)
    } else {
      let group = node.groups.get(sub.group)
      if (!group) node.groups.set(sub.group, (group = new SharedGroup(sub.group, sub.filter)))
      existed = group.members.has(sub.subscriber)
      group.members.set(sub.subscriber, sub)
    }
    if (!existed) this.count++
    this.routes.clear()
    return existed
  }

  remove(subscriber: S, filter: string, group: string | undefined): boolean {
    const node = this.node(filter, false)
    if (!node) return false
    let removed: boolean
    if (group === undefined) {
      removed = node.plain.delete(subscriber)
    } else {
      const g = node.groups.get(group)
      removed = g?.members.delete(subscriber) ?? false
      if (g && g.members.size === 0) node.groups.delete(group)
    }
    if (removed) {
      this.count--
      this.routes.clear()
      this.prune(filter)
    }
    return removed
  }

  /** Who gets a message on `topic` (a topic name, no wildcards). */
  match(topic: string): Route<S> {
    const cached = this.routes.get(topic)
    if (cached) return cached
    const plain: Subscription<S>[] = []
    const groups: SharedGroup<S>[] = []
    const levels = topic.split('/')
    // Filters starting with a wildcard do not match topics starting with `$` (MQTT 4.7.2).
    this.collect(this.root, levels, 0, plain, groups, topic.startsWith('$'))
    const route = plain.length === 0 && groups.length === 0 ? (EMPTY as Route<S>) : { deliveries: merge(plain), groups }
    if (this.routes.size >= ROUTES_KEPT) this.routes = new Map()
    this.routes.set(topic, route)
    return route
  }

  private collect(node: Node<S>, levels: string[], i: number, plain: Subscription<S>[], groups: SharedGroup<S>[], dollar: boolean): void {
    const wildOk = !(dollar && i === 0)
    if (wildOk) {
      const hash = node.children.get('#')
      if (hash) take(hash, plain, groups)
    }
    if (i === levels.length) {
      take(node, plain, groups)
      return
    }
    const exact = node.children.get(levels[i]!)
    if (exact) this.collect(exact, levels, i + 1, plain, groups, dollar)
    if (wildOk) {
      const plus = node.children.get('+')
      if (plus) this.collect(plus, levels, i + 1, plain, groups, dollar)
    }
  }

  private node(filter: string, create: boolean): Node<S> | undefined {
    let node = this.root
    for (const level of filter.split('/')) {
      let next = node.children.get(level)
      if (!next) {
        if (!create) return undefined
        node.children.set(level, (next = newNode()))
      }
      node = next
    }
    return node
  }

  private prune(filter: string): void {
    const path: Array<[Node<S>, string]> = []
    let node = this.root
    for (const level of filter.split('/')) {
      const next = node.children.get(level)
      if (!next) return
      path.push([node, level])
      node = next
    }
    for (let i = path.length - 1; i >= 0; i--) {
      const [parent, level] = path[i]!
      const child = parent.children.get(level)!
      if (child.children.size > 0 || child.plain.size > 0 || child.groups.size > 0) return
      parent.children.delete(level)
    }
  }
}

function newNode<S>(): Node<S> {
  return { children: new Map(), plain: new Map(), groups: new Map() }
}

function take<S>(node: Node<S>, plain: Subscription<S>[], groups: SharedGroup<S>[]): void {
  for (const sub of node.plain.values()) plain.push(sub)
  for (const g of node.groups.values()) groups.push(g)
}

/** One delivery per subscriber, as MQTT 5 allows (3.3.4): the highest QoS, every identifier. */
function merge<S>(subs: Subscription<S>[]): Delivery<S>[] {
  if (subs.length === 1) {
    const s = subs[0]!
    return [{ subscriber: s.subscriber, qos: s.qos, nl: s.nl, rap: s.rap, ids: s.id === undefined ? undefined : [s.id] }]
  }
  const by = new Map<S, { subscriber: S; qos: 0 | 1 | 2; nl: boolean; rap: boolean; ids: number[] | undefined }>()
  for (const s of subs) {
    const d = by.get(s.subscriber)
    if (!d) {
      by.set(s.subscriber, { subscriber: s.subscriber, qos: s.qos, nl: s.nl, rap: s.rap, ids: s.id === undefined ? undefined : [s.id] })
      continue
    }
    if (s.qos > d.qos) d.qos = s.qos
    d.nl &&= s.nl
    d.rap ||= s.rap
    if (s.id !== undefined) (d.ids ??= []).push(s.id)
  }
  return [...by.values()]
}

/** Splits `$share/{group}/{filter}`; undefined group for a plain filter. Throws nothing: validation is the caller's. */
export function parseShare(filter: string): { group: string | undefined; filter: string } | undefined {
  if (!filter.startsWith('$share/')) return { group: undefined, filter }
  const slash = filter.indexOf('/', 7)
  if (slash < 0) return undefined
  const group = filter.slice(7, slash)
  const rest = filter.slice(slash + 1)
  if (group.length === 0 || group.includes('+') || group.includes('#') || rest.length === 0) return undefined
  return { group, filter: rest }
}
