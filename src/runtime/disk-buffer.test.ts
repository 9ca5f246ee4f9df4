import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { DiskBuffer } from './disk-buffer.js'

const dir = () => join(mkdtempSync(join(tmpdir(), 'junction-buffer-')), 'action')

describe('DiskBuffer', () => {
  it('returns what was not settled after a reopen, in order', () => {
    const d = dir()
    const { buffer, pending } = DiskBuffer.open(d)
    assert.deepEqual(pending, [])
    const seqs = [0, 1, 2, 3, 4].map((n) => buffer.append({ n, text: 'line\nbreak' }))
    assert.deepEqual(seqs, [0, 1, 2, 3, 4])
    buffer.settle(0)
    buffer.settle(1)
    buffer.settle(3) // out of order: above the watermark
    buffer.close()
    const again = DiskBuffer.open(d)
    assert.deepEqual(again.pending.map((p) => [p.seq, p.message.n]), [[2, 2], [3, 3], [4, 4]], 'at least once: 3 comes again')
    assert.equal(again.pending[0]!.message.text, 'line\nbreak')
    assert.equal(again.buffer.append({ n: 5 }), 5, 'sequences continue')
    again.buffer.close()
  })

  it('survives without close (a killed process): unsettled messages come back', () => {
    const d = dir()
    const { buffer } = DiskBuffer.open(d)
    for (let n = 0; n < 100; n++) buffer.append({ n })
    // no close(): as if the process died here
    const again = DiskBuffer.open(d)
    assert.equal(again.pending.length, 100)
    again.buffer.close()
  })

  it('ignores settles after close, and destroy removes the directory', () => {
    const d = dir()
    const { buffer } = DiskBuffer.open(d)
    buffer.append({ n: 0 })
    buffer.close()
    buffer.settle(0)
    const again = DiskBuffer.open(d)
    assert.equal(again.pending.length, 1)
    again.buffer.destroy()
    assert.deepEqual(readdirSync(join(d, '..')), [])
  })
})
