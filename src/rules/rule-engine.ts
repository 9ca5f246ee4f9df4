import type { BrokerSink, ClientEvent, PublishedMessage } from '../broker/broker-types.js'
import type { RuleMetrics } from './rule-metrics.js'
import { EVENT_OF_KIND, eventContext, publishContext } from './event-context.js'
import { eventNameForSource, isEventSource, type CompiledRuleSql } from './sql/index.js'
import { TopicIndex } from './topic-index.js'

/** Where a rule's outputs go: one per action (a queue in front of a connector, or republish). */
export interface OutputSink {
  enqueue(output: Record<string, unknown>): void
}

export interface InstalledRule {
  readonly id: string
  readonly sql: CompiledRuleSql
  readonly actions: readonly OutputSink[]
  readonly metrics: RuleMetrics
}

/**
 * Runs a deployment's rules on what its broker sees, in-process: a topic index picks the rules
 * whose FROM matches, the compiled SQL turns the message into outputs, and every output goes to
 * every action of the rule. Nothing here waits: actions queue.
 */
export class RuleEngine implements BrokerSink {
  private readonly topics = new TopicIndex<InstalledRule>()
  /** Rules per event name (`client.connected`). */
  private readonly events = new Map<string, Set<InstalledRule>>()
  private readonly rules = new Map<string, InstalledRule>()

  install(rule: InstalledRule): void {
    this.uninstall(rule.id)
    this.rules.set(rule.id, rule)
    for (const source of rule.sql.sources) {
      if (isEventSource(source)) {
        // Keyed by event name: both of EMQX's spellings of an event topic select the same event.
        const name = eventNameForSource(source) ?? source
        let set = this.events.get(name)
        if (!set) this.events.set(name, (set = new Set()))
        set.add(rule)
      } else {
        this.topics.add(source, rule)
      }
    }
  }

  uninstall(id: string): InstalledRule | undefined {
    const rule = this.rules.get(id)
    if (!rule) return undefined
    this.rules.delete(id)
    this.topics.remove(rule)
    for (const set of this.events.values()) set.delete(rule)
    return rule
  }

  get(id: string): InstalledRule | undefined {
    return this.rules.get(id)
  }

  published(message: PublishedMessage): void {
    const matched = this.topics.match(message.topic)
    if (matched.size === 0) return
    const context = publishContext(message)
    for (const rule of matched) this.run(rule, context)
  }

  clientEvent(event: ClientEvent): void {
    const rules = this.events.get(EVENT_OF_KIND[event.kind])
    if (!rules || rules.size === 0) return
    const { context } = eventContext(event)
    for (const rule of rules) this.run(rule, context)
  }

  wants(kind: ClientEvent['kind']): boolean {
    return (this.events.get(EVENT_OF_KIND[kind])?.size ?? 0) > 0
  }

  private run(rule: InstalledRule, context: Record<string, unknown>): void {
    const m = rule.metrics
    m.matched++
    m.matchedRate.add(1)
    let outputs: Record<string, unknown>[]
    try {
      outputs = rule.sql.evaluate(context)
    } catch (err) {
      m.failed++
      m.lastError = err instanceof Error ? err.message : String(err)
      return
    }
    if (outputs.length === 0) {
      m.noResult++
      return
    }
    try {
      for (const output of outputs) for (const action of rule.actions) action.enqueue(output)
    } catch (err) {
      // Nothing a message makes may throw into the broker: an output that cannot be queued fails the message.
      m.failed++
      m.lastError = `an output could not be queued: ${err instanceof Error ? err.message : String(err)}`
      return
    }
    m.passed++
  }
}
