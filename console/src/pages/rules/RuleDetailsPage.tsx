import { useState } from 'react'
import { api } from '../../api/client.ts'
import type { ActionMetrics, Rule } from '../../api/types.ts'
import { ErrorAlert } from '../../components/Alert.tsx'
import { EditIcon, TrashIcon } from '../../components/Icons.tsx'
import { RateChart } from '../../components/RateChart.tsx'
import { Spinner } from '../../components/Spinner.tsx'
import { SqlView } from '../../components/SqlEditor.tsx'
import { StackTable, cell, type StackColumn } from '../../components/StackTable.tsx'
import { FlashMessage } from '../../components/FlashMessage.tsx'
import { DeliveryBadge, healthReason, worstHealth } from '../../components/DeliveryBadge.tsx'
import { useConnectorTypes } from '../../lib/connector-types.ts'
import { takeFlash } from '../../lib/flash.ts'
import { formatAgo, formatCount, formatDate, formatRate } from '../../lib/format.ts'
import { IfCan } from '../../lib/identity.tsx'
import { href, navigate } from '../../lib/router.ts'
import { useDetails } from '../../lib/use-details.tsx'
import { useResource } from '../../lib/use-resource.ts'
import { Stat } from '../connectors/ConnectorDetailsPage.tsx'
import { DeleteRuleDialog, RuleStatus, actionTarget } from './rule-common.tsx'
import { FailedMessagesSection } from './FailedMessages.tsx'
import { HistoryCard } from '../../components/HistoryCard.tsx'
import { RuleNodesCard } from '../../components/NodeTables.tsx'

function sum(series: number[][]): number[] {
  const n = Math.max(0, ...series.map((s) => s.length))
  return Array.from({ length: n }, (_, i) => series.reduce((acc, s) => acc + (s[i] ?? 0), 0))
}

function lastErrorText(e: ActionMetrics['lastError']): string | null {
  return e || null
}

const ACTION_COLUMNS: ReadonlyArray<string | StackColumn> = [
  '#',
  'Target',
  { label: 'Matched', className: 'num' },
  { label: 'Success', className: 'num' },
  { label: 'Failed', className: 'num' },
  { label: 'Dropped', className: 'num' },
  { label: 'Queuing', className: 'num' },
  { label: 'Rate', className: 'num' },
  'Last error',
]

/** `#/deployments/{dep}/rules/{id}`: SQL, live metrics and chart, actions, enable/disable, delete. */
export function RuleDetailsPage({ dep, id }: { dep: string; id: string }) {
  const rule = useDetails(() => api.rule(dep, id), `rule:${dep}:${id}`, 'rule', 'Rules')
  const connectors = useResource(() => api.connectors(dep).then((r) => r.data), `connectors:${dep}`)
  const types = useConnectorTypes()
  const [deleting, setDeleting] = useState(false)
  const [toggling, setToggling] = useState(false)
  const [actionError, setActionError] = useState<unknown>(null)
  const [flash, setFlash] = useState<string | null>(() => takeFlash())
  const r = rule.data
  if (!r) return rule.placeholder

  const toggle = async () => {
    setToggling(true)
    setActionError(null)
    try {
      rule.set(await api.setRuleEnabled(dep, r.id, !r.enabled))
    } catch (e) {
      setActionError(e)
    } finally {
      setToggling(false)
    }
  }

  const m = r.metrics
  const actionsMetrics = m?.actions ?? []
  return (
    <>
      <header className="page-header">
        <div>
          <p className="eyebrow">Rule · <span className="mono">{r.id}</span></p>
          <div className="title-row">
            <h1>{r.name}</h1>
            <RuleStatus rule={r} />{' '}
            <DeliveryBadge health={worstHealth(actionsMetrics.map((a) => a.health))} />
          </div>
          {r.description && <p className="page-intro">{r.description}</p>}
        </div>
        <IfCan needs="editor">
        <div className="header-actions">
          <button type="button" className="button" onClick={toggle} disabled={toggling}>
            {toggling ? <Spinner /> : null}
            {r.enabled ? 'Disable rule' : 'Enable rule'}
          </button>
          <button type="button" className="button" onClick={() => navigate(href.editRule(dep, r.id))}>
            <EditIcon /> Edit rule
          </button>
          <button type="button" className="button danger-outline" onClick={() => setDeleting(true)}>
            <TrashIcon /> Delete rule
          </button>
        </div>
        </IfCan>
      </header>
      <FlashMessage message={flash} onDismiss={() => setFlash(null)} />
      <ErrorAlert error={actionError} />
      {rule.refreshError}

      <section className="card" aria-labelledby="rule-metrics-title">
        <h2 id="rule-metrics-title">Metrics</h2>
        {/* With metrics, the answering node is the first of `nodes`. */}
        {m && r.nodes.length > 1 && <p className="muted small">On this node (<span className="mono">{r.nodes[0]?.node}</span>); every node's and their total are under Nodes.</p>}
        {!m ? (
          <p className="muted">No metrics: the rule is not running ({r.enabled ? 'its deployment is stopped' : 'it is disabled'}).</p>
        ) : (
          <>
            <dl className="stat-row">
              <Stat label="Matched" value={formatCount(m.rule.matched)} />
              <Stat label="Passed" value={formatCount(m.rule.passed)} tone="ok" />
              <Stat label="No result" value={formatCount(m.rule.noResult)} />
              <Stat label="Failed" value={formatCount(m.rule.failed)} tone="bad" />
              <Stat label="Rate" value={formatRate(m.rule.rate.matched)} />
            </dl>
            {m.rule.actions && (
              <dl className="stat-row" aria-label="Actions">
                <Stat label="Actions total" value={formatCount(m.rule.actions.total)} />
                <Stat label="Actions success" value={formatCount(m.rule.actions.success)} tone="ok" />
                <Stat label="Actions failed" value={formatCount(m.rule.actions.failed)} tone="bad" />
                <Stat label="Actions discarded" value={formatCount(m.rule.actions.discarded)} tone="warn" />
              </dl>
            )}
            <RateChart
              caption="Messages per second (last minute)"
              series={[
                { label: 'matched', color: 'var(--accent)', values: m.rule.series?.matched ?? [] },
                { label: 'success', color: 'var(--ok)', values: sum(actionsMetrics.map((a) => a.series?.success ?? [])) },
                { label: 'failed', color: 'var(--bad)', values: sum(actionsMetrics.map((a) => a.series?.failed ?? [])) },
                { label: 'dropped', color: 'var(--warn)', values: sum(actionsMetrics.map((a) => a.series?.dropped ?? [])) },
              ]}
            />
          </>
        )}
      </section>

      <RuleNodesCard r={r} />

      <section className="card" aria-labelledby="rule-sql-view-title">
        <h2 id="rule-sql-view-title">SQL</h2>
        <SqlView sql={r.sql} />
      </section>

      <section className="card" aria-labelledby="rule-actions-view-title">
        <h2 id="rule-actions-view-title">Actions</h2>
        {r.actions.length === 0 ? (
          <p className="muted">No actions: the rule only counts the messages it matches.</p>
        ) : (
          <div className="table-wrap">
            <StackTable compact columns={ACTION_COLUMNS}>
                {r.actions.map((a, i) => {
                  const am = actionsMetrics[i]
                  const err = lastErrorText(am?.lastError ?? null)
                  return (
                    <tr key={i} role="row">
                      <td {...cell('#')}>{i + 1}</td>
                      <td {...cell('Target')}>
                        {a.connectorId ? <a href={href.connector(dep, a.connectorId)}>{actionTarget(a, connectors.data, types.data)}</a> : actionTarget(a, connectors.data, types.data)}
                        {am?.health && am.health.state !== 'ok' && (
                          // Under the target, not in a column of its own: the table is already as wide as the page.
                          <p className="delivery-reason action-health">
                            <DeliveryBadge health={am.health} />{' '}
                            {/* failing: its message is the last error, in its own column. */}
                            {am.health.state === 'failing' ? am.health.code : healthReason(am.health)}
                            {am.health.since ? ` · since ${formatAgo(am.health.since)}` : ''}
                          </p>
                        )}
                        {a.fallback && (
                          <p className="muted small fallback-line">
                            Fallback:{' '}
                            {a.fallback.connectorId ? <a href={href.connector(dep, a.fallback.connectorId)}>{actionTarget(a.fallback, connectors.data, types.data)}</a> : actionTarget(a.fallback, connectors.data, types.data)}
                            {am?.fallback && ` · ${formatCount(am.fallback.success)} sent, ${formatCount(am.fallback.failed + am.fallback.dropped)} lost`}
                          </p>
                        )}
                      </td>
                      <td {...cell('Matched')} className="num">{formatCount(am?.matched)}</td>
                      <td {...cell('Success')} className="num">{formatCount(am?.success)}</td>
                      <td {...cell('Failed')} className="num">{formatCount(am?.failed)}</td>
                      <td {...cell('Dropped')} className="num" title={am ? Object.entries(am.droppedByReason).map(([k, v]) => `${k}: ${v}`).join(', ') : undefined}>
                        {formatCount(am?.dropped)}
                      </td>
                      <td {...cell('Queuing')} className="num">{formatCount(am?.queuing)}</td>
                      <td {...cell('Rate')} className="num">{formatRate(am?.rate.success)}</td>
                      <td {...cell('Last error')} className="wrap">{err ? <span className="error-text">{err}{am?.lastErrorAt ? ` (${formatAgo(am.lastErrorAt)})` : ''}</span> : '—'}</td>
                    </tr>
                  )
                })}
              </StackTable>
          </div>
        )}
      </section>

      {r.actions.map((a, i) => (a.options?.keepFailed || actionsMetrics[i]?.failedMessages ? (
        <FailedMessagesSection key={i} dep={dep} ruleId={r.id} index={i} target={actionTarget(a, connectors.data, types.data)} />
      ) : null))}

      <section className="card" aria-labelledby="rule-info-title">
        <h2 id="rule-info-title">Basic information</h2>
        <dl className="info-grid">
          <div>
            <dt>ID</dt>
            <dd className="mono">{r.id}</dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>{formatDate(r.createdAt)}</dd>
          </div>
          <div>
            <dt>Updated</dt>
            <dd>{formatDate(r.updatedAt)}</dd>
          </div>
        </dl>
      </section>

      <HistoryCard
        noun="rule"
        reloadKey={`${dep}:${r.id}:${r.updatedAt}`}
        load={(after) => api.ruleHistory(dep, r.id, after)}
        revert={async (version) => {
          rule.set(await api.revertRule(dep, r.id, version))
          setFlash(`Rule reverted to version ${version}.`)
        }}
        onReverted={() => void rule.reload()}
      />

      {deleting && <DeleteRuleDialog dep={dep} rule={r as Rule} onClose={() => setDeleting(false)} onDeleted={() => { setFlash(null); navigate(href.rules(dep)) }} />}
    </>
  )
}
