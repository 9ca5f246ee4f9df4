// Every error code a connector can raise is documented in docs/errors.md.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'

const root = new URL('../..', import.meta.url).pathname
const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8')

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n)
    if (statSync(p).isDirectory()) return sources(p)
    return n.endsWith('.ts') && !n.endsWith('.test.ts') ? [p] : []
  })
}

describe('docs/errors.md', () => {
  it('documents every code a connector or the runtime raises', () => {
    const used = new Set<string>()
    for (const file of [...sources(join(root, 'src/connectors')), ...sources(join(root, 'src/runtime'))]) {
      for (const m of readFileSync(file, 'utf8').matchAll(/new ConnectorError\(\s*'([A-Z_]+)'/g)) used.add(m[1]!)
    }
    assert.ok(used.size > 10, 'the scan found the codes')
    const missing = [...used].filter((code) => !doc.includes(`| \`${code}\` |`))
    assert.deepEqual(missing, [])
  })
})
