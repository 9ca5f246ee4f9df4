// docs/errors.md documents exactly the connector error codes of the table, each with its kind.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { connectorErrorCodes, type ConnectorErrorCode } from './error-codes.js'

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
const section = (title: string) => doc.split(`## ${title}`)[1]?.split('\n## ')[0] ?? ''
const rows = (text: string) => [...text.matchAll(/^\| `([A-Z_]+)` \|(?: (permanent|retryable) \|)?/gm)].map((m) => ({ code: m[1]!, kind: m[2] }))
const codes = Object.keys(connectorErrorCodes) as ConnectorErrorCode[]

describe('docs/errors.md and the connector error code table', () => {
  it('lists every connection code, and no other', () => {
    assert.deepEqual(
      rows(section('Connection error codes')).map((r) => r.code).sort(),
      codes.filter((c) => connectorErrorCodes[c] === 'connection').sort(),
    )
  })

  it('lists every delivery code with the kind of the table, and no other', () => {
    const documented = rows(section('Delivery error codes'))
    assert.deepEqual(documented.map((r) => r.code).sort(), codes.filter((c) => connectorErrorCodes[c] !== 'connection').sort())
    for (const r of documented) assert.equal(r.kind, connectorErrorCodes[r.code as ConnectorErrorCode], r.code)
  })
})
