// The OpenAPI document describes what clients send and get: no open object (`type: object` with no
// properties and additionalProperties not false, or a schema that allows anything) outside the
// allow-list below, and real answers match the shapes it gives for rule actions and metrics.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Ajv } from 'ajv'
import { RuleActionShape, RuleMetricsShape } from '../../src/api/openapi-shapes.js'
import { device, randomName } from '../e2e/support.js'
import { eventually, startJunction, type TestJunction } from '../support/junction.js'

/** Open on purpose, each with its reason (a JSON pointer into the document, as a pattern). */
const ALLOWED_OPEN: Array<[RegExp, string]> = [
  [/\/properties\/config(\/additionalProperties)?$/, "a connector's config: per type, its configSchema at GET /api/v1/connector-types"],
  [/\/properties\/(configSchema|paramsSchema|optionsSchema|fallbackOptionsSchema)(\/additionalProperties)?$/, 'a JSON Schema itself'],
  [/\/properties\/params$/, "an action's params: per type, its paramsSchema at GET /api/v1/connector-types (or the built-in action's)"],
  [/\/rules\/test\/post\/requestBody\/.*\/properties\/context(\/additionalProperties|\/default)?$/, 'a sample event: any fields of an MQTT event (docs/rules.md); payload is any JSON'],
  [/\/rules\/test\/post\/responses\/200\/.*\/properties\/(output|outputs\/items)(\/additionalProperties)?$/, "the rule's output: whatever its SELECT makes"],
  [/\/rules\/test-action\/post\/requestBody\/.*\/properties\/output(\/additionalProperties)?$/, 'a rule output: whatever a SELECT makes'],
  [/\/failed-messages\/\{messageId\}\/get\/responses\/200\/.*\/properties\/message$/, 'the rule output that failed: whatever the SELECT made'],
  [/\/api\/v1\/export\/get\/responses\/200\/content\/application\/json\/schema$/, 'the export document, JSON or YAML text (format=yaml); its versioned shape is in docs/export-import.md'],
  [/\/properties\/changes\/items\/properties\/(from|to)$/, "an import plan's field value before and after: any JSON the field holds"],
  [/\/properties\/diff\/items\/properties\/(before|after)$/, "an audit entry's field value before and after the change (secrets masked): any JSON the field holds"],
]

const SCHEMA_KEYS = ['type', '$ref', 'anyOf', 'oneOf', 'allOf', 'enum', 'const', 'not']

/** JSON pointers of open schemas in `doc`, walked without recursion. */
function openSchemas(doc: unknown): string[] {
  const found: string[] = []
  const stack: Array<[unknown, string, boolean]> = [[doc, '', false]]
  while (stack.length > 0) {
    const [node, pointer, isSchema] = stack.pop()!
    if (node === null || typeof node !== 'object') continue
    const n = node as Record<string, unknown>
    if (isSchema && !Array.isArray(node)) {
      const noProperties = n.properties === undefined || Object.keys(n.properties as object).length === 0
      const additional = n.additionalProperties
      const additionalIsShaped = typeof additional === 'object' && additional !== null && SCHEMA_KEYS.some((k) => k in additional)
      if (n.type === 'object' && noProperties && additional !== false && !additionalIsShaped) found.push(pointer)
      else if (!SCHEMA_KEYS.some((k) => k in n)) found.push(pointer)
    }
    for (const [k, v] of Object.entries(n)) {
      if (isSchema && ['default', 'example', 'examples', 'enum', 'const'].includes(k)) continue
      // Schemas: a `schema`, a component, and a schema's properties, items, branches and additionalProperties.
      const inMap = isSchema && k === 'properties'
      const inList = isSchema && ['anyOf', 'oneOf', 'allOf'].includes(k)
      const childIsSchema = k === 'schema' || pointer === '/components/schemas' || (isSchema && ['items', 'additionalProperties', 'not'].includes(k))
      if (inMap || inList) {
        for (const [name, child] of Object.entries(v as object)) stack.push([child, `${pointer}/${k}/${name}`, true])
        continue
      }
      stack.push([v, `${pointer}/${k}`, childIsSchema])
    }
  }
  return found.sort()
}

describe('OpenAPI document: shapes', () => {
  let j: TestJunction
  let doc: any
  before(async () => {
    j = await startJunction()
    doc = (await j.api('GET', '/api/v1/openapi.json')).body
  })
  after(async () => { await j?.close() })

  it('the walker finds open objects (it is not blind)', () => {
    const probe = { components: { schemas: { A: { type: 'object', properties: { x: { type: 'object', additionalProperties: {} }, y: { description: 'anything' }, z: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false } } } } } }
    assert.deepEqual(openSchemas(probe), ['/components/schemas/A/properties/x', '/components/schemas/A/properties/x/additionalProperties', '/components/schemas/A/properties/y'])
  })

  it('has no open object outside the allow-list', () => {
    const all = openSchemas(doc)
    for (const [re, why] of ALLOWED_OPEN) assert.ok(all.some((p) => re.test(p)), `the allow-list entry ${re} (${why}) is still needed`)
    const open = all.filter((p) => !ALLOWED_OPEN.some(([re]) => re.test(p)))
    assert.deepEqual(open, [], 'describe these (or add them to ALLOWED_OPEN with the reason)')
  })

  it('documents rule actions with options and fallback, and rule metrics', () => {
    const body = doc.paths['/api/v1/deployments/{dep}/rules'].post.requestBody.content['application/json'].schema
    const action = body.properties.actions.items
    assert.equal(action.additionalProperties, false)
    for (const k of ['batchSize', 'batchTimeMs', 'inflightWindow', 'requestTtlMs', 'maxBufferBytes', 'diskBuffer', 'acknowledge', 'keepFailed']) {
      assert.ok(action.properties.options.properties[k]?.description, `options.${k} is documented`)
    }
    assert.equal(action.properties.fallback.additionalProperties, false)
    const rule = Object.values(doc.components.schemas as Record<string, any>).find((s) => s.title === 'Rule' || (s.properties?.metrics && s.properties?.sql))
    assert.ok(rule, 'the Rule schema')
    assert.ok(rule.properties.metrics.properties.actions.items.properties.health.properties.state)
    assert.equal(rule.properties.metrics.nullable, true)
  })

  it("a running rule's actions and metrics match the documented shapes exactly", async () => {
    const topic = randomName('shape')
    const created = await j.api('POST', '/api/v1/deployments/default/rules', {
      name: topic, sql: `SELECT payload.n AS n FROM "${topic}/#"`,
      actions: [{
        builtin: 'republish', params: { topic: `${topic}-out` },
        options: { batchSize: 10, requestTtlMs: 5000, keepFailed: true },
        fallback: { builtin: 'republish', params: { topic: `${topic}-fallback` }, options: { inflightWindow: 4 } },
      }],
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const d = await device(j)
    for (let n = 0; n < 3; n++) await d.publishAsync(`${topic}/a`, JSON.stringify({ n }), { qos: 1 })
    await d.endAsync()
    const rule = await eventually(() => j.api('GET', `/api/v1/deployments/default/rules/${created.body.id}`), (r) => r.body.metrics?.actions[0]?.success === 3, 'three delivered')
    // Strict: an undocumented field fails here rather than reaching clients undescribed.
    const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true })
    const metricsOk = ajv.validate(RuleMetricsShape, rule.body.metrics)
    assert.ok(metricsOk, `metrics: ${ajv.errorsText(ajv.errors)}\n${JSON.stringify(rule.body.metrics)}`)
    assert.ok(rule.body.metrics.actions[0].fallback, 'the fallback has metrics')
    assert.ok(rule.body.metrics.actions[0].failedMessages, 'keepFailed has stats')
    for (const a of rule.body.actions) assert.ok(ajv.validate(RuleActionShape, a), `action: ${ajv.errorsText(ajv.errors)}`)
    assert.equal(rule.body.actions[0].options.batchSize, 10)
    assert.equal(rule.body.actions[0].fallback.options.inflightWindow, 4)
  })
})
