import { api } from '../../api/client.ts'
import type { ConnectorSummary, ConnectorType, Rule, RuleAction } from '../../api/types.ts'
import { ConfirmDeleteDialog } from '../../components/ConfirmDeleteDialog.tsx'
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
  return (
    <ConfirmDeleteDialog title={`Delete rule ${rule.name}?`} remove={() => api.deleteRule(dep, rule.id)} onClose={onClose} onDeleted={onDeleted}>
      <p>
        The rule <strong>{rule.name}</strong> (<code>{rule.id}</code>) stops matching messages, and messages still queued for its actions are dropped.
      </p>
    </ConfirmDeleteDialog>
  )
}
