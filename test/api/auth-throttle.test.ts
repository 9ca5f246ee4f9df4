import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { API_KEY, AUTH, startJunction, type TestJunction } from '../support/junction.js'

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

describe('authentication timing and throttling', () => {
  let j: TestJunction
  let nextAddress = 1
  /** A fresh source address per attempt, so that only the throttle under test counts. */
  const freshAddress = () => `10.77.${Math.floor(nextAddress / 250)}.${(nextAddress++ % 250) + 1}`

  before(async () => { j = await startJunction() })
  after(async () => { await j.close() })

  async function timed(authorization: string, remoteAddress: string): Promise<{ ms: number; status: number }> {
    const t0 = process.hrtime.bigint()
    const r = await j.junction.app.inject({ method: 'GET', url: '/api/v1/deployments', headers: { authorization }, remoteAddress })
    return { ms: Number(process.hrtime.bigint() - t0) / 1e6, status: r.statusCode }
  }

  it('an unknown API key takes about as long to refuse as a known key with a wrong secret', async () => {
    const unknown: number[] = []
    const known: number[] = []
    // Interleaved, so load from other processes hits both sides alike; 4 tries stay under the key's throttle.
    for (let i = 0; i < 4; i++) {
      const u = await timed(basic(`no-such-key-${i}`, 'guess-secret'), freshAddress())
      const k = await timed(basic(API_KEY, `wrong-secret-${i}`), freshAddress())
      assert.equal(u.status, 401)
      assert.equal(k.status, 401)
      unknown.push(u.ms)
      known.push(k.ms)
    }
    const ratio = median(unknown) / median(known)
    // Before the dummy hash the ratio was about 1/30 (1.4 ms vs 47 ms).
    assert.ok(ratio > 1 / 4 && ratio < 4, `unknown ${median(unknown).toFixed(1)} ms vs known ${median(known).toFixed(1)} ms`)
  })

  it('an unknown console user takes about as long to refuse as admin with a wrong password', async () => {
    const unknown: number[] = []
    const known: number[] = []
    const login = async (username: string, password: string) => {
      const t0 = process.hrtime.bigint()
      const r = await j.junction.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username, password }, remoteAddress: freshAddress() })
      assert.equal(r.statusCode, 401)
      return Number(process.hrtime.bigint() - t0) / 1e6
    }
    for (let i = 0; i < 4; i++) {
      unknown.push(await login(`nobody-${i}`, 'guess'))
      known.push(await login('admin', `wrong-${i}`))
    }
    const ratio = median(unknown) / median(known)
    assert.ok(ratio > 1 / 4 && ratio < 4, `unknown ${median(unknown).toFixed(1)} ms vs known ${median(known).toFixed(1)} ms`)
  })

  it('a source address is refused with 429 and Retry-After after 5 failures, unchecked, and the log has no secret', async () => {
    const source = '10.99.0.1'
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) statuses.push((await timed(basic(`guess-${i}`, `Sup3rSecretGuess-${i}`), source)).status)
    assert.deepEqual(statuses, [401, 401, 401, 401, 401])
    const r = await j.junction.app.inject({ method: 'GET', url: '/api/v1/deployments', headers: { authorization: basic('guess-x', 'Sup3rSecretGuess-x') }, remoteAddress: source })
    assert.equal(r.statusCode, 429)
    assert.equal(r.json().error.code, 'TOO_MANY_REQUESTS')
    const retryAfter = Number(r.headers['retry-after'])
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${r.headers['retry-after']}`)
    // Even the right secret is not checked from there while refused...
    const fresh = await j.junction.app.inject({ method: 'GET', url: '/api/v1/deployments', headers: { authorization: basic(API_KEY, 'not-cached-yet') }, remoteAddress: source })
    assert.equal(fresh.statusCode, 429)
    // ...but credentials verified a moment ago still pass: a guesser cannot lock out the automation.
    assert.equal((await j.junction.app.inject({ method: 'GET', url: '/api/v1/deployments', headers: { authorization: AUTH }, remoteAddress: '10.99.0.2' })).statusCode, 200)
    assert.equal((await j.junction.app.inject({ method: 'GET', url: '/api/v1/deployments', headers: { authorization: AUTH }, remoteAddress: source })).statusCode, 200)
    // Other addresses are not affected.
    assert.equal((await timed(basic('guess-y', 'x'), '10.99.0.3')).status, 401)
    const log = j.log()
    assert.match(log, /authentication failed/)
    assert.match(log, /authentication refused: too many failures/)
    assert.match(log, /10\.99\.0\.1/)
    assert.ok(!log.includes('Sup3rSecretGuess'), 'no guessed secret in the log')
    assert.ok(!log.includes(Buffer.from('guess-0:Sup3rSecretGuess-0').toString('base64')), 'no Authorization header in the log')
  })

  it('forged bearer tokens count as failures of their address; expired real ones do not', async () => {
    const login = await j.junction.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'admin', password: 'admin-password-for-tests' }, remoteAddress: freshAddress() })
    const token = login.json().token as string
    await j.junction.app.inject({ method: 'POST', url: '/api/v1/logout', headers: { authorization: `Bearer ${token}` } })
    const source = '10.98.0.1'
    for (let i = 0; i < 8; i++) assert.equal((await timed(`Bearer ${token}`, source)).status, 401, 'a revoked real token is refused, never throttled')
    for (let i = 0; i < 5; i++) assert.equal((await timed(`Bearer forged${i}.sig`, source)).status, 401)
    assert.equal((await timed('Bearer forged.again', source)).status, 429)
  })

  it('one API key or username is refused after 5 failures from any addresses', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await j.junction.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'target-user', password: `pw-${i}` }, remoteAddress: freshAddress() })
      assert.equal(r.statusCode, 401)
    }
    const r = await j.junction.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'target-user', password: 'pw-x' }, remoteAddress: freshAddress() })
    assert.equal(r.statusCode, 429)
    assert.ok(Number(r.headers['retry-after']) >= 1)
    // admin from a fresh address is unaffected.
    const ok = await j.junction.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'admin', password: 'admin-password-for-tests' }, remoteAddress: freshAddress() })
    assert.equal(ok.statusCode, 200)
    assert.equal(ok.json().role, 'admin')
  })
})
