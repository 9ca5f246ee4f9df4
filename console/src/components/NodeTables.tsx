/**
 * Per-node figures of a connector or a rule, shown only when the installation has more than one
 * node (docs/cluster.md): each node counts what it processed itself, so the page's main figures
 * (the answering node's) are a part of the whole; these tables show every part and their total.
 * Other nodes' figures are as of their last heartbeat (1 s).
 */
import type { ConnectorDetails, Rule } from '../api/types.ts'
import { formatCount, formatRate } from '../lib/format.ts'
import { StatusBadge } from './StatusBadge.tsx'
import { StackTable, cell, type StackColumn } from './StackTable.tsx'

type HealthState = ConnectorDetails['nodes'][number]['delivery']

const num = (label: string): StackColumn => ({ label, className: 'num' })

function HealthBadge({ state }: { state: HealthState }) {
  return <span className={`badge badge-delivery-${state}`}>{state}</span>
}

/** The worst of the nodes' health: failing, then stalled. */
function worst(states: readonly HealthState[]): HealthState {
  return states.includes('failing') ? 'failing' : states.includes('stalled') ? 'stalled' : 'ok'
}

const HEARTBEAT_NOTE = 'Each node counts what passes through it; the other nodes\' figures are as of their last heartbeat (1 s).'

const CONNECTOR_COLUMNS = ['Node', 'Status', 'Delivery', num('Matched'), num('Success'), num('Failed'), num('Dropped'), num('Queuing'), num('Inflight'), num('Rate')]

/** A connector's connection, delivery and metrics on each node, and the total. */
export function ConnectorNodesCard({ c }: { c: ConnectorDetails }) {
  if (c.nodes.length < 2) return null
  const t = c.totals
  return (
    <section className="card" aria-labelledby="connector-nodes-title">
      <h2 id="connector-nodes-title">Nodes</h2>
      <p className="muted small">{HEARTBEAT_NOTE} {c.status === 'inconsistent' ? 'The nodes disagree on the connection: its status is inconsistent.' : ''}</p>
      <div className="table-wrap">
        <StackTable compact columns={CONNECTOR_COLUMNS}>
          {c.nodes.map((n) => (
            <tr key={n.node} role="row">
              <td {...cell('Node')} className="mono">{n.node}</td>
              <td {...cell('Status')}><StatusBadge status={n.status} reason={n.statusReason} /></td>
              <td {...cell('Delivery')}><HealthBadge state={n.delivery} /></td>
              <td {...cell('Matched')} className="num">{formatCount(n.metrics.matched)}</td>
              <td {...cell('Success')} className="num">{formatCount(n.metrics.success)}</td>
              <td {...cell('Failed')} className="num">{formatCount(n.metrics.failed)}</td>
              <td {...cell('Dropped')} className="num">{formatCount(n.metrics.dropped)}</td>
              <td {...cell('Queuing')} className="num">{formatCount(n.metrics.queuing)}</td>
              <td {...cell('Inflight')} className="num">{formatCount(n.metrics.inflight)}</td>
              <td {...cell('Rate')} className="num">{formatRate(n.metrics.rate.success)}</td>
            </tr>
          ))}
          <tr role="row" className="total-row">
            <td {...cell('Node')}>Total</td>
            <td {...cell('Status')}><StatusBadge status={c.status} /></td>
            <td {...cell('Delivery')}><HealthBadge state={worst(c.nodes.map((n) => n.delivery))} /></td>
            <td {...cell('Matched')} className="num">{formatCount(t.matched)}</td>
            <td {...cell('Success')} className="num">{formatCount(t.success)}</td>
            <td {...cell('Failed')} className="num">{formatCount(t.failed)}</td>
            <td {...cell('Dropped')} className="num">{formatCount(t.dropped)}</td>
            <td {...cell('Queuing')} className="num">{formatCount(t.queuing)}</td>
            <td {...cell('Inflight')} className="num">{formatCount(t.inflight)}</td>
            <td {...cell('Rate')} className="num">{formatRate(t.rate.success)}</td>
          </tr>
        </StackTable>
      </div>
    </section>
  )
}

const RULE_COLUMNS = ['Node', num('Matched'), num('Passed'), num('No result'), num('Failed'), num('Actions success'), num('Actions failed'), num('Actions discarded')]
const ACTION_COLUMNS = ['Action', 'Node', 'Health', num('Matched'), num('Success'), num('Failed'), num('Dropped'), num('Queuing'), num('Inflight')]

type RuleCounts = Rule['totals']
type ActionCounts = Rule['totals']['perAction'][number]

function RuleRow({ name, n, total = false }: { name: string; n: Omit<RuleCounts, 'perAction'>; total?: boolean }) {
  return (
    <tr role="row" className={total ? 'total-row' : undefined}>
      <td {...cell('Node')} className={total ? undefined : 'mono'}>{name}</td>
      <td {...cell('Matched')} className="num">{formatCount(n.matched)}</td>
      <td {...cell('Passed')} className="num">{formatCount(n.passed)}</td>
      <td {...cell('No result')} className="num">{formatCount(n.noResult)}</td>
      <td {...cell('Failed')} className="num">{formatCount(n.failed)}</td>
      <td {...cell('Actions success')} className="num">{formatCount(n.actions.success)}</td>
      <td {...cell('Actions failed')} className="num">{formatCount(n.actions.failed)}</td>
      <td {...cell('Actions discarded')} className="num">{formatCount(n.actions.discarded)}</td>
    </tr>
  )
}

function ActionRow({ index, name, a, total = false }: { index: number; name: string; a: ActionCounts | undefined; total?: boolean }) {
  return (
    <tr role="row" className={total ? 'total-row' : undefined}>
      <td {...cell('Action')}>#{index + 1}</td>
      <td {...cell('Node')} className={total ? undefined : 'mono'}>{name}</td>
      <td {...cell('Health')}>{a ? <HealthBadge state={a.health} /> : '—'}</td>
      <td {...cell('Matched')} className="num">{formatCount(a?.matched)}</td>
      <td {...cell('Success')} className="num">{formatCount(a?.success)}</td>
      <td {...cell('Failed')} className="num">{formatCount(a?.failed)}</td>
      <td {...cell('Dropped')} className="num">{formatCount(a?.dropped)}</td>
      <td {...cell('Queuing')} className="num">{formatCount(a?.queuing)}</td>
      <td {...cell('Inflight')} className="num">{formatCount(a?.inflight)}</td>
    </tr>
  )
}

/** A rule's counters on each node and in total, then each action's, node by node, with its total. */
export function RuleNodesCard({ r }: { r: Rule }) {
  if (r.nodes.length < 2) return null
  return (
    <section className="card" aria-labelledby="rule-nodes-title">
      <h2 id="rule-nodes-title">Nodes</h2>
      <p className="muted small">{HEARTBEAT_NOTE}</p>
      <div className="table-wrap">
        <StackTable compact columns={RULE_COLUMNS}>
          {r.nodes.map((n) => <RuleRow key={n.node} name={n.node} n={n} />)}
          <RuleRow name="Total" n={r.totals} total />
        </StackTable>
      </div>
      {r.actions.length > 0 && (
        <>
          <h3 className="table-heading">Actions per node</h3>
          <div className="table-wrap">
            <StackTable compact columns={ACTION_COLUMNS}>
              {r.actions.flatMap((_, i) => [
                ...r.nodes.map((n) => <ActionRow key={`${i}:${n.node}`} index={i} name={n.node} a={n.perAction[i]} />),
                <ActionRow key={`${i}:total`} index={i} name="Total" a={r.totals.perAction[i]} total />,
              ])}
            </StackTable>
          </div>
        </>
      )}
    </section>
  )
}
