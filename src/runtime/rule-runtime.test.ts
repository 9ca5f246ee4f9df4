// Rule runtime bookkeeping with an in-memory host (pure logic).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Type } from '@sinclair/typebox'
import type { ConnectorDefinition } from '../connector-api/index.js'
import { RuleEngine } from '../rules/rule-engine.js'
import { compileRuleSql } from '../rules/sql/index.js'
import { DEFAULT_ACTION_OPTIONS } from './action-worker.js'
import { RuleRuntime, type RuleSpec } from './rule-runtime.js'

const quiet = { debug() {}, info() {}, warn() {}, error() {} }
const definition = { type: 'x', title: 'x', summary: 'x', configSchema: Type.Object({}), paramsSchema: Type.Object({}), create: () => { throw new Error('unused') } } as ConnectorDefinition

describe('RuleRuntime', () => {
  it('lets replaced and deleted rules go of their connector once their queues are empty', async () => {
    let listeners = 0
    const runtime = new RuleRuntime(new RuleEngine(), {
      connector: () => undefined,
      onConnectorStatus: () => { listeners++; return () => { listeners-- } },
      broker: () => undefined,
      bufferDir: () => '/nonexistent',
    }, quiet)
    const spec = (): RuleSpec => ({
      id: 'r-1', sql: compileRuleSql('SELECT * FROM "t/#"'),
      actions: [{ target: { kind: 'connector', connectorId: 'c-1', definition, params: {} }, options: DEFAULT_ACTION_OPTIONS }],
    })
    runtime.install(spec())
    assert.equal(listeners, 1)
    for (let i = 0; i < 5; i++) runtime.install(spec())
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(listeners, 1, 'replaced versions unsubscribed')
    runtime.uninstall('r-1')
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(listeners, 0, 'deleted rule unsubscribed')
    assert.equal(runtime.metrics('r-1'), undefined)
  })
})
