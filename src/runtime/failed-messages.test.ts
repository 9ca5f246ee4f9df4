import assert from 'node:assert/strict'
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { ConnectorError, type ChannelMessage } from '../connector-api/index.js'
import { FailedMessageStore, FailedMessageStores, firstAbove } from './failed-messages.js'

const dir = () => join(mkdtempSync(join(tmpdir(), 'junction-failed-')), 'action')
const quiet = { info() {}, warn() {}, error() {}, debug() {} }
const logText = (d: string) => readdirSync(d).filter((f) => f.endsWith('.jsonl')).map((f) => readFileSync(join(d, f), 'utf8')).join('')
const tick = (ms = 60) => new Promise((r) => setTimeout(r, ms))
const big = { maxMessages: 1_000_000, maxBytes: 1024 ** 3 }

describe('FailedMessageStore', () => {
  it('keeps reason, code, error and attempts; lists oldest first in pages; shows one', () => {
    const s = FailedMessageStore.open(dir(), quiet)
    s.add({ n: 0 }, 'failed', { attempts: 1, error: new ConnectorError('INVALID_STATEMENT', 'relation "t" does not exist', { kind: 'permanent' }) })
    for (let n = 1; n < 5; n++) s.add({ n }, n % 2 ? 'expired' : 'queue_full', { attempts: n })
    const first = s.list(2)
    assert.deepEqual(first.data.map((m) => [m.id, m.reason, m.attempts]), [['1', 'failed', 1], ['2', 'expired', 1]])
    assert.equal(first.data[0]!.code, 'INVALID_STATEMENT')
    assert.equal(first.data[0]!.error, 'relation "t" does not exist')
    assert.equal(first.data[1]!.code, null)
    assert.equal(first.data[0]!.excerpt, '{"n":0}')
    assert.equal(first.next, '2')
    const second = s.list(2, first.next!)
    assert.deepEqual(second.data.map((m) => m.id), ['3', '4'])
    const last = s.list(2, second.next!)
    assert.deepEqual(last.data.map((m) => m.id), ['5'])
    assert.equal(last.next, null)
    assert.deepEqual(s.get('3')?.message, { n: 2 })
    assert.equal(s.get('99'), undefined)
    assert.equal(s.get('x'), undefined)
    assert.deepEqual(s.stats(), { stored: 5, bytes: 35, evicted: 0, maxMessages: 10_000, maxBytes: 16 * 1024 * 1024 })
    s.close()
  })

  it('paging skips discarded messages and ends with next null', () => {
    const s = FailedMessageStore.open(dir(), quiet)
    for (let n = 0; n < 10; n++) s.add({ n }, 'expired', { attempts: 0 })
    s.discard(['3', '4', '10'])
    const p = s.list(2, '2')
    assert.deepEqual(p.data.map((m) => m.id), ['5', '6'])
    assert.equal(s.list(5, '8').next, null)
    assert.deepEqual(s.list(5, '9').data.map((m) => m.id), [])
    s.close()
  })

  it('bounded in messages: the oldest go, counted', () => {
    const s = FailedMessageStore.open(dir(), quiet, { maxMessages: 3, maxBytes: 1 << 20 })
    for (let n = 0; n < 5; n++) s.add({ n }, 'failed', { attempts: 1 })
    assert.deepEqual(s.list(10).data.map((m) => s.get(m.id)!.message), [{ n: 2 }, { n: 3 }, { n: 4 }])
    assert.equal(s.stats().evicted, 2)
    s.setLimits({ maxMessages: 1, maxBytes: 1 << 20 })
    assert.deepEqual(s.list(10).data.map((m) => m.id), ['5'])
    assert.equal(s.stats().evicted, 4)
    s.close()
  })

  it('bounded in bytes, keeping at least the newest however large', () => {
    const s = FailedMessageStore.open(dir(), quiet, { maxMessages: 100, maxBytes: 100 })
    for (let n = 0; n < 5; n++) s.add({ pad: 'x'.repeat(30) }, 'failed', { attempts: 1 })
    assert.ok(s.stats().bytes <= 100, JSON.stringify(s.stats()))
    assert.equal(s.stats().stored, 2)
    s.add({ pad: 'y'.repeat(500) }, 'failed', { attempts: 1 })
    assert.deepEqual(s.list(10).data.map((m) => m.id), ['6'])
    assert.equal(s.stats().evicted, 5)
    s.close()
  })

  it('survives a reopen: messages, discards, evictions and IDs carry on', () => {
    const d = dir()
    const s = FailedMessageStore.open(d, quiet, { maxMessages: 4, maxBytes: 1 << 20 })
    for (let n = 0; n < 6; n++) s.add({ n, text: 'line\nbreak' }, 'failed', { attempts: n })
    s.discard(['4'])
    s.close()
    const again = FailedMessageStore.open(d, quiet, { maxMessages: 4, maxBytes: 1 << 20 })
    assert.deepEqual(again.list(10).data.map((m) => [m.id, m.attempts]), [['3', 2], ['5', 4], ['6', 5]])
    assert.equal(again.get('3')!.message && (again.get('3')!.message as ChannelMessage).text, 'line\nbreak')
    assert.equal(again.stats().evicted, 2)
    again.add({ n: 6 }, 'expired', { attempts: 0 })
    assert.equal(again.list(10).data.at(-1)!.id, '7', 'IDs are never reused')
    again.close()
  })

  it('without close (a killed process) what was flushed comes back; a torn last line is ignored', async () => {
    const d = dir()
    const s = FailedMessageStore.open(d, quiet)
    for (let n = 0; n < 3; n++) s.add({ n }, 'stopped', { attempts: 0 })
    await tick()
    const file = readdirSync(d).find((f) => f.endsWith('.jsonl'))!
    appendFileSync(join(d, file), '{"a":4,"t":17000')
    const again = FailedMessageStore.open(d, quiet)
    assert.deepEqual(again.list(10).data.map((m) => m.id), ['1', '2', '3'])
    again.close()
    s.close()
  })

  it('batches writes: nothing before the flush; a message gone within the batch never reaches the disk', async () => {
    const d = dir()
    const s = FailedMessageStore.open(d, quiet, big)
    for (let n = 0; n < 1000; n++) s.add({ n, secret: n === 500 ? 'transient-one' : 'kept' }, 'queue_full', { attempts: 0 })
    assert.equal(logText(d), '', 'written later, in one go')
    s.discard(['501'])
    const text = logText(d)
    assert.ok(text.length > 0, 'a discard is written when it answers')
    assert.equal(text.split('\n').filter(Boolean).length, 999)
    assert.ok(!text.includes('transient-one'))
    for (let n = 0; n < 10; n++) s.add({ n }, 'expired', { attempts: 0 })
    assert.equal(logText(d), text)
    await tick()
    assert.equal(logText(d).split('\n').filter(Boolean).length, 1009, 'the next batch after 20 ms')
    s.close()
  })

  it('replay hands messages over in order and removes them; one that fails again counts its attempts on', () => {
    const s = FailedMessageStore.open(dir(), quiet)
    for (let n = 0; n < 4; n++) s.add({ n }, 'failed', { attempts: 2 })
    const got: ChannelMessage[] = []
    const r = s.replay({ enqueue: (m) => got.push(m) }, ['3', '1', '42'])
    assert.deepEqual(r, { replayed: 2, notFound: ['42'] })
    assert.deepEqual(got, [{ n: 0 }, { n: 2 }])
    assert.deepEqual(s.list(10).data.map((m) => m.id), ['2', '4'])
    s.add(got[1]!, 'failed', { attempts: 1 })
    assert.equal(s.list(10).data.at(-1)!.attempts, 3)
    s.add({ n: 2 }, 'failed', { attempts: 1 })
    assert.equal(s.list(10).data.at(-1)!.attempts, 1, 'an equal message that was not replayed starts afresh')
    const rest: ChannelMessage[] = []
    const all = s.replay({ enqueue: (m) => rest.push(m) })
    assert.equal(all.replayed, 4)
    assert.equal(rest.length, 4)
    assert.equal(s.stats().stored, 0)
    s.close()
  })

  it('compacts the log once it holds mostly dead data, and reads back the same', async () => {
    const d = dir()
    const s = FailedMessageStore.open(d, quiet, big)
    const pad = 'p'.repeat(10_000)
    for (let n = 0; n < 600; n++) s.add({ n, pad }, 'failed', { attempts: 1 })
    await tick()
    s.discard(Array.from({ length: 590 }, (_, i) => String(i + 1)))
    await tick(300)
    const files = readdirSync(d)
    assert.deepEqual(files.filter((f) => f.endsWith('.jsonl')).length, 1, files.join())
    assert.ok(!files.some((f) => f.endsWith('log-0000000000.jsonl')), 'a new generation replaced the old log')
    const size = statSync(join(d, files.find((f) => f.endsWith('.jsonl'))!)).size
    assert.ok(size < 20 * 10_100, `log is ${size} bytes`)
    s.add({ n: 'after' }, 'expired', { attempts: 0 })
    s.close()
    const again = FailedMessageStore.open(d, quiet, big)
    assert.deepEqual(again.list(100).data.map((m) => m.id), [...Array.from({ length: 10 }, (_, i) => String(591 + i)), '601'])
    again.close()
  })

  it('random adds, discards and replays while compactions run: a reopen reads back exactly what memory held', async () => {
    const d = dir()
    const s = FailedMessageStore.open(d, quiet, { maxMessages: 150, maxBytes: 1024 ** 3 })
    let seed = 42
    const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31)
    const pad = 'q'.repeat(40_000)
    let generations = new Set<string>()
    for (let step = 0; step < 1500; step++) {
      const r = rnd()
      if (r < 0.6) s.add({ step, pad }, 'failed', { attempts: 1 })
      else if (r < 0.8) {
        const ids = s.list(1000).data.map((m) => m.id).filter(() => rnd() < 0.3)
        if (ids.length) s.discard(ids)
      } else if (r < 0.9) {
        const ids = s.list(1000).data.map((m) => m.id).filter(() => rnd() < 0.1)
        if (ids.length) s.replay({ enqueue: (m) => s.add(m, 'failed', { attempts: 1 }) }, ids)
      } else await tick(rnd() * 30)
      for (const f of readdirSync(d)) if (f.endsWith('.jsonl')) generations.add(f)
    }
    const before = s.list(1000).data.map((m) => [m.id, m.attempts, s.get(m.id)!.message && (s.get(m.id)!.message as ChannelMessage).step])
    const stats = s.stats()
    s.close()
    assert.ok(generations.size > 1, `compactions ran (${[...generations].join()})`)
    const again = FailedMessageStore.open(d, quiet, { maxMessages: 150, maxBytes: 1024 ** 3 })
    assert.deepEqual(again.list(1000).data.map((m) => [m.id, m.attempts, (again.get(m.id)!.message as ChannelMessage).step]), before)
    assert.deepEqual(again.stats(), stats)
    again.close()
    generations = new Set()
  })

  it('a destroyed store leaves nothing and ignores late additions', () => {
    const d = dir()
    const s = FailedMessageStore.open(d, quiet)
    s.add({ n: 1 }, 'failed', { attempts: 1 })
    s.destroy()
    s.add({ n: 2 }, 'failed', { attempts: 1 })
    assert.equal(existsSync(d), false)
  })

  it('the registry shares one store per action, finds stores kept earlier, and removes a rule\'s', () => {
    const root = mkdtempSync(join(tmpdir(), 'junction-failed-'))
    const stores = new FailedMessageStores((id) => join(root, id.replace(/[^a-z0-9-]/gi, '_')), quiet)
    const limits = { maxMessages: 10, maxBytes: 1 << 20 }
    assert.equal(stores.use('r-1#0', limits), stores.use('r-1#0', limits))
    stores.use('r-1#0', limits).add({ n: 1 }, 'failed', { attempts: 1 })
    assert.equal(stores.find('r-1#1', limits), undefined)
    stores.closeAll()
    assert.equal(stores.peek('r-1#0'), undefined)
    assert.equal(stores.find('r-1#0', limits)!.stats().stored, 1)
    stores.removeRule('r-1', 1)
    assert.equal(stores.find('r-1#0', limits), undefined)
  })
})

describe('firstAbove', () => {
  it('finds the first sequence above a given one', () => {
    assert.equal(firstAbove([1, 3, 5, 7], 0), 0)
    assert.equal(firstAbove([1, 3, 5, 7], 3), 2)
    assert.equal(firstAbove([1, 3, 5, 7], 4), 2)
    assert.equal(firstAbove([1, 3, 5, 7], 7), 4)
    assert.equal(firstAbove([1, 3, 5, 7], 3, 3), 3)
    assert.equal(firstAbove([], 3), 0)
  })
})
