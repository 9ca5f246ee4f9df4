// The console's rule form reads the built-in actions' params schemas and the action options schema
// from the API (GET /api/v1/action-types) rather than keeping copies; this checks that answer is
// the schemas the server validates with. GET /api/v1/me tells the console which role it has.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { ActionOptionsSchema } from '../../src/control/rule-service.js'
import { RepublishParamsSchema } from '../../src/runtime/republish.js'
import { startJunction, type TestJunction } from '../support/junction.js'

const plain = (schema: unknown) => JSON.parse(JSON.stringify(schema)) as Record<string, any>

describe('GET /api/v1/action-types', () => {
  let j: TestJunction
  before(async () => { j = await startJunction() })
  after(async () => { await j?.close() })

  it('serves the schemas the rule service validates with', async () => {
    const r = await j.api('GET', '/api/v1/action-types')
    assert.equal(r.status, 200, JSON.stringify(r.body))
    assert.deepEqual(r.body.data.map((b: any) => b.builtin), ['republish'])
    assert.deepEqual(r.body.data[0].paramsSchema, plain(RepublishParamsSchema))
    assert.deepEqual(r.body.optionsSchema, plain(ActionOptionsSchema))
    assert.deepEqual(Object.keys(r.body.fallbackOptionsSchema.properties), Object.keys(ActionOptionsSchema.properties).filter((k) => !k.startsWith('keepFailed')))
  })

  it('a rule saved with a default from the served republish schema is accepted', async () => {
    const { paramsSchema } = (await j.api('GET', '/api/v1/action-types')).body.data[0]
    const params = Object.fromEntries(Object.entries<any>(paramsSchema.properties).filter(([, p]) => 'default' in p).map(([k, p]) => [k, p.default]))
    const r = await j.api('POST', '/api/v1/deployments/default/rules', { name: 'served-defaults', sql: 'SELECT * FROM "t/#"', actions: [{ builtin: 'republish', params: { ...params, topic: 'out/${topic}' } }] })
    assert.equal(r.status, 201, JSON.stringify(r.body))
    assert.equal(r.body.actions[0].params.payload, paramsSchema.properties.payload.default)
  })
})

describe('GET /api/v1/me', () => {
  let j: TestJunction
  before(async () => { j = await startJunction() })
  after(async () => { await j?.close() })

  it('answers the caller and its role, for API keys and console users', async () => {
    const admin = await j.api('GET', '/api/v1/me')
    assert.equal(admin.status, 200)
    assert.equal(admin.body.kind, 'api_key')
    assert.equal(admin.body.role, 'admin')
    assert.equal((await j.api('POST', '/api/v1/users', { username: 'vic', password: 'vic-password-1', role: 'viewer' })).status, 201)
    const login = await j.junction.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'vic', password: 'vic-password-1' } })
    const authorization = `Bearer ${login.json().token}`
    const me = await j.junction.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization } })
    assert.deepEqual(me.json(), { name: 'vic', kind: 'user', role: 'viewer' })
    assert.equal((await j.api('PATCH', '/api/v1/users/vic', { role: 'editor' })).status, 200)
    const after = await j.junction.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization } })
    assert.equal(after.json().role, 'editor', 'a changed role shows on the next request')
    const anonymous = await j.junction.app.inject({ method: 'GET', url: '/api/v1/me' })
    assert.equal(anonymous.statusCode, 401)
  })
})
