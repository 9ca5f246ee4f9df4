import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { AUTH, startJunction, type TestJunction } from '../support/junction.js'

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`
const RANK = { public: -1, viewer: 0, editor: 1, admin: 2 } as const
type Role = 'viewer' | 'editor' | 'admin'

describe('roles', () => {
  let j: TestJunction
  const keys = {} as Record<Role, string>

  before(async () => {
    j = await startJunction()
    for (const role of ['viewer', 'editor', 'admin'] as const) {
      const r = await j.api('POST', '/api/v1/api-keys', { key: `roles-${role}`, role, description: `the ${role} of roles.test` })
      assert.equal(r.status, 201, JSON.stringify(r.body))
      assert.equal(r.body.role, role)
      assert.ok(r.body.secret.length >= 20)
      keys[role] = basic(r.body.key, r.body.secret)
    }
  })
  after(async () => { await j.close() })

  const call = (authorization: string, method: string, url: string, payload?: unknown) =>
    j.junction.app.inject({ method: method as 'GET', url, headers: { authorization }, ...(payload === undefined ? {} : { payload: payload as object }) })

  it('every route of the OpenAPI document declares its role, and each role gets 403 exactly where it is too weak', async () => {
    const doc = (await j.api('GET', '/api/v1/openapi.json')).body
    let checked = 0
    for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const needs = op['x-junction-role'] as keyof typeof RANK
        assert.ok(needs in RANK, `${method} ${path} declares x-junction-role (${needs})`)
        assert.match(op.description ?? '', /Role: /, `${method} ${path} says its role in the description`)
        if (needs === 'public') { assert.deepEqual(op.security, []); continue }
        // Parameters that match nothing: an allowed call ends at 400/404, never changes anything.
        const url = path.replace(/\{[^}]+\}/g, 'zz-missing-0')
        const body = ['post', 'put', 'patch'].includes(method) ? {} : undefined
        for (const role of ['viewer', 'editor', 'admin'] as const) {
          const r = await call(keys[role], method.toUpperCase(), url, body)
          const allowed = RANK[role] >= RANK[needs]
          if (allowed) assert.notEqual(r.statusCode, 403, `${role} may ${method} ${path}: ${r.payload}`)
          else {
            assert.equal(r.statusCode, 403, `${role} may not ${method} ${path}`)
            assert.equal(r.json().error.code, 'FORBIDDEN')
          }
          assert.notEqual(r.statusCode, 401)
          assert.ok(r.statusCode < 500, `${role} ${method} ${path}: ${r.statusCode} ${r.payload}`)
        }
        checked++
      }
    }
    assert.ok(checked > 40, `${checked} routes checked`)
    // The documented roles are the intended ones.
    assert.equal(doc.paths['/api/v1/users'].post['x-junction-role'], 'admin')
    assert.equal(doc.paths['/api/v1/audit'].get['x-junction-role'], 'admin')
    assert.equal(doc.paths['/api/v1/deployments'].post['x-junction-role'], 'admin')
    assert.equal(doc.paths['/api/v1/deployments/{dep}/connectors'].post['x-junction-role'], 'editor')
    assert.equal(doc.paths['/api/v1/deployments/{dep}/connectors'].get['x-junction-role'], 'viewer')
    assert.equal(doc.paths['/api/v1/health'].get['x-junction-role'], 'public')
    assert.equal(doc.paths['/api/v1/me'].get['x-junction-role'], 'viewer')
    assert.equal(doc.paths['/api/v1/action-types'].get['x-junction-role'], 'viewer')
  })

  it('console users with roles: login answers the role, a changed role and a deletion take effect at once', async () => {
    assert.equal((await j.api('POST', '/api/v1/users', { username: 'vera', password: 'vera-password-1', role: 'viewer' })).status, 201)
    assert.equal((await j.api('POST', '/api/v1/users', { username: 'vera', password: 'vera-password-2', role: 'viewer' })).body.error.code, 'USER_EXISTS')
    assert.equal((await j.api('POST', '/api/v1/users', { username: 'short', password: 'x', role: 'viewer' })).status, 400)
    const list = (await j.api('GET', '/api/v1/users')).body.data
    assert.deepEqual(list.map((u: any) => [u.username, u.role]), [['admin', 'admin'], ['vera', 'viewer']])
    assert.ok(!JSON.stringify(list).includes('scrypt'), 'no hashes answered')
    const login = await j.junction.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'vera', password: 'vera-password-1' } })
    assert.equal(login.statusCode, 200)
    assert.equal(login.json().role, 'viewer')
    const bearer = `Bearer ${login.json().token}`
    assert.equal((await call(bearer, 'GET', '/api/v1/deployments')).statusCode, 200)
    assert.equal((await call(bearer, 'POST', '/api/v1/deployments/default/mqtt/users', { username: 'd1', password: 'p' })).statusCode, 403)
    assert.equal((await j.api('PATCH', '/api/v1/users/vera', { role: 'editor' })).body.role, 'editor')
    assert.equal((await call(bearer, 'POST', '/api/v1/deployments/default/mqtt/users', { username: 'vera-device', password: 'p' })).statusCode, 201)
    assert.equal((await call(bearer, 'GET', '/api/v1/users')).statusCode, 403, 'an editor does not manage users')
    assert.equal((await j.api('DELETE', '/api/v1/users/vera')).status, 204)
    assert.equal((await call(bearer, 'GET', '/api/v1/deployments')).statusCode, 401, 'the deleted user\'s session ends')
  })

  it('API keys: the secret is shown once, a role change and a revocation take effect at once, the last admin stays', async () => {
    const made = await j.api('POST', '/api/v1/api-keys', { role: 'viewer' })
    assert.match(made.body.key, /^jk-/)
    const auth = basic(made.body.key, made.body.secret)
    assert.equal((await call(auth, 'GET', '/api/v1/deployments')).statusCode, 200)
    const listed = (await j.api('GET', '/api/v1/api-keys')).body.data
    assert.ok(!JSON.stringify(listed).includes(made.body.secret), 'the secret is not listed')
    assert.ok(listed.every((k: any) => k.secret === undefined))
    assert.equal((await call(auth, 'POST', '/api/v1/deployments/default/mqtt/users', { username: 'k1', password: 'p' })).statusCode, 403)
    assert.equal((await j.api('PATCH', `/api/v1/api-keys/${made.body.key}`, { role: 'editor' })).status, 200)
    assert.equal((await call(auth, 'POST', '/api/v1/deployments/default/mqtt/users', { username: 'k1', password: 'p' })).statusCode, 201)
    assert.equal((await j.api('DELETE', `/api/v1/api-keys/${made.body.key}`)).status, 204)
    assert.equal((await call(auth, 'GET', '/api/v1/deployments')).statusCode, 401, 'revoked at once (no cached verification)')

    // Three admins now: the test key, roles-admin and the admin user. Removing two leaves one, which stays.
    assert.equal((await call(keys.admin, 'DELETE', '/api/v1/users/admin')).statusCode, 204)
    assert.equal((await call(keys.admin, 'PATCH', '/api/v1/api-keys/test-key', { role: 'viewer' })).statusCode, 200)
    const last = await call(keys.admin, 'DELETE', '/api/v1/api-keys/roles-admin')
    assert.equal(last.statusCode, 409)
    assert.equal(last.json().error.code, 'LAST_ADMIN')
    assert.equal((await call(keys.admin, 'PATCH', '/api/v1/api-keys/roles-admin', { role: 'editor' })).json().error.code, 'LAST_ADMIN')
    assert.equal((await call(keys.admin, 'PATCH', '/api/v1/api-keys/test-key', { role: 'admin' })).statusCode, 200)
    assert.equal((await call(AUTH, 'GET', '/api/v1/users')).statusCode, 200)
  })
})
