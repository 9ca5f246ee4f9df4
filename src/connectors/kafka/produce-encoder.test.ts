import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'
import { describe, it, mock } from 'node:test'
import { crc32c, encodeProduceRequest, type ProduceRequestArgs } from './produce-encoder.js'

// kafkajs's own pieces, the reference (this test never installs the fast encoder, so the
// require cache holds kafkajs's modules).
const require = createRequire(import.meta.url)
const kafkajsV3 = require('kafkajs/src/protocol/requests/produce/v3/request.js') as (a: ProduceRequestArgs) => { encode(): Promise<{ buffer: Buffer }> }
const kafkajsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (b: Buffer) => number
const Long = require('kafkajs/src/utils/long.js') as { fromString(s: string): ProduceRequestArgs['producerId']; fromInt(n: number): ProduceRequestArgs['producerId'] }

/** kafkajs's encoding of `args` with Date.now() fixed at `now`. */
async function reference(args: ProduceRequestArgs, now: number): Promise<Buffer> {
  const spy = mock.method(Date, 'now', () => now)
  try {
    return (await kafkajsV3(args).encode()).buffer
  } finally {
    spy.mock.restore()
  }
}

const text = (n: number) => randomBytes(n).toString('base64').slice(0, n)

describe('Kafka produce request encoder', () => {
  it('CRC-32C matches kafkajs\'s (and the standard check value) on every length and offset', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283)
    for (let len = 0; len < 100; len++) {
      const b = randomBytes(len + 3)
      assert.equal(crc32c(b, 3), kafkajsCrc32c(b.subarray(3)), `length ${len}`)
    }
  })

  it('encodes byte for byte as kafkajs: keys, null keys, UTF-8, Buffers, headers, timestamps, several topics and partitions', async () => {
    const now = 1_790_000_123_456
    const args: ProduceRequestArgs = {
      acks: -1, timeout: 30_000,
      topicData: [
        { topic: 'telemetry', partitions: [
          { partition: 0, messages: [
            { key: 'dev-1', value: '{"seq":1,"temp":21.5}' },
            { key: null, value: 'température 🙂 设备' },
            { key: Buffer.from([0, 1, 2, 255]), value: Buffer.alloc(300, 7), headers: { 'x-qos': '1', 'x-b': Buffer.from('bin'), 'ü': 'ß' } },
            { value: '' },
          ] },
          { partition: 3, messages: [{ key: 'k', value: text(200), timestamp: '1790000000000' }, { key: 'k2', value: 'v', timestamp: 1_790_000_000_500 }, { key: 'k3', value: 'no timestamp' }] },
        ] },
        { topic: 'другой.topic', partitions: [{ partition: 1, messages: Array.from({ length: 150 }, (_, i) => ({ key: `dev-${i}`, value: text(i * 7) })) }] },
      ],
    }
    assert.deepEqual(encodeProduceRequest(args, now), await reference(args, now))
  })

  it('encodes idempotent and transactional batches (producer ID, epoch, first sequence) as kafkajs', async () => {
    const now = 1_700_000_000_000
    const args: ProduceRequestArgs = {
      acks: -1, timeout: 5_000, transactionalId: 'tx-1', producerId: Long.fromString('123456789012'), producerEpoch: 3,
      topicData: [{ topic: 't', partitions: [{ partition: 2, firstSequence: 41, messages: [{ key: 'a', value: 'b' }, { key: 'c', value: 'd' }] }] }],
    }
    assert.deepEqual(encodeProduceRequest(args, now), await reference(args, now))
    // Without idempotence kafkajs passes the producer ID -1 as a plain number.
    for (const producerId of [Long.fromInt(-1), -1, '-1']) {
      const plain = { ...args, transactionalId: null, producerId, producerEpoch: 0 }
      assert.deepEqual(encodeProduceRequest(plain, now), await reference(plain, now))
    }
  })

  it('agrees with kafkajs on random batches', async () => {
    for (let round = 0; round < 30; round++) {
      const now = 1_600_000_000_000 + round * 1_000_003
      const args: ProduceRequestArgs = {
        acks: round % 3 === 0 ? 1 : -1, timeout: 1000 + round,
        topicData: Array.from({ length: 1 + (round % 3) }, (_, t) => ({
          topic: `topic-${round}-${t}`,
          partitions: Array.from({ length: 1 + ((round + t) % 4) }, (_, p) => ({
            partition: p,
            messages: Array.from({ length: 1 + ((round * 7 + p) % 40) }, (_, i) => ({
              key: i % 5 === 0 ? null : text(i % 13),
              value: text((i * 31 + round) % 2000),
              ...(i % 4 === 1 ? { headers: { [`h${i}`]: text(i % 9) } } : {}),
              ...(i % 6 === 2 ? { timestamp: String(now - 5000 + i * 17) } : {}),
            })),
          })),
        })),
      }
      assert.deepEqual(encodeProduceRequest(args, now), await reference(args, now), `round ${round}`)
    }
  })

  it('leaves to kafkajs what it does not cover: compression, header value lists, other value types', () => {
    const base = { acks: -1, timeout: 1000 }
    const one = (message: Record<string, unknown>, extra: Partial<ProduceRequestArgs> = {}) =>
      encodeProduceRequest({ ...base, ...extra, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [message] }] }] })
    assert.equal(one({ value: 'v' }, { compression: 1 }), undefined)
    assert.equal(one({ value: 'v', headers: { h: ['a', 'b'] } }), undefined)
    assert.equal(one({ value: 42 }), undefined)
    assert.equal(one({ value: 'v', timestamp: 'soon' }), undefined)
    assert.ok(one({ value: 'v' }) instanceof Buffer)
  })
})
