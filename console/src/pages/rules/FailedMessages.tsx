import { useState } from 'react'
import { api } from '../../api/client.ts'
import type { FailedMessage, FailureReason } from '../../api/types.ts'
import { ErrorAlert, Notice } from '../../components/Alert.tsx'
import { Dialog } from '../../components/Dialog.tsx'
import { Spinner } from '../../components/Spinner.tsx'
import { StackTable, cell, type StackColumn } from '../../components/StackTable.tsx'
import { formatCount, formatDate, plural } from '../../lib/format.ts'
import { useResource } from '../../lib/use-resource.ts'
import { Stat } from '../connectors/ConnectorDetailsPage.tsx'
import { useCan } from '../../lib/identity.tsx'

const PAGE = 50
const REFRESH_MS = 3000

const REASONS: Record<FailureReason, string> = {
  failed: 'Failed',
  expired: 'Expired',
  queue_full: 'Queue full',
  stopped: 'Stopped',
}

const COLUMNS: ReadonlyArray<string | StackColumn> = ['Select', 'Time', 'Reason', { label: 'Attempts', className: 'num' }, 'Payload', 'Actions']

function reasonText(m: FailedMessage): string {
  return m.reason === 'failed' && m.code ? `${REASONS.failed}: ${m.code}` : REASONS[m.reason]
}

/**
 * What action `index` of a rule kept of the messages it failed or dropped (option keepFailed):
 * counts, a list (newest pages on demand), one message in a dialog, replay and discard of the
 * selected ones or of all.
 */
export function FailedMessagesSection({ dep, ruleId, index, target }: { dep: string; ruleId: string; index: number; target: string }) {
  const [limit, setLimit] = useState(PAGE)
  const canEdit = useCan('editor')
  const list = useResource(() => api.failedMessages(dep, ruleId, index, limit), `failed:${dep}:${ruleId}:${index}:${limit}`, REFRESH_MS)
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set())
  const [busy, setBusy] = useState<string | null>(null)
  const [error, setError] = useState<unknown>(null)
  const [done, setDone] = useState<string | null>(null)
  const [showing, setShowing] = useState<string | null>(null)
  const [confirmingDiscard, setConfirmingDiscard] = useState(false)
  const l = list.data
  const n = index + 1
  const titleId = `failed-messages-${index}`

  const act = async (what: 'replay' | 'discard', all: boolean) => {
    const ids = all ? undefined : [...selected]
    setBusy(`${what}-${all ? 'all' : 'selected'}`)
    setError(null)
    setDone(null)
    try {
      if (what === 'replay') {
        const r = await api.replayFailed(dep, ruleId, index, ids)
        setDone(`${plural(r.replayed, 'message')} handed to action ${n} again.`)
      } else {
        const r = await api.discardFailed(dep, ruleId, index, ids)
        setDone(`${plural(r.discarded, 'message')} discarded.`)
      }
      setSelected(new Set())
      await list.reload()
    } catch (e) {
      setError(e)
    } finally {
      setBusy(null)
    }
  }

  const toggle = (id: string, on: boolean) => {
    const next = new Set(selected)
    if (on) next.add(id)
    else next.delete(id)
    setSelected(next)
  }

  const visible = l?.data ?? []
  // Only what is still listed can be acted on: a replayed or evicted one leaves the selection.
  const chosen = visible.filter((m) => selected.has(m.id)).length
  const button = (what: 'replay' | 'discard', all: boolean, label: string, disabled: boolean, danger = false) => (
    <button type="button" className={`button${danger ? ' danger-outline' : ''}`} onClick={() => act(what, all)} disabled={disabled || busy !== null}>
      {busy === `${what}-${all ? 'all' : 'selected'}` ? <Spinner /> : null}
      {label}
    </button>
  )

  return (
    <section className="card" aria-labelledby={titleId}>
      <h2 id={titleId}>Failed messages · action {n}</h2>
      <p className="muted small">{target}</p>
      {list.error && !l ? <ErrorAlert error={list.error} title="Could not load the failed messages" /> : null}
      {!l ? (
        list.error ? null : <p className="loading">Loading the failed messages…</p>
      ) : (
        <>
          <dl className="stat-row">
            <Stat label="Kept" value={formatCount(l.stored)} tone={l.stored > 0 ? 'bad' : undefined} />
            <Stat label="Evicted" value={formatCount(l.evicted)} tone={l.evicted > 0 ? 'warn' : undefined} />
          </dl>
          <p className="muted small">Bound: {formatCount(l.maxMessages)} messages or {formatBytes(l.maxBytes)}; beyond it the oldest go first (counted as evicted).</p>
          {!l.enabled && <p className="muted small">This action no longer keeps failed messages (option keepFailed is off); those kept earlier stay here.</p>}
          <ErrorAlert error={error} />
          {done && <Notice>{done}</Notice>}
          {l.stored === 0 ? (
            <p className="muted">No failed messages: everything this action was given was delivered, or is still on its way.</p>
          ) : (
            <>
              {canEdit && <div className="header-actions failed-actions">
                {button('replay', false, `Replay selected (${chosen})`, chosen === 0)}
                {button('replay', true, 'Replay all', false)}
                {button('discard', false, `Discard selected (${chosen})`, chosen === 0, true)}
                <button type="button" className="button danger-outline" onClick={() => setConfirmingDiscard(true)} disabled={busy !== null}>
                  {busy === 'discard-all' ? <Spinner /> : null}
                  Discard all
                </button>
              </div>}
              <div className="table-wrap">
                <StackTable compact columns={COLUMNS}>
                  {visible.map((m) => (
                    <tr key={m.id} role="row">
                      <td {...cell('Select')}>
                        <input type="checkbox" aria-label={`Select failed message ${m.id}`} checked={selected.has(m.id)} onChange={(e) => toggle(m.id, e.target.checked)} />
                      </td>
                      <td {...cell('Time')}>{formatDate(m.at)}</td>
                      <td {...cell('Reason')} className="wrap" title={m.error ?? undefined}>{reasonText(m)}</td>
                      <td {...cell('Attempts')} className="num">{m.attempts}</td>
                      <td {...cell('Payload')} className="wrap mono small">{m.excerpt}</td>
                      <td {...cell('Actions')}>
                        <button type="button" className="button small" onClick={() => setShowing(m.id)} aria-label={`Show failed message ${m.id}`}>Show</button>
                      </td>
                    </tr>
                  ))}
                </StackTable>
              </div>
              {l.next && limit < 1000 && (
                <button type="button" className="button" onClick={() => setLimit(Math.min(1000, limit + PAGE))}>Show more</button>
              )}
            </>
          )}
        </>
      )}
      {confirmingDiscard && l && (
        <Dialog
          title={`Discard all failed messages of action ${n}?`}
          onClose={() => setConfirmingDiscard(false)}
          footer={
            <>
              <button type="button" className="button" onClick={() => setConfirmingDiscard(false)} autoFocus>Cancel</button>
              <button type="button" className="button danger" onClick={() => { setConfirmingDiscard(false); void act('discard', true) }}>Discard all</button>
            </>
          }
        >
          <p>The {plural(l.stored, 'message')} this action kept are deleted for good; they cannot be replayed afterwards.</p>
        </Dialog>
      )}
      {showing && <FailedMessageDialog dep={dep} ruleId={ruleId} index={index} messageId={showing} onClose={() => setShowing(null)} />}
    </section>
  )
}

function FailedMessageDialog({ dep, ruleId, index, messageId, onClose }: { dep: string; ruleId: string; index: number; messageId: string; onClose: () => void }) {
  const m = useResource(() => api.failedMessage(dep, ruleId, index, messageId), `failed-message:${dep}:${ruleId}:${index}:${messageId}`)
  const d = m.data
  return (
    <Dialog title={`Failed message ${messageId}`} onClose={onClose} footer={<button type="button" className="button" onClick={onClose}>Close</button>}>
      {m.error && <ErrorAlert error={m.error} title="Could not load the message" />}
      {!d ? (
        m.error ? null : <p className="loading">Loading…</p>
      ) : (
        <>
          <dl className="info-grid">
            <div>
              <dt>Time</dt>
              <dd>{formatDate(d.at)}</dd>
            </div>
            <div>
              <dt>Reason</dt>
              <dd>{reasonText(d)}</dd>
            </div>
            <div>
              <dt>Attempts</dt>
              <dd>{d.attempts}</dd>
            </div>
          </dl>
          {d.error && <p className="error-text">{d.error}</p>}
          <pre className="json" aria-label="Message">{JSON.stringify(d.message, null, 2)}</pre>
        </>
      )}
    </Dialog>
  )
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${Math.round((n / (1024 * 1024)) * 10) / 10} MiB`
  if (n >= 1024) return `${Math.round(n / 1024)} KiB`
  return `${n} B`
}
