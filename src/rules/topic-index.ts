/**
 * Which rules' FROM filters match a topic, without testing every rule: a trie over topic levels
 * with `+` and `#` branches, so a lookup costs the topic's depth times the wildcard fan-out, not
 * the number of rules. Answers are kept per topic (devices publish to the same topics again and
 * again) until a filter is added or removed.
 */
interface Node<T> {
  readonly children: Map<string, Node<T>>
  /** Values whose filter ends here. */
  readonly exact: Set<T>
  /** Values whose filter ends with `#` at this level (matches this level and everything below). */
  readonly multi: Set<T>
}

const node = <T>(): Node<T> => ({ children: new Map(), exact: new Set(), multi: new Set() })

/** Topics whose answer is kept; beyond it the oldest go (a fleet's per-device topics can be many). */
const CACHED_TOPICS = 10_000

export class TopicIndex<T> {
  private readonly root: Node<T> = node()
  private readonly filters = new Map<T, string[]>()
  /** topic -> its matches; emptied whenever the filters change. */
  private readonly answers = new Map<string, ReadonlySet<T>>()

  add(filter: string, value: T): void {
    this.answers.clear()
    let n = this.root
    const levels = filter.split('/')
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i]!
      if (level === '#' && i === levels.length - 1) {
        n.multi.add(value)
        this.remember(value, filter)
        return
      }
      let child = n.children.get(level)
      if (!child) {
        child = node()
        n.children.set(level, child)
      }
      n = child
    }
    n.exact.add(value)
    this.remember(value, filter)
  }

  /** Removes every filter of `value`. */
  remove(value: T): void {
    this.answers.clear()
    for (const filter of this.filters.get(value) ?? []) this.removeOne(filter, value)
    this.filters.delete(value)
  }

  /** Every value with a filter matching `topic` (each once). Shared: do not modify it. */
  match(topic: string): ReadonlySet<T> {
    const known = this.answers.get(topic)
    if (known) return known
    const out = new Set<T>()
    // MQTT: filters starting with a wildcard do not match topics starting with `$`.
    this.walk(this.root, topic.split('/'), 0, out, topic.startsWith('$'))
    if (this.answers.size >= CACHED_TOPICS) this.answers.delete(this.answers.keys().next().value!)
    this.answers.set(topic, out)
    return out
  }

  get size(): number {
    return this.filters.size
  }

  private walk(n: Node<T>, levels: string[], i: number, out: Set<T>, dollar: boolean): void {
    const wildcardAllowed = !(dollar && i === 0)
    if (wildcardAllowed) for (const v of n.multi) out.add(v)
    if (i === levels.length) {
      for (const v of n.exact) out.add(v)
      return
    }
    const exact = n.children.get(levels[i]!)
    if (exact) this.walk(exact, levels, i + 1, out, dollar)
    if (wildcardAllowed) {
      const plus = n.children.get('+')
      if (plus) this.walk(plus, levels, i + 1, out, dollar)
    }
  }

  private remember(value: T, filter: string): void {
    const list = this.filters.get(value)
    if (list) list.push(filter)
    else this.filters.set(value, [filter])
  }

  private removeOne(filter: string, value: T): void {
    const path: Array<[Node<T>, string]> = []
    let n: Node<T> | undefined = this.root
    const levels = filter.split('/')
    for (let i = 0; i < levels.length && n; i++) {
      const level = levels[i]!
      if (level === '#' && i === levels.length - 1) {
        n.multi.delete(value)
        break
      }
      path.push([n, level])
      n = n.children.get(level)
      if (i === levels.length - 1) n?.exact.delete(value)
    }
    // Prune empty branches so a long-lived index does not grow with churn.
    for (let i = path.length - 1; i >= 0; i--) {
      const [parent, level] = path[i]!
      const child = parent.children.get(level)
      if (child && child.children.size === 0 && child.exact.size === 0 && child.multi.size === 0) parent.children.delete(level)
      else break
    }
  }
}
