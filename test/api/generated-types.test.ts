// src/core/api-types.ts (the console's and the CLI's API types) is what the OpenAPI document says
// today: regenerate it with `npm run generate:api-types` after changing a route schema.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { openApiToTypeScript } from '../../src/api/openapi-typescript.js'
import { currentApiTypes, GENERATED_TYPES } from '../../scripts/generate-api-types.js'

describe('generated API types', () => {
  it('src/core/api-types.ts is up to date with the OpenAPI document', async () => {
    assert.ok(readFileSync(GENERATED_TYPES, 'utf8') === await currentApiTypes(), `${GENERATED_TYPES} is out of date: run \`npm run generate:api-types\``)
  })

  it('renders the shapes the document uses', () => {
    const ts = openApiToTypeScript({
      paths: { '/api/v1/things/{id}': { put: { summary: 'Edit', parameters: [{ in: 'path', name: 'id', schema: { type: 'string' } }], requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { n: { type: 'integer', nullable: true }, tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] } } }, required: ['n'], additionalProperties: false } } } }, responses: { 200: { content: { 'application/json': { schema: { $ref: '#/components/schemas/def-0' } } } } } } } },
      components: { schemas: { 'def-0': { title: 'Thing', type: 'object', properties: { 'odd-key': { anyOf: [{ type: 'string' }, { type: 'boolean' }] }, open: { type: 'object', additionalProperties: {} } } } } },
    })
    assert.match(ts, /export type Thing = \{\n  "odd-key"\?: \(string \| boolean\)\n  open\?: \{\n    \[key: string\]: unknown\n  \}\n\}/)
    assert.match(ts, /export interface PutThingsIdParams \{\n  id: string\n\}/)
    assert.match(ts, /export type PutThingsIdBody = \{\n  n: number \| null\n  tags\?: Array<"a" \| "b">\n\}/)
    assert.match(ts, /export type PutThingsIdResponse = Thing/)
  })
})
