// The console carries copies of two schemas the API validates but does not serve (the republish
// built-in's params and the per-action options); this keeps the copies in step with the server.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ACTION_OPTIONS_SCHEMA, REPUBLISH_PARAMS_SCHEMA } from '../../console/src/pages/rules/builtin-schemas.ts'
import { ActionOptionsSchema } from '../../src/control/rule-service.js'
import { RepublishParamsSchema } from '../../src/runtime/republish.js'

/** What validation depends on: property names, types, enums, defaults, bounds; not the prose. */
function shape(schema: unknown): unknown {
  const s = JSON.parse(JSON.stringify(schema)) as { properties?: Record<string, Record<string, unknown>> }
  return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, p]) => [k, {
    type: p.type, default: p.default, minimum: p.minimum, maximum: p.maximum, minLength: p.minLength,
    consts: (p.anyOf as Array<{ const?: unknown }> | undefined)?.map((b) => b.const),
    pattern: p.pattern, properties: p.properties ? shape(p) : undefined,
  }]))
}

describe('console copies of server schemas', () => {
  it('republish params match', () => {
    assert.deepEqual(shape(REPUBLISH_PARAMS_SCHEMA), shape(RepublishParamsSchema))
  })
  it('action options match', () => {
    assert.deepEqual(shape(ACTION_OPTIONS_SCHEMA), shape(ActionOptionsSchema))
  })
})
