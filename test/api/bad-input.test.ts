// Bad input gets a 4xx with a stable code, the failing field's path and a hint; never a 500, and
// nothing is stored.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sharedPostgres } from '../support/postgres.js'
import { startJunction, type TestJunction } from '../support/junction.js'

const base = '/api/v1/deployments/default/connectors'

describe('bad input', () => {
  let j: TestJunction
  const good = () => {
    const pg = sharedPostgres()
    return { name: 'pg', type: 'postgresql', config: { host: pg.host, port: pg.port, database: pg.database, username: pg.user } }
  }

  before(async () => { j = await startJunction() })
  after(async () => {
    const list = await j.api('GET', base)
    assert.deepEqual(list.body.data, [], 'no bad request stored anything')
    await j.close()
  })

  it('malformed JSON -> 400 INVALID_JSON', async () => {
    const r = await j.api('POST', base, '{"name": "x", "type": ')
    assert.equal(r.status, 400)
    assert.equal(r.body.error.code, 'INVALID_JSON')
    assert.ok(r.body.error.hint)
  })

  it('a body that is not JSON -> 415, or 400 for plain text', async () => {
    const xml = await j.api('POST', base, '<name>x</name>', { 'content-type': 'application/xml' })
    assert.equal(xml.status, 415)
    assert.equal(xml.body.error.code, 'UNSUPPORTED_MEDIA_TYPE')
    const text = await j.api('POST', base, 'name=x', { 'content-type': 'text/plain' })
    assert.equal(text.status, 400)
    assert.equal(text.body.error.code, 'VALIDATION_FAILED')
  })

  it('unknown connector type -> 400 UNKNOWN_CONNECTOR_TYPE naming the known ones', async () => {
    for (const [path, body] of [[base, { ...good(), type: 'oracle' }], [`${base}/test`, { type: 'oracle', config: good().config }]] as const) {
      const r = await j.api('POST', path, body)
      assert.equal(r.status, 400)
      assert.equal(r.body.error.code, 'UNKNOWN_CONNECTOR_TYPE')
      assert.match(r.body.error.hint, /postgresql/)
    }
  })

  it('wrong field types -> 400 listing every failing field path with a hint', async () => {
    const r = await j.api('POST', base, { ...good(), config: { host: 42, port: 'x', database: 'test', username: 'u', poolSize: 0, tls: { enable: 'yes' }, hots: 1 } })
    assert.equal(r.status, 400)
    assert.equal(r.body.error.code, 'VALIDATION_FAILED')
    const paths = r.body.error.fields.map((f: any) => f.path).sort()
    assert.deepEqual(paths, ['config.host', 'config.hots', 'config.poolSize', 'config.port', 'config.tls.enable'])
    assert.ok(r.body.error.fields.every((f: any) => f.message && f.hint))
  })

  it('missing and unknown top-level fields -> 400 with their paths', async () => {
    const r = await j.api('POST', base, { type: 'postgresql', config: good().config, colour: 'red' })
    assert.equal(r.status, 400)
    assert.deepEqual(r.body.error.fields.map((f: any) => f.path).sort(), ['colour', 'name'])
  })

  it('body and config errors come back together, in one answer', async () => {
    const r = await j.api('POST', base, { name: '', type: 'postgresql', config: { ...good().config, port: 'x' } })
    assert.equal(r.status, 400)
    assert.deepEqual(r.body.error.fields.map((f: any) => f.path).sort(), ['config.port', 'name'])
    const t = await j.api('POST', `${base}/test`, { type: 'postgresql', config: { host: 1 }, extra: true })
    assert.equal(t.status, 400)
    assert.deepEqual(t.body.error.fields.map((f: any) => f.path).sort(), ['config.database', 'config.host', 'config.username', 'extra'])
  })

  it('the mask is not accepted as a new password', async () => {
    const r = await j.api('POST', base, { ...good(), config: { ...good().config, password: '******' } })
    assert.equal(r.status, 400)
    assert.equal(r.body.error.fields[0].path, 'config.password')
  })

  it('oversized body -> 413 PAYLOAD_TOO_LARGE', async () => {
    const r = await j.api('POST', base, { ...good(), description: 'x'.repeat(600 * 1024) })
    assert.equal(r.status, 413)
    assert.equal(r.body.error.code, 'PAYLOAD_TOO_LARGE')
  })

  it('unknown deployment -> 404 DEPLOYMENT_NOT_FOUND on every connector route', async () => {
    const cases: Array<[string, string, unknown?]> = [
      ['GET', '/api/v1/deployments/nope/connectors'],
      ['POST', '/api/v1/deployments/nope/connectors', good()],
      ['POST', '/api/v1/deployments/nope/connectors/test', { type: 'postgresql', config: good().config }],
      ['GET', '/api/v1/deployments/nope/connectors/c-aaaaaaaa'],
      ['GET', '/api/v1/deployments/nope'],
    ]
    for (const [method, url, body] of cases) {
      const r = await j.api(method, url, body)
      assert.equal(r.status, 404, `${method} ${url}`)
      assert.equal(r.body.error.code, 'DEPLOYMENT_NOT_FOUND')
    }
  })

  it('unknown connector -> 404 CONNECTOR_NOT_FOUND; unknown route -> 404 NOT_FOUND', async () => {
    for (const [method, url] of [['GET', `${base}/c-aaaaaaaa`], ['PUT', `${base}/c-aaaaaaaa`], ['DELETE', `${base}/c-aaaaaaaa?confirm=c-aaaaaaaa`], ['POST', `${base}/c-aaaaaaaa/test`]] as const) {
      const r = await j.api(method, url, method === 'PUT' ? { description: 'x' } : undefined)
      assert.equal(r.status, 404, `${method} ${url}`)
      assert.equal(r.body.error.code, 'CONNECTOR_NOT_FOUND')
    }
    const r = await j.api('GET', '/api/v1/nothing-here')
    assert.equal(r.status, 404)
    assert.equal(r.body.error.code, 'NOT_FOUND')
  })

  it('a wrong method on an existing path -> 405 METHOD_NOT_ALLOWED with Allow (was 404); unknown paths stay 404', async () => {
    const inject = (method: string, url: string) => j.junction.app.inject({ method: method as 'GET', url })
    const put = await inject('PUT', '/api/v1/deployments/default/rules')
    assert.equal(put.statusCode, 405)
    assert.equal(put.headers.allow, 'GET, HEAD, POST')
    assert.equal(put.json().error.code, 'METHOD_NOT_ALLOWED')
    assert.match(put.json().error.message, /PUT is not a method of \/api\/v1\/deployments\/default\/rules/)
    assert.equal(typeof put.json().error.hint, 'string')
    const getLogin = await inject('GET', '/api/v1/login')
    assert.equal(getLogin.statusCode, 405)
    assert.equal(getLogin.headers.allow, 'POST')
    const deleteList = await inject('DELETE', '/api/v1/deployments/default/rules/r-aaaaaaaa/actions/0/failed-messages')
    assert.equal(deleteList.statusCode, 405)
    assert.equal(deleteList.headers.allow, 'GET, HEAD')
    const asset = await inject('POST', '/assets/app.js')
    assert.equal(asset.statusCode, 405, 'a wildcard route counts')
    for (const [method, url] of [['PUT', '/api/v1/nothing-here'], ['GET', '/api/v1/deployments/default/nothing'], ['GET', '/api/v1/deployments/default/start/extra']]) {
      const r = await inject(method!, url!)
      assert.equal(r.statusCode, 404, `${method} ${url}`)
      assert.equal(r.json().error.code, 'NOT_FOUND')
      assert.equal(r.headers.allow, undefined)
    }
  })

  it('a path ID with bad characters -> 400 with the path', async () => {
    const r = await j.api('GET', '/api/v1/deployments/UPPER%20case/connectors')
    assert.equal(r.status, 400)
    assert.equal(r.body.error.fields[0].path, 'path.dep')
  })

  it('PUT of a field that cannot change (type) -> 400', async () => {
    const created = await j.api('POST', base, good())
    assert.equal(created.status, 201)
    const r = await j.api('PUT', `${base}/${created.body.id}`, { type: 'kafka' })
    assert.equal(r.status, 400)
    assert.equal(r.body.error.fields[0].path, 'type')
    assert.equal((await j.api('DELETE', `${base}/${created.body.id}?confirm=${created.body.id}`)).status, 204)
  })
})
