import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { validateWithSchema } from '../core/schema-validation.js'
import { Type } from '@sinclair/typebox'
import {
  asksForProperties, compilePublishProperties, mqttPropertiesSchema, TemplateParamsError, toUserProperties, userPropertiesSchema,
} from './mqtt-properties.js'
import { PASS_THROUGH_MQTT_PROPERTIES } from '../../test/support/pass-through-properties.js'

/** What a rule selecting `*` from an MQTT 5 message gives an action. */
const output = {
  clientid: 'dev-1',
  payload: '{"ct":"application/json","ttl":"30"}',
  pub_props: {
    'Payload-Format-Indicator': 1,
    'Message-Expiry-Interval': 60,
    'Content-Type': 'text/plain',
    'Response-Topic': 'replies/dev-1',
    'Correlation-Data': 'req-7',
    'User-Property': { site: 'b', line: '3' },
    'User-Property-Pairs': [{ key: 'site', value: 'a' }, { key: 'site', value: 'b' }, { key: 'line', value: '3' }],
  },
}

describe('MQTT 5 properties from templates (EMQX mqtt_properties / user_properties)', () => {
  it('passes a message\'s own properties through', () => {
    const render = compilePublishProperties({
      mqtt_properties: PASS_THROUGH_MQTT_PROPERTIES,
      user_properties: "${pub_props.'User-Property'}",
    })
    assert.deepEqual(render(output), {
      payloadFormatIndicator: true, messageExpiryInterval: 60, contentType: 'text/plain', responseTopic: 'replies/dev-1',
      correlationData: Buffer.from('req-7'), userProperties: { site: 'b', line: '3' },
    })
  })

  it('User-Property-Pairs keeps repeated names, in order', () => {
    const render = compilePublishProperties({ user_properties: "${pub_props.'User-Property-Pairs'}" })
    assert.deepEqual(render(output), { userProperties: { site: ['a', 'b'], line: '3' } })
  })

  it('templates read the output, text templates and JSON payload paths included; fixed values are typed', () => {
    const render = compilePublishProperties({
      mqtt_properties: { 'Content-Type': '${payload.ct}', 'Message-Expiry-Interval': '${payload.ttl}', 'Response-Topic': 'r/${clientid}', 'Payload-Format-Indicator': '0' },
      user_properties: '{"fixed": "x", "n": 1}',
    })
    assert.deepEqual(render(output), {
      contentType: 'application/json', messageExpiryInterval: 30, responseTopic: 'r/dev-1', payloadFormatIndicator: false,
      userProperties: { fixed: 'x', n: '1' },
    })
  })

  it('a lone placeholder with no value sets nothing; no properties at all is undefined', () => {
    const render = compilePublishProperties({ mqtt_properties: { 'Content-Type': '${nope}', 'Correlation-Data': '${pub_props.nope}' } })
    assert.equal(render(output), undefined)
    // The default user_properties template (${user_properties}) finds nothing in this output.
    assert.equal(compilePublishProperties({})(output), undefined)
    assert.deepEqual(compilePublishProperties({})({ user_properties: { a: 'b' } }), { userProperties: { a: 'b' } })
    assert.equal(compilePublishProperties({ user_properties: '' })({ user_properties: { a: 'b' } }), undefined)
  })

  it('a rendered value the property cannot take is left out and reported, the others are sent', () => {
    const skipped: string[] = []
    const render = compilePublishProperties({
      mqtt_properties: {
        'Payload-Format-Indicator': '${a}', 'Message-Expiry-Interval': '${b}', 'Response-Topic': '${c}', 'Content-Type': '${d}',
      },
    }, (property, reason) => skipped.push(`${property}: ${reason}`))
    assert.deepEqual(render({ a: 2, b: '-5', c: 'r/+/x', d: 'ok' }), { contentType: 'ok' })
    assert.equal(skipped.length, 3, skipped.join('\n'))
    assert.match(skipped.join('\n'), /Payload-Format-Indicator: "2" is not 0 or 1/)
    assert.match(skipped.join('\n'), /Message-Expiry-Interval: "-5" is not a whole number/)
    assert.match(skipped.join('\n'), /Response-Topic: .*wildcard/)
    assert.deepEqual(render({ a: 'x', b: 4_294_967_296, c: '', d: 'a\u0000b' }), undefined)
  })

  it('Junction\'s userProperties (name -> template) add to user_properties and win on the same name', () => {
    const render = compilePublishProperties({ user_properties: "${pub_props.'User-Property'}", userProperties: { site: 'z', device: '${clientid}' } })
    assert.deepEqual(render(output), { userProperties: { site: 'z', line: '3', device: 'dev-1' } })
  })

  it('fixed values and templates are checked once, with the field\'s path', () => {
    const fails = (p: Parameters<typeof compilePublishProperties>[0], path: string) => assert.throws(() => compilePublishProperties(p), (err: unknown) => {
      assert.ok(err instanceof TemplateParamsError, String(err))
      assert.equal(err.path, path)
      return true
    })
    fails({ mqtt_properties: { 'Message-Expiry-Interval': '99999999999' } }, 'mqtt_properties.Message-Expiry-Interval')
    fails({ mqtt_properties: { 'Payload-Format-Indicator': '2' } }, 'mqtt_properties.Payload-Format-Indicator')
    fails({ mqtt_properties: { 'Response-Topic': 'a/#' } }, 'mqtt_properties.Response-Topic')
    fails({ mqtt_properties: { 'Content-Type': '${a[x]}' } }, 'mqtt_properties.Content-Type')
    fails({ mqtt_properties: { 'Topic-Alias': '1' } as never }, 'mqtt_properties.Topic-Alias')
    fails({ user_properties: 'site=a' }, 'user_properties')
    fails({ userProperties: { a: '${b[y]}' } }, 'userProperties.a')
  })

  it('asks for properties only when something beyond the default is set', () => {
    assert.equal(asksForProperties({}), false)
    assert.equal(asksForProperties({ mqtt_properties: {}, user_properties: '${user_properties}' }), false)
    assert.equal(asksForProperties({ user_properties: '' }), false)
    assert.equal(asksForProperties({ user_properties: "${pub_props.'User-Property'}" }), true)
    assert.equal(asksForProperties({ mqtt_properties: { 'Content-Type': 'a' } }), true)
    assert.equal(asksForProperties({ userProperties: { a: 'b' } }), true)
  })

  it('user properties from maps, pair lists and JSON text; junk is none', () => {
    assert.deepEqual(toUserProperties({ a: 'x', b: 2, c: { d: 1 }, e: null }), { a: 'x', b: '2', c: '{"d":1}' })
    assert.deepEqual(toUserProperties([['a', '1'], { key: 'a', value: '2' }, 'junk', { key: 1, value: 'x' }]), { a: ['1', '2'] })
    assert.deepEqual(toUserProperties('[{"key":"k","value":"v"}]'), { k: 'v' })
    assert.deepEqual(toUserProperties({ multi: ['1', '2'] }), { multi: ['1', '2'] })
    for (const junk of [undefined, null, 'text', '{broken', 42, {}, []]) assert.equal(toUserProperties(junk), undefined, JSON.stringify(junk))
  })

  it('the schemas fill their defaults and refuse unknown properties and bad fixed values with their paths', () => {
    const schema = Type.Object({ mqtt_properties: mqttPropertiesSchema, user_properties: userPropertiesSchema })
    const ok = validateWithSchema<Record<string, unknown>>(schema, {}, 'params')
    assert.ok(ok.ok)
    assert.deepEqual(ok.value, { mqtt_properties: {}, user_properties: '${user_properties}' })
    const bad = validateWithSchema(schema, { mqtt_properties: { 'Topic-Alias': '1', 'Payload-Format-Indicator': '3', 'Message-Expiry-Interval': 'soon', 'Content-Type': '', 'Response-Topic': 'r/#' } }, 'params')
    assert.ok(!bad.ok)
    assert.deepEqual(bad.errors.map((e) => e.path).sort(), [
      'params.mqtt_properties.Content-Type', 'params.mqtt_properties.Message-Expiry-Interval', 'params.mqtt_properties.Payload-Format-Indicator',
      'params.mqtt_properties.Response-Topic', 'params.mqtt_properties.Topic-Alias',
    ])
    assert.ok(validateWithSchema(schema, { mqtt_properties: { 'Payload-Format-Indicator': '${x}', 'Message-Expiry-Interval': '120', 'Response-Topic': 'r/${clientid}' } }).ok)
  })
})
