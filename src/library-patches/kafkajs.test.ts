import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import { KAFKAJS_PIN, PRODUCE_VERSIONS, guardKafkajs, replaceProduceEncoding, type KafkajsInternals } from './kafkajs.js'
import { LibraryPatchError, installedVersion } from './version-guard.js'

const require = createRequire(import.meta.url)
type Table = { protocol(v: { version: number }): (args: object) => { request: { apiVersion: number; encode(): Promise<{ buffer: Buffer }> } } }
const table = require('kafkajs/src/protocol/requests/produce/index.js') as Table

/** The real internals, before anything is swapped. */
function realInternals(): KafkajsInternals {
  return {
    version: installedVersion('kafkajs'),
    Encoder: require('kafkajs/src/protocol/encoder.js'),
    requests: PRODUCE_VERSIONS.map((v) => {
      const path = require.resolve(`kafkajs/src/protocol/requests/produce/v${v}/request.js`)
      return { path, exports: require(path) as unknown }
    }),
  }
}

const args = (topic: string) => ({ acks: -1, timeout: 1000, topicData: [{ topic, partitions: [{ partition: 0, messages: [{ key: null, value: 'v', timestamp: 1 }] }] }] })

describe('kafkajs library patch', () => {
  it('guard: the installed kafkajs is the pinned release with the internals the patch swaps', () => {
    assert.equal(installedVersion('kafkajs'), KAFKAJS_PIN.version)
    assert.doesNotThrow(() => guardKafkajs(realInternals()))
  })

  it('guard: refuses another version, naming the package, both versions and what to run', () => {
    assert.throws(() => guardKafkajs({ ...realInternals(), version: '2.2.3' }), (err: unknown) => {
      assert.ok(err instanceof LibraryPatchError)
      assert.match(err.message, /kafkajs 2\.2\.4 exactly, found kafkajs 2\.2\.3: the version differs/)
      assert.match(err.message, /npm ci/)
      return true
    })
  })

  it('guard: refuses an Encoder without writeBuffer() and a request module that is not a function', () => {
    const real = realInternals()
    assert.throws(() => guardKafkajs({ ...real, Encoder: class {} }), /Encoder class with writeBuffer\(\) is missing/)
    assert.throws(() => guardKafkajs({ ...real, requests: real.requests.map((r, i) => (i === 4 ? { ...r, exports: {} } : r)) }), /Produce v7 request function is missing/)
    assert.throws(() => guardKafkajs({ ...real, requests: real.requests.slice(1) }), /request module is missing/)
  })

  it('replaces the encoding of every Produce v3-v7 request kafkajs builds; a declined request keeps kafkajs\'s bytes', async () => {
    const before = new Map<number, Buffer>()
    for (const v of PRODUCE_VERSIONS) before.set(v, (await table.protocol({ version: v })(args('declined')).request.encode()).buffer)

    const mine = Buffer.from('junction produce body')
    const encode = (a: ReturnType<typeof args>) => (a.topicData[0]!.topic === 'mine' ? mine : undefined)
    assert.equal(replaceProduceEncoding(encode), true)
    assert.equal(replaceProduceEncoding(() => undefined), true, 'idempotent: the first encoding stays')

    for (const v of PRODUCE_VERSIONS) {
      const { request } = table.protocol({ version: v })(args('mine'))
      assert.equal(request.apiVersion, v, 'the rest of the request stays kafkajs\'s')
      assert.deepEqual((await request.encode()).buffer, mine, `v${v} encodes through the replacement`)
      // A request the encoder declines: kafkajs's own bytes (timestamps are fixed, so they match).
      assert.deepEqual((await table.protocol({ version: v })(args('declined')).request.encode()).buffer, before.get(v), `v${v} declined`)
    }
    // v2 (before RecordBatch v2) is left alone.
    assert.notDeepEqual((await table.protocol({ version: 2 })(args('mine')).request.encode()).buffer, mine)
  })
})
