import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Type } from '@sinclair/typebox'
import { port, resourceOptionsSchema, tlsSchema } from '../connector-api/index.js'
import { validateWithSchema } from './schema-validation.js'

const schema = Type.Object({
  host: Type.String({ minLength: 1 }),
  port: port({ default: 5432 }),
  mode: Type.Union([Type.Literal('a'), Type.Literal('b')], { default: 'a' }),
  tls: tlsSchema,
  resource: resourceOptionsSchema,
}, { additionalProperties: false })

describe('validateWithSchema', () => {
  it('fills every default, nested groups included, on a copy', () => {
    const input = { host: 'db' }
    const r = validateWithSchema<Record<string, unknown>>(schema, input)
    assert.ok(r.ok)
    assert.deepEqual(r.value, { host: 'db', port: 5432, mode: 'a', tls: { enable: false, verify: true }, resource: { healthCheckIntervalMs: 15000, startTimeoutMs: 5000 } })
    assert.deepEqual(input, { host: 'db' })
  })

  it('reports every failing field with its path and a hint', () => {
    const r = validateWithSchema(schema, { port: 70000, hots: 'x', tls: { enable: 'yes' } }, 'config')
    assert.ok(!r.ok)
    const byPath = Object.fromEntries(r.errors.map((e) => [e.path, e]))
    assert.deepEqual(Object.keys(byPath).sort(), ['config.host', 'config.hots', 'config.port', 'config.tls.enable'])
    assert.equal(byPath['config.host']?.message, 'host is required')
    assert.match(byPath['config.hots']?.hint ?? '', /host, port, mode, tls, resource/)
    assert.match(byPath['config.port']?.hint ?? '', /from 1 to 65535/)
    assert.equal(byPath['config.tls.enable']?.message, 'must be a boolean')
  })

  it('lists the allowed values for an enum', () => {
    const r = validateWithSchema(schema, { host: 'h', mode: 'c' })
    assert.ok(!r.ok)
    assert.ok(r.errors.some((e) => e.path === 'mode' && /"a", "b"/.test(e.hint)), JSON.stringify(r.errors))
  })
})
