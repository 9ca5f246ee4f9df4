import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConnectorError, TemplateParamsError } from '../connector-api/index.js'
import { validateWithSchema } from '../core/schema-validation.js'
import { publishContext } from '../rules/event-context.js'
import { compileRuleSql } from '../rules/sql/index.js'
import type { OutgoingMessage } from '../broker/broker-types.js'
import { RuleEngine } from '../rules/rule-engine.js'
import { DEFAULT_ACTION_OPTIONS } from './action-worker.js'
import { compileRepublish, republishAction, RepublishParamsSchema, type RepublishParams } from './republish.js'
import { RuleRuntime } from './rule-runtime.js'
import { PASS_THROUGH_MQTT_PROPERTIES } from '../../test/support/pass-through-properties.js'

/** Params as the API stores them: validated, defaults filled in. */
function params(p: Record<string, unknown>): RepublishParams {
  const r = validateWithSchema<RepublishParams>(RepublishParamsSchema, p, 'params')
  if (!r.ok) assert.fail(JSON.stringify(r.errors))
  return r.value
}

/** The output of `sql` for an MQTT 5 message from dev-1, as the engine would hand it to the action. */
function outputOf(sql: string): Record<string, unknown> {
  const context = publishContext({
    topic: 'req/dev-1', payload: Buffer.from('{"temp":21}'), qos: 1, retain: false, dup: false,
    clientid: 'dev-1', username: undefined, peerhost: '127.0.0.1', receivedAt: 1,
    properties: {
      payloadFormatIndicator: true, messageExpiryInterval: 120, contentType: 'application/json', responseTopic: 'resp/dev-1',
      correlationData: Buffer.from('c-42'), userProperties: { site: 'a', tag: ['x', 'y'] },
    },
  })
  const [output] = compileRuleSql(sql).evaluate(context)
  assert.ok(output)
  return output
}

describe('republish: the OutgoingMessage handed to the broker', () => {
  it('defaults: the same message without properties (the rule selected no user_properties)', () => {
    const p = params({ topic: 'out/${clientid}' })
    assert.deepEqual({ mqtt_properties: p.mqtt_properties, user_properties: p.user_properties }, { mqtt_properties: {}, user_properties: '${user_properties}' })
    const m = compileRepublish(p)(outputOf('SELECT * FROM "req/#"'))
    assert.deepEqual(m, { topic: 'out/dev-1', payload: '{"temp":21}', qos: 0, retain: false })
  })

  it('passes the MQTT 5 properties of the original message through, as EMQX\'s republish does', () => {
    const build = compileRepublish(params({
      topic: 'fwd/${topic}', qos: 1, payload: '${payload}',
      mqtt_properties: PASS_THROUGH_MQTT_PROPERTIES,
      user_properties: "${pub_props.'User-Property-Pairs'}",
    }))
    assert.deepEqual(build(outputOf('SELECT * FROM "req/#"')), {
      topic: 'fwd/req/dev-1', payload: '{"temp":21}', qos: 1, retain: false,
      properties: {
        payloadFormatIndicator: true, messageExpiryInterval: 120, contentType: 'application/json', responseTopic: 'resp/dev-1',
        correlationData: Buffer.from('c-42'), userProperties: { site: 'a', tag: ['x', 'y'] },
      },
    })
  })

  it('sets properties from what the rule computes: SELECT ... AS user_properties (the default template), payload fields', () => {
    const build = compileRepublish(params({
      topic: 'alerts/${clientid}',
      mqtt_properties: { 'Content-Type': 'text/plain', 'Message-Expiry-Interval': '${ttl}', 'Response-Topic': 'ack/${clientid}' },
    }))
    const m = build(outputOf(`SELECT clientid, 30 AS ttl, map_put('rule', 'hot', pub_props.'User-Property') AS user_properties FROM "req/#"`))
    assert.deepEqual(m.properties, { contentType: 'text/plain', messageExpiryInterval: 30, responseTopic: 'ack/dev-1', userProperties: { site: 'a', tag: 'y', rule: 'hot' } })
  })

  it('a property whose value is missing or invalid is left out (reported), the message still goes', () => {
    const skipped: string[] = []
    const build = compileRepublish(params({ topic: 't', mqtt_properties: { 'Message-Expiry-Interval': '${payload.temp_c}', 'Payload-Format-Indicator': '${payload.temp}' } }), (p) => skipped.push(p))
    const m = build(outputOf('SELECT * FROM "req/#"'))
    assert.equal(m.properties, undefined)
    assert.deepEqual(skipped, ['Payload-Format-Indicator'], 'temp is 21, not 0 or 1; temp_c is missing, which is not a problem')
  })

  it('a topic that renders empty or with a wildcard is a permanent error', () => {
    const build = compileRepublish(params({ topic: '${payload.to}' }))
    for (const to of ['', 'a/+', 'a/#']) {
      assert.throws(() => build({ payload: { to } }), (err: unknown) => err instanceof ConnectorError && err.kind === 'permanent')
    }
  })

  it('malformed templates and bad fixed values are refused up front, with the field\'s path', () => {
    // Not through the schema: this is the check behind it (the schema already refuses some of these).
    const fails = (p: Partial<RepublishParams>, path: string) =>
      assert.throws(() => republishAction.checkParams!({ qos: 0, retain: false, payload: '', topic: 't', ...p }), (err: unknown) => err instanceof TemplateParamsError && err.path === path)
    fails({ topic: 'a/${x[y]}' }, 'topic')
    fails({ topic: 't', payload: '${.a[}' }, 'payload')
    fails({ topic: 't', mqtt_properties: { 'Response-Topic': 'r/+' } }, 'mqtt_properties.Response-Topic')
    fails({ topic: 't', mqtt_properties: { 'Message-Expiry-Interval': '4294967296' } }, 'mqtt_properties.Message-Expiry-Interval')
    fails({ topic: 't', user_properties: 'pub_props' }, 'user_properties')
  })

  it('a running republish action hands the broker\'s publish() the message with its properties', async () => {
    const published: OutgoingMessage[] = []
    const engine = new RuleEngine()
    const quiet = { debug() {}, info() {}, warn() {}, error() {} }
    const runtime = new RuleRuntime(engine, {
      connector: () => undefined,
      onConnectorStatus: () => () => {},
      broker: () => ({ publish: async (m) => { published.push(m) } }),
      bufferDir: () => '/nonexistent',
    }, quiet)
    runtime.install({
      id: 'r-1', sql: compileRuleSql('SELECT * FROM "req/#"'),
      actions: [{
        target: { kind: 'builtin', definition: republishAction, params: params({ topic: 'out/${clientid}', qos: 1, mqtt_properties: { 'Content-Type': "${pub_props.'Content-Type'}" }, user_properties: "${pub_props.'User-Property'}" }) },
        options: DEFAULT_ACTION_OPTIONS,
      }],
    })
    engine.published({
      topic: 'req/dev-1', payload: Buffer.from('x'), qos: 1, retain: false, dup: false, clientid: 'dev-1', username: undefined, peerhost: undefined, receivedAt: 1,
      properties: { contentType: 'text/plain', userProperties: { a: '1' } },
    })
    assert.ok(await runtime.drained('r-1', 5_000))
    runtime.stopAll()
    assert.deepEqual(published, [{ topic: 'out/dev-1', payload: 'x', qos: 1, retain: false, properties: { contentType: 'text/plain', userProperties: { a: '1' } } }])
  })
})
