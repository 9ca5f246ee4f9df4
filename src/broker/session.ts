import type { MessageProperties } from './broker-types.js'
import type { Subscription } from './subscription-index.js'

/** A message inside the broker, shared by every subscriber it goes to. */
export interface BrokerMessage {
  readonly topic: string
  readonly payload: Buffer
  readonly qos: 0 | 1 | 2
  readonly retain: boolean
  /** What it carries from its publisher to its subscribers. */
  readonly properties: MessageProperties | undefined
  /** Epoch ms after which it is not delivered (Message Expiry Interval); undefined = never. */
  readonly expiresAt: number | undefined
  /** The publishing client; undefined for the broker's own messages. */
  readonly from: { readonly clientid: string; readonly username: string | undefined } | undefined
  readonly receivedAt: number
}

/** One message on its way to one session. */
export interface Outbound {
  readonly message: BrokerMessage
  readonly qos: 0 | 1 | 2
  readonly retain: boolean
  readonly ids: readonly number[] | undefined
  /** Sequence number: the two queues of a session merge in this order. */
  readonly seq: number
}

/** A QoS 1/2 message written and not yet fully acknowledged. */
export interface InflightEntry {
  readonly out: Outbound
  /** QoS 2 after PUBREC: only PUBREL is resent. */
  released: boolean
}

/** A FIFO with O(1) push and shift (an array with a moving head, compacted as it grows). */
export class Fifo<T> {
  private items: T[] = []
  private head = 0

  get length(): number {
    return this.items.length - this.head
  }

  push(item: T): void {
    this.items.push(item)
  }

  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined
    const item = this.items[this.head]!
    this.items[this.head++] = undefined as T
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }

  clear(): T[] {
    const rest = this.items.slice(this.head)
    this.items = []
    this.head = 0
    return rest
  }
}

/**
 * The messages waiting for one session beyond its inflight window (or while it is offline or its
 * socket is full), bounded: when full, its oldest QoS 0 message goes first, else its oldest
 * message. QoS 0 and QoS 1/2 messages wait in two queues merged by sequence number, so either
 * kind can be dropped from the front without a scan.
 */
export class SessionQueue {
  private readonly qos0 = new Fifo<Outbound>()
  private readonly qosN = new Fifo<Outbound>()

  get length(): number {
    return this.qos0.length + this.qosN.length
  }

  /**
   * Adds `out`; returns the message dropped to make room (possibly `out` itself: a QoS 0 message
   * never takes the place of a QoS 1/2 one), if one was.
   */
  push(out: Outbound, max: number): Outbound | undefined {
    let dropped: Outbound | undefined
    if (this.length >= max) {
      if (max <= 0) return out
      if (this.qos0.length > 0) dropped = this.qos0.shift()
      else if (out.qos === 0) return out
      else dropped = this.qosN.shift()
    }
    ;(out.qos === 0 ? this.qos0 : this.qosN).push(out)
    return dropped
  }

  peek(): Outbound | undefined {
    const a = this.qos0.peek()
    const b = this.qosN.peek()
    if (!a) return b
    if (!b) return a
    return a.seq < b.seq ? a : b
  }

  shift(): Outbound | undefined {
    const a = this.qos0.peek()
    const b = this.qosN.peek()
    if (a && (!b || a.seq < b.seq)) return this.qos0.shift()
    return this.qosN.shift()
  }

  /** Drops every QoS 0 message (a session going offline keeps only QoS 1/2); returns them. */
  dropQos0(): Outbound[] {
    return this.qos0.clear()
  }

  clear(): Outbound[] {
    return [...this.qos0.clear(), ...this.qosN.clear()]
  }
}

/**
 * What the broker keeps of a client between connections: its subscriptions, the messages in
 * flight to it and queued for it, and the QoS 2 messages it sent that await PUBREL. `C` is the
 * connection type; `connection` is undefined while the client is offline.
 */
export class Session<C> {
  readonly subscriptions = new Map<string, Subscription<Session<C>>>()
  readonly inflight = new Map<number, InflightEntry>()
  readonly queue = new SessionQueue()
  /** Packet identifiers of QoS 2 messages received, routed, and not yet released. */
  readonly awaitingRelease = new Set<number>()
  connection: C | undefined
  /** Seconds the session outlives its connection; 0 = ends with it. */
  expiryInterval = 0
  expiryTimer: NodeJS.Timeout | undefined
  /** The will waiting for its delay (MQTT 5 Will Delay Interval) after a disconnect. */
  willTimer: NodeJS.Timeout | undefined
  username: string | undefined
  private nextId = 1

  constructor(readonly clientid: string) {}

  /** A free packet identifier, or 0 when all 65,535 are in flight. */
  allocateId(): number {
    for (let i = 0; i < 65535; i++) {
      const id = this.nextId
      this.nextId = id === 65535 ? 1 : id + 1
      if (!this.inflight.has(id)) return id
    }
    return 0
  }
}
