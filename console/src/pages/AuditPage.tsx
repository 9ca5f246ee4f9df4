import { useState, type FormEvent } from 'react'
import { api, type AuditEntry, type AuditFilters } from '../api/client.ts'
import { ErrorAlert } from '../components/Alert.tsx'
import { StackTable, cell } from '../components/StackTable.tsx'
import { formatDate } from '../lib/format.ts'
import { useResource } from '../lib/use-resource.ts'

const COLUMNS = ['When', 'Who', 'From', 'Action', 'Object', 'Changes']
const OBJECT_TYPES = ['deployment', 'connector', 'rule', 'failed-message', 'device-user', 'device-acl', 'user', 'api-key']

const describeDiff = (e: AuditEntry) =>
  e.diff === null || e.diff.length === 0 ? '-' : e.diff.map((d) => d.path || '(whole)').slice(0, 3).join(', ') + (e.diff.length > 3 ? ` +${e.diff.length - 3}` : '')

/** Audit log: every change made through the API, newest first, filtered; admins only. */
export function AuditPage() {
  const [filters, setFilters] = useState<AuditFilters>({})
  const [draft, setDraft] = useState<AuditFilters>({})
  const [more, setMore] = useState<AuditEntry[]>([])
  const [next, setNext] = useState<string | undefined>(undefined)
  const [exportError, setExportError] = useState<Error | undefined>(undefined)
  const page = useResource(async () => {
    const r = await api.audit(filters)
    setMore([])
    setNext(r.next)
    return r.data
  }, `audit:${JSON.stringify(filters)}`)
  const entries = [...(page.data ?? []), ...more]

  const apply = (e: FormEvent) => {
    e.preventDefault()
    setFilters(Object.fromEntries(Object.entries(draft).filter(([, v]) => v)) as AuditFilters)
  }
  const loadMore = async () => {
    if (!next) return
    const r = await api.audit({ ...filters, after: next })
    setMore((m) => [...m, ...r.data])
    setNext(r.next)
  }
  const exportLines = async () => {
    try {
      setExportError(undefined)
      const text = await api.auditExport(filters)
      const url = URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' }))
      const a = document.createElement('a')
      a.href = url
      a.download = 'junction-audit.jsonl'
      a.click()
      URL.revokeObjectURL(url)
    } catch (err) {
      setExportError(err as Error)
    }
  }

  return (
    <>
      <header className="page-header">
        <div>
          <p className="eyebrow">Administration</p>
          <h1>Audit log</h1>
          <p className="page-intro">Every change made through the API or this console: who, when, from which address, and which fields changed (secrets masked).</p>
        </div>
        <button type="button" className="button" onClick={() => void exportLines()}>Export (JSON lines)</button>
      </header>
      <form className="card audit-filters" onSubmit={apply} aria-label="Filter the audit log">
        <label>Who <input name="actor" value={draft.actor ?? ''} onChange={(e) => setDraft({ ...draft, actor: e.target.value })} placeholder="user or API key" /></label>
        <label>Action <input name="action" value={draft.action ?? ''} onChange={(e) => setDraft({ ...draft, action: e.target.value })} placeholder="create, update, delete..." /></label>
        <label>Object
          <select name="objectType" value={draft.objectType ?? ''} onChange={(e) => setDraft({ ...draft, objectType: e.target.value })}>
            <option value="">any</option>
            {OBJECT_TYPES.map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
        </label>
        <button type="submit" className="button primary">Filter</button>
      </form>
      <ErrorAlert error={page.error ?? exportError} title="Could not load the audit log" />
      {!page.data && page.loading && <p className="loading">Loading the audit log…</p>}
      {page.data && entries.length === 0 && <div className="empty-state"><h2>No changes recorded{Object.keys(filters).length ? ' that match' : ' yet'}</h2></div>}
      {entries.length > 0 && (
        <div className="table-wrap">
          <StackTable columns={COLUMNS}>
            {entries.map((e) => (
              <tr key={e.id} role="row">
                <td {...cell('When')}>{formatDate(e.at)}</td>
                <td {...cell('Who')} className="mono">{e.actor.name}{e.actor.kind === 'api_key' ? ' (API key)' : ''}</td>
                <td {...cell('From')} className="mono">{e.source}</td>
                <td {...cell('Action')}>{e.action}</td>
                <td {...cell('Object')}>{e.objectType}{e.objectId ? <> <span className="mono">{e.objectId}</span></> : null}</td>
                <td {...cell('Changes')} title={e.diff ? JSON.stringify(e.diff, null, 1) : undefined}>{describeDiff(e)}</td>
              </tr>
            ))}
          </StackTable>
        </div>
      )}
      {next && <button type="button" className="button" onClick={() => void loadMore()}>Load more</button>}
    </>
  )
}
