// docs/errors.md lists exactly the API's error codes (the connector codes: src/connector-api/error-codes-docs.test.ts).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { API_ERRORS } from './errors.js'

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
const section = (title: string) => doc.split(`## ${title}`)[1]?.split('\n## ')[0] ?? ''
const rows = (text: string) => [...text.matchAll(/^\| `([A-Z_]+)` \|(?: (\d{3}) \|)?/gm)].map((m) => ({ code: m[1]!, status: m[2] }))

describe('docs/errors.md', () => {
  it('lists every API error code with its HTTP status, and no other', () => {
    const documented = rows(section('API error codes'))
    assert.deepEqual(documented.map((r) => r.code).sort(), Object.keys(API_ERRORS).sort())
    for (const r of documented) assert.equal(Number(r.status), API_ERRORS[r.code as keyof typeof API_ERRORS].status, r.code)
  })

})
