import type { BrokerSink, ClientEvent, PendingAcknowledgement, PublishedMessage } from '../broker/broker-types.js'
import { AcknowledgementCounter, type AcknowledgementHold } from './acknowledgement.js'
import type { RuleMetrics } from './rule-metrics.js'
import { EVENT_OF_KIND, eventContext, publishContext } from './event-context.js'
import { eventNameForSource, isEventSource, type CompiledRuleSql } from './sql/index.js'
import { TopicIndex } from './topic-index.js'

/** Where a rule's outputs go: one per action (a queue in front of a connector, or republish). */
export interface OutputSink {
  /** `ack` is the message's pending acknowledgement (QoS 1/2); only a sink that holds acknowledgements uses it. */
  enqueue(output: Record<string, unknown>, ack?: AcknowledgementHold): void
  /** The sink takes a hold on `ack` per output (acknowledge: on-delivery). */
  readonly holdsAcknowledgement?: boolean
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
  /** Rules with an action that acknowledges on delivery: only their messages pay for a counter. */
  private readonly holding = new Set<InstalledRule>()
  /** Told when the set of topic filters the rules select from may have changed (an external broker's subscriptions follow it). */
  private readonly filterListeners = new Set<() => void>()

  install(rule: InstalledRule): void {
    this.uninstall(rule.id)
    this.rules.set(rule.id, rule)
    if (rule.actions.some((a) => a.holdsAcknowledgement)) this.holding.add(rule)
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
    this.filtersChanged()
  }

  uninstall(id: string): InstalledRule | undefined {
    const rule = this.rules.get(id)
    if (!rule) return undefined
    this.rules.delete(id)
    this.holding.delete(rule)
    this.topics.remove(rule)
    for (const set of this.events.values()) set.delete(rule)
    this.filtersChanged()
    return rule
  }

  /** The distinct topic filters of the installed rules' FROM (event sources left out). */
  topicFilters(): string[] {
    const out = new Set<string>()
    for (const rule of this.rules.values()) for (const source of rule.sql.sources) if (!isEventSource(source)) out.add(source)
    return [...out].sort()
  }

  /** Calls `listener` after every install and uninstall; returns the unsubscribe. */
  onFiltersChanged(listener: () => void): () => void {
    this.filterListeners.add(listener)
    return () => this.filterListeners.delete(listener)
  }

  private filtersChanged(): void {
    for (const l of this.filterListeners) l()
  }

  get(id: string): InstalledRule | undefined {
    return this.rules.get(id)
  }

  published(message: PublishedMessage): PendingAcknowledgement | void {
    const matched = this.topics.match(message.topic)
    if (matched.size === 0) return
    const context = publishContext(message)
    let ack: AcknowledgementCounter | undefined
    if (message.qos > 0 && this.holding.size > 0) {
      for (const rule of matched) {
        if (!this.holding.has(rule)) continue
        ack = new AcknowledgementCounter()
        break
      }
    }
    for (const rule of matched) this.run(rule, context, ack)
    if (!ack) return
    ack.release()
    return ack
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

  private run(rule: InstalledRule, context: Record<string, unknown>, ack?: AcknowledgementHold): void {
    const m = rule.metrics
    m.matched++
    m.matchedRate.add(1)
    let outputs: Record<string, unknown>[]
    try {
      outputs = rule.sql.evaluate(context)
    } catch (err) {
      m.failed++
      m.lastError = err instanceof Error ? err.message : String(err)
      // A rule that owed a commitment and failed on the message: the device is not told "stored".
      if (ack && this.holding.has(rule)) ack.hold()('failed')
      return
    }
    if (outputs.length === 0) {
      m.noResult++
      return
    }
    try {
      for (const output of outputs) for (const action of rule.actions) action.enqueue(output, ack)
    } catch (err) {
      // Nothing a message makes may throw into the broker: an output that cannot be queued fails the message.
      m.failed++
      m.lastError = `an output could not be queued: ${err instanceof Error ? err.message : String(err)}`
      if (ack && this.holding.has(rule)) ack.hold()('failed')
      return
    }
    m.passed++
  }
}
