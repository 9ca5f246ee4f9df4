import { useState } from 'react'
import { api } from '../../api/client.ts'
import type { ConnectorSummary, ConnectorType, Rule, RuleAction } from '../../api/types.ts'
import { ErrorAlert } from '../../components/Alert.tsx'
import { Dialog } from '../../components/Dialog.tsx'
import { Spinner } from '../../components/Spinner.tsx'
import { typeTitle } from '../../lib/connector-types.ts'

/** "warehouse (PostgreSQL)" or "Republish" for an action's target. */
export function actionTarget(a: RuleAction, connectors: ConnectorSummary[] | undefined, types: ConnectorType[] | undefined): string {
  if (a.builtin === 'republish') return `Republish to ${String(a.params.topic ?? '')}`
  if (a.builtin) return a.builtin
  const c = connectors?.find((x) => x.id === a.connectorId)
  return c ? `${c.name} (${typeTitle(types, c.type)})` : (a.connectorId ?? '?')
}

export function RuleStatus({ rule }: { rule: Rule }) {
  return <span className={`badge badge-${rule.enabled ? 'enabled' : 'disabled'}`}>{rule.enabled ? 'enabled' : 'disabled'}</span>
}

/** Confirm deleting a rule (its actions' queues go with it). */
export function DeleteRuleDialog({ dep, rule, onClose, onDeleted }: { dep: string; rule: Rule; onClose: () => void; onDeleted: () => void }) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const remove = async () => {
    setBusy(true)
    setError(null)
    try {
      await api.deleteRule(dep, rule.id)
      onDeleted()
    } catch (e) {
      setError(e)
      setBusy(false)
    }
  }
  return (
    <Dialog
      title={`Delete rule ${rule.name}?`}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="button" onClick={onClose} autoFocus>
            Cancel
          </button>
          <button type="button" className="button danger" onClick={remove} disabled={busy}>
            {busy ? (
              <>
                <Spinner /> Deleting…
              </>
            ) : (
              'Delete'
            )}
          </button>
        </>
      }
    >
      <p>
        The rule <strong>{rule.name}</strong> (<code>{rule.id}</code>) stops matching messages, and messages still queued for its actions are dropped.
      </p>
      <ErrorAlert error={error} />
    </Dialog>
  )
}
