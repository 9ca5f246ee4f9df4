import { Partitioners, type ICustomPartitioner, type Message, type PartitionMetadata } from 'kafkajs'

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
 * own. Without a picker it is kafkajs's DefaultPartitioner: murmur2 of the key modulo the
 * partition count, as the Java client, so a key always lands on the same partition; a null key
 * goes round-robin over the partitions that have a leader.
 */
export const junctionPartitioner: ICustomPartitioner = () => {
  const keyHash = Partitioners.DefaultPartitioner()
  return (args) => {
    const pick = (args.message as PickedMessage)[PICK_PARTITION]
    return pick ? pick(args.topic, args.partitionMetadata) : keyHash(args)
  }
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
