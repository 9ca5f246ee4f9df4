import { useState } from 'react'
import { api } from '../../api/client.ts'
import type { ConnectorDetails, ProbeResult } from '../../api/types.ts'
import type { JsonSchema } from '../../lib/schema.ts'
import { ErrorAlert } from '../../components/Alert.tsx'
import { EditIcon, TrashIcon } from '../../components/Icons.tsx'
import { ProbeResultView } from '../../components/ProbeResultView.tsx'
import { RateChart } from '../../components/RateChart.tsx'
import { ServerlessNotice } from '../../components/ServerlessNotice.tsx'
import { Spinner } from '../../components/Spinner.tsx'
import { StatusBadge } from '../../components/StatusBadge.tsx'
import { DeliveryBadge, DeliveryNotice } from '../../components/DeliveryBadge.tsx'
import { TypeIcon } from '../../components/TypeIcon.tsx'
import { FlashMessage } from '../../components/FlashMessage.tsx'
import { HistoryCard } from '../../components/HistoryCard.tsx'
import { ConnectorNodesCard } from '../../components/NodeTables.tsx'
import { typeTitle, useConnectorTypes } from '../../lib/connector-types.ts'
import { EDIT_NEEDS_PLAN, useDeployment } from '../../lib/deployment-context.tsx'
import { takeFlash } from '../../lib/flash.ts'
import { formatAgo, formatCount, formatDate, formatRate } from '../../lib/format.ts'
import { IfCan } from '../../lib/identity.tsx'
import { href, navigate } from '../../lib/router.ts'
import { fieldKind, fieldLabel, isDefaultValue } from '../../lib/schema.ts'
import { useDetails } from '../../lib/use-details.tsx'
import { DeleteConnectorDialog } from './DeleteConnectorDialog.tsx'

/** `#/deployments/{dep}/connectors/{id}`: basic information, configuration (what users come to check), live metrics, rules. */
export function ConnectorDetailsPage({ dep, id }: { dep: string; id: string }) {
  const details = useDetails(() => api.connector(dep, id), `connector:${dep}:${id}`, 'connector', 'Connectors')
  const types = useConnectorTypes()
  const deployment = useDeployment()
  const [deleting, setDeleting] = useState(false)
  const [testing, setTesting] = useState(false)
  const [probe, setProbe] = useState<ProbeResult | null>(null)
  const [testError, setTestError] = useState<unknown>(null)
  const [flash, setFlash] = useState<string | null>(() => takeFlash())

  const c = details.data
  if (!c) return details.placeholder

  const type = types.data?.find((t) => t.type === c.type)
  const title = typeTitle(types.data, c.type)
  const serverless = deployment.data?.plan === 'serverless'

  const test = async () => {
    setTesting(true)
    setProbe(null)
    setTestError(null)
    try {
      setProbe(await api.testConnector(dep, c.id, c.config))
    } catch (e) {
      setTestError(e)
    } finally {
      setTesting(false)
    }
  }

  return (
    <>
      <header className="page-header">
        <div className="title-with-icon">
          <TypeIcon type={c.type} title={title} size={36} />
          <div>
            <p className="eyebrow">{title} connector</p>
            <h1>{c.name}</h1>
          </div>
        </div>
        <IfCan needs="editor">
        <div className="header-actions">
          <button type="button" className="button" onClick={test} disabled={testing}>
            {testing ? (
              <>
                <Spinner /> Testing…
              </>
            ) : (
              'Test connection'
            )}
          </button>
          <button
            type="button"
            className="button"
            disabled={serverless}
            title={serverless ? EDIT_NEEDS_PLAN : undefined}
            onClick={() => navigate(href.editConnector(dep, c.id))}
          >
            <EditIcon /> Edit connector
          </button>
          <button type="button" className="button danger-outline" onClick={() => setDeleting(true)}>
            <TrashIcon /> Delete connector
          </button>
        </div>
        </IfCan>
      </header>

      <FlashMessage message={flash} onDismiss={() => setFlash(null)} />
      {serverless && <ServerlessNotice />}
      {details.refreshError}
      <DeliveryNotice delivery={c.delivery} />
      {probe && <ProbeResultView result={probe} />}
      <ErrorAlert error={testError} title="Could not test the connector" />

      <section className="card" aria-labelledby="basic-title">
        <h2 id="basic-title">Basic information</h2>
        <dl className="info-grid">
          <div>
            <dt>ID</dt>
            <dd className="mono">{c.id}</dd>
          </div>
          <div>
            <dt>Type</dt>
            <dd>{title}</dd>
          </div>
          <div>
            <dt>Status</dt>
            <dd>
              <StatusBadge status={c.status} reason={c.statusReason} />
              {c.statusSince && <span className="muted small"> since {formatAgo(c.statusSince)}</span>}
              {c.statusReason && (
                <p className="status-reason">
                  {c.statusCode && <code>{c.statusCode}</code>} {c.statusReason}
                </p>
              )}
            </dd>
          </div>
          {c.delivery && (
            <div>
              <dt>Delivery</dt>
              <dd>
                <DeliveryBadge health={c.delivery} showOk />
                {c.delivery.state !== 'ok' && c.delivery.since && <span className="muted small"> since {formatAgo(c.delivery.since)}</span>}
                {c.delivery.state !== 'ok' && (
                  <p className="delivery-reason">
                    {c.delivery.code && <code>{c.delivery.code}</code>} {c.delivery.reason}
                  </p>
                )}
              </dd>
            </div>
          )}
          <div>
            <dt>Created</dt>
            <dd>{formatDate(c.createdAt)}</dd>
          </div>
          <div>
            <dt>Updated</dt>
            <dd>{formatDate(c.updatedAt)}</dd>
          </div>
          <div>
            <dt>Last connected</dt>
            <dd>{formatDate(c.lastConnectedAt)}</dd>
          </div>
          {c.description && (
            <div className="span-all">
              <dt>Description</dt>
              <dd>{c.description}</dd>
            </div>
          )}
        </dl>
      </section>

      <section className="card" aria-labelledby="config-title">
        <h2 id="config-title">Configuration</h2>
        <p className="muted small">
          Every setting as Junction uses it; values marked <span className="tag">default</span> were left at their defaults. Secrets are never shown.
        </p>
        <ConfigList schema={type?.configSchema} config={c.config} />
      </section>

      <MetricsCard c={c} />
      <ConnectorNodesCard c={c} />

      <section className="card" aria-labelledby="rules-title">
        <h2 id="rules-title">Rules</h2>
        {c.rules.length === 0 ? (
          <p className="muted">
            No rule sends through this connector yet. <a href={href.newRule(dep)}>Create a rule</a> with an action on it.
          </p>
        ) : (
          <ul className="link-list">
            {c.rules.map((r) => (
              <li key={r.id}>
                <a href={href.rule(dep, r.id)}>{r.name}</a> <span className="mono muted">{r.id}</span>
              </li>
            ))}
          </ul>
        )}
      </section>

      <HistoryCard
        noun="connector"
        reloadKey={`${dep}:${c.id}:${c.version}`}
        load={(after) => api.connectorHistory(dep, c.id, after)}
        revert={async (version) => {
          details.set(await api.revertConnector(dep, c.id, version))
          setFlash(`Connector reverted to version ${version}.`)
        }}
        onReverted={() => void details.reload()}
      />

      {deleting && (
        <DeleteConnectorDialog
          dep={dep}
          target={{ id: c.id, name: c.name, ruleCount: c.ruleCount }}
          onClose={() => setDeleting(false)}
          onDeleted={() => navigate(href.connectors(dep))}
        />
      )}
    </>
  )
}

function MetricsCard({ c }: { c: ConnectorDetails }) {
  const m = c.metrics
  const s = m?.series
  return (
    <section className="card" aria-labelledby="metrics-title">
      <h2 id="metrics-title">Metrics</h2>
      <p className="muted small">
        Totals of the rule actions that send through this connector, since Junction or the rule started{c.nodes.length > 1 ? <>, on this node (<span className="mono">{c.nodes[0]?.node}</span>); every node's are under Nodes</> : ''}.
      </p>
      <dl className="stat-row">
        <Stat label="Matched" value={formatCount(m?.matched)} />
        <Stat label="Success" value={formatCount(m?.success)} tone="ok" />
        <Stat label="Failed" value={formatCount(m?.failed)} tone="bad" />
        <Stat label="Dropped" value={formatCount(m?.dropped)} tone="warn" />
        <Stat label="Queuing" value={formatCount(m?.queuing)} />
        <Stat label="Inflight" value={formatCount(m?.inflight)} />
        <Stat label="Rate" value={formatRate(m?.rate.success)} />
      </dl>
      <RateChart
        caption="Messages per second (last minute)"
        series={[
          { label: 'success', color: 'var(--ok)', values: s?.success ?? [] },
          { label: 'failed', color: 'var(--bad)', values: s?.failed ?? [] },
          { label: 'dropped', color: 'var(--warn)', values: s?.dropped ?? [] },
        ]}
      />
    </section>
  )
}

export function Stat({ label, value, tone }: { label: string; value: string; tone?: 'ok' | 'bad' | 'warn' }) {
  return (
    <div className={`stat${tone ? ` stat-${tone}` : ''}`}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  )
}

function formatValue(v: unknown): string {
  if (v === undefined || v === null || v === '') return '—'
  if (typeof v === 'string') return v
  if (typeof v === 'boolean') return v ? 'Yes' : 'No'
  return JSON.stringify(v)
}

/** The stored configuration, in the schema's order, each value marked when it is the default. */
function ConfigList({ schema, config }: { schema: JsonSchema | undefined; config: Record<string, unknown> }) {
  const props = schema?.properties ?? {}
  // A group switched off (TLS with enable: false) shows only its switch, as the form does.
  const off = props.enable !== undefined && config.enable === false
  const keys = [...Object.keys(props), ...Object.keys(config).filter((k) => !(k in props))].filter((k) => !off || k === 'enable')
  const scalars = keys.filter((k) => !(props[k] && fieldKind(props[k]) === 'object'))
  const groups = keys.filter((k) => props[k] && fieldKind(props[k]) === 'object')
  return (
    <>
      <dl className="config-list">
        {scalars.map((k) => {
          const sub = props[k] ?? {}
          const v = config[k]
          const secret = sub.writeOnly === true
          return (
            <div key={k} className="config-row">
              <dt>{fieldLabel(k, sub)}</dt>
              <dd>
                {v === undefined ? (
                  <span className="muted small">not set</span>
                ) : (
                  <span className={`config-value${secret ? ' secret' : ''}`}>{secret ? '******' : formatValue(v)}</span>
                )}
                {isDefaultValue(sub, v) && <span className="tag">default</span>}
              </dd>
            </div>
          )
        })}
      </dl>
      {groups.map((k) => {
        const sub = props[k] ?? {}
        const v = config[k]
        return (
          <div key={k} className="config-group">
            <h3>{fieldLabel(k, sub)}</h3>
            <ConfigList schema={sub} config={typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {}} />
          </div>
        )
      })}
    </>
  )
}
