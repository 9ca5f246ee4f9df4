import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { API_KEY, startJunction, type TestJunction } from '../support/junction.js'

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`

describe('authentication', () => {
  let j: TestJunction

  before(async () => { j = await startJunction({ sessionTtlMs: 1500 }) })
  after(async () => { await j.close() })

  it('health needs no credentials', async () => {
    const r = await j.junction.app.inject({ method: 'GET', url: '/api/v1/health' })
    assert.equal(r.statusCode, 200)
    assert.equal(r.json().status, 'ok')
  })

  it('every other route answers 401 without valid credentials', async () => {
    const routes: Array<[string, string]> = [
      ['GET', '/api/v1/deployments'], ['GET', '/api/v1/connector-types'], ['GET', '/api/v1/openapi.json'],
      ['GET', '/api/v1/deployments/default/connectors'], ['POST', '/api/v1/deployments/default/connectors/test'],
      ['DELETE', '/api/v1/deployments/default/connectors/c-aaaaaaaa'], ['POST', '/api/v1/deployments/default/stop'],
    ]
    let n = 0
    for (const [method, url] of routes) {
      // A key's own failures are throttled after 5 (auth-throttle.test.ts): a fresh key name and address per try.
      for (const authorization of [undefined, basic(`${API_KEY}-${n}`, 'wrong'), basic(`nobody-${n}`, 'x'), 'Bearer forged.token', 'Basic !!!']) {
        const r = await j.junction.app.inject({ method: method as 'GET', url, headers: authorization ? { authorization } : {}, remoteAddress: `10.1.0.${++n}` })
        assert.equal(r.statusCode, 401, `${method} ${url} with ${authorization}`)
        assert.equal(r.json().error.code, 'UNAUTHORIZED')
      }
    }
    const still = await j.api('GET', '/api/v1/deployments/default')
    assert.equal(still.body.status, 'running', 'the unauthenticated stop did nothing')
  })

  it('the API key from JUNCTION_API_KEY/SECRET works', async () => {
    assert.equal((await j.api('GET', '/api/v1/deployments')).status, 200)
  })

  it('admin logs in with its password; the token works, expires, and ends at logout', async () => {
    const bad = await j.junction.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'admin', password: 'nope' } })
    assert.equal(bad.statusCode, 401)
    const login = await j.junction.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'admin', password: 'admin-password-for-tests' } })
    assert.equal(login.statusCode, 200)
    const { token } = login.json()
    const bearer = { authorization: `Bearer ${token}` }
    assert.equal((await j.junction.app.inject({ method: 'GET', url: '/api/v1/deployments', headers: bearer })).statusCode, 200)
    assert.equal((await j.junction.app.inject({ method: 'POST', url: '/api/v1/logout', headers: bearer })).statusCode, 204)
    assert.equal((await j.junction.app.inject({ method: 'GET', url: '/api/v1/deployments', headers: bearer })).statusCode, 401)

    const second = (await j.junction.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'admin', password: 'admin-password-for-tests' } })).json()
    await new Promise((r) => setTimeout(r, 1600))
    const expired = await j.junction.app.inject({ method: 'GET', url: '/api/v1/deployments', headers: { authorization: `Bearer ${second.token}` } })
    assert.equal(expired.statusCode, 401)
  })

  it('on first start without JUNCTION_ADMIN_PASSWORD a password is generated once', async () => {
    const k = await startJunction({ adminPassword: undefined })
    try {
      const pw = k.junction.generatedAdminPassword
      assert.ok(pw && pw.length >= 12)
      const ok = await k.junction.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'admin', password: pw } })
      assert.equal(ok.statusCode, 200)
      assert.ok(!k.log().includes(pw), 'the generated password is not in the log')
      await k.close()
      const again = await startJunction({ adminPassword: undefined, dataDir: k.settings.dataDir })
      assert.equal(again.junction.generatedAdminPassword, undefined, 'only on the first start')
      await again.close()
    } finally {
      await k.close()
    }
  })

  it('the OpenAPI document describes every route', async () => {
    const r = await j.api('GET', '/api/v1/openapi.json')
    assert.equal(r.status, 200)
    const paths = Object.keys(r.body.paths)
    for (const p of ['/api/v1/health', '/api/v1/connector-types', '/api/v1/deployments', '/api/v1/deployments/{dep}', '/api/v1/deployments/{dep}/start',
      '/api/v1/deployments/{dep}/stop', '/api/v1/deployments/{dep}/connectors', '/api/v1/deployments/{dep}/connectors/test',
      '/api/v1/deployments/{dep}/connectors/{id}', '/api/v1/deployments/{dep}/connectors/{id}/test']) {
      assert.ok(paths.includes(p), `${p} documented`)
    }
    assert.deepEqual(Object.keys(r.body.paths['/api/v1/deployments/{dep}/connectors/{id}']).sort(), ['delete', 'get', 'put'])
    assert.deepEqual(r.body.paths['/api/v1/health'].get.security, [])
  })
})
