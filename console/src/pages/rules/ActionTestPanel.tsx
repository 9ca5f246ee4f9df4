import { useState } from 'react'
import { ApiError, api } from '../../api/client.ts'
import type { ActionTestResult, RuleAction } from '../../api/types.ts'
import { ErrorAlert } from '../../components/Alert.tsx'
import { Spinner } from '../../components/Spinner.tsx'
import { fieldId } from '../../components/SchemaForm.tsx'

/** Connector types whose Test action can be rolled back (a SQL transaction). */
const ROLLBACK_TYPES = new Set(['postgresql', 'mysql'])

/**
 * "Test action": one sample output through the action as it stands in the form, on the live
 * resource (POST .../rules/test-action), and what the resource answered. The sample starts as the
 * last output of the SQL test panel, or `{}`; for SQL databases the delivery can be rolled back.
 */
export function ActionTestPanel({ dep, path, action, connectorType, sample }: {
  dep: string
  /** The action's field path (`actions.0`), for element IDs. */
  path: string
  /** The action as it would be saved; undefined while no target is chosen. */
  action: RuleAction | undefined
  /** The connector's type, or undefined for a built-in action. */
  connectorType: string | undefined
  /** The SQL test's last output, if any. */
  sample: Record<string, unknown> | undefined
}) {
  const [output, setOutput] = useState<string | null>(null)
  const [rollback, setRollback] = useState(true)
  const [busy, setBusy] = useState(false)
  const [result, setResult] = useState<ActionTestResult | null>(null)
  const [error, setError] = useState<unknown>(null)
  const [outputError, setOutputError] = useState<string | null>(null)
  const canRollBack = connectorType !== undefined && ROLLBACK_TYPES.has(connectorType)
  const text = output ?? JSON.stringify(sample ?? {}, null, 2)
  const outputId = fieldId(`${path}.test.output`)

  const run = async () => {
    if (!action) return
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = undefined
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      setOutputError('Give the sample output as a JSON object, e.g. {"clientid": "c1", "temp": 21.5}.')
      return
    }
    setOutputError(null)
    setBusy(true)
    setResult(null)
    setError(null)
    try {
      setResult(await api.testAction(dep, action, parsed as Record<string, unknown>, canRollBack && rollback))
    } catch (e) {
      setError(e)
    } finally {
      setBusy(false)
    }
  }

  return (
    <details className="action-test">
      <summary>Try this action on its resource</summary>
      <p className="muted small">
        Sends one sample output through this action on the live connection and shows what the resource answered.
        {canRollBack ? ' With roll back, the statement runs in a transaction that is rolled back: no row stays.' : ' The delivery is really made.'}
      </p>
      <div className={`field${outputError ? ' has-error' : ''}`}>
        <label htmlFor={outputId}>Sample output (JSON)</label>
        <textarea
          id={outputId}
          className="mono"
          rows={4}
          value={text}
          onChange={(e) => setOutput(e.target.value)}
          spellCheck={false}
          aria-invalid={outputError ? true : undefined}
          aria-describedby={outputError ? `${outputId}-error` : undefined}
        />
        {outputError && (
          <p id={`${outputId}-error`} className="field-error">
            {outputError}
          </p>
        )}
      </div>
      {canRollBack && (
        <div className="field field-check">
          <div className="check-row">
            <input id={fieldId(`${path}.test.rollback`)} type="checkbox" checked={rollback} onChange={(e) => setRollback(e.target.checked)} />
            <label htmlFor={fieldId(`${path}.test.rollback`)}>Roll back</label>
          </div>
        </div>
      )}
      <button type="button" className="button" onClick={run} disabled={busy || !action}>
        {busy ? (
          <>
            <Spinner /> Testing…
          </>
        ) : (
          'Test action'
        )}
      </button>
      {result && <ActionTestResultView result={result} />}
      <ErrorAlert error={error} title={error instanceof ApiError && error.status === 400 ? 'The action cannot be tested as it is' : 'The test did not run'} />
    </details>
  )
}

function ActionTestResultView({ result }: { result: ActionTestResult }) {
  if (result.ok) {
    return (
      <div role="status" className="probe probe-ok">
        <p className="probe-title">
          Delivered{result.rolledBack ? ' and rolled back' : ''} <span className="probe-latency">in {result.durationMs} ms</span>
        </p>
      </div>
    )
  }
  const e = result.error
  return (
    <div role="alert" className="probe probe-failed">
      <p className="probe-title">
        {e?.kind === 'not_connected' ? 'Not sent' : 'Delivery failed'}{e ? ` (${e.code}, ${e.kind.replace('_', ' ')})` : ''}: {e?.message ?? 'unknown error'} <span className="probe-latency">in {result.durationMs} ms</span>
      </p>
      {e?.hint && <p className="probe-hint">{e.hint}</p>}
    </div>
  )
}
