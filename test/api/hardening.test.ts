// A corpus of malformed requests fired at every route of the OpenAPI document: none may answer
// 5xx, and every error answers `{error: {code, message, hint?}}` with a code docs/errors.md lists.
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { API_ERRORS } from '../../src/core/errors.js'
import { startJunction, AUTH, type TestJunction } from '../support/junction.js'

interface Probe { method: string; url: string; payload?: string | Buffer; headers?: Record<string, string>; what: string }
interface Answer { status: number; body: string }

/** `{a: {a: ... 1}}`, `depth` levels, built as text (building it as a value and stringifying would recurse). */
const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth)
const DEEP = 10_000

/** Request bodies that must be refused (or accepted) without a 5xx, whatever the route. */
function bodies(): Array<[string, string | Buffer, string?]> {
  return [
    ['deep object', deepObject(DEEP)],
    ['deep array', deepArray(DEEP)],
    ['deep config', `{"name":"x","type":"postgresql","config":${deepObject(DEEP)}}`],
    ['deep actions[].options', `{"name":"x","sql":"SELECT * FROM \\"t\\"","actions":[{"connectorId":"c-aaaaaaaa","params":{},"options":${deepObject(DEEP)}}]}`],
    ['deep actions[].params', `{"name":"x","sql":"SELECT * FROM \\"t\\"","actions":[{"builtin":"console","params":${deepObject(DEEP)}}]}`],
    ['deep context.payload', `{"sql":"SELECT * FROM \\"t\\"","context":{"payload":${deepObject(DEEP)}}}`],
    ['deep context.payload as text', JSON.stringify({ sql: 'SELECT payload FROM "t"', context: { payload: deepObject(DEEP) } })],
    ['deep sql', JSON.stringify({ name: 'x', sql: `SELECT ${'('.repeat(5000)}1${')'.repeat(5000)} FROM "t"`, actions: [] })],
    ['deep test output', `{"action":{"builtin":"console","params":{}},"output":${deepObject(DEEP)}}`],
    ['deep acl', `{"rules":${deepArray(DEEP)}}`],
    ['array where an object belongs', '[1,2,3]'],
    ['arrays for every field', '{"name":[],"type":[],"config":[],"sql":[],"actions":{},"context":[],"password":[],"username":[]}'],
    ['string', '"x"'],
    ['null', 'null'],
    ['number', '1e999'],
    ['numbers out of range', '{"name":"x","type":"postgresql","config":{"host":"h","port":1e308,"database":"d","username":"u","poolSize":-1e308},"sql":"SELECT 1 FROM \\"t\\"","actions":[{"connectorId":"c-aaaaaaaa","params":{},"options":{"batchSize":1e308,"requestTtlMs":-1}}]}'],
    ['__proto__ key', '{"__proto__":{"admin":true},"name":"x"}'],
    ['nested __proto__', '{"name":"x","type":"postgresql","config":{"__proto__":{"host":"evil"}}}'],
    ['constructor key', '{"constructor":{"prototype":{"admin":true}},"name":"x"}'],
    ['invalid JSON', '{"name": "x", '],
    ['invalid UTF-8', Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from('"}')])],
    ['huge body', `{"name":"${'x'.repeat(600 * 1024)}"}`],
    ['huge key count', `{${Array.from({ length: 20_000 }, (_, i) => `"k${i}":1`).join(',')}}`],
    ['long string', JSON.stringify({ name: 'x'.repeat(400_000), sql: 'y'.repeat(100_000) })],
    ['empty', ''],
    ['wrong content type', '<x/>', 'application/xml'],
    ['form', 'a=1&b=2', 'application/x-www-form-urlencoded'],
    ['text', 'hello', 'text/plain'],
    ['json with charset', '{"name":"x"}', 'application/json; charset=latin1'],
    ['multipart', '--b\r\n\r\nx\r\n--b--', 'multipart/form-data; boundary=b'],
  ]
}

describe('hardening: malformed requests at every route', () => {
  let j: TestJunction
  let routes: Array<{ method: string; path: string }> = []
  const documented = new Set(Object.keys(API_ERRORS))
  const failures: string[] = []
  let fired = 0

  const fire = async (p: Probe): Promise<Answer> => {
    const res = await j.junction.app.inject({ method: p.method as 'GET', url: p.url, headers: { authorization: AUTH, ...p.headers }, ...(p.payload === undefined ? {} : { payload: p.payload }) })
    return { status: res.statusCode, body: res.body }
  }
  const check = (p: Probe, a: Answer) => {
    fired++
    const where = `${p.method} ${p.url.slice(0, 120)} [${p.what}] -> ${a.status}`
    if (a.status >= 500) { failures.push(`${where}: 5xx ${a.body.slice(0, 200)}`); return }
    if (a.status < 400) return
    let body: any
    try { body = JSON.parse(a.body) } catch { failures.push(`${where}: not JSON: ${a.body.slice(0, 200)}`); return }
    const e = body?.error
    if (typeof e !== 'object' || e === null || typeof e.code !== 'string' || typeof e.message !== 'string') { failures.push(`${where}: not {error: {code, message}}: ${a.body.slice(0, 200)}`); return }
    if (!documented.has(e.code)) failures.push(`${where}: undocumented code ${e.code}`)
    else if (API_ERRORS[e.code as keyof typeof API_ERRORS].status !== a.status) failures.push(`${where}: ${e.code} is documented as ${API_ERRORS[e.code as keyof typeof API_ERRORS].status}`)
    if (e.hint !== undefined && typeof e.hint !== 'string') failures.push(`${where}: hint is not a string`)
  }

  before(async () => {
    j = await startJunction()
    const doc = await j.api('GET', '/api/v1/openapi.json')
    assert.equal(doc.status, 200)
    for (const [path, ops] of Object.entries(doc.body.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(ops)) if (['get', 'post', 'put', 'patch', 'delete'].includes(method)) routes.push({ method: method.toUpperCase(), path })
    }
    assert.ok(routes.length > 20, `the OpenAPI document lists the routes (${routes.length})`)
  })
  after(async () => { await j?.close() })

  const fill = (path: string, value: (name: string) => string) => path.replace(/\{([^}]+)\}/g, (_m, name: string) => value(name))
  const sample = (name: string) => (name === 'dep' ? 'default' : name === 'index' ? '0' : name === 'username' ? 'u' : 'x-aaaaaaaa')

  it('bad bodies at every route with a body', async () => {
    for (const r of routes.filter((r) => r.method !== 'GET' && r.method !== 'DELETE')) {
      const url = fill(r.path, sample)
      for (const [what, payload, type] of bodies()) {
        const p: Probe = { method: r.method, url, payload, headers: { 'content-type': type ?? 'application/json' }, what }
        check(p, await fire(p))
      }
    }
  })

  it('bad URLs at every route', async () => {
    const badParams: Array<[string, string]> = [
      ['%zz', '%zz'], ['%', '%'], ['invalid UTF-8 %C3%28', '%C3%28'], ['%00', 'a%00b'], ['10k chars', 'a'.repeat(10_000)],
      ['100k chars', 'b'.repeat(100_000)], ['dots', '..'], ['unicode', 'ü日本'], ['__proto__', '__proto__'], ['constructor', 'constructor'],
      ['negative index', '-1'], ['huge index', '99999999999999999999999'], ['space', 'a%20b'],
    ]
    for (const r of routes) {
      for (const [what, value] of badParams) {
        const p: Probe = { method: r.method, url: fill(r.path, () => value), what, ...(r.method === 'GET' || r.method === 'DELETE' ? {} : { payload: '{}', headers: { 'content-type': 'application/json' } }) }
        check(p, await fire(p))
      }
      for (const [what, query] of [['bad query escape', '?confirm=%zz&limit=%'], ['long query', `?confirm=${'q'.repeat(20_000)}`], ['query arrays', '?limit=1&limit=2&confirm=a&confirm=b'], ['query out of range', '?limit=1e400&offset=-99999999999999999999&since=abc'], ['__proto__ query', '?__proto__[x]=1&constructor=1']] as const) {
        const p: Probe = { method: r.method, url: fill(r.path, sample) + query, what }
        check(p, await fire(p))
      }
    }
    for (const url of ['/%zz', '/api/v1/%zz', `/api/v1/${'x'.repeat(20_000)}`, '/api/v1/deployments/%E0%A4%A', '/api/v1//deployments', '/api/v1/deployments/default/connectors/%2e%2e/%2e%2e']) {
      const p: Probe = { method: 'GET', url, what: 'bad path' }
      check(p, await fire(p))
    }
  })

  it('methods a route does not have', async () => {
    for (const r of routes) {
      for (const method of ['PATCH', 'PUT', 'DELETE', 'POST']) {
        if (routes.some((o) => o.path === r.path && o.method === method)) continue
        const p: Probe = { method, url: fill(r.path, sample), what: 'method not allowed' }
        check(p, await fire(p))
      }
    }
  })

  it('no answer was a 5xx or an undocumented error shape', () => {
    assert.ok(fired > 500, `fired ${fired} requests`)
    assert.deepEqual(failures, [], `${failures.length} of ${fired} failed:\n${failures.slice(0, 60).join('\n')}`)
  })
})

describe('hardening: what each limit answers', () => {
  let j: TestJunction
  before(async () => { j = await startJunction() })
  after(async () => { await j?.close() })
  const raw = async (method: string, url: string, payload?: string, contentType = 'application/json') => {
    const res = await j.junction.app.inject({ method: method as 'GET', url, headers: { authorization: AUTH, ...(payload === undefined ? {} : { 'content-type': contentType }) }, ...(payload === undefined ? {} : { payload }) })
    return { status: res.statusCode, body: JSON.parse(res.body) }
  }

  it('a body nested deeper than 64 levels -> 400 JSON_TOO_DEEP with the path, on every kind of route', async () => {
    const cases: Array<[string, string, string, string]> = [
      ['POST', '/api/v1/deployments/default/connectors', `{"name":"x","type":"postgresql","config":${deepObject(DEEP)}}`, 'config'],
      ['POST', '/api/v1/deployments/default/rules', `{"name":"x","sql":"SELECT 1 FROM \\"t\\"","actions":[{"builtin":"console","params":{}},{"connectorId":"c-aaaaaaaa","params":{},"options":${deepObject(DEEP)}}]}`, 'actions.1.options'],
      ['POST', '/api/v1/deployments/default/rules/test', `{"sql":"SELECT 1 FROM \\"t\\"","context":{"payload":${deepArray(DEEP)}}}`, 'context.payload'],
    ]
    for (const [method, url, payload, prefix] of cases) {
      const r = await raw(method, url, payload)
      assert.equal(r.status, 400, url)
      assert.equal(r.body.error.code, 'JSON_TOO_DEEP')
      assert.match(r.body.error.hint, /64/)
      const path: string = r.body.error.fields[0].path
      assert.ok(path.startsWith(prefix), `${path} starts with ${prefix}`)
      assert.equal(path.split('.').length, 64, 'the path names the 64 containers above the one too deep')
    }
  })

  it('64 levels are accepted (and answered) like any other body', async () => {
    const r = await raw('POST', '/api/v1/deployments/default/rules/test', `{"sql":"SELECT payload FROM \\"t\\"","context":{"topic":"t","payload":${deepObject(62)}}}`)
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300))
  })

  it('bad URLs -> 400 INVALID_URL; a path parameter over 100 characters -> 414 URL_PARAM_TOO_LONG', async () => {
    for (const url of ['/api/v1/deployments/%zz', '/api/v1/deployments/default/connectors/%C3%28', '/api/v1/deployments/%']) {
      const r = await raw('GET', url)
      assert.equal(r.status, 400, url)
      assert.equal(r.body.error.code, 'INVALID_URL')
      assert.ok(r.body.error.hint)
    }
    const r = await raw('GET', `/api/v1/deployments/${'a'.repeat(10_000)}`)
    assert.equal(r.status, 414)
    assert.equal(r.body.error.code, 'URL_PARAM_TOO_LONG')
  })

  it('prototype keys are refused as invalid JSON, and change nothing', async () => {
    for (const payload of ['{"__proto__":{"admin":true},"name":"x"}', '{"name":"x","config":{"constructor":{"prototype":{"x":1}}}}']) {
      const r = await raw('POST', '/api/v1/deployments/default/connectors', payload)
      assert.equal(r.status, 400)
      assert.equal(r.body.error.code, 'INVALID_JSON')
    }
    assert.equal(({} as any).admin, undefined)
  })

  it('requests the HTTP parser refuses answer in the same shape, over a real socket', async () => {
    const port = Number(new URL(await j.junction.listen()).port)
    const send = (bytes: Buffer | string) => new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1')
      const chunks: Buffer[] = []
      socket.on('data', (c) => chunks.push(c))
      socket.on('error', () => { /* the server closes after answering */ })
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')))
      socket.setTimeout(10_000, () => { socket.destroy(); reject(new Error('no answer')) })
      socket.end(bytes)
    })
    const cases: Array<[string, Buffer | string, number, string]> = [
      ['garbage request line', 'HELLO THERE\r\n\r\n', 400, 'MALFORMED_REQUEST'],
      ['space in the URL', 'GET /api/v1/de ployments x HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'MALFORMED_REQUEST'],
      ['bad chunk', 'POST /api/v1/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n', 400, 'MALFORMED_REQUEST'],
      ['headers over 16 KiB', `GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
      ['URL over 16 KiB', `GET /api/v1/deployments/${'a'.repeat(40_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
      ['raw bytes that are not UTF-8 in the URL', Buffer.concat([Buffer.from('GET /api/v1/deployments/'), Buffer.from([0xff, 0xc3, 0x28]), Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]), 0, ''],
      ['bad %-escape', 'GET /api/v1/deployments/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400, 'INVALID_URL'],
    ]
    for (const [what, bytes, status, code] of cases) {
      const answer = await send(bytes)
      const [head = '', body = ''] = answer.split('\r\n\r\n')
      if (status === 0) {
        // Whatever the parser makes of it, a 4xx in the API's shape with a documented code.
        const got = Number(/^HTTP\/1.1 (\d{3}) /.exec(head)?.[1])
        assert.ok(got >= 400 && got < 500, `${what}: ${head.slice(0, 80)}`)
        assert.equal(API_ERRORS[JSON.parse(body).error.code as keyof typeof API_ERRORS]?.status, got, `${what}: ${body}`)
        continue
      }
      assert.match(head, new RegExp(`^HTTP/1.1 ${status} `), `${what}: ${head.slice(0, 80)}`)
      assert.equal(JSON.parse(body).error.code, code, what)
    }
  })

  it('Junction still answers after the corpus', async () => {
    assert.equal((await raw('GET', '/api/v1/deployments/default/connectors')).status, 200)
  })
})
