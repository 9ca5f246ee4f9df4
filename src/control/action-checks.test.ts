// checkActions' own logic with fake connections (the real resources are in
// test/e2e/action-checks.test.ts): what refuses a save, what only warns, the time bound, and a
// connector still connecting being waited for.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConnectorError, type Connector } from '../connector-api/index.js'
import { ApiError } from '../core/errors.js'
import type { ConnectorStatusView, ManagedConnector } from '../runtime/managed-connector.js'
import { checkActions } from './action-checks.js'

type Check = NonNullable<Connector['checkAction']>

/** A fake connection manager and, apart, the way to make it connect (ManagedConnector has a private `connect`). */
function managed(status: ConnectorStatusView['status'], check?: Check): ManagedConnector {
  return fake(status, check).managed
}

function fake(status: ConnectorStatusView['status'], check?: Check): { managed: ManagedConnector; connect(): void } {
  const listeners = new Set<(v: ConnectorStatusView) => void>()
  let view: ConnectorStatusView = { status, statusReason: status === 'connected' ? null : 'Connection refused', statusCode: status === 'disconnected' ? 'CONNECTION_REFUSED' : null, statusSince: '', lastConnectedAt: null }
  const connection = { ...(check ? { checkAction: check } : {}) } as unknown as Connector
  const m = {
    get status() { return view },
    get connection() { return view.status === 'connected' ? connection : undefined },
    subscribe(l: (v: ConnectorStatusView) => void) { listeners.add(l); return () => listeners.delete(l) },
  } as unknown as ManagedConnector
  return {
    managed: m,
    connect() {
      view = { ...view, status: 'connected', statusReason: null }
      for (const l of listeners) l(view)
    },
  }
}

const runtimeOf = (connectors: Record<string, ManagedConnector>) => ({ connector: (id: string) => connectors[id] })
const action = (connectorId: string, fallback?: string) => ({ connectorId, params: {}, ...(fallback ? { fallback: { connectorId: fallback, params: {} } } : {}) })
const refuse = (code: 'INVALID_STATEMENT' | 'TOPIC_NOT_FOUND', param: string): Check => async () => {
  throw new ConnectorError(code, `refused by ${code}`, { kind: 'permanent', hint: 'fix it', param })
}

describe('checkActions', () => {
  it('permanent refusals of actions and fallbacks are one ACTION_CHECK_FAILED, in path order, with codes', async () => {
    const rt = runtimeOf({ ok: managed('connected', async () => {}), sql: managed('connected', refuse('INVALID_STATEMENT', 'sql')), topic: managed('connected', refuse('TOPIC_NOT_FOUND', 'topic')) })
    await assert.rejects(checkActions(rt, [action('ok', 'topic'), action('sql')]), (err: unknown) => {
      assert.ok(err instanceof ApiError && err.code === 'ACTION_CHECK_FAILED' && err.status === 400)
      assert.deepEqual(err.fields?.map((f) => [f.path, f.message, f.hint]), [
        ['actions.0.fallback.params.topic', 'refused by TOPIC_NOT_FOUND', 'fix it'],
        ['actions.1.params.sql', 'refused by INVALID_STATEMENT', 'fix it'],
      ])
      assert.deepEqual(err.extra?.checks, [{ path: 'actions.0.fallback.params.topic', code: 'TOPIC_NOT_FOUND' }, { path: 'actions.1.params.sql', code: 'INVALID_STATEMENT' }])
      return true
    })
  })

  it('not connected, a failure that is not permanent, a check past its bound: saved with warnings; notes become warnings on their param', async () => {
    const rt = runtimeOf({
      down: managed('disconnected', async () => assert.fail('not called while disconnected')),
      flaky: managed('connected', async () => { throw new ConnectorError('CONNECTION_LOST', 'socket closed', { kind: 'not_connected' }) }),
      hung: managed('connected', () => new Promise(() => {})),
      noted: managed('connected', async () => [{ param: 'topic', message: 'will be created' }]),
      unchecked: managed('connected'),
    })
    const t0 = Date.now()
    const warnings = await checkActions(rt, [action('down'), action('flaky'), action('hung'), action('noted'), action('unchecked'), { builtin: 'republish', params: {} }], 200)
    assert.ok(Date.now() - t0 < 5_000, 'the hung check is given up at its bound')
    assert.deepEqual(warnings.map((w) => [w.path, w.code]), [['actions.0', 'CONNECTION_REFUSED'], ['actions.1', 'CONNECTION_LOST'], ['actions.2', 'TIMEOUT'], ['actions.3.params.topic', undefined]])
    assert.match(warnings[0]!.message, /Not checked.*"down" is disconnected: Connection refused/)
    assert.match(warnings[2]!.message, /no answer within 200 ms/)
    assert.equal(warnings[3]!.message, 'will be created')
  })

  it('a connector making its first connection is waited for, then checked', async () => {
    let checked = 0
    const f = fake('connecting', async () => { checked++ })
    setTimeout(() => f.connect(), 50)
    assert.deepEqual(await checkActions(runtimeOf({ c: f.managed }), [action('c')]), [])
    assert.equal(checked, 1)
  })
})
