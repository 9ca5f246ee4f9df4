/**
 * Seeded random MQTT packets for the codec's property tests: what clients send (every field and
 * property the spec allows, so the strict decoder must accept them) and what the server sends,
 * per protocol version, as mqtt-packet 9 takes them.
 */
import type { Properties, ProtocolVersion, QoS, UserProperties } from '../../src/broker/codec/packet-types.js'

/** mulberry32: small, fast, good enough to pick test cases; the seed makes failures reproducible. */
export function randomSource(seed: number): Random {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return new Random(next)
}

export class Random {
  constructor(readonly next: () => number) {}
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }
  bool(p = 0.5): boolean {
    return this.next() < p
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!
  }
  bytes(maxLength: number): Buffer {
    const length = this.bool(0.2) ? 0 : this.int(0, maxLength)
    const buf = Buffer.alloc(length)
    for (let i = 0; i < length; i++) buf[i] = this.int(0, 255)
    return buf
  }
  /** A string of valid characters for MQTT (no U+0000), some beyond ASCII. */
  text(maxLength: number, alphabet = TEXT_ALPHABET): string {
    const length = this.int(0, maxLength)
    let text = ''
    for (let i = 0; i < length; i++) text += this.pick(alphabet)
    return text
  }
  qos(): QoS {
    return this.int(0, 2) as QoS
  }
}

const TEXT_ALPHABET = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_ ./:$', 'é', 'ß', '日', '本', '😀', '\u007f', '\u00a0', '\uffff']
const LEVEL_ALPHABET = [...'abcdefghijklmnopqrstuvwxyz0123456789-_$', 'é', '日', '😀']

export function topicName(random: Random): string {
  const levels = random.int(1, 5)
  const parts: string[] = []
  for (let i = 0; i < levels; i++) parts.push(random.text(8, LEVEL_ALPHABET))
  const topic = parts.join('/')
  return topic.length === 0 ? 'x' : topic
}

export function topicFilter(random: Random, protocolVersion: ProtocolVersion): string {
  const levels = random.int(1, 5)
  const parts: string[] = []
  for (let i = 0; i < levels; i++) {
    const roll = random.next()
    if (roll < 0.15) parts.push('+')
    else if (roll < 0.25 && i === levels - 1) parts.push('#')
    else parts.push(random.text(6, LEVEL_ALPHABET))
  }
  let filter = parts.join('/')
  if (filter.length === 0) filter = '#'
  if (protocolVersion === 5 && random.bool(0.1)) filter = `$share/${random.text(5, [...'abcxyz'])}g/${filter}`
  return filter
}

function userProperties(random: Random): UserProperties {
  const result: UserProperties = Object.create(null) as UserProperties
  const count = random.int(1, 3)
  for (let i = 0; i < count; i++) {
    const key = random.text(6)
    // Never an empty value: mqtt-packet's parser loses an empty value when the name repeats (its falsy check).
    const value = () => random.text(6) || 'v'
    if (random.bool(0.3)) result[key] = [value(), value()]
    else result[key] = value()
  }
  return result
}

/** Each candidate property is included with probability 1/2; undefined when none was. */
function someProperties(random: Random, candidates: Record<string, () => unknown>): Properties | undefined {
  const properties: Record<string, unknown> = {}
  let any = false
  for (const [name, make] of Object.entries(candidates)) {
    if (random.bool()) {
      properties[name] = make()
      any = true
    }
  }
  return any ? (properties as Properties) : undefined
}

const u16 = (random: Random, min = 0) => () => random.int(min, 0xffff)
const u32 = (random: Random, min = 0) => () => random.int(min, 0xffffffff)

function willProperties(random: Random): Properties | undefined {
  return someProperties(random, {
    willDelayInterval: u32(random),
    payloadFormatIndicator: () => random.bool(),
    messageExpiryInterval: u32(random),
    contentType: () => random.text(10),
    responseTopic: () => topicName(random),
    correlationData: () => random.bytes(10),
    userProperties: () => userProperties(random),
  })
}

/** PUBLISH properties; only the server's carry subscription identifiers. */
function publishProperties(random: Random, sender: 'client' | 'server'): Properties | undefined {
  return someProperties(random, {
    payloadFormatIndicator: () => random.bool(),
    messageExpiryInterval: u32(random),
    topicAlias: u16(random, 1),
    responseTopic: () => topicName(random),
    correlationData: () => random.bytes(10),
    userProperties: () => userProperties(random),
    ...(sender === 'server' ? { subscriptionIdentifier: () => (random.bool() ? random.int(1, 268_435_455) : [random.int(1, 200), random.int(1, 268_435_455)]) } : {}),
    contentType: () => random.text(10),
  })
}

/** The rest of a PUBLISH around its drawn topic and payload; messageId only with QoS > 0. */
function publishPacket(random: Random, fields: { topic: string; payload: Buffer | string; qos: QoS; messageId: number; properties: Properties | undefined }): Record<string, unknown> {
  const { topic, payload, qos, messageId, properties } = fields
  return {
    cmd: 'publish',
    topic,
    payload,
    qos,
    retain: random.bool(),
    dup: qos > 0 && random.bool(),
    ...(qos > 0 ? { messageId } : {}),
    ...(properties ? { properties } : {}),
  }
}

/** The MQTT 5 reason codes a PUBACK/PUBREC (the first step) or PUBREL/PUBCOMP (the second) may carry. */
function pubAckReasonCodes(kind: string): number[] {
  return kind === 'puback' || kind === 'pubrec' ? [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99] : [0x00, 0x92]
}

/** Reason string and user properties: all an acknowledgement may carry. */
function ackProperties(random: Random): Properties | undefined {
  return someProperties(random, { reasonString: () => random.text(12), userProperties: () => userProperties(random) })
}

/** Authentication data only ever goes with an authentication method. */
function maybeAuthenticationData(random: Random, properties: Properties | undefined): void {
  if (properties?.authenticationMethod !== undefined && random.bool()) properties.authenticationData = random.bytes(12)
}

/** AUTH (MQTT 5) from either side; `reasonCodes` are those that side may send. */
function authPacket(random: Random, reasonCodes: number[]): Record<string, unknown> {
  const properties = someProperties(random, { authenticationMethod: () => random.text(8), reasonString: () => random.text(12), userProperties: () => userProperties(random) })
  maybeAuthenticationData(random, properties)
  return { cmd: 'auth', reasonCode: random.pick(reasonCodes), ...(properties ? { properties } : {}) }
}

/** A packet a client may send (what the broker's decoder must accept), in mqtt-packet's input shape. */
export function clientPacket(random: Random, protocolVersion: ProtocolVersion): Record<string, unknown> {
  const v5 = protocolVersion === 5
  const kind = random.pick(['publish', 'publish', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'unsubscribe', 'pingreq', 'disconnect', ...(v5 ? ['auth'] : [])])
  const messageId = random.int(1, 0xffff)
  switch (kind) {
    case 'publish': {
      const qos = random.qos()
      const properties = v5 ? publishProperties(random, 'client') : undefined
      const topic = properties?.topicAlias !== undefined && random.bool(0.3) ? '' : topicName(random)
      return publishPacket(random, { topic, payload: random.bytes(random.bool(0.1) ? 3000 : 40), qos, messageId, properties })
    }
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp': {
      const packet: Record<string, unknown> = { cmd: kind, messageId }
      if (v5) {
        packet.reasonCode = random.pick(pubAckReasonCodes(kind))
        const properties = ackProperties(random)
        if (properties) packet.properties = properties
      }
      return packet
    }
    case 'subscribe': {
      const count = random.int(1, 4)
      const subscriptions = []
      for (let i = 0; i < count; i++) {
        const topic = topicFilter(random, protocolVersion)
        const subscription: Record<string, unknown> = { topic, qos: random.qos() }
        if (v5) {
          subscription.nl = topic.startsWith('$share/') ? false : random.bool()
          subscription.rap = random.bool()
          subscription.rh = random.int(0, 2)
        }
        subscriptions.push(subscription)
      }
      const properties = v5 ? someProperties(random, { subscriptionIdentifier: () => random.int(1, 268_435_455), userProperties: () => userProperties(random) }) : undefined
      return { cmd: 'subscribe', messageId, subscriptions, ...(properties ? { properties } : {}) }
    }
    case 'unsubscribe': {
      const count = random.int(1, 4)
      const unsubscriptions = []
      for (let i = 0; i < count; i++) unsubscriptions.push(topicFilter(random, protocolVersion))
      const properties = v5 ? someProperties(random, { userProperties: () => userProperties(random) }) : undefined
      return { cmd: 'unsubscribe', messageId, unsubscriptions, ...(properties ? { properties } : {}) }
    }
    case 'pingreq':
      return { cmd: 'pingreq' }
    case 'disconnect': {
      if (!v5) return { cmd: 'disconnect' }
      const properties = someProperties(random, { sessionExpiryInterval: u32(random), reasonString: () => random.text(12), userProperties: () => userProperties(random) })
      return { cmd: 'disconnect', reasonCode: random.pick([0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x90, 0x93, 0x94, 0x95, 0x96, 0x98, 0x99]), ...(properties ? { properties } : {}) }
    }
    default:
      return authPacket(random, [0x00, 0x18, 0x19])
  }
}

/** A CONNECT a client may send, in mqtt-packet's input shape. */
export function connectPacket(random: Random, protocolVersion: ProtocolVersion): Record<string, unknown> {
  const v5 = protocolVersion === 5
  const clean = random.bool()
  // Empty client identifiers: never on 3.1, only with clean session on 3.1.1 (mqtt-packet's generator also wants clean on 5).
  const clientId = protocolVersion === 3 || !clean || random.bool(0.8) ? random.text(23) || 'c' : ''
  const packet: Record<string, unknown> = {
    cmd: 'connect',
    protocolId: protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
    protocolVersion,
    clean,
    keepalive: random.int(0, 0xffff),
    clientId,
  }
  if (protocolVersion !== 5 && random.bool(0.2)) packet.bridgeMode = true
  if (v5) {
    const properties = someProperties(random, {
      sessionExpiryInterval: u32(random),
      receiveMaximum: u16(random, 1),
      maximumPacketSize: u32(random, 1),
      topicAliasMaximum: u16(random),
      requestResponseInformation: () => random.bool(),
      requestProblemInformation: () => random.bool(),
      userProperties: () => userProperties(random),
      authenticationMethod: () => random.text(8),
    })
    maybeAuthenticationData(random, properties)
    if (properties) packet.properties = properties
  }
  if (random.bool()) {
    const will: Record<string, unknown> = { topic: topicName(random), payload: random.bytes(20), qos: random.qos(), retain: random.bool() }
    const properties = v5 ? willProperties(random) : undefined
    if (properties) will.properties = properties
    packet.will = will
  }
  if (random.bool()) {
    packet.username = random.text(10)
    if (random.bool()) packet.password = random.bytes(10)
  }
  return packet
}

/** A packet a server sends, in mqtt-packet's input shape, with every optional field explicit (the canonical cases). */
export function serverPacket(random: Random, protocolVersion: ProtocolVersion): Record<string, unknown> {
  const v5 = protocolVersion === 5
  const kind = random.pick(['connack', 'publish', 'publish', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'suback', 'unsuback', 'pingresp', 'disconnect', ...(v5 ? ['auth'] : [])])
  const messageId = random.int(1, 0xffff)
  switch (kind) {
    case 'connack': {
      if (!v5) return { cmd: 'connack', sessionPresent: random.bool(), returnCode: random.int(0, 5) }
      const properties = someProperties(random, {
        sessionExpiryInterval: u32(random),
        receiveMaximum: u16(random, 1),
        maximumQoS: () => random.int(0, 1),
        retainAvailable: () => random.bool(),
        maximumPacketSize: u32(random, 1),
        assignedClientIdentifier: () => random.text(20),
        topicAliasMaximum: u16(random),
        reasonString: () => random.text(12),
        userProperties: () => userProperties(random),
        wildcardSubscriptionAvailable: () => random.bool(),
        subscriptionIdentifiersAvailable: () => random.bool(),
        sharedSubscriptionAvailable: () => random.bool(),
        serverKeepAlive: u16(random),
        responseInformation: () => random.text(12),
        serverReference: () => random.text(12),
        authenticationMethod: () => random.text(8),
        authenticationData: () => random.bytes(8),
      })
      return { cmd: 'connack', sessionPresent: random.bool(), reasonCode: random.pick([0x00, 0x80, 0x81, 0x82, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f]), ...(properties ? { properties } : {}) }
    }
    case 'publish': {
      const qos = random.qos()
      const properties = v5 ? publishProperties(random, 'server') : undefined
      const size = random.pick([0, 16, 100, 1000, 70_000])
      return publishPacket(random, { topic: topicName(random), payload: random.bool(0.1) ? random.text(50) : Buffer.alloc(size, random.int(0, 255)), qos, messageId, properties })
    }
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp': {
      if (!v5) return { cmd: kind, messageId }
      const properties = ackProperties(random)
      return { cmd: kind, messageId, reasonCode: random.pick(pubAckReasonCodes(kind)), ...(properties ? { properties } : {}) }
    }
    case 'suback': {
      const count = random.int(1, 5)
      const codes = v5 ? [0, 1, 2, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2] : [0, 1, 2, 0x80]
      const granted = Array.from({ length: count }, () => random.pick(codes))
      const properties = v5 ? ackProperties(random) : undefined
      return { cmd: 'suback', messageId, granted, ...(properties ? { properties } : {}) }
    }
    case 'unsuback': {
      if (!v5) return { cmd: 'unsuback', messageId }
      const granted = Array.from({ length: random.int(1, 5) }, () => random.pick([0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91]))
      const properties = ackProperties(random)
      return { cmd: 'unsuback', messageId, granted, ...(properties ? { properties } : {}) }
    }
    case 'pingresp':
      return { cmd: 'pingresp' }
    case 'disconnect': {
      if (!v5) return { cmd: 'disconnect' }
      const properties = someProperties(random, { sessionExpiryInterval: u32(random), reasonString: () => random.text(12), userProperties: () => userProperties(random), serverReference: () => random.text(12) })
      return { cmd: 'disconnect', reasonCode: random.pick([0x00, 0x04, 0x80, 0x81, 0x82, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x93, 0x9c, 0xa2]), ...(properties ? { properties } : {}) }
    }
    default:
      return authPacket(random, [0x00, 0x18])
  }
}
