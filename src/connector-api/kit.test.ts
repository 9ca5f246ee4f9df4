// The kit's deadline helpers and probe recipe, against real loopback sockets.
import assert from 'node:assert/strict'
import { createServer, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { getEventListeners } from 'node:events'
import { settleWithin, toConnectorError, untilAborted, whenAborted } from './deadline.js'
import { ConnectorError } from './errors.js'
import { InflightLimit } from './inflight-limit.js'
import { probeConnection } from './probe.js'
import { errorFromWire, errorToWire } from './worker-thread.js'

describe('untilAborted', () => {
  it('answers with the work when it settles first', async () => {
    assert.equal(await untilAborted(Promise.resolve(7), AbortSignal.timeout(1_000), () => new Error('late')), 7)
  })

  it('answers at once when the signal aborts, and cancels the work', async () => {
    let cancelled = false
    const ac = new AbortController()
    const pending = untilAborted(new Promise(() => {}), ac.signal, () => new Error('gave up'), () => { cancelled = true })
    ac.abort()
    await assert.rejects(pending, /gave up/)
    assert.equal(cancelled, true)
  })

  it('rejects at once for a signal aborted before the call', async () => {
    await assert.rejects(untilAborted(sleep(10_000), AbortSignal.abort(), () => new Error('already')), /already/)
  })
})

describe('whenAborted', () => {
  it('calls each waiting callback once, in order, when the signal aborts; one listener on the signal however many wait', () => {
    const ac = new AbortController()
    const calls: number[] = []
    const stops = Array.from({ length: 200 }, (_, i) => whenAborted(ac.signal, () => calls.push(i)))
    assert.equal(getEventListeners(ac.signal, 'abort').length, 1)
    stops[3]!()
    stops[3]!()
    ac.abort()
    ac.abort()
    assert.deepEqual(calls, Array.from({ length: 200 }, (_, i) => i).filter((i) => i !== 3))
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0)
  })

  it('the listener goes with the last callback, and comes back with the next; an aborted signal calls none', () => {
    const ac = new AbortController()
    const stopA = whenAborted(ac.signal, () => assert.fail('stopped'))
    const stopB = whenAborted(ac.signal, () => assert.fail('stopped'))
    stopA()
    assert.equal(getEventListeners(ac.signal, 'abort').length, 1)
    stopB()
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0)
    let called = 0
    whenAborted(ac.signal, () => called++)
    assert.equal(getEventListeners(ac.signal, 'abort').length, 1)
    ac.abort()
    assert.equal(called, 1)
    whenAborted(ac.signal, () => called++)
    assert.equal(called, 1, 'as addEventListener: an aborted signal fires no more')
  })

  it('InflightLimit and untilAborted wait on a shared signal with one listener, and all answer at its abort', async () => {
    const ac = new AbortController()
    const limit = new InflightLimit(1)
    await limit.acquire(ac.signal, () => new Error('no slot'))
    const waits = Array.from({ length: 100 }, () => limit.acquire(ac.signal, () => new Error('no slot')))
    const works = Array.from({ length: 100 }, () => untilAborted(new Promise(() => {}), ac.signal, () => new Error('late')))
    assert.equal(getEventListeners(ac.signal, 'abort').length, 1)
    ac.abort()
    for (const w of waits) await assert.rejects(w, /no slot/)
    for (const w of works) await assert.rejects(w, /late/)
  })
})

describe('settleWithin', () => {
  it('is true when the work settles (even by failing) before the signal, false after', async () => {
    assert.equal(await settleWithin(Promise.reject(new Error('x')), AbortSignal.timeout(1_000)), true)
    assert.equal(await settleWithin(new Promise(() => {}), AbortSignal.timeout(20)), false)
  })
})

describe('InflightLimit', () => {
  it('holds sends over the limit until a slot frees, in order; a waiting send gives up when its signal aborts', async () => {
    const limit = new InflightLimit(2)
    const never = new AbortController().signal
    await limit.acquire(never, () => new Error('x'))
    await limit.acquire(never, () => new Error('x'))
    const order: string[] = []
    const third = limit.acquire(never, () => new Error('x')).then(() => order.push('third'))
    const ac = new AbortController()
    const aborted = limit.acquire(ac.signal, () => new Error('gave up'))
    const fifth = limit.acquire(never, () => new Error('x')).then(() => order.push('fifth'))
    await sleep(10)
    assert.deepEqual(order, [], 'nothing passes while both slots are held')
    ac.abort()
    await assert.rejects(aborted, /gave up/)
    limit.release()
    await third
    limit.release()
    await fifth
    assert.deepEqual(order, ['third', 'fifth'], 'the aborted waiter took no slot')
    await assert.rejects(limit.acquire(AbortSignal.abort(), () => new Error('late')), /late/)
  })

  it('close fails every waiting and later send with its error', async () => {
    const limit = new InflightLimit(1)
    const never = new AbortController().signal
    await limit.acquire(never, () => new Error('x'))
    const waiting = limit.acquire(never, () => new Error('x'))
    limit.close(new Error('connection gone'))
    await assert.rejects(waiting, /connection gone/)
    await assert.rejects(limit.acquire(never, () => new Error('x')), /connection gone/)
  })
})

describe('toConnectorError', () => {
  it('keeps a ConnectorError, names an abort TIMEOUT, then asks the type, then the network, then CONNECTION_FAILED', () => {
    const own = new ConnectorError('NOT_PERMITTED', 'no')
    assert.equal(toConnectorError(own, 't'), own)
    assert.equal(toConnectorError(new Error('x'), 't', { signal: AbortSignal.abort() }).code, 'TIMEOUT')
    assert.equal(toConnectorError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 't', { classify: () => new ConnectorError('AUTHENTICATION_FAILED', 'a') }).code, 'AUTHENTICATION_FAILED')
    assert.equal(toConnectorError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 't', { classify: () => undefined }).code, 'CONNECTION_REFUSED')
    const other = toConnectorError(new Error('strange'), 'host:1')
    assert.equal(other.code, 'CONNECTION_FAILED')
    assert.match(other.message, /host:1: strange/)
  })
})

describe('probeConnection', () => {
  const sockets = new Set<Socket>()
  const server = createServer((s) => { sockets.add(s); s.on('error', () => {}) })
  let port = 0
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as { port: number }).port
  })
  after(() => { for (const s of sockets) s.destroy(); server.close() })

  it('runs resolve, connect and the type steps in order, with their details, and cleans up once', async () => {
    let cleaned = 0
    const r = await probeConnection({
      host: 'localhost', port, timeoutMs: 2_000,
      steps: [{ name: 'authenticate', run: async () => 'logged in' }, { name: 'query', run: async () => undefined }],
      cleanup: () => { cleaned++ },
    }, AbortSignal.timeout(5_000))
    assert.equal(r.ok, true, JSON.stringify(r))
    assert.deepEqual(r.steps.map((s) => [s.name, s.ok, s.detail]), [['resolve', true, '127.0.0.1'], ['connect', true, `127.0.0.1:${port}`], ['authenticate', true, 'logged in'], ['query', true, undefined]])
    assert.equal(cleaned, 1)
  })

  it('stops at the failing step with the classified code, and runs no later step', async () => {
    let later = false
    const r = await probeConnection({
      host: '127.0.0.1', port, timeoutMs: 2_000,
      steps: [{ name: 'authenticate', run: async () => { throw Object.assign(new Error('denied'), { code: 28 }) } }, { name: 'query', run: async () => { later = true } }],
      classify: (err) => ((err as { code?: unknown }).code === 28 ? new ConnectorError('AUTHENTICATION_FAILED', 'wrong password', { hint: 'Check it.' }) : undefined),
    }, AbortSignal.timeout(5_000))
    assert.ok(!r.ok && r.error.code === 'AUTHENTICATION_FAILED' && r.error.hint === 'Check it.')
    assert.deepEqual(r.steps.map((s) => [s.name, s.ok]), [['resolve', true], ['connect', true], ['authenticate', false]])
    assert.equal(later, false)
  })

  it('a step that never answers is TIMEOUT after timeoutMs', async () => {
    const r = await probeConnection({ host: '127.0.0.1', port, timeoutMs: 200, steps: [{ name: 'authenticate', run: () => new Promise(() => {}) }] }, AbortSignal.timeout(5_000))
    assert.ok(!r.ok && r.error.code === 'TIMEOUT', JSON.stringify(r))
    assert.equal(r.steps.at(-1)?.name, 'authenticate')
  })

  it("a step's own timeoutMs replaces the recipe's for that step only", async () => {
    const slow = { name: 'authenticate' as const, run: () => sleep(300).then(() => 'done') }
    const own = await probeConnection({ host: '127.0.0.1', port, timeoutMs: 100, steps: [{ ...slow, timeoutMs: 5_000 }] }, AbortSignal.timeout(10_000))
    assert.equal(own.ok, true, JSON.stringify(own))
    const recipe = await probeConnection({ host: '127.0.0.1', port, timeoutMs: 100, steps: [slow] }, AbortSignal.timeout(10_000))
    assert.ok(!recipe.ok && recipe.error.code === 'TIMEOUT', JSON.stringify(recipe))
  })

  it('TLS on against a plain server fails at the tls step', async () => {
    const r = await probeConnection({ host: '127.0.0.1', port, timeoutMs: 300, tls: { enable: true, verify: true }, steps: [] }, AbortSignal.timeout(5_000))
    assert.ok(!r.ok, JSON.stringify(r))
    assert.deepEqual(r.steps.map((s) => [s.name, s.ok]), [['resolve', true], ['connect', true], ['tls', false]])
  })
})

describe('errors across a thread boundary', () => {
  it('keep their plain fields, cause chain and a ConnectorError\'s code, kind and hint through structured clone', () => {
    const inner = Object.assign(new Error('refused'), { name: 'LibConnectionError', code: 'ECONNREFUSED', retriable: true, port: 9 })
    const outer = Object.assign(new Error('gave up', { cause: inner }), { name: 'LibRetriesExceeded', socket: {} })
    const back = errorFromWire(structuredClone(errorToWire(outer))) as Error & Record<string, unknown>
    assert.deepEqual([back.name, back.message, 'socket' in back], ['LibRetriesExceeded', 'gave up', false])
    const cause = back.cause as Record<string, unknown>
    assert.deepEqual([cause.name, cause.message, cause.code, cause.retriable, cause.port], ['LibConnectionError', 'refused', 'ECONNREFUSED', true, 9])
    const coded = errorFromWire(structuredClone(errorToWire(new ConnectorError('NOT_PERMITTED', 'no', { kind: 'permanent', hint: 'Grant it.' }))))
    assert.ok(coded instanceof ConnectorError)
    assert.deepEqual([coded.code, coded.kind, coded.message, coded.hint], ['NOT_PERMITTED', 'permanent', 'no', 'Grant it.'])
    assert.equal(errorFromWire(structuredClone(errorToWire('text'))).message, 'text')
  })
})
