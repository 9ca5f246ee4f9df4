/**
 * A connector type checked from outside, the way a user and their tools see it: the type is found
 * in GET /api/v1/connector-types and its form filled from the served schema; Test answers a code
 * naming a refused port (and wrong credentials); the connector is created, a rule sends through
 * it, 500 QoS 1 messages are published by a real device, and every one is read back from the
 * server exactly once, a missing value absent (never the string "undefined").
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { device } from '../e2e/support.js'
import { eventually, startJunction, type TestJunction } from './junction.js'
import { freePort, type Destination } from './connector-battery.js'

type Config = Record<string, unknown>

export interface FlowFixture {
  readonly type: string
  /** The config as a person fills in the form: every top-level key must be a field of the served schema. */
  config(): Config
  /** The same config pointed at 127.0.0.1:`port`. */
  withPort(port: number): Config
  /** A config with credentials the server refuses. */
  wrongCredentials?(): Config | Promise<Config>
  /** Where the rule's action writes (params with `${id}`, `${temp}`, `${note}` templates) and how to read it back. */
  destination(): Promise<Destination>
}

const MESSAGES = 500
const connectors = '/api/v1/deployments/default/connectors'
const rules = '/api/v1/deployments/default/rules'

export function connectorFlowThroughApi(f: FlowFixture): void {
  describe(`${f.type} through Junction's API and broker`, () => {
    let j: TestJunction
    let dest: Destination
    before(async () => {
      j = await startJunction()
      dest = await f.destination()
    })
    after(async () => {
      await j?.close()
      await dest?.close?.()
    })

    it('is served with a schema whose fields the form fills', async () => {
      const types = await j.api('GET', '/api/v1/connector-types')
      assert.equal(types.status, 200)
      const served = types.body.data.find((t: { type: string }) => t.type === f.type)
      assert.ok(served, `${f.type} is listed`)
      for (const field of Object.keys(f.config())) assert.ok(field in served.configSchema.properties, `the form has a "${field}" field`)
      assert.ok(served.configSchema.properties.resource, 'resource options are part of every type')
    })

    it('Test names a refused port and wrong credentials, and passes with the right config', async () => {
      const refused = await j.api('POST', `${connectors}/test`, { type: f.type, config: f.withPort(await freePort()) })
      assert.equal(refused.status, 200)
      assert.equal(refused.body.ok, false)
      assert.equal(refused.body.error.code, 'CONNECTION_REFUSED', JSON.stringify(refused.body))
      if (f.wrongCredentials) {
        const wrong = await j.api('POST', `${connectors}/test`, { type: f.type, config: await f.wrongCredentials() })
        assert.equal(wrong.body.ok, false)
        assert.equal(wrong.body.error.code, 'AUTHENTICATION_FAILED', JSON.stringify(wrong.body))
      }
      const good = await j.api('POST', `${connectors}/test`, { type: f.type, config: f.config() })
      assert.equal(good.body.ok, true, JSON.stringify(good.body))
    })

    it(`delivers ${MESSAGES} QoS 1 messages through a rule, each read back exactly once`, async () => {
      const c = await j.api('POST', connectors, { name: `flow-${f.type}`, type: f.type, config: f.config() })
      assert.equal(c.status, 201, JSON.stringify(c.body))
      const details = (await j.api('GET', `${connectors}/${c.body.id}`)).body
      assert.ok(details.config.resource, 'details show every default')
      assert.ok(!JSON.stringify(details).includes('battery-wrong-secret'))
      const rule = await j.api('POST', rules, {
        name: `flow to ${f.type}`,
        sql: 'SELECT payload.id AS id, payload.temp AS temp, payload.note AS note FROM "flow/#"',
        actions: [{ connectorId: c.body.id, params: dest.params }],
      })
      assert.equal(rule.status, 201, JSON.stringify(rule.body))
      await eventually(() => j.api('GET', `${connectors}/${c.body.id}`), (r) => r.body.status === 'connected', 'connected')

      const client = await device(j, `flow-${f.type}`)
      for (let i = 0; i < MESSAGES; i++) {
        const note = i % 10 === 0 ? undefined : `note ${i}`
        await client.publishAsync(`flow/${i % 4}`, JSON.stringify({ id: `m-${i}`, temp: i / 2, note }), { qos: 1 })
      }
      await client.endAsync()

      const rows = await eventually(() => dest.readBack(), (r) => r.length >= MESSAGES, `${MESSAGES} messages at the server`, 60_000)
      const ids = rows.map((r) => String(r.id))
      assert.equal(new Set(ids).size, ids.length, 'no message was written twice')
      assert.equal(ids.length, MESSAGES)
      for (const r of rows) {
        const i = Number(String(r.id).slice(2))
        assert.equal(Number(r.temp), i / 2, `temp of ${String(r.id)}`)
        if (i % 10 === 0) assert.ok(r.note === null || r.note === undefined || r.note === '', `missing note of ${String(r.id)} arrived as ${JSON.stringify(r.note)}`)
        else assert.equal(r.note, `note ${i}`)
      }
      // A row is visible at the server a moment before its batch's answer reaches Junction and counts as a success.
      const metrics = (await eventually(() => j.api('GET', `${rules}/${rule.body.id}`), (r) => r.body.metrics.actions[0].success >= MESSAGES, 'every success counted')).body.metrics.actions[0]
      assert.equal(metrics.success, MESSAGES)
      assert.equal(metrics.failed, 0)
      const listed = (await j.api('GET', connectors)).body.data.find((x: { id: string }) => x.id === c.body.id)
      assert.equal(listed.ruleCount, 1)
      assert.equal(listed.status, 'connected')
    })
  })
}
