// Each connector type's README documents its schema: every config and params field has a row with
// its default, and no row names a field the schema does not have. The schema is the truth; the
// README is checked against it, so the two cannot drift apart.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import type { TSchema } from '@sinclair/typebox'
import { withResourceOptions } from '../../src/connector-api/index.js'
import { builtinConnectors } from '../../src/connectors/index.js'

const root = new URL('../..', import.meta.url).pathname

/** `field` -> default as the README writes it, for an object schema, nested objects as `a.b`. */
function fields(schema: TSchema, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>()
  for (const [name, s] of Object.entries((schema.properties ?? {}) as Record<string, TSchema>)) {
    const path = `${prefix}${name}`
    const nested = s.type === 'object' && s.properties && Object.keys(s.properties).length > 0
    if (nested) for (const [k, v] of fields(s, `${path}.`)) out.set(k, v)
    else out.set(path, s.default)
  }
  return out
}

/** Rows of the table under the heading that starts with `heading`: first cell (unquoted) -> second cell. */
function table(readme: string, heading: string): Map<string, string> {
  const section = readme.split(/^## /m).find((s) => s.startsWith(heading))
  assert.ok(section, `a "## ${heading}" section`)
  const rows = new Map<string, string>()
  for (const m of section.matchAll(/^\| `([^`]+)` \| ([^|]*) \|/gm)) rows.set(m[1]!, m[2]!.trim())
  return rows
}

describe('connector READMEs follow their schemas', () => {
  for (const d of builtinConnectors) {
    it(`${d.type}: Settings and Rule action settings tables match configSchema and paramsSchema`, () => {
      const readme = readFileSync(`${root}src/connectors/${d.type}/README.md`, 'utf8')
      for (const [heading, schema] of [['Settings (`config`)', withResourceOptions(d).configSchema], ['Rule action settings (`params`)', d.paramsSchema]] as const) {
        const documented = table(readme, heading)
        const actual = fields(schema)
        // An object may be documented by one row of its own (`mqtt_properties`) instead of a row per member.
        const rowFor = (k: string) => k.split('.').map((_, i, parts) => parts.slice(0, i + 1).join('.')).find((p) => documented.has(p))
        assert.deepEqual([...actual.keys()].filter((k) => !rowFor(k)), [], `${heading}: fields without a row`)
        assert.deepEqual([...documented.keys()].filter((r) => !actual.has(r) && ![...actual.keys()].some((k) => k.startsWith(`${r}.`))), [], `${heading}: rows for no field`)
        for (const [k, def] of actual) {
          if (def === undefined || typeof def === 'object' || !documented.has(k)) continue
          assert.ok(documented.get(k)!.includes(`\`${String(def)}\``), `${heading}: ${k} shows its default \`${String(def)}\` (row says ${documented.get(k)})`)
        }
      }
    })
  }
})
