import type { ICustomPartitioner, Message, PartitionMetadata } from 'kafkajs'

/**
 * A channel's own partition choice for a record, set on the kafkajs message under this symbol
 * (kafkajs passes the message object through to the partitioner unchanged and never encodes
 * extra fields). Records without it use the key hash.
 */
export const PICK_PARTITION = Symbol('junction.pickPartition')

/** Picks a partition of `topic` from kafkajs's current metadata for it. */
export type PartitionPicker = (topic: string, partitions: readonly PartitionMetadata[]) => number

export type PickedMessage = Message & { [PICK_PARTITION]?: PartitionPicker }

/**
 * The producer's partitioner. kafkajs calls it with the topic's partition metadata, which it
 * fetches once per topic and refreshes after errors that say it is stale (leader changes, new
 * partitions), so the `random` and `round_robin` strategies need no metadata requests of their
 * own. Without a picker it behaves as kafkajs's DefaultPartitioner (and the Java client's
 * before its "sticky" change): murmur2 of the key modulo the partition count, so a key always
 * lands on the same partition; a null key goes round-robin over the partitions with a leader.
 * It is our own because kafkajs's murmur2 does 64-bit `Long` arithmetic per 4 key bytes, which
 * cost ~5 % of the producer thread's time at 100k records/s.
 */
export const junctionPartitioner: ICustomPartitioner = () => {
  /** Null-key round-robin position per topic, starting at a random partition. */
  const counters = new Map<string, number>()
  return ({ topic, partitionMetadata, message }) => {
    const pick = (message as PickedMessage)[PICK_PARTITION]
    if (pick) return pick(topic, partitionMetadata)
    if (message.partition !== null && message.partition !== undefined) return message.partition
    if (message.key !== null && message.key !== undefined) return toPositive(murmur2(message.key)) % partitionMetadata.length
    if (counters.size > 10_000) counters.clear() // topics rendered from message data: keep the map bounded
    const next = (counters.get(topic) ?? Math.floor(Math.random() * 0x7fffffff)) + 1
    counters.set(topic, next)
    const candidates = writable(partitionMetadata)
    return candidates[toPositive(next) % candidates.length]?.partitionId ?? 0
  }
}

/** The Java client's way of making a hash non-negative (not Math.abs: it keeps the low bits). */
const toPositive = (x: number) => x & 0x7fffffff

/**
 * Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2, seed 0x9747b28c) of a key's
 * bytes (strings as UTF-8), in 32-bit integer arithmetic as Java's `int`.
 */
export function murmur2(key: Buffer | string): number {
  const data = typeof key === 'string' ? Buffer.from(key, 'utf8') : key
  const m = 0x5bd1e995
  const length = data.length
  let h = (0x9747b28c ^ length) | 0
  const whole = length & ~3
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)
    k = Math.imul(k, m)
    k ^= k >>> 24
    k = Math.imul(k, m)
    h = Math.imul(h, m) ^ k
  }
  // The 1-3 trailing bytes, highest first (Java's switch falls through its cases).
  const tail = length & 3
  if (tail > 0) {
    if (tail === 3) h ^= data[whole + 2]! << 16
    if (tail >= 2) h ^= data[whole + 1]! << 8
    h ^= data[whole]!
    h = Math.imul(h, m)
  }
  h ^= h >>> 13
  h = Math.imul(h, m)
  h ^= h >>> 15
  return h
}

/** Partitions with a leader (writable now), or all of them when none has one. */
function writable(partitions: readonly PartitionMetadata[]): readonly PartitionMetadata[] {
  const withLeader = partitions.filter((p) => p.leader >= 0)
  return withLeader.length > 0 ? withLeader : partitions
}

export function randomPicker(): PartitionPicker {
  return (_topic, partitions) => {
    const candidates = writable(partitions)
    return candidates[Math.floor(Math.random() * candidates.length)]?.partitionId ?? 0
  }
}

/** In turn over the topic's partitions, one counter per topic, starting at a random one. */
export function roundRobinPicker(): PartitionPicker {
  const next = new Map<string, number>()
  return (topic, partitions) => {
    const candidates = [...writable(partitions)].sort((a, b) => a.partitionId - b.partitionId)
    if (next.size > 10_000) next.clear() // topics rendered from message data: keep the map bounded
    const i = next.get(topic) ?? Math.floor(Math.random() * candidates.length)
    next.set(topic, i + 1)
    return candidates[i % candidates.length]?.partitionId ?? 0
  }
}
