import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import type { PartitionMetadata } from 'kafkajs'
import { junctionPartitioner, murmur2 } from './partitioner.js'

// kafkajs's own murmur2 (64-bit Long arithmetic), the reference for ours.
const kafkajsMurmur2 = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer | string) => number

const meta = (n: number, leaderless: number[] = []): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: leaderless.includes(partitionId) ? -1 : 0, replicas: [0], isr: [0], partitionErrorCode: 0 }))

describe('kafka partitioner', () => {
  it('murmur2 gives the Java client\'s values (Kafka\'s own test vectors)', () => {
    assert.equal(murmur2('21'), -973932308)
    assert.equal(murmur2('foobar'), -790332482)
    assert.equal(murmur2('a-little-bit-long-string'), -985981536)
    assert.equal(murmur2('a-little-bit-longer-string'), -1486304829)
    assert.equal(murmur2('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'), -58897971)
    assert.equal(murmur2(Buffer.from('abc')), 479470107)
  })

  it('murmur2 agrees with kafkajs\'s on every length, UTF-8 text and raw bytes', () => {
    const keys: Array<string | Buffer> = ['', 'x', 'dev-1', 'température', '设备-42', '🙂 emoji']
    for (let len = 0; len < 64; len++) keys.push(randomBytes(len), randomBytes(len).toString('base64').slice(0, len))
    for (const key of keys) assert.equal(murmur2(key), kafkajsMurmur2(key), `key ${JSON.stringify(key.toString())}`)
  })

  it('puts a key on murmur2(key) mod partitions, an explicit partition where it says, null keys in turn over partitions with a leader', () => {
    const partition = junctionPartitioner()
    const partitionMetadata = meta(6, [2])
    const pick = (message: { key?: string | null; partition?: number }) => partition({ topic: 't', partitionMetadata, message: { value: 'v', ...message } })
    for (const key of ['dev-1', 'dev-2', 'a', 'sensor/7']) assert.equal(pick({ key }), (kafkajsMurmur2(key) & 0x7fffffff) % 6)
    assert.equal(pick({ key: 'dev-1', partition: 4 }), 4)
    const seen = Array.from({ length: 10 }, () => pick({ key: null }))
    // Five partitions have a leader: ten null-key records visit each of them twice, in order.
    assert.deepEqual([...new Set(seen)].sort(), [0, 1, 3, 4, 5])
    for (let i = 5; i < seen.length; i++) assert.equal(seen[i], seen[i - 5])
  })
})
