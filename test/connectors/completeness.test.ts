// What every built-in connector type comes with: a README, an icon in the console's type grid, a
// test file that runs the battery and the from-outside flow, and a benchmark against its raw client.
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { builtinConnectors } from '../../src/connectors/index.js'

const root = new URL('../..', import.meta.url).pathname
const icons = readFileSync(`${root}console/src/components/TypeIcon.tsx`, 'utf8')

describe('every built-in connector type is complete', () => {
  for (const d of builtinConnectors) {
    it(`${d.type}: README, icon, battery and flow tests, benchmark`, () => {
      assert.ok(existsSync(`${root}src/connectors/${d.type}/README.md`), 'a README in its folder')
      assert.ok(icons.includes(`case '${d.type}':`), 'an icon in console/src/components/TypeIcon.tsx')
      const test = `${root}test/connectors/${d.type}.test.ts`
      assert.ok(existsSync(test), `a test file ${test}`)
      const source = readFileSync(test, 'utf8')
      assert.match(source, /connectorBattery\(/, 'it runs the battery')
      assert.match(source, /connectorFlowThroughApi\(/, 'it runs the from-outside flow')
      assert.ok(existsSync(`${root}bench/${d.type}.ts`) || readFileSync(`${root}bench/data-path.ts`, 'utf8').includes(`'${d.type}'`), 'a benchmark')
    })
  }
})
