import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { KafkaRecord } from './kafka-client.js'
import { packRecords, unpackRecords } from './worker-protocol.js'

describe('Kafka worker protocol', () => {
  it('packs records into transferable bytes and unpacks the same keys, values, topics, headers and timestamps', () => {
    const records: KafkaRecord[] = [
      { topic: 'a', key: 'dev-1', value: '{"temp":21.5}' },
      { topic: 'b', key: null, value: 'température 🙂', headers: { 'x-qos': '1' } },
      { topic: 'a', key: '', value: '', timestamp: '1790000000000' },
      { topic: 'c', key: Buffer.from([0, 255]), value: Buffer.from('raw'), partition: 2 },
    ]
    const { packed, transfer } = packRecords(records)
    assert.deepEqual(packed.topics, ['a', 'b', 'c'])
    assert.equal(transfer.length, 3)
    // What the worker gets: a structured clone with the buffers moved, not copied.
    const received = structuredClone(packed, { transfer })
    assert.equal(packed.lengths.length, 0, 'the sender\'s typed arrays are detached')
    const back = unpackRecords(received)
    assert.equal(back.length, records.length)
    back.forEach((r, i) => {
      const want = records[i]!
      assert.equal(r.topic, want.topic)
      assert.deepEqual(r.key === null ? null : Buffer.from(r.key), want.key === null ? null : Buffer.from(want.key))
      assert.deepEqual(Buffer.from(r.value), Buffer.from(want.value))
      assert.deepEqual(r.headers, want.headers)
      assert.equal(r.timestamp, want.timestamp)
      assert.equal(r.partition, want.partition)
    })
    assert.equal(back[1]!.value.toString(), 'température 🙂')
  })

  it('packs an empty write', () => {
    const { packed, transfer } = packRecords([])
    assert.deepEqual(unpackRecords(structuredClone(packed, { transfer })), [])
  })
})
