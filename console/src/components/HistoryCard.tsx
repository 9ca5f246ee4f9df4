import { useState } from 'react'
import { type HistoryVersion } from '../api/client.ts'
import { ErrorAlert } from './Alert.tsx'
import { Dialog } from './Dialog.tsx'
import { Spinner } from './Spinner.tsx'
import { StackTable, cell } from './StackTable.tsx'
import { formatDate } from '../lib/format.ts'
import { useResource } from '../lib/use-resource.ts'
import { useCan } from '../lib/identity.tsx'

const COLUMNS = ['Version', 'When', 'Who', 'What changed', { label: 'Revert', className: 'actions-col' }]

const ACTIONS: Record<string, string> = {
  create: 'Created', update: 'Edited', revert: 'Reverted', enable: 'Enabled', disable: 'Disabled', baseline: 'State when history began',
}

function show(v: unknown): string {
  if (v === undefined) return '(not set)'
  if (typeof v === 'string') return v === '' ? '""' : v
  return JSON.stringify(v)
}

/** `config.host: a → b` per changed field; secrets arrive as `******` from the API. */
function Diff({ diff }: { diff: HistoryVersion['diff'] }) {
  if (diff === null) return null
  if (diff.length === 0) return <span className="muted">no field changed</span>
  return (
    <ul className="history-diff">
      {diff.map((d) => (
        <li key={d.path}>
          <code>{d.path || '(whole)'}</code>: <span className="history-before">{show(d.before)}</span> → <span className="history-after">{show(d.after)}</span>
        </li>
      ))}
    </ul>
  )
}

/**
 * A connector's or rule's versions, newest first, with who changed what; editors and admins can
 * put an earlier version back (after a confirmation). The newest version is what runs now.
 */
export function HistoryCard({ noun, load, revert, onReverted, reloadKey }: {
  noun: 'connector' | 'rule'
  load: (after?: number) => Promise<{ data: HistoryVersion[]; next?: string }>
  revert: (version: number) => Promise<unknown>
  onReverted: () => void
  /** Changes when the object changes (its version or update time), so the list follows. */
  reloadKey: string
}) {
  const [more, setMore] = useState<HistoryVersion[]>([])
  const [next, setNext] = useState<string | undefined>(undefined)
  const page = useResource(async () => {
    const r = await load()
    setMore([])
    setNext(r.next)
    return r.data
  }, `history:${reloadKey}`)
  const [confirming, setConfirming] = useState<HistoryVersion | null>(null)
  const [reverting, setReverting] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const canRevert = useCan('editor')
  const versions = [...(page.data ?? []), ...more]
  const newest = versions[0]?.version

  const loadMore = async () => {
    if (!next) return
    const r = await load(Number(next))
    setMore((m) => [...m, ...r.data])
    setNext(r.next)
  }
  const confirm = async () => {
    if (!confirming) return
    setReverting(true)
    setError(null)
    try {
      await revert(confirming.version)
      setConfirming(null)
      onReverted()
      await page.reload()
    } catch (e) {
      setError(e)
    } finally {
      setReverting(false)
    }
  }

  return (
    <section className="card" aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      <p className="muted small">
        Every saved version of this {noun}: who changed it, from where, and which fields (secrets are never shown). Reverting applies an earlier version as a new edit; the history is deleted with the {noun}.
      </p>
      <ErrorAlert error={page.error} title="Could not load the history" />
      {!confirming && <ErrorAlert error={error} title="Could not revert" />}
      {page.data && versions.length === 0 && <p className="muted">No versions recorded.</p>}
      {versions.length > 0 && (
        <div className="table-wrap">
          <StackTable compact columns={COLUMNS}>
            {versions.map((v) => (
              <tr key={v.version} role="row">
                <td {...cell('Version')} className="mono">
                  <div>
                    {v.version}
                    {v.version === newest && <span className="tag">current</span>}
                  </div>
                </td>
                <td {...cell('When')} className="history-when">{formatDate(v.at)}</td>
                <td {...cell('Who')} className="history-who">
                  {/* One child per cell: the narrow layout puts each child of a cell in a grid column. */}
                  <div>
                    <span className="mono">{v.actor.name}</span>
                    {v.actor.kind === 'api_key' ? ' (API key)' : ''}
                    {v.source && <span className="muted small history-source">from {v.source}</span>}
                  </div>
                </td>
                <td {...cell('What changed')} className="wrap">
                  <div>
                    <strong>{ACTIONS[v.action] ?? v.action}</strong>
                    {v.revertedFrom !== undefined && <> to version {v.revertedFrom}</>}
                    <Diff diff={v.diff} />
                  </div>
                </td>
                <td {...cell('Revert')} className="actions-col">
                  {canRevert && v.version !== newest && (
                    <button type="button" className="button small" onClick={() => { setError(null); setConfirming(v) }}>
                      Revert to this version
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </StackTable>
        </div>
      )}
      {next && <button type="button" className="button" onClick={() => void loadMore()}>Older versions</button>}
      {confirming && (
        <Dialog
          title={`Revert to version ${confirming.version}?`}
          onClose={() => setConfirming(null)}
          footer={
            <>
              <button type="button" className="button" onClick={() => setConfirming(null)} disabled={reverting}>Cancel</button>
              <button type="button" className="button primary" onClick={() => void confirm()} disabled={reverting}>
                {reverting ? <Spinner /> : null} Revert
              </button>
            </>
          }
        >
          <p>
            The {noun} gets the settings it had in version {confirming.version} (saved {formatDate(confirming.at)} by {confirming.actor.name})
            {noun === 'connector' ? ', its secrets included, and reconnects with them' : ', and runs them from now on'}. This is recorded as a new version; nothing else is lost.
          </p>
          <ErrorAlert error={error} title="Could not revert" />
        </Dialog>
      )}
    </section>
  )
}
