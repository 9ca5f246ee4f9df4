import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node'
import { ConnectorError } from '../../connector-api/index.js'
import { createTestStream, sharedNatsServers } from '../../../test/support/nats.js'
import { classifyNatsError } from './classify-error.js'
import { NatsWire, pubAckError } from './nats-channel.js'

const servers = sharedNatsServers()
const late = () => new ConnectorError('TIMEOUT', 'late', { kind: 'retryable' })
const out = (subject: string, payload: string, head = '') => ({ subject, head, payload })
const codeOf = (r: unknown) => (r === undefined ? undefined : classifyNatsError(r, { target: servers, tls: false }).code)

describe('PubAck reading', () => {
  const ack = (text: string, code?: number) => {
    const data = Buffer.from(text)
    return { data, headers: code === undefined ? undefined : natsHeaders(code, 'No Responders'), json: <T>() => JSON.parse(data.toString()) as T }
  }

  it('a stored PubAck (a duplicate too) is no error; an error PubAck keeps its JetStream code; a 503 status is no responders', () => {
    assert.equal(pubAckError(ack('{"stream":"S","seq":7}')), undefined)
    assert.equal(pubAckError(ack('{"stream":"S","seq":7,"duplicate":true}')), undefined)
    const full = pubAckError(ack('{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"},"stream":"S","seq":0}')) as Error & { code?: number }
    assert.deepEqual([full.name, full.code, full.message], ['JetStreamApiError', 10077, 'maximum messages exceeded'])
    assert.equal(codeOf(full), 'SERVER_RESOURCES')
    assert.equal(codeOf(pubAckError(ack('', 503))), 'STREAM_NOT_FOUND')
    assert.match(pubAckError(ack('{"strea'))!.message, /unreadable PubAck/)
  })
})

describe('NatsWire: publishing batches and matching their PubAcks', () => {
  let nc: NatsConnection
  let wire: NatsWire
  before(async () => {
    nc = await connect({ servers: servers.split(','), reconnect: false })
    wire = new NatsWire(nc)
  })
  after(() => nc.close())

  it('batches in flight together each get their own PubAcks, and the stream stores every message once, in order', async () => {
    const stream = await createTestStream(servers)
    try {
      const batches = [0, 1, 2].map((b) => Array.from({ length: 50 }, (_, i) => out(`${stream.prefix}.b${b}`, `{"n":${b * 50 + i}}`)))
      const results = await Promise.all(batches.map((items) => wire.publish(items, AbortSignal.timeout(10_000), 5_000, late)))
      assert.deepEqual(results, batches.map((items) => items.map(() => undefined)))
      const stored = await stream.messages()
      assert.deepEqual(stored.map((m) => JSON.parse(m.data).n), Array.from({ length: 150 }, (_, n) => n))
    } finally {
      await stream.close()
    }
  })

  it('in one batch: an error PubAck fails its message alone, a subject no stream captures is no responders, a silent responder times out', async () => {
    const stream = await createTestStream(servers, {}, { max_msgs: 1, discard: 'new' as never })
    const silent = `junction.silent.${Date.now()}`
    const sub = nc.subscribe(silent)
    await nc.flush()
    try {
      const r = await wire.publish([out(`${stream.prefix}.a`, '1'), out(`${stream.prefix}.a`, '2'), out(`junction.nostream.${Date.now()}`, '3'), out(silent, '4')], AbortSignal.timeout(10_000), 500, late)
      assert.deepEqual(r.map(codeOf), [undefined, 'SERVER_RESOURCES', 'STREAM_NOT_FOUND', 'TIMEOUT'])
      assert.deepEqual((await stream.messages()).map((m) => m.data), ['1'])
    } finally {
      sub.unsubscribe()
      await stream.close()
    }
  })

  it('a duplicate or unknown PubAck changes nothing; an aborted signal ends the wait at once as late', async () => {
    const subject = `junction.echo.${Date.now()}`
    // A responder answering every publish twice, and once more for a reply number no batch has.
    const sub = nc.subscribe(subject, { callback: (_, m) => {
      for (let i = 0; i < 2; i++) nc.publish(m.reply!, '{"stream":"ECHO","seq":1}')
      nc.publish(`${m.reply!.replace(/\.\d+$/, '')}.999999`, '{"error":{"err_code":1,"description":"unknown"}}')
    } })
    await nc.flush()
    try {
      assert.deepEqual(await wire.publish([out(subject, 'a'), out(subject, 'b')], AbortSignal.timeout(10_000), 5_000, late), [undefined, undefined])
      sub.unsubscribe()
      await nc.flush()
      const controller = new AbortController()
      const waiting = wire.publish([out(`${subject}.nobody-answers-but-a-silent-one`, 'c')], controller.signal, 60_000, late)
      const silent = nc.subscribe(`${subject}.nobody-answers-but-a-silent-one`)
      controller.abort()
      assert.deepEqual((await waiting).map(codeOf), ['TIMEOUT'])
      silent.unsubscribe()
    } finally {
      sub.unsubscribe()
    }
  })

  it('core publishes (no reply) carry byte lengths right for UTF-8 headers and payloads; a message over max_payload fails alone', async () => {
    const subject = `junction.utf8.${Date.now()}`
    const sub = nc.subscribe(subject, { max: 2 })
    await nc.flush()
    const items = [out(subject, '{"city":"Zürich 🌡"}', 'NATS/1.0\r\nX-City: Zürich\r\n\r\n'), out(subject, 'x'.repeat(nc.info!.max_payload + 1)), out(subject, 'plain ✓')]
    const results: unknown[] = items.slice()
    assert.equal(wire.send(items, results), 2)
    assert.equal(codeOf(results[1]), 'MESSAGE_TOO_LARGE')
    const got: Array<[string, string | undefined]> = []
    for await (const m of sub) got.push([m.string(), m.headers?.get('X-City')])
    assert.deepEqual(got, [['{"city":"Zürich 🌡"}', 'Zürich'], ['plain ✓', undefined]])
  })

  it('a closed connection fails what waits for its PubAck, and later writes, as CONNECTION_LOST', async () => {
    const own = await connect({ servers: servers.split(','), reconnect: false })
    const ownWire = new NatsWire(own)
    const subject = `junction.closing.${Date.now()}`
    const silent = own.subscribe(subject)
    await own.flush()
    const waiting = ownWire.publish([out(subject, 'a')], AbortSignal.timeout(10_000), 60_000, late)
    await own.close()
    assert.deepEqual((await waiting).map(codeOf), ['CONNECTION_LOST'])
    const results: unknown[] = [out(subject, 'b')]
    assert.equal(ownWire.send(results as never, results), 0)
    assert.equal(codeOf(results[0]), 'CONNECTION_LOST')
    silent.unsubscribe()
  })
})
