// The kit pieces HTTP, MySQL and PostgreSQL share: the error table, excerpts, HTTP answers, URL
// templates, round trips and health, leases, bad-row isolation and SQL actions.
import assert from 'node:assert/strict'
import { createServer, type Server, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { BatchOutcome, isolateBadRows, range, type SegmentFailure } from './batch-rows.js'
import { classifyBy, type ErrorRow } from './error-table.js'
import { BatchError, ConnectorError } from './errors.js'
import { excerpt, withoutSecrets } from './excerpt.js'
import { checkHealth, KeptConnection, NOT_STARTED, notStarted, roundTrip } from './health.js'
import { httpStatusError, joinUrlPath, parseRetryAfter } from './http-answers.js'
import { acquireWithin, withLease, type LeasePool } from './lease.js'
import { rolledBack, SqlActions, writesNothing, type SqlChannel } from './sql-actions.js'
import { compileOptionalTemplate, compileUrlTemplate, TemplateError } from './templates.js'

describe('classifyBy (a type\'s error table)', () => {
  type F = { err?: unknown; key: string; message: string; target: string; phase: 'connect' | 'query' }
  const rows: ReadonlyArray<ErrorRow<F>> = [
    [['A1', 'A2'], 'AUTHENTICATION_FAILED', undefined, '{target} refused: {message}', 'Check {what} and {target}.'],
    [/^disk/, 'SERVER_RESOURCES', 'retryable', '{target} is full', 'Free space.'],
    [(f) => f.key.startsWith('P'), 'NOT_PERMITTED', (f) => (f.phase === 'connect' ? 'not_connected' : 'permanent'), 'no {key}', 'Grant it.'],
    [(f) => f.key !== '', 'QUERY_FAILED', 'permanent', 'first row wins over this one for {key}', 'x'],
  ]
  const classify = classifyBy(rows)
  const facts = (key: string, message = 'm', phase: F['phase'] = 'query'): F => ({ err: new Error(message), key, message, target: 'db:1', phase })

  it('matches keys, patterns of the message and tests, in order; fills {name} from the facts and keeps unknown names', () => {
    const a = classify(facts('A2', 'bad password'))!
    assert.equal(a.code, 'AUTHENTICATION_FAILED')
    assert.equal(a.kind, 'not_connected', 'no kind: a ConnectorError\'s default')
    assert.equal(a.message, 'db:1 refused: bad password')
    assert.equal(a.hint, 'Check {what} and db:1.')
    assert.equal((a.cause as Error).message, 'bad password')
    assert.equal(classify(facts('', 'disk full'))!.code, 'SERVER_RESOURCES')
    assert.equal(classify(facts('P7', 'x', 'connect'))!.kind, 'not_connected')
    assert.equal(classify(facts('P7', 'x', 'query'))!.kind, 'permanent')
    assert.equal(classify(facts('Z9'))!.code, 'QUERY_FAILED')
    assert.equal(classify(facts('')), undefined, 'no row: undefined, for the type\'s fallback')
  })

  it('never expands a placeholder inside a value (a server\'s text quoting {target})', () => {
    assert.equal(classify(facts('A1', 'echo {target} {key}'))!.message, 'db:1 refused: echo {target} {key}')
  })

  it('passes a Retry-After on', () => {
    const c = classifyBy<{ key: number; retryAfterMs: number | undefined }>([[[429], 'RATE_LIMITED', 'retryable', 'slow down', 'wait']])
    assert.equal(c({ key: 429, retryAfterMs: 1_500 })!.retryAfterMs, 1_500)
    assert.equal(c({ key: 429, retryAfterMs: undefined })!.retryAfterMs, undefined)
  })
})

describe('excerpt', () => {
  it('is one line of the first bytes, "..." when the answer was longer, without the secrets', () => {
    assert.equal(excerpt('  line one\r\n\tline two  '), 'line one line two')
    assert.equal(excerpt('x'.repeat(250)), `${'x'.repeat(200)}...`)
    assert.equal(excerpt([Buffer.from('abc'), Buffer.from('def')], { maxBytes: 4 }), 'abcd...')
    assert.equal(excerpt(Buffer.from('short'), { totalBytes: 5_000 }), 'short...', 'only the start was kept')
    assert.equal(excerpt('you sent Bearer s3cret and s3cret', { secrets: ['Bearer s3cret', 's3cret'] }), 'you sent ****** and ******')
    assert.equal(withoutSecrets('keep', ['']), 'keep', 'an empty secret masks nothing')
  })
})

describe('HTTP answers', () => {
  it('classifies a status: 408, 429 and 5xx retryable, other 4xx permanent, with the body start and Retry-After', () => {
    const limited = httpStatusError(429, 'h:1', 'slow', 2_000)
    assert.deepEqual([limited.code, limited.kind, limited.message, limited.retryAfterMs], ['RATE_LIMITED', 'retryable', 'h:1 answered 429: slow', 2_000])
    assert.deepEqual([httpStatusError(503, 'h:1').code, httpStatusError(503, 'h:1').kind], ['SERVER_ERROR', 'retryable'])
    assert.equal(httpStatusError(408, 'h:1').code, 'TIMEOUT')
    assert.equal(httpStatusError(401, 'h:1').code, 'AUTHENTICATION_FAILED')
    assert.equal(httpStatusError(403, 'h:1').code, 'NOT_PERMITTED')
    assert.equal(httpStatusError(413, 'h:1').code, 'MESSAGE_TOO_LARGE')
    assert.equal(httpStatusError(404, 'h:1').code, 'INVALID_PARAMS')
    assert.match(httpStatusError(302, 'h:1').hint!, /redirects are not followed/)
    const refused = httpStatusError(422, 'h:1', 'bad temp')
    assert.deepEqual([refused.code, refused.kind, refused.message], ['INVALID_DATA', 'permanent', 'h:1 answered 422: bad temp'])
    assert.equal(httpStatusError(400, 'h:1').message, 'h:1 answered 400')
  })

  it('reads Retry-After as seconds or a date, and joins a base path with one slash', () => {
    const now = Date.parse('2026-01-01T00:00:00Z')
    assert.equal(parseRetryAfter(['7', '9'], now), 7_000)
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now), 10_000)
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0, 'a date passed: at once')
    assert.equal(parseRetryAfter(undefined), undefined)
    assert.equal(joinUrlPath('/api/', '/x'), '/api/x')
    assert.equal(joinUrlPath('/api', '/x'), '/api/x')
    assert.equal(joinUrlPath('/api', '?q=1'), '/api?q=1')
  })
})

describe('URL and optional templates', () => {
  it('URL-encodes each value, dots included, so data stays one segment', () => {
    const path = compileUrlTemplate('/d/${id}/x?at=${ts}&n=${missing}')
    assert.equal(path({ id: 'a/b ?&é', ts: 5 }), '/d/a%2Fb%20%3F%26%C3%A9/x?at=5&n=null')
    assert.equal(path({ id: '..', ts: 1 }), '/d/%2E%2E/x?at=1&n=null')
    assert.equal(compileUrlTemplate('/fixed')({}), '/fixed')
  })

  it('answers undefined for a lone placeholder whose value is missing, text otherwise', () => {
    assert.equal(compileOptionalTemplate('${missing}')({}), undefined)
    assert.equal(compileOptionalTemplate(' ${n} ')({ n: 3 }), '3')
    assert.equal(compileOptionalTemplate('id ${missing}')({}), 'id null')
  })
})

describe('roundTrip and checkHealth', () => {
  let hung: Server
  const held: Socket[] = []
  before(async () => {
    // A server that accepts and never answers: a hung resource.
    hung = createServer((s) => held.push(s))
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve))
  })
  after(() => {
    held.forEach((s) => s.destroy())
    hung.close()
  })
  const neverAnswers = () => new Promise<never>(() => {})

  it('answers TIMEOUT within its own bound and runs onFailure; a success is connected', async () => {
    let dropped = 0
    const o = { timeoutMs: 50, target: 'hung:1', onFailure: () => { dropped++ } }
    await assert.rejects(roundTrip(AbortSignal.timeout(10_000), o, neverAnswers), (e: ConnectorError) => e.code === 'TIMEOUT')
    const health = await checkHealth(AbortSignal.timeout(10_000), o, neverAnswers)
    assert.equal(health.status, 'disconnected')
    assert.equal(health.status === 'disconnected' && health.code, 'TIMEOUT')
    assert.equal(dropped, 2)
    assert.deepEqual(await checkHealth(AbortSignal.timeout(10_000), o, async () => 1), { status: 'connected' })
    assert.equal(dropped, 2, 'no failure, nothing dropped')
  })

  it('classifies a failure with the type\'s classifier, then the kit\'s network errors', async () => {
    const classify = (err: unknown) => ((err as Error).message === 'mine' ? new ConnectorError('DATABASE_NOT_FOUND', 'no db') : undefined)
    const o = { timeoutMs: 1_000, target: 'db:1', classify }
    assert.deepEqual(await checkHealth(AbortSignal.timeout(5_000), o, async () => { throw new Error('mine') }), { status: 'disconnected', code: 'DATABASE_NOT_FOUND', reason: 'no db' })
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    const h = await checkHealth(AbortSignal.timeout(5_000), o, async () => { throw refused })
    assert.equal(h.status === 'disconnected' && h.code, 'CONNECTION_REFUSED')
    assert.equal(NOT_STARTED.status, 'disconnected')
    assert.deepEqual([notStarted().code, notStarted().kind], ['CONNECTION_LOST', 'not_connected'])
  })
})

/** A pool of numbered fake connections that records what it hands out and gets back. */
function fakePool(o: { delayMs?: number } = {}) {
  let next = 0
  const released: Array<{ conn: number; broken: boolean }> = []
  const pool: LeasePool<number> & { released: typeof released } = {
    target: 'db:1',
    released,
    acquire: (signal) => {
      const getting = new Promise<number>((resolve) => setTimeout(() => resolve(++next), o.delayMs ?? 0))
      return acquireWithin(getting, signal, () => new ConnectorError('TIMEOUT', 'no connection', { kind: 'retryable' }), (conn) => pool.release(conn, undefined))
    },
    release: (conn, broken) => released.push({ conn, broken: broken !== undefined }),
    classify: (err) => new ConnectorError((err as Error).message === 'syntax' ? 'INVALID_STATEMENT' : 'CONNECTION_LOST', String(err), { kind: (err as Error).message === 'syntax' ? 'permanent' : 'not_connected' }),
  }
  return pool
}

describe('acquireWithin and withLease', () => {
  it('gives up at the abort and gives a connection that arrives later back', async () => {
    const pool = fakePool({ delayMs: 50 })
    await assert.rejects(pool.acquire(AbortSignal.timeout(5)), /no connection/)
    await new Promise((r) => setTimeout(r, 80))
    assert.deepEqual(pool.released, [{ conn: 1, broken: false }])
  })

  it('releases a connection after success or a permanent failure, closes it after a lost connection or an abort', async () => {
    const pool = fakePool()
    assert.equal(await withLease(pool, AbortSignal.timeout(1_000), async ({ conn }) => conn * 10), 10)
    await assert.rejects(withLease(pool, AbortSignal.timeout(1_000), async () => { throw new Error('syntax') }), (e: ConnectorError) => e.code === 'INVALID_STATEMENT')
    await assert.rejects(withLease(pool, AbortSignal.timeout(1_000), async () => { throw new Error('reset') }), (e: ConnectorError) => e.code === 'CONNECTION_LOST')
    const ac = new AbortController()
    const stuck = withLease(pool, ac.signal, ({ run }) => run(new Promise(() => {})))
    setTimeout(() => ac.abort(), 10)
    await assert.rejects(stuck, (e: ConnectorError) => e.code === 'TIMEOUT' && e.kind === 'retryable' && /may or may not have been applied/.test(e.message))
    assert.deepEqual(pool.released, [{ conn: 1, broken: false }, { conn: 2, broken: false }, { conn: 3, broken: true }, { conn: 4, broken: true }])
  })
})

describe('isolateBadRows and BatchOutcome', () => {
  const rowError = (row: number) => new ConnectorError('CONSTRAINT_VIOLATION', `bad row ${row}`, { kind: 'permanent' })
  const isRowError = (e: ConnectorError) => e.code === 'CONSTRAINT_VIOLATION'

  /** An all-or-nothing "statement" over rows whose value is "bad" at the `bad` indexes; `names` says whether it names the failing row. */
  function server(bad: Set<number>, names: 'none' | 'cut' | 'failed') {
    const written: number[] = []
    let statements = 0
    const run = async (seg: readonly number[]): Promise<SegmentFailure | undefined> => {
      statements++
      const at = seg.findIndex((i) => bad.has(i))
      if (at < 0) return void written.push(...seg)
      return { error: rowError(seg[at]!), ...(names === 'none' ? {} : { row: at, rowFailed: names === 'failed' }) }
    }
    return { run, written, statements: () => statements }
  }

  for (const names of ['none', 'cut', 'failed'] as const) {
    it(`writes every good row exactly once and fails the bad ones by index (failing row named: ${names})`, async () => {
      const s = server(new Set([3, 4, 17]), names)
      const outcome = new BatchOutcome(20)
      await isolateBadRows(outcome, [range(0, 20)], s.run, isRowError)
      assert.deepEqual([...s.written].sort((a, b) => a - b), range(0, 20).filter((i) => ![3, 4, 17].includes(i)))
      const e = (() => { try { outcome.throwIfFailed() } catch (err) { return err } })()
      assert.ok(e instanceof BatchError)
      assert.deepEqual(e.failures.map((f) => [f.index, f.error.message]), [[3, 'bad row 3'], [4, 'bad row 4'], [17, 'bad row 17']])
      if (names === 'failed') assert.ok(s.statements() <= 2 * 3 + 1, `at most 2k + 1 statements, ran ${s.statements()}`)
    })
  }

  it('halts on an error that is not a row\'s: the rows not written fail with it; all failed alike is that one error', async () => {
    const lost = new ConnectorError('CONNECTION_LOST', 'gone')
    const outcome = new BatchOutcome(6)
    let calls = 0
    await isolateBadRows(outcome, [[0, 1], [2, 3], [4, 5]], async () => (++calls === 2 ? { error: lost } : undefined), isRowError)
    assert.equal(calls, 2)
    assert.throws(() => outcome.throwIfFailed(), (e: BatchError) => e instanceof BatchError && e.failures.map((f) => f.index).join() === '2,3,4,5')
    const none = new BatchOutcome(3)
    await isolateBadRows(none, [[0, 1, 2]], async () => { throw lost }, isRowError)
    assert.throws(() => none.throwIfFailed(), (e: ConnectorError) => e === lost)
    const fine = new BatchOutcome(2)
    await isolateBadRows(fine, [[0, 1]], async () => undefined, isRowError)
    assert.doesNotThrow(() => fine.throwIfFailed())
  })
})

describe('SqlActions, rolledBack, writesNothing', () => {
  const channel = (o: { checkFails?: ConnectorError } = {}): SqlChannel & { rolled: string[] } => {
    const rolled: string[] = []
    return {
      rolled,
      validate: async () => 0,
      check: async () => { if (o.checkFails) throw o.checkFails },
      sendRolledBack: async (m) => { rolled.push(String(m.v)) },
    }
  }

  it('refuses before start, turns a bad placeholder into INVALID_PARAMS and names `sql` in a refusal on save', async () => {
    let started = false
    const actions = new SqlActions({ open: (sql) => { if (sql.includes('[x]')) throw new TemplateError('invalid placeholder path "a[x]"'); return channel({ checkFails: writesNothing(' ("t")', 'UPDATE') }) }, started: () => started, validateMs: () => 1_000 })
    assert.throws(() => actions.channelFor({ sql: 'x' }), (e: ConnectorError) => e.code === 'CONNECTION_LOST' && e.kind === 'not_connected')
    started = true
    assert.throws(() => actions.channelFor({ sql: '${a[x]}' }), (e: ConnectorError) => e.code === 'INVALID_PARAMS' && e.kind === 'permanent')
    await assert.rejects(actions.checkAction({ sql: 'SELECT * FROM t' }, AbortSignal.timeout(1_000)),
      (e: ConnectorError) => e.code === 'STATEMENT_WRITES_NOTHING' && e.param === 'sql' && /only reads \("t"\) and writes nothing/.test(e.message))
    await actions.openChannel({ sql: 'INSERT' })
  })

  it('rolls back whatever the statement does, and shows ROLLBACK\'s answer', async () => {
    const log: string[] = []
    const exec = async (sql: string) => { log.push(sql); return { warnings: sql === 'ROLLBACK' ? 1 : 0 } }
    let seen: unknown
    await rolledBack(exec, async () => log.push('stmt'), { begin: 'START TRANSACTION', afterRollback: (r) => { seen = r } })
    await assert.rejects(rolledBack(exec, async () => { throw new Error('stmt failed') }), /stmt failed/)
    assert.deepEqual(log, ['START TRANSACTION', 'stmt', 'ROLLBACK', 'BEGIN', 'ROLLBACK'])
    assert.deepEqual(seen, { warnings: 1 })
  })
})

describe('KeptConnection', () => {
  it('keeps one handle across checks, drops it after a failure, replaces one that is no longer alive', async () => {
    let opened = 0
    const closed: number[] = []
    const dead = new Set<number>()
    const kept = new KeptConnection<number>({ open: () => ++opened, close: (h) => closed.push(h), alive: (h) => !dead.has(h) })
    const o = { timeoutMs: 1_000, target: 'db:1' }
    assert.deepEqual(await kept.check(AbortSignal.timeout(1_000), o, async () => 'ok'), { status: 'connected' })
    assert.deepEqual(await kept.check(AbortSignal.timeout(1_000), o, async (h) => assert.equal(h, 1)), { status: 'connected' })
    const failed = await kept.check(AbortSignal.timeout(1_000), o, async () => { throw Object.assign(new Error('reset'), { code: 'ECONNRESET' }) })
    assert.equal(failed.status === 'disconnected' && failed.code, 'CONNECTION_LOST')
    assert.deepEqual(closed, [1], 'the failed handle is closed')
    assert.equal(kept.get(AbortSignal.timeout(1_000)), 2, 'the next check opens a new one')
    dead.add(2)
    assert.equal(kept.get(AbortSignal.timeout(1_000)), 3, 'a handle that died idle is replaced')
    assert.equal(kept.take(), 3)
    assert.equal(kept.take(), undefined)
  })
})
