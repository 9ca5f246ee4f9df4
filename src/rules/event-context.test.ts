import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ClientEvent, PublishedMessage } from '../broker/broker-types.js'
import { RuleMetrics } from './rule-metrics.js'
import { emqxProps, eventContext, publishContext } from './event-context.js'
import { RuleEngine } from './rule-engine.js'
import { compileRuleSql } from './sql/index.js'

const who = { clientid: 'dev-1', username: 'alice', peerhost: '127.0.0.1' }
const session = { ...who, protoVer: 5, cleanStart: false, keepalive: 30 }
const carried = { topic: 't/1', qos: 1, payload: Buffer.from('hi'), retain: false, dup: false, from: { clientid: 'pub-1', username: undefined } }

/** What an MQTT 5 client put on a PUBLISH, as the broker hands it over (mqtt-packet's names). */
const v5Properties = {
  payloadFormatIndicator: true,
  messageExpiryInterval: 60,
  contentType: 'application/json',
  responseTopic: 'replies/dev-1',
  correlationData: Buffer.from('req-7'),
  userProperties: { site: ['a', 'b'], line: '3' },
}
/** The same, as EMQX's rules see them in pub_props. */
const v5PubProps = {
  'Payload-Format-Indicator': 1,
  'Message-Expiry-Interval': 60,
  'Content-Type': 'application/json',
  'Response-Topic': 'replies/dev-1',
  'Correlation-Data': 'req-7',
  'User-Property': { site: 'b', line: '3' },
  'User-Property-Pairs': [{ key: 'site', value: 'a' }, { key: 'site', value: 'b' }, { key: 'line', value: '3' }],
}

const context = (e: ClientEvent) => eventContext(e).context

describe('event contexts: MQTT 5 as EMQX exposes it', () => {
  it('pub_props of message.publish carries EMQX\'s property names, User-Property and User-Property-Pairs', () => {
    const m: PublishedMessage = { ...who, topic: 't/1', payload: Buffer.from('{}'), qos: 1, retain: false, dup: false, receivedAt: 1, properties: v5Properties }
    assert.deepEqual(publishContext(m).pub_props, v5PubProps)
  })

  it('a message without properties (MQTT 3.1.1) has only an empty User-Property, as in EMQX', () => {
    const m: PublishedMessage = { ...who, topic: 't/1', payload: Buffer.from('{}'), qos: 0, retain: false, dup: false, receivedAt: 1 }
    assert.deepEqual(publishContext(m).pub_props, { 'User-Property': {} })
    assert.deepEqual(emqxProps({}), { 'User-Property': {} })
    assert.deepEqual(emqxProps({ userProperties: {} }), { 'User-Property': {} }, 'no pairs without user properties')
  })

  it('message events carry the message\'s pub_props; message_acked its puback_props', () => {
    const delivered = context({ kind: 'message_delivered', ...who, ...carried, properties: v5Properties })
    assert.deepEqual(delivered.pub_props, v5PubProps)
    assert.equal('puback_props' in delivered, false)
    const acked = context({ kind: 'message_acked', ...who, ...carried, properties: v5Properties, pubackProperties: { reasonString: 'OK', userProperties: { k: 'v' } } })
    assert.deepEqual(acked.pub_props, v5PubProps)
    assert.deepEqual(acked.puback_props, { 'Reason-String': 'OK', 'User-Property': { k: 'v' }, 'User-Property-Pairs': [{ key: 'k', value: 'v' }] })
    assert.deepEqual(context({ kind: 'message_acked', ...who, ...carried }).puback_props, { 'User-Property': {} })
    const dropped = context({ kind: 'message_dropped', ...who, reason: 'no_subscribers', receivedAt: 5, topic: 't', qos: 0, payload: Buffer.from(''), retain: false, dup: false, properties: { contentType: 'x' } })
    assert.deepEqual(dropped.pub_props, { 'User-Property': {}, 'Content-Type': 'x' })
  })

  it('delivery_dropped says EMQX\'s reason for each kind of loss', () => {
    for (const reason of ['queue_full', 'expired', 'no_local', 'qos0_msg'] as const) {
      const c = context({ kind: 'delivery_dropped', ...who, ...carried, reason, receivedAt: 7, properties: { messageExpiryInterval: 5 } })
      assert.equal(c.reason, reason)
      assert.deepEqual(c.pub_props, { 'User-Property': {}, 'Message-Expiry-Interval': 5 })
      assert.equal(c.publish_received_at, 7)
    }
  })

  it('client_connack: the reason code EMQX names, the session expiry and the CONNECT properties', () => {
    const accepted = context({
      kind: 'client_connack', ...session, expiryInterval: 7200,
      connectProperties: { sessionExpiryInterval: 7200, receiveMaximum: 32, requestProblemInformation: true, authenticationMethod: 'SCRAM-SHA-1', authenticationData: Buffer.from('secret') },
    })
    assert.equal(accepted.reason_code, 'success', 'a connack without a reason code is a success')
    assert.equal(accepted.expiry_interval, 7200)
    // Authentication data may be a credential: never shown to rules.
    assert.deepEqual(accepted.conn_props, { 'User-Property': {}, 'Session-Expiry-Interval': 7200, 'Receive-Maximum': 32, 'Request-Problem-Information': 1, 'Authentication-Method': 'SCRAM-SHA-1' })
    for (const reasonCode of ['bad_username_or_password', 'not_authorized', 'banned', 'server_busy', 'client_identifier_not_valid']) {
      assert.equal(context({ kind: 'client_connack', ...session, reasonCode }).reason_code, reasonCode)
    }
  })

  it('conn_props falls back to the session expiry when the broker passes no CONNECT properties; 3.1.1 has none', () => {
    assert.deepEqual(context({ kind: 'client_connected', ...session, expiryInterval: 300 }).conn_props, { 'User-Property': {}, 'Session-Expiry-Interval': 300 })
    assert.deepEqual(context({ kind: 'client_connected', ...session, expiryInterval: 0 }).conn_props, { 'User-Property': {} })
    const v3 = context({ kind: 'client_connected', ...session, protoVer: 4, expiryInterval: 300 })
    assert.deepEqual(v3.conn_props, { 'User-Property': {} })
    assert.equal(v3.expiry_interval, 300)
    assert.equal(context({ kind: 'client_ping', ...session }).expiry_interval, 0)
  })

  it('client_check_authn_complete: reason_code, is_superuser, is_anonymous', () => {
    assert.deepEqual(pick(context({ kind: 'client_check_authn_complete', ...who, anonymous: false, superuser: true, reasonCode: 'success' })), { reason_code: 'success', is_superuser: true, is_anonymous: false })
    assert.deepEqual(pick(context({ kind: 'client_check_authn_complete', ...who, anonymous: false, reasonCode: 'bad_username_or_password' })), { reason_code: 'bad_username_or_password', is_superuser: false, is_anonymous: false })
    assert.deepEqual(pick(context({ kind: 'client_check_authn_complete', ...who, anonymous: true })), { reason_code: 'success', is_superuser: false, is_anonymous: true })
  })

  it('client_check_authz_complete: authz_source from the broker, default when it says none', () => {
    const base = { kind: 'client_check_authz_complete', ...who, action: 'publish', topic: 't', result: 'deny' } as const
    assert.equal(context({ ...base, source: 'cache' }).authz_source, 'cache')
    assert.equal(context({ ...base, source: 'file' }).authz_source, 'file')
    assert.equal(context(base).authz_source, 'default')
  })

  it('client_disconnected: EMQX\'s reason and the DISCONNECT properties', () => {
    for (const reason of ['normal', 'kicked', 'keepalive_timeout', 'takenover', 'discarded', 'sock_closed', 'not_authorized']) {
      assert.equal(context({ kind: 'client_disconnected', ...session, reason }).reason, reason)
    }
    const c = context({ kind: 'client_disconnected', ...session, reason: 'normal', disconnectProperties: { sessionExpiryInterval: 0, reasonString: 'bye' } })
    assert.deepEqual(c.disconn_props, { 'User-Property': {}, 'Session-Expiry-Interval': 0, 'Reason-String': 'bye' })
    assert.equal(context({ kind: 'client_disconnected', ...session }).reason, 'normal', 'a broker that gives no reason')
  })

  it('rule SQL reads the fields as EMQX documents them, through the engine', () => {
    const outputs: Array<Record<string, unknown>> = []
    const engine = new RuleEngine()
    const install = (id: string, sql: string) => engine.install({ id, sql: compileRuleSql(sql), metrics: new RuleMetrics(), actions: [{ enqueue: (o) => outputs.push(o) }] })
    install('props', `SELECT pub_props.'User-Property'.site AS site, pub_props.'Content-Type' AS ct, pub_props.'User-Property-Pairs' AS pairs,
      pub_props.'Message-Expiry-Interval' AS ttl FROM "t/#" WHERE pub_props.'Payload-Format-Indicator' = 1`)
    install('connack', `SELECT reason_code, conn_props.'Session-Expiry-Interval' AS sei FROM "$events/client_connack" WHERE reason_code != 'success'`)
    install('gone', `SELECT reason FROM "$events/client_disconnected" WHERE reason = 'keepalive_timeout'`)
    engine.published({ ...who, topic: 't/1', payload: Buffer.from('{}'), qos: 1, retain: false, dup: false, receivedAt: 1, properties: v5Properties })
    engine.published({ ...who, topic: 't/2', payload: Buffer.from('{}'), qos: 1, retain: false, dup: false, receivedAt: 1 })
    engine.clientEvent({ kind: 'client_connack', ...session, reasonCode: 'not_authorized', connectProperties: { sessionExpiryInterval: 60 } })
    engine.clientEvent({ kind: 'client_connack', ...session })
    engine.clientEvent({ kind: 'client_disconnected', ...session, reason: 'keepalive_timeout' })
    engine.clientEvent({ kind: 'client_disconnected', ...session, reason: 'normal' })
    assert.deepEqual(outputs, [
      { site: 'b', ct: 'application/json', pairs: v5PubProps['User-Property-Pairs'], ttl: 60 },
      { reason_code: 'not_authorized', sei: 60 },
      { reason: 'keepalive_timeout' },
    ])
  })
})

function pick(c: Record<string, unknown>) {
  return { reason_code: c.reason_code, is_superuser: c.is_superuser, is_anonymous: c.is_anonymous }
}
