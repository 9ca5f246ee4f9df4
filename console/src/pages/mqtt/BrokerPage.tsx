import { useEffect, useId, useMemo, type ReactNode } from 'react'
import { api } from '../../api/client.ts'
import type { BrokerStats, BrokerView, DropReason } from '../../api/types.ts'
import { ErrorAlert } from '../../components/Alert.tsx'
import { DeploymentNotRunning } from '../../components/DeploymentNotRunning.tsx'
import { ListenerUrls } from '../../components/ListenerUrls.tsx'
import { RateChart } from '../../components/RateChart.tsx'
import { StatusBadge } from '../../components/StatusBadge.tsx'
import { StackTable, cell, type StackColumn } from '../../components/StackTable.tsx'
import { useCounterRates } from '../../lib/counter-rates.ts'
import { useDeployment } from '../../lib/deployment-context.tsx'
import { formatCount, formatRate } from '../../lib/format.ts'
import { href } from '../../lib/router.ts'
import { useResource } from '../../lib/use-resource.ts'

/** As often as the connectors list: the figures move while the operator watches. */
const REFRESH_MS = 2000

const LIVE: ReadonlyArray<{ key: keyof BrokerStats & ('connections' | 'sessions' | 'subscriptions' | 'retained' | 'queued' | 'inflight'); label: string; help: string }> = [
  { key: 'connections', label: 'Clients connected', help: 'open MQTT connections' },
  { key: 'sessions', label: 'Sessions', help: 'incl. persistent ones offline' },
  { key: 'subscriptions', label: 'Subscriptions', help: 'of all sessions' },
  { key: 'retained', label: 'Retained', help: 'messages kept for new subscribers' },
  { key: 'queued', label: 'Queued', help: 'waiting for their subscriber' },
  { key: 'inflight', label: 'Inflight', help: 'sent, not yet acknowledged' },
]

const DROP_REASONS: ReadonlyArray<{ reason: DropReason; meaning: (dep: string) => ReactNode }> = [
  {
    reason: 'queue_full',
    meaning: (dep) => (
      <>A subscriber's queue was full: its oldest QoS 0 message goes first (see <a href={href.brokerSettings(dep)}>Max queued messages</a>).</>
    ),
  },
  { reason: 'expired', meaning: () => 'Its Message Expiry Interval (MQTT 5) passed before it could be sent.' },
  { reason: 'no_local', meaning: () => 'Not sent back to its own publisher, whose subscription asked for No Local (MQTT 5).' },
  { reason: 'qos0_msg', meaning: () => 'QoS 0 for an offline persistent session: not kept while its client is away.' },
  { reason: 'too_large', meaning: () => "Over the subscriber's Maximum Packet Size." },
]

const DROP_COLUMNS: ReadonlyArray<string | StackColumn> = ['Reason', { label: 'Dropped', className: 'num' }, 'What it means']

const RATE_KEYS = ['received', 'sent', 'dropped'] as const

const droppedTotal = (s: BrokerStats) => Object.values(s.dropped).reduce((a, b) => a + b, 0)

/** Device access > Broker: the deployment's MQTT broker at a glance, refreshed every 2 s. */
export function BrokerPage({ dep }: { dep: string }) {
  const deployment = useDeployment()
  const stats = useResource(() => api.brokerStats(dep), `broker-stats:${dep}`, REFRESH_MS)
  const s = stats.data
  const d = deployment.data
  const counters = useMemo(() => (s ? { received: s.received, sent: s.sent, dropped: droppedTotal(s) } : s), [s])
  const rates = useCounterRates(counters, RATE_KEYS)
  const latest = (k: (typeof RATE_KEYS)[number]) => rates[k][rates[k].length - 1]
  // The deployment is polled less often than the figures: when they say the broker is gone (or
  // back), ask for its status now instead of showing "not running (running)" for 3 s.
  const brokerUp = s === undefined ? undefined : s !== null
  useEffect(() => {
    if (brokerUp !== undefined && brokerUp !== (d?.status === 'running')) void deployment.reload()
  }, [brokerUp, d?.status])

  return (
    <>
      <header className="page-header">
        <div>
          <p className="eyebrow">Device access</p>
          <h1>Broker</h1>
          <p className="page-intro">
            {d?.broker.mode === 'external'
              ? 'The external MQTT broker this deployment is attached to, and the connection to it now.'
              : "This deployment's MQTT broker now: its clients and sessions, the messages it moves and the ones it had to drop. Updated every 2 seconds."}
          </p>
        </div>
      </header>
      <ErrorAlert error={deployment.error} title="Could not load the deployment" />
      {d?.broker.mode === 'external' && <ExternalBrokerCard broker={d.broker} running={d.status === 'running'} />}
      {d?.broker.mode !== 'external' && s === undefined && stats.error === undefined && stats.loading && <p className="loading">Loading the broker's figures…</p>}
      <ErrorAlert error={stats.error} title={s === undefined ? "Could not load the broker's figures" : "Could not refresh the broker's figures"} />
      {s === null && d && d.status !== 'running' && (
        <DeploymentNotRunning deployment={d} onStarted={() => { void deployment.reload(); void stats.reload() }} what="Its broker has no figures until it runs." />
      )}
      {s === null && d?.status === 'running' && d.broker.mode !== 'external' && <p className="loading">The broker is starting or stopping…</p>}
      {s && (
        <>
          <section className="broker-tiles" aria-label="Live figures">
            {LIVE.map((f) => (
              <Tile key={f.key} label={f.label} value={formatCount(s[f.key])} help={f.help} />
            ))}
          </section>

          <MessagesCard s={s} rates={rates} latest={latest} />
          <DropsCard dep={dep} s={s} />

          {d?.mqtt && (
            <section className="card" aria-labelledby="broker-addresses-title">
              <h2 id="broker-addresses-title">Device addresses</h2>
              <p className="field-help">Devices connect to any of these. TLS and secure WebSocket use the certificate set for this deployment, or one Junction generated.</p>
              <ListenerUrls mqtt={d.mqtt} />
            </section>
          )}
        </>
      )}
    </>
  )
}

/**
 * An external broker the deployment is attached to as a client: where, as whom, the connection
 * now (with why it is down) and what it subscribes. Its figures are the broker's own, not ours.
 */
function ExternalBrokerCard({ broker, running }: { broker: BrokerView; running: boolean }) {
  const status = broker.status ?? 'stopped'
  return (
    <section className="card" aria-labelledby="external-broker-title">
      <h2 id="external-broker-title">External broker</h2>
      <p className="field-help">
        This deployment has no broker of its own: it is attached as a client to the MQTT broker below. Devices, users and ACLs are that broker's; see docs/external-broker.md.
      </p>
      <dl className="details-list">
        <dt>Connection</dt>
        <dd><StatusBadge status={status} reason={broker.statusReason} />{!running && <span className="muted small"> (the deployment is stopped)</span>}</dd>
        {broker.statusReason && (<><dt>Reason</dt><dd>{broker.statusCode && <code>{broker.statusCode}</code>} {broker.statusReason}</dd></>)}
        <dt>Servers</dt>
        <dd className="mono">{broker.servers?.join(', ')}</dd>
        {broker.server && (<><dt>Current server</dt><dd className="mono">{broker.server}</dd></>)}
        <dt>Client ID</dt>
        <dd className="mono">{broker.clientId}</dd>
        <dt>Shared group</dt>
        <dd className="mono">{broker.sharedGroup ?? 'none (every node gets every message)'}</dd>
        <dt>Subscriptions</dt>
        <dd className="mono">{broker.subscriptions && broker.subscriptions.length > 0 ? broker.subscriptions.join(', ') : 'none yet'}</dd>
      </dl>
    </section>
  )
}

/** A figure in large type, named by its label (role group) so a screen reader reads "Sessions 3". */
function Tile({ label, value, help, tone }: { label: string; value: string; help?: string; tone?: 'warn' }) {
  const id = useId()
  return (
    <div role="group" aria-labelledby={`${id}-label`} className={`tile${tone ? ` tile-${tone}` : ''}`}>
      <p id={`${id}-label`} className="tile-label">{label}</p>
      <p className="tile-value">{value}</p>
      {help && <p className="tile-help">{help}</p>}
    </div>
  )
}

function MessagesCard({ s, rates, latest }: { s: BrokerStats; rates: Record<(typeof RATE_KEYS)[number], number[]>; latest: (k: (typeof RATE_KEYS)[number]) => number | undefined }) {
  const dropped = droppedTotal(s)
  const rateHelp = (k: (typeof RATE_KEYS)[number]) => (latest(k) === undefined ? 'since start' : `since start · now ${formatRate(latest(k))}`)
  return (
    <section className="card" aria-labelledby="broker-messages-title">
      <h2 id="broker-messages-title">Messages</h2>
      <div className="broker-tiles compact">
        <Tile label="Received" value={formatCount(s.received)} help={rateHelp('received')} />
        <Tile label="Sent" value={formatCount(s.sent)} help={rateHelp('sent')} />
        <Tile label="Dropped" value={formatCount(dropped)} help={rateHelp('dropped')} tone={dropped > 0 ? 'warn' : undefined} />
        <Tile label="No subscribers" value={formatCount(s.noSubscribers)} help="published where no one listened" />
        <Tile label="Refused connections" value={formatCount(s.connackRefused)} help="CONNECTs answered with a failure" />
      </div>
      <RateChart
        caption="Messages per second (last minute)"
        series={[
          { label: 'received', color: 'var(--accent)', values: rates.received },
          { label: 'sent', color: 'var(--ok)', values: rates.sent },
          { label: 'dropped', color: 'var(--bad)', values: rates.dropped },
        ]}
      />
    </section>
  )
}

function DropsCard({ dep, s }: { dep: string; s: BrokerStats }) {
  return (
    <section className="card" aria-labelledby="broker-drops-title">
      <h2 id="broker-drops-title">Dropped messages</h2>
      <p className="muted small">Messages lost for one subscriber since the broker started, by reason (EMQX's delivery_dropped reasons). Non-zero counts are highlighted.</p>
      <div className="table-wrap">
        <StackTable columns={DROP_COLUMNS}>
          {DROP_REASONS.map(({ reason, meaning }) => {
            const n = s.dropped[reason]
            return (
              <tr key={reason} role="row" className={n > 0 ? 'row-alert' : undefined}>
                <td {...cell('Reason')}><code>{reason}</code></td>
                <td {...cell('Dropped')} className="num">{n > 0 ? <mark className="drop-count">{formatCount(n)}</mark> : <span className="muted">0</span>}</td>
                <td {...cell('What it means')} className="wrap"><span>{meaning(dep)}</span></td>
              </tr>
            )
          })}
        </StackTable>
      </div>
    </section>
  )
}
