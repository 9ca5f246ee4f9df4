/**
 * The shared battery every connector type passes against its real server. A type's own test file
 * calls `connectorBattery(...)` and then adds its specific failure cases.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { describe, it } from 'node:test'
import type { ConnectorDefinition, ConnectorContext } from '../../src/connector-api/index.js'
import { ConnectorError } from '../../src/connector-api/index.js'
import { validateWithSchema } from '../../src/core/schema-validation.js'

export interface BatteryOptions {
  definition: ConnectorDefinition
  /** A config (before defaults) that reaches the real server. */
  goodConfig: () => Record<string, unknown>
  /** The same config pointed at another host/port: (host, port) -> config. */
  withAddress: (host: string, port: number) => Record<string, unknown>
}

export const testContext = (id = 'battery'): ConnectorContext => ({
  connectorId: id,
  logger: { debug() {}, info() {}, warn() {}, error() {} },
})

/** Fills defaults the way the API does; fails the test on an invalid config. */
export function withDefaults(definition: ConnectorDefinition, config: Record<string, unknown>): Record<string, unknown> {
  const r = validateWithSchema<Record<string, unknown>>(definition.configSchema, config, 'config')
  if (!r.ok) assert.fail(`invalid test config: ${JSON.stringify(r.errors)}`)
  return r.value
}

/** A loopback port with nothing listening on it (bound, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

const signal = (ms = 15_000) => AbortSignal.timeout(ms)

export function connectorBattery(o: BatteryOptions): void {
  const make = (config: Record<string, unknown>) => o.definition.create(withDefaults(o.definition, config), testContext())

  describe(`connector battery: ${o.definition.type}`, () => {
    it('has a definition with a title, summary, and schemas whose defaults validate', () => {
      assert.match(o.definition.type, /^[a-z][a-z0-9_-]*$/)
      assert.ok(o.definition.title.length > 0)
      assert.ok(o.definition.summary.length > 0)
      assert.equal(o.definition.configSchema.type, 'object')
      assert.equal(o.definition.paramsSchema.type, 'object')
      const filled = withDefaults(o.definition, o.goodConfig())
      assert.ok(Object.keys(filled).length > Object.keys(o.goodConfig()).length, 'defaults are filled in')
    })

    it('probe succeeds against the real server, with every step ok', async () => {
      const r = await make(o.goodConfig()).probe(signal())
      assert.equal(r.ok, true, JSON.stringify(r))
      assert.ok(r.ok && r.latencyMs > 0)
      assert.ok(r.steps.length >= 2)
      assert.ok(r.steps.every((s) => s.ok))
      assert.deepEqual(r.steps.slice(0, 2).map((s) => s.name), ['resolve', 'connect'])
    })

    it('probe reports UNKNOWN_HOST at the resolve step', async () => {
      const r = await make(o.withAddress('no-such-host.invalid', 1234)).probe(signal())
      assert.equal(r.ok, false)
      assert.ok(!r.ok && r.error.code === 'UNKNOWN_HOST', JSON.stringify(r))
      assert.ok(!r.ok && r.error.hint.length > 0)
      assert.deepEqual(r.steps.map((s) => [s.name, s.ok]), [['resolve', false]])
    })

    it('probe reports CONNECTION_REFUSED at the connect step', async () => {
      const r = await make(o.withAddress('127.0.0.1', await freePort())).probe(signal())
      assert.ok(!r.ok && r.error.code === 'CONNECTION_REFUSED', JSON.stringify(r))
      assert.deepEqual(r.steps.map((s) => [s.name, s.ok]), [['resolve', true], ['connect', false]])
    })

    it('start, health connected, stop (twice)', async () => {
      const c = make(o.goodConfig())
      await c.start(signal())
      try {
        assert.deepEqual(await c.health(signal()), { status: 'connected' })
      } finally {
        await c.stop()
        await c.stop()
      }
    })

    it('start against a refused port throws a ConnectorError with a code', async () => {
      const c = make(o.withAddress('127.0.0.1', await freePort()))
      try {
        await assert.rejects(c.start(signal()), (err: unknown) => {
          assert.ok(err instanceof ConnectorError, String(err))
          assert.equal(err.code, 'CONNECTION_REFUSED')
          return true
        })
      } finally {
        await c.stop()
      }
    })

    it('probe honours an aborted signal and still answers', async () => {
      const ac = new AbortController()
      ac.abort()
      const r = await make(o.goodConfig()).probe(ac.signal)
      assert.equal(r.ok, false)
    })
  })
}
