import { useState } from 'react'
import { api } from '../../api/client.ts'
import type { Rule } from '../../api/types.ts'
import { ErrorAlert } from '../../components/Alert.tsx'
import { EditIcon, PlusIcon } from '../../components/Icons.tsx'
import { DeleteIconButton, IconButton } from '../../components/IconButton.tsx'
import { useDeployment } from '../../lib/deployment-context.tsx'
import { takeFlash } from '../../lib/flash.ts'
import { formatCount, formatRate } from '../../lib/format.ts'
import { useCan } from '../../lib/identity.tsx'
import { href, navigate } from '../../lib/router.ts'
import { useResource } from '../../lib/use-resource.ts'
import { DeploymentNotRunning } from '../../components/DeploymentNotRunning.tsx'
import { StackTable, ACTIONS_COLUMN, ActionsCell, cell, type StackColumn } from '../../components/StackTable.tsx'
import { FlashMessage } from '../../components/FlashMessage.tsx'
import { DeliveryBadge, worstHealth } from '../../components/DeliveryBadge.tsx'
import { DeleteRuleDialog, RuleStatus } from './rule-common.tsx'

const RULE_COLUMNS: ReadonlyArray<string | StackColumn> = [
  'Name',
  'ID',
  'Status',
  { label: 'Matched', className: 'num' },
  { label: 'Rate', className: 'num' },
  ACTIONS_COLUMN,
]

/** Data Integration > Rules: SQL over the deployment's messages, with actions through connectors. */
export function RulesPage({ dep }: { dep: string }) {
  const deployment = useDeployment()
  const rules = useResource(() => api.rules(dep).then((r) => r.data), `rules:${dep}`, 2000)
  const [deleting, setDeleting] = useState<Rule | null>(null)
  const canEdit = useCan('editor')
  const [toggling, setToggling] = useState<string | null>(null)
  const [actionError, setActionError] = useState<unknown>(null)
  const [flash, setFlash] = useState<string | null>(() => takeFlash())
  const list = rules.data
  const d = deployment.data

  const toggle = async (r: Rule) => {
    setToggling(r.id)
    setActionError(null)
    try {
      await api.setRuleEnabled(dep, r.id, !r.enabled)
      await rules.reload()
    } catch (e) {
      setActionError(e)
    } finally {
      setToggling(null)
    }
  }

  const newRuleButton = canEdit ? (
    <button type="button" className="button primary" onClick={() => navigate(href.newRule(dep))}>
      <PlusIcon /> New Rule
    </button>
  ) : null
  const empty = list !== undefined && list.length === 0

  return (
    <>
      <header className="page-header">
        <div>
          <p className="eyebrow">Data Integration</p>
          <h1>Rules</h1>
          <p className="page-intro">A rule selects and transforms the deployment's MQTT messages with SQL, and its actions send the result through connectors.</p>
        </div>
        {!empty && newRuleButton}
      </header>
      {d && d.status !== 'running' && <DeploymentNotRunning deployment={d} onStarted={() => void deployment.reload()} what="Rules run (and show metrics) only while it runs." />}
      <ErrorAlert error={rules.error} title="Could not load the rules" />
      <ErrorAlert error={actionError} />
      <FlashMessage message={flash} onDismiss={() => setFlash(null)} />
      {!list && rules.loading && <p className="loading">Loading rules…</p>}
      {empty && (
        <div className="empty-state">
          <h2>No rules yet</h2>
          <p>Write SQL such as <code>SELECT payload.temp AS temp FROM "sensors/#"</code>, try it on a sample message, and send the output to a connector.</p>
          {newRuleButton}
        </div>
      )}
      {list && list.length > 0 && (
        <div className="table-wrap">
          <StackTable columns={RULE_COLUMNS}>
              {list.map((r) => (
                <tr key={r.id} role="row">
                  <td {...cell('Name')}>
                    <a href={href.rule(dep, r.id)} className="strong-link">
                      {r.name}
                    </a>
                    <div className="cell-sub sql-snippet" title={r.sql}>
                      {r.sql}
                    </div>
                  </td>
                  <td {...cell('ID')} className="mono">{r.id}</td>
                  <td {...cell('Status')}>
                    <span className="badge-row">
                      <RuleStatus rule={r} />{' '}
                      <DeliveryBadge health={worstHealth((r.metrics?.actions ?? []).map((a) => a.health))} />
                    </span>
                  </td>
                  <td {...cell('Matched')} className="num">{formatCount(r.metrics?.rule.matched)}</td>
                  <td {...cell('Rate')} className="num">{formatRate(r.metrics?.rule.rate.matched)}</td>
                  <ActionsCell>
                    {canEdit ? <>
                    <button type="button" className="button small" onClick={() => toggle(r)} disabled={toggling === r.id} aria-label={`${r.enabled ? 'Disable' : 'Enable'} ${r.name}`}>
                      {r.enabled ? 'Disable' : 'Enable'}
                    </button>
                    <IconButton label={`Edit ${r.name}`} onClick={() => navigate(href.editRule(dep, r.id))}>
                      <EditIcon />
                    </IconButton>
                    <DeleteIconButton label={`Delete ${r.name}`} onClick={() => setDeleting(r)} />
                    </> : <a href={href.rule(dep, r.id)} aria-label={`Details of ${r.name}`}>Details</a>}
                  </ActionsCell>
                </tr>
              ))}
            </StackTable>
        </div>
      )}
      {deleting && (
        <DeleteRuleDialog
          dep={dep}
          rule={deleting}
          onClose={() => setDeleting(null)}
          onDeleted={() => {
            setFlash(`Rule ${deleting.name} deleted.`)
            setDeleting(null)
            void rules.reload()
          }}
        />
      )}
    </>
  )
}
