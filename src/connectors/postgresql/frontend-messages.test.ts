import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { serialize } from 'pg-protocol'
import { FrontendMessages, type WireValue } from './frontend-messages.js'

/** A Bind message read back field by field (the protocol's layout). */
function decodeBind(b: Buffer): { portal: string; statement: string; formats: number[]; values: WireValue[]; resultFormats: number[] } {
  assert.equal(b[0], 0x42, 'a Bind message')
  assert.equal(b.readInt32BE(1), b.length - 1, 'its length field covers the rest')
  let at = 5
  const cstring = () => {
    const end = b.indexOf(0, at)
    const s = b.toString('utf8', at, end)
    at = end + 1
    return s
  }
  const int16 = () => { const n = b.readInt16BE(at); at += 2; return n }
  const portal = cstring()
  const statement = cstring()
  const formats = Array.from({ length: int16() }, int16)
  const count = int16()
  const values: WireValue[] = []
  for (let i = 0; i < count; i++) {
    const len = b.readInt32BE(at)
    at += 4
    if (len === -1) { values.push(null); continue }
    const binary = (formats.length === 1 ? formats[0] : formats[i] ?? 0) === 1
    values.push(binary ? Buffer.from(b.subarray(at, at + len)) : b.toString('utf8', at, at + len))
    at += len
  }
  const resultFormats = Array.from({ length: int16() }, int16)
  assert.equal(at, b.length, 'nothing after the result formats')
  return { portal, statement, formats, values, resultFormats }
}

const randomText = (n: number) => Array.from({ length: n }, () => String.fromCodePoint([0x41, 0x7a, 0xe9, 0x4e2d, 0x1f600, 0x27][Math.floor(Math.random() * 6)]!)).join('')

describe('PostgreSQL frontend messages', () => {
  it('Parse, Execute, Describe and Sync are byte for byte what pg-protocol sends', () => {
    const m = new FrontendMessages(16)
    const text = "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) -- é 中 😀"
    assert.deepEqual(m.parse('junction_ab_2', text).take(), serialize.parse({ name: 'junction_ab_2', text, types: [] }))
    assert.deepEqual(m.parse('', text).take(), serialize.parse({ text, types: [] }))
    assert.deepEqual(m.execute().take(), serialize.execute({ portal: '', rows: 0 }))
    assert.deepEqual(m.describeStatement('s1').take(), serialize.describe({ type: 'S', name: 's1' }))
    assert.deepEqual(m.sync().take(), serialize.sync())
  })

  it('a Bind with bytea values is byte for byte pg-protocol\'s (a format code per parameter)', () => {
    const values: WireValue[] = ['42', null, Buffer.from([0, 1, 2, 255]), 'dev-é', '', Buffer.alloc(0)]
    const m = new FrontendMessages(8)
    assert.deepEqual(m.bind('stmt', values).take(), serialize.bind({ statement: 'stmt', values }))
  })

  it('a Bind of text values says "all text" once and carries every value exactly', () => {
    const values: WireValue[] = ['42', null, '21.5', 'dev-1', '', '{"a":[1,2]}', 'it\'s; DROP TABLE t; --', '中文😀']
    const bytes = new FrontendMessages(8).bind('junction_x_2', values).take()
    assert.deepEqual(decodeBind(bytes), { portal: '', statement: 'junction_x_2', formats: [], values, resultFormats: [0] })
    // pg-protocol's message differs only by its per-parameter format codes (all 0).
    const theirs = serialize.bind({ statement: 'junction_x_2', values })
    assert.equal(theirs.length - bytes.length, 2 * values.length)
    assert.deepEqual(decodeBind(theirs).values, values)
  })

  it('random batches survive the round trip, across buffer growth and reuse', () => {
    const m = new FrontendMessages(32)
    for (let round = 0; round < 40; round++) {
      const values: WireValue[] = Array.from({ length: 1 + Math.floor(Math.random() * 300) }, (_, i) =>
        i % 11 === 0 ? null : i % 17 === 0 ? Buffer.from(randomText(5)) : randomText(Math.floor(Math.random() * 40)))
      const bytes = m.bind(`s${round}`, values).execute().sync().take()
      const bindLength = bytes.readInt32BE(1) + 1
      const decoded = decodeBind(bytes.subarray(0, bindLength))
      assert.deepEqual(decoded.values, values)
      assert.equal(decoded.statement, `s${round}`)
      assert.deepEqual(bytes.subarray(bindLength), Buffer.concat([serialize.execute({ portal: '', rows: 0 }), serialize.sync()]))
    }
  })

  it('refuses more parameters than the protocol can count', () => {
    assert.throws(() => new FrontendMessages().bind('', new Array<WireValue>(65_536).fill('1')), /at most 65535/)
  })
})
