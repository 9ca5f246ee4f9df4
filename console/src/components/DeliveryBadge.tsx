import type { ActionHealth, ConnectorDelivery, HealthState } from '../api/types.ts'
import { formatAgo, plural } from '../lib/format.ts'

const LABEL: Record<HealthState, string> = { ok: 'delivery ok', failing: 'delivery failing', stalled: 'delivery stalled' }

/** "CODE: message" for a tooltip or a line of text. */
export function healthReason(h: { code?: string; reason?: string; message?: string } | undefined): string | undefined {
  if (!h) return undefined
  const text = h.reason ?? h.message
  return [h.code, text].filter(Boolean).join(': ') || undefined
}

/**
 * An amber pill next to a connection status when deliveries fail or stall: the connection can be
 * up while nothing arrives, so it never replaces the status badge. Nothing when ok, unless `showOk`
 * (details pages, where the "Delivery" line always says something). `short`: the state alone,
 * under a column that says "Health".
 */
export function DeliveryBadge({ health, showOk = false, short = false }: { health: ConnectorDelivery | ActionHealth | undefined; showOk?: boolean; short?: boolean }) {
  if (!health || (health.state === 'ok' && !showOk)) return null
  return (
    <span className={`badge badge-delivery-${health.state}`} title={healthReason(health)}>
      {short ? health.state : LABEL[health.state]}
    </span>
  )
}

/** The worst of several actions' health (failing, then stalled), for a rule. */
export function worstHealth(healths: ReadonlyArray<ActionHealth | undefined>): ActionHealth | undefined {
  return healths.find((h) => h?.state === 'failing') ?? healths.find((h) => h?.state === 'stalled') ?? healths.find((h) => h !== undefined)
}

/**
 * At the top of a connector's details when its deliveries fail or stall: what the resource
 * answered (code and message), since when, and how many actions it concerns.
 */
export function DeliveryNotice({ delivery }: { delivery: ConnectorDelivery | undefined }) {
  if (!delivery || delivery.state === 'ok') return null
  const failing = delivery.state === 'failing'
  const counts = [
    delivery.failingActions > 0 ? `${plural(delivery.failingActions, 'rule action')} failing` : '',
    delivery.stalledActions > 0 ? `${delivery.stalledActions} stalled` : '',
  ].filter(Boolean).join(', ')
  return (
    <div role="status" className="alert alert-warning delivery-notice">
      <strong className="alert-title">{failing ? 'Deliveries through this connector are failing' : 'Deliveries through this connector are stalled'}</strong>
      <p className="alert-message">
        {delivery.code && <code>{delivery.code}</code>} {delivery.reason}
      </p>
      <p className="alert-hint">
        {counts}
        {delivery.since ? ` · since ${formatAgo(delivery.since)}` : ''}. Each rule below shows its actions' health; the status is the connection's alone.
      </p>
    </div>
  )
}
