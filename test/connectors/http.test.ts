// The HTTP (webhook) connector against HTTP and HTTPS servers the tests start (test/support/http.ts).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Channel, Connector } from '../../src/connector-api/index.js'
import { ConnectorError, withResourceOptions } from '../../src/connector-api/index.js'
import { parseRetryAfter } from '../../src/connector-api/index.js'
import { httpConnector } from '../../src/connectors/http/definition.js'
import { validateWithSchema } from '../../src/core/schema-validation.js'
import { ActionWorker, DEFAULT_ACTION_OPTIONS } from '../../src/runtime/action-worker.js'
import { ActionMetrics } from '../../src/runtime/metrics.js'
import { connectorBattery, paramsWithDefaults, testContext, withDefaults } from '../support/connector-battery.js'
import { connectorFlowThroughApi } from '../support/connector-flow.js'
import { eventually, startJunction } from '../support/junction.js'
import { recordingDestination, startRecordingServer, throwawayCertificate, TOKEN, type RecordingServer } from '../support/http.js'

const BASE = '/api'
const shared = await startRecordingServer()
after(() => shared.close())

const good = (server: RecordingServer = shared) => ({ url: `${server.origin}${BASE}`, authorization: `Bearer ${TOKEN}` })
const wrong = () => ({ ...good(), authorization: 'Bearer battery-wrong-secret' })

connectorBattery({
  definition: httpConnector,
  goodConfig: () => good(),
  withAddress: (host, port) => ({ ...good(), url: `http://${host}:${port}${BASE}` }),
  wrongCredentials: wrong,
  async tlsServer() {
    const pem = await throwawayCertificate()
    const server = await startRecordingServer({ tls: pem })
    return {
      // https:// turns TLS on; a config with TLS off is the same server as http://.
      config: ({ enable, ...tls }) => ({ ...good(server), url: `${enable === false ? 'http' : 'https'}://127.0.0.1:${server.port}${BASE}`, tls }),
      caCert: pem.cert,
      plainCode: 'TLS_REQUIRED',
      close: () => server.close(),
    }
  },
  async privateServer() {
    const server = await startRecordingServer()
    return {
      config: () => good(server),
      destination: async () => recordingDestination(server, BASE),
      stop: () => server.stop(),
      start: () => server.start(),
      close: () => server.close(),
    }
  },
  destination: async () => recordingDestination(shared, BASE),
  refusedMessage: { id: 'refused', temp: 0 },
})

connectorFlowThroughApi({
  type: 'http',
  config: () => good(),
  withPort: (port) => ({ ...good(), url: `http://127.0.0.1:${port}${BASE}` }),
  wrongCredentials: wrong,
  // The default body: the whole rule output as JSON.
  destination: async () => recordingDestination(shared, BASE, { defaultBody: true }),
})

for (const workerThread of [true, false]) describe(`http: requests as the action builds them (workerThread ${workerThread})`, () => {
  let c: Connector
  before(async () => {
    c = httpConnector.create(withDefaults(httpConnector, { ...good(), workerThread, headers: { 'X-Connector': 'c', 'X-Both': 'connector' } }) as never, testContext('http-test'))
    await c.start(AbortSignal.timeout(10_000))
  })
  after(() => c.stop(AbortSignal.timeout(5_000)))
  const open = (params: Record<string, unknown>) => c.openChannel!(paramsWithDefaults(httpConnector, params))
  const last = () => shared.requests.at(-1)!
  const failure = async (work: Promise<unknown>) => {
    const e = await work.then(() => assert.fail('expected a failure'), (err: unknown) => err)
    assert.ok(e instanceof ConnectorError, String(e))
    return e
  }

  it('appends the path to the base URL as written, placeholders URL-encoded, with connector and action headers', async () => {
    const ch = await open({ method: 'PUT', path: '/devices/${clientid}/x?at=${ts}&n=${missing}', headers: { 'X-Both': 'action ${clientid}', 'X-Gone': '${missing}' } })
    await ch.send({ clientid: 'a/b ?&é', ts: 5 }, AbortSignal.timeout(5_000))
    assert.equal(last().method, 'PUT')
    assert.equal(last().url, '/api/devices/a%2Fb%20%3F%26%C3%A9/x?at=5&n=null')
    assert.equal(last().headers['x-connector'], 'c')
    assert.equal(last().headers['x-both'], 'action a/b ?&é', 'the action header wins')
    assert.equal(last().headers['x-gone'], undefined, 'a header whose only placeholder is missing is left out')
    assert.equal(last().headers['content-type'], 'application/json')
    await ch.send({ clientid: '..', ts: 1 }, AbortSignal.timeout(5_000))
    assert.equal(last().url, '/api/devices/%2E%2E/x?at=1&n=null', 'message data cannot climb out of its segment')
  })

  it('a JSON body template renders values as JSON literals: missing is null, strings escaped, a JSON payload embedded', async () => {
    const ch = await open({ path: '/json', body: '{"id": ${id}, "v": ${v}, "s": "${v}", "text": "id=${id}", "p": ${payload}, "m": ${missing}, "ms": "${missing}"}' })
    await ch.send({ id: 'x"}, "evil": {"', v: 7, payload: '{"a":[1,2]}' }, AbortSignal.timeout(5_000))
    assert.deepEqual(JSON.parse(last().body), { id: 'x"}, "evil": {"', v: 7, s: '7', text: 'id=x"}, "evil": {"', p: { a: [1, 2] }, m: null, ms: null })
  })

  it('a template that starts like JSON but is not JSON fails the action at once', async () => {
    const e = await failure(open({ body: '{"id": ${id}' }))
    assert.equal(e.code, 'INVALID_PARAMS')
    assert.equal(e.kind, 'permanent')
  })

  it('a text body is sent as text; GET sends no body', async () => {
    const text = await open({ path: '/t', body: 'temp=${temp} note=${note}' })
    await text.send({ temp: 3 }, AbortSignal.timeout(5_000))
    assert.equal(last().body, 'temp=3 note=null')
    assert.match(String(last().headers['content-type']), /^text\/plain/)
    const get = await open({ method: 'GET', path: '/g/${id}' })
    await get.send({ id: 1 }, AbortSignal.timeout(5_000))
    assert.equal(last().method, 'GET')
    assert.equal(last().body, '')
  })

  it('a 4xx answer fails at once (permanent) with the status and the start of the body, secrets masked', async () => {
    const ch = await open({ path: '/reject' })
    const before = shared.requests.length
    shared.answer = (r) => (r.url.endsWith('/reject') ? { status: 422, body: `bad temp; you sent ${String(r.headers.authorization)} ${'x'.repeat(400)}` } : undefined)
    try {
      const e = await failure(ch.send({ id: 1 }, AbortSignal.timeout(5_000)))
      assert.equal(e.kind, 'permanent')
      assert.equal(e.code, 'INVALID_DATA')
      assert.match(e.message, /answered 422: bad temp; you sent \*{6} x+\.\.\.$/)
      assert.ok(!e.message.includes(TOKEN), 'the secret is not repeated')
      assert.ok(e.message.length < 300)
      assert.equal(shared.requests.length - before, 1, 'sent once')
    } finally {
      shared.answer = undefined
    }
  })

  it('a header rendered with a line break from message data fails that message as INVALID_DATA', async () => {
    const ch = await open({ path: '/h', headers: { 'X-Device': '${id}' } })
    const e = await failure(ch.send({ id: 'a\r\nX-Injected: 1' }, AbortSignal.timeout(5_000)))
    assert.equal(e.code, 'INVALID_DATA')
    assert.equal(e.kind, 'permanent')
  })

  it('a request the server never answers fails as a retryable TIMEOUT when its signal aborts; the next one goes through', async () => {
    const ch = await open({ path: '/hang' })
    shared.answer = (r) => (r.url.endsWith('/hang') ? { status: 0 } : undefined)
    try {
      const started = Date.now()
      const e = await failure(ch.send({ id: 1 }, AbortSignal.timeout(300)))
      assert.equal(e.code, 'TIMEOUT')
      assert.equal(e.kind, 'retryable')
      assert.ok(Date.now() - started < 5_000, 'answered on abort, not at requestTimeoutMs')
    } finally {
      shared.answer = undefined
    }
    await ch.send({ id: 2 }, AbortSignal.timeout(5_000))
    assert.equal(JSON.parse(last().body).id, 2)
  })

  describe('retries through the runtime (ActionWorker)', () => {
    const deliver = async (ch: Channel, n: number) => {
      const metrics = new ActionMetrics()
      const source = { acquire: async () => ch, reportLost() {}, onReady: () => () => {} }
      const w = new ActionWorker('http-action', source, { ...DEFAULT_ACTION_OPTIONS, requestTtlMs: 20_000 }, metrics, testContext().logger)
      for (let i = 0; i < n; i++) w.enqueue({ id: `r-${i}` })
      assert.ok(await w.drained(20_000))
      w.stop()
      return metrics
    }

    it('5xx answers are retried until the server takes the message', async () => {
      const ch = await open({ path: `/flaky-${workerThread}` })
      let failures = 2
      shared.answer = (r) => (r.url.endsWith(`/flaky-${workerThread}`) && failures-- > 0 ? { status: 503, body: 'down for a moment' } : undefined)
      try {
        const m = await deliver(ch, 1)
        assert.equal(m.success, 1)
        assert.equal(m.retried, 2)
        assert.equal(shared.requests.filter((r) => r.url.endsWith(`/flaky-${workerThread}`)).length, 3)
        assert.equal(shared.accepted(`${BASE}/flaky-${workerThread}`).length, 1)
      } finally {
        shared.answer = undefined
      }
    })

    it('429 with Retry-After: the retry waits at least that long (longer than the backoff)', async () => {
      const ch = await open({ path: `/limited-${workerThread}` })
      let first = true
      shared.answer = (r) => {
        if (!r.url.endsWith(`/limited-${workerThread}`) || !first) return undefined
        first = false
        return { status: 429, headers: { 'retry-after': '2' }, body: 'slow down' }
      }
      try {
        const m = await deliver(ch, 1)
        assert.equal(m.success, 1)
        const [refused, taken] = shared.requests.filter((r) => r.url.endsWith(`/limited-${workerThread}`))
        assert.equal(refused!.status, 429)
        // The first backoff is at most 1.2 s; a retry sooner than 2 s ignored Retry-After.
        assert.ok(taken!.at - refused!.at >= 1_950, `retried after ${taken!.at - refused!.at} ms`)
      } finally {
        shared.answer = undefined
      }
    })

    it('Retry-After as an HTTP date', () => {
      const now = Date.parse('2026-01-01T00:00:00Z')
      assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000)
      assert.equal(parseRetryAfter('120', now), 120_000)
      assert.equal(parseRetryAfter('soon', now), undefined)
    })
  })
})

describe('http: secrets through the API', () => {
  it('answers authorization as "******" and never its value; headers are shown as written and sent', async () => {
    const j = await startJunction()
    try {
      const config = { ...good(), headers: { 'X-Api-Version': '2' } }
      const created = await j.api('POST', '/api/v1/deployments/default/connectors', { name: 'hook', type: 'http', config })
      assert.equal(created.status, 201, JSON.stringify(created.body))
      const details = await j.api('GET', `/api/v1/deployments/default/connectors/${created.body.id}`)
      assert.equal(details.body.config.authorization, '******')
      assert.deepEqual(details.body.config.headers, { 'X-Api-Version': '2' })
      for (const answer of [created.body, details.body, (await j.api('GET', '/api/v1/deployments/default/connectors')).body]) {
        assert.ok(!JSON.stringify(answer).includes(TOKEN))
      }
      await eventually(() => j.api('GET', `/api/v1/deployments/default/connectors/${created.body.id}`), (r) => r.body.status === 'connected', 'connected')
      assert.ok(!j.log().includes(TOKEN), 'nor in the log')
      // The pattern lets 999.1.1.1 through, URL parsing refuses it: the Test answers, it does not fail.
      const odd = await j.api('POST', '/api/v1/deployments/default/connectors/test', { type: 'http', config: { url: 'http://999.1.1.1/x' } })
      assert.equal(odd.status, 200, JSON.stringify(odd.body))
      assert.equal(odd.body.ok, false)
      // Credentials in the plain headers would be shown: refused, with the field named.
      const plain = await j.api('POST', '/api/v1/deployments/default/connectors', { name: 'plain', type: 'http', config: { ...config, headers: { authorization: `Bearer ${TOKEN}` } } })
      assert.equal(plain.status, 400)
      assert.ok(JSON.stringify(plain.body).includes('config.headers'), JSON.stringify(plain.body))
      const h = shared.requests.filter((r) => r.method === 'HEAD' && r.headers['x-api-version'] !== undefined).at(-1)
      assert.equal(h?.headers['x-api-version'], '2')
      assert.equal(h?.headers.authorization, `Bearer ${TOKEN}`)
    } finally {
      await j.close()
    }
  })
})

describe('http: settings the schema refuses', () => {
  const valid = (config: Record<string, unknown>) => validateWithSchema(withResourceOptions(httpConnector).configSchema, config, 'config').ok
  const validParams = (params: Record<string, unknown>) => validateWithSchema(httpConnector.paramsSchema, params, 'params').ok
  it('URLs with credentials, a query, another scheme or a bad port; managed or credential headers', () => {
    assert.ok(valid({ url: 'https://hooks.example.com:8443/a/b' }) && valid({ url: 'http://[::1]:80' }))
    for (const url of ['http://user:pw@h/x', 'http://h/x?key=1', 'ftp://h/x', 'http://h:70000/x', 'http://h/x#f', 'h:80']) assert.ok(!valid({ url }), url)
    for (const name of ['Host', 'content-LENGTH', 'Authorization', 'proxy-authorization']) assert.ok(!valid({ url: 'http://h', headers: { [name]: 'v' } }), name)
    assert.ok(!valid({ url: 'http://h', headers: { 'X-A': 'a\r\nB: c' } }))
    assert.ok(validParams({ headers: { Authorization: 'Bearer ${token}' } }), 'an action may build its own Authorization from message data')
    assert.ok(!validParams({ headers: { 'Content-Length': '1' } }) && !validParams({ path: 'no-slash' }))
  })
})
