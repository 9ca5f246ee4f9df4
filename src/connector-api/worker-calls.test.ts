// The kit's batched calls to a worker thread (WorkerCalls / answerCalls), against a real worker.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import type { TestCall } from '../../test/support/calls-worker.js'
import { ConnectorError } from './errors.js'
import { WorkerCalls } from './worker-calls.js'
import { startWorkerThread } from './worker-thread.js'

const quiet = { debug() {}, info() {}, warn() {}, error() {} }
const ttlOver = () => new ConnectorError('TIMEOUT', 'the TTL is over', { kind: 'retryable' })

function start(): WorkerCalls<TestCall, unknown> {
  const worker = startWorkerThread(new URL('../../test/support/calls-worker.js', import.meta.url), { name: 'calls test' })
  const calls = new WorkerCalls<TestCall, unknown>(worker, { label: 'test', logger: quiet, onAbort: ttlOver })
  after(() => worker.terminate())
  return calls
}

describe('WorkerCalls', () => {
  it('answers each call with its own value, and posts the calls of one turn as one message', async () => {
    const calls = start()
    const signal = AbortSignal.timeout(10_000)
    assert.equal(await calls.call({ op: 'echo', value: 'warm' }, signal), 'warm')
    const before = (await calls.call({ op: 'batches' }, signal)) as number
    const values = Array.from({ length: 500 }, (_, i) => ({ i, s: `v${i}` }))
    assert.deepEqual(await Promise.all(values.map((value) => calls.call({ op: 'echo', value }, signal))), values)
    const batches = (await calls.call({ op: 'batches' }, signal)) as number
    assert.equal(batches - before, 2, '500 calls made in one turn went over as one message (the other is this count)')
    assert.equal(calls.waiting, 0)
  })

  it("errors cross as they were: a ConnectorError with its code, kind and hint; another error with its code", async () => {
    const calls = start()
    const signal = AbortSignal.timeout(10_000)
    const e1 = await calls.call({ op: 'fail', connector: true }, signal).catch((e: unknown) => e)
    assert.ok(e1 instanceof ConnectorError)
    assert.equal(e1.code, 'INVALID_DATA')
    assert.equal(e1.kind, 'permanent')
    assert.equal(e1.hint, 'a hint')
    const e2 = (await calls.call({ op: 'fail', connector: false }, signal).catch((e: unknown) => e)) as Error & { code?: string }
    assert.equal(e2.message, 'socket trouble')
    assert.equal(e2.code, 'ECONNRESET')
  })

  it("an aborted signal fails its calls at once with the caller's error, and aborts them in the worker too", async () => {
    const calls = start()
    const ttl = new AbortController()
    const other = AbortSignal.timeout(10_000)
    const hung = [calls.call({ op: 'hang', name: 'a' }, ttl.signal), calls.call({ op: 'hang', name: 'b' }, ttl.signal)]
    const unrelated = calls.call({ op: 'hang', name: 'c' }, other)
    await new Promise((r) => setTimeout(r, 50))
    ttl.abort()
    for (const h of hung) {
      const e = await h.catch((err: unknown) => err)
      assert.ok(e instanceof ConnectorError && e.code === 'TIMEOUT', String(e))
    }
    assert.equal(await calls.call({ op: 'aborted', name: 'a' }, other), true, 'the worker saw the abort')
    assert.equal(await calls.call({ op: 'aborted', name: 'c' }, other), false, 'a call on another signal goes on')
    assert.equal(calls.waiting, 1)
    const late = await calls.call({ op: 'echo', value: 1 }, ttl.signal).catch((err: unknown) => err)
    assert.ok(late instanceof ConnectorError && late.code === 'TIMEOUT', 'a call on an aborted signal fails before it is sent')
    void unrelated.catch(() => {})
  })

  it('a worker that exits fails the calls waiting and every later one as not_connected', async () => {
    const calls = start()
    const signal = AbortSignal.timeout(10_000)
    const waiting = calls.call({ op: 'hang', name: 'x' }, signal)
    void calls.call({ op: 'exit' }, signal).catch(() => {})
    const e = await waiting.catch((err: unknown) => err)
    assert.ok(e instanceof ConnectorError, String(e))
    assert.equal(e.code, 'CONNECTION_LOST')
    assert.equal(e.kind, 'not_connected')
    assert.match(e.message, /exited \(code 3\)/)
    const later = await calls.call({ op: 'echo', value: 1 }, signal).catch((err: unknown) => err)
    assert.ok(later instanceof ConnectorError && later.kind === 'not_connected')
    await calls.idle()
  })
})
