import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TopicIndex } from './topic-index.js'

const sorted = (s: ReadonlySet<string>) => [...s].sort()

describe('TopicIndex', () => {
  it('matches exact, + and # filters as MQTT does', () => {
    const idx = new TopicIndex<string>()
    idx.add('sensors/+/temp', 'plus')
    idx.add('sensors/#', 'hash')
    idx.add('sensors/1/temp', 'exact')
    idx.add('#', 'all')
    idx.add('other/x', 'other')
    assert.deepEqual(sorted(idx.match('sensors/1/temp')), ['all', 'exact', 'hash', 'plus'])
    assert.deepEqual(sorted(idx.match('sensors/2/temp')), ['all', 'hash', 'plus'])
    assert.deepEqual(sorted(idx.match('sensors')), ['all', 'hash'], '# also matches the parent level')
    assert.deepEqual(sorted(idx.match('sensors/1/temp/x')), ['all', 'hash'])
    assert.deepEqual(sorted(idx.match('other/x')), ['all', 'other'])
    assert.deepEqual(sorted(idx.match('nothing')), ['all'])
  })

  it('does not match $-topics with leading wildcards', () => {
    const idx = new TopicIndex<string>()
    idx.add('#', 'all')
    idx.add('+/x', 'plus')
    idx.add('$SYS/#', 'sys')
    assert.deepEqual(sorted(idx.match('$SYS/x')), ['sys'])
    assert.deepEqual(sorted(idx.match('a/x')), ['all', 'plus'])
  })

  it('a value with several filters matches once, and remove drops all of them', () => {
    const idx = new TopicIndex<string>()
    idx.add('a/#', 'r1')
    idx.add('a/b', 'r1')
    idx.add('a/b', 'r2')
    assert.deepEqual(sorted(idx.match('a/b')), ['r1', 'r2'])
    idx.remove('r1')
    assert.deepEqual(sorted(idx.match('a/b')), ['r2'])
    assert.deepEqual(sorted(idx.match('a/c')), [])
    idx.remove('r2')
    assert.equal(idx.size, 0)
    assert.deepEqual(sorted(idx.match('a/b')), [])
  })

  it('answers from its per-topic memory until a filter is added or removed, and bounds that memory', () => {
    const idx = new TopicIndex<string>()
    idx.add('a/b', 'r1')
    assert.equal(idx.match('a/b'), idx.match('a/b'), 'the same answer, not computed again')
    idx.add('a/+', 'r2')
    assert.deepEqual(sorted(idx.match('a/b')), ['r1', 'r2'], 'a new filter counts at once')
    idx.remove('r1')
    assert.deepEqual(sorted(idx.match('a/b')), ['r2'], 'a removed one is gone at once')
    for (let i = 0; i < 12_000; i++) assert.equal(idx.match(`a/${i}`).size, 1)
    assert.deepEqual(sorted(idx.match('a/b')), ['r2'])
    assert.deepEqual(sorted(idx.match('a/b/c')), [])
  })

  it('stays correct against a brute-force matcher on random filters', () => {
    const levels = ['a', 'b', 'c', '+', '#']
    const rnd = (n: number) => Math.floor(Math.random() * n)
    const idx = new TopicIndex<number>()
    const filters: string[] = []
    for (let i = 0; i < 300; i++) {
      const depth = 1 + rnd(4)
      const parts: string[] = []
      for (let d = 0; d < depth; d++) {
        const l = levels[rnd(levels.length)]!
        parts.push(l === '#' && d !== depth - 1 ? 'a' : l)
      }
      filters.push(parts.join('/'))
      idx.add(parts.join('/'), i)
    }
    const brute = (f: string, t: string) => {
      const fl = f.split('/')
      const tl = t.split('/')
      for (let i = 0; i < fl.length; i++) {
        if (fl[i] === '#') return true
        if (i >= tl.length) return false
        if (fl[i] !== '+' && fl[i] !== tl[i]) return false
      }
      return fl.length === tl.length
    }
    for (let k = 0; k < 200; k++) {
      const topic = Array.from({ length: 1 + rnd(4) }, () => ['a', 'b', 'c'][rnd(3)]).join('/')
      const expected = filters.map((f, i) => (brute(f, topic) ? i : -1)).filter((i) => i >= 0).sort((x, y) => x - y)
      assert.deepEqual([...idx.match(topic)].sort((x, y) => x - y), expected, topic)
    }
  })
})
