import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { coveringFilters, covers } from './covering-filters.js'

describe('coveringFilters', () => {
  it('drops filters another one covers, so a broker does not send one message twice', () => {
    assert.deepEqual(coveringFilters(['t/a', 't/#', 't/+/b', 'u/1', 'u/+']), ['t/#', 'u/+'])
    assert.deepEqual(coveringFilters(['#', 'a/b', '$SYS/x']), ['#', '$SYS/x'], '# does not cover $ topics')
    assert.deepEqual(coveringFilters(['a/b', 'a/b']), ['a/b'])
  })
  it('keeps filters that only partly overlap', () => {
    assert.deepEqual(coveringFilters(['a/+/c', 'a/b/+']), ['a/+/c', 'a/b/+'])
  })
  it('covers: # matches the parent level, + one level, literals themselves', () => {
    assert.equal(covers('a/#', 'a'), true)
    assert.equal(covers('a/+', 'a'), false)
    assert.equal(covers('a/+', 'a/#'), false)
    assert.equal(covers('+/b', 'x/b'), true)
    assert.equal(covers('+/b', '$x/b'), false)
    assert.equal(covers('a/b', 'a/b/c'), false)
  })
})
