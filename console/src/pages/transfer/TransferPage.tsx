import { useId, useState } from 'react'
import { exportDocument, importDocument, type ImportPlan, type PlanItem } from '../../api/transfer.ts'
import { ErrorAlert } from '../../components/Alert.tsx'
import { FlashMessage } from '../../components/FlashMessage.tsx'
import { Spinner } from '../../components/Spinner.tsx'
import { TextField } from '../../components/TextField.tsx'
import { NEEDS_ROLE, RoleFieldset, useCan } from '../../lib/identity.tsx'

const KIND_LABEL: Record<PlanItem['kind'], string> = { deployment: 'Deployment', connector: 'Connector', rule: 'Rule', mqttUser: 'Device user', mqttAcl: 'ACL' }
const show = (v: unknown) => (v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v))

/** Export this deployment's configuration, and import a document: the plan first, then apply. */
export function TransferPage({ dep }: { dep: string }) {
  const uid = useId()
  const [format, setFormat] = useState<'json' | 'yaml'>('yaml')
  const [exportPassphrase, setExportPassphrase] = useState('')
  const [exporting, setExporting] = useState(false)
  const [exportError, setExportError] = useState<unknown>(null)

  const [text, setText] = useState('')
  const [passphrase, setPassphrase] = useState('')
  const [prune, setPrune] = useState(false)
  const [plan, setPlan] = useState<ImportPlan | null>(null)
  /** What the plan shown was made from: Apply applies only that. */
  const [plannedFrom, setPlannedFrom] = useState<string | null>(null)
  const [busy, setBusy] = useState<'plan' | 'apply' | null>(null)
  const [error, setError] = useState<unknown>(null)
  const [flash, setFlash] = useState<string | null>(null)
  const canApply = useCan('admin')

  const download = async () => {
    setExporting(true)
    setExportError(null)
    try {
      const doc = await exportDocument(dep, format, exportPassphrase)
      const url = URL.createObjectURL(new Blob([doc], { type: format === 'yaml' ? 'application/yaml' : 'application/json' }))
      const a = document.createElement('a')
      a.href = url
      a.download = `junction-${dep}-${new Date().toISOString().slice(0, 10)}.${format}`
      a.click()
      URL.revokeObjectURL(url)
    } catch (e) {
      setExportError(e)
    } finally {
      setExporting(false)
    }
  }

  const key = JSON.stringify([text, passphrase, prune])
  const run = async (step: 'plan' | 'apply') => {
    setBusy(step)
    setError(null)
    try {
      const p = await importDocument(step, text, passphrase, prune)
      if (step === 'plan') {
        setPlan(p)
        setPlannedFrom(key)
      } else {
        setPlan(null)
        setPlannedFrom(null)
        setFlash(`Imported: ${p.summary.create} created, ${p.summary.update} updated, ${p.summary.delete} deleted, ${p.summary.unchanged} unchanged.`)
      }
    } catch (e) {
      setError(e)
    } finally {
      setBusy(null)
    }
  }
  const changes = plan ? plan.summary.create + plan.summary.update + plan.summary.delete : 0

  return (
    <>
      <header className="page-header">
        <div>
          <p className="eyebrow">Configuration</p>
          <h1>Export and import</h1>
          <p className="page-intro">
            Connectors, rules, device users and the ACL as one document. Secrets are never written in clear: without a passphrase they are references that
            only this Junction resolves; with one they are encrypted (AES-256-GCM) and any Junction given the passphrase can import them.
          </p>
        </div>
      </header>
      <FlashMessage message={flash} onDismiss={() => setFlash(null)} />

      <section className="form card form-section" aria-labelledby={`${uid}-export`}>
        <h2 id={`${uid}-export`} className="form-section-title">Export</h2>
        {/* An export holds device users' password hashes: admins only (GET /export). */}
        <RoleFieldset needs="admin">
        <div className="field">
          <label htmlFor={`${uid}-format`}>Format</label>
          <select id={`${uid}-format`} value={format} onChange={(e) => setFormat(e.target.value as 'json' | 'yaml')}>
            <option value="yaml">YAML</option>
            <option value="json">JSON</option>
          </select>
        </div>
        <TextField id={`${uid}-export-pass`} label="Passphrase (optional)" type="password" value={exportPassphrase} onChange={setExportPassphrase} autoComplete="new-password"
          help="At least 8 characters. Needed to import the secrets into another Junction; leave empty to export references." />
        <ErrorAlert error={exportError} title="Could not export" />
        <div className="form-actions">
          <button type="button" className="button primary" onClick={() => void download()} disabled={exporting}>
            {exporting ? <><Spinner /> Exporting…</> : 'Download'}
          </button>
        </div>
        </RoleFieldset>
      </section>

      <section className="form card form-section" aria-labelledby={`${uid}-import`}>
        <h2 id={`${uid}-import`} className="form-section-title">Import</h2>
        <RoleFieldset needs="editor">
        <div className="field">
          <label htmlFor={`${uid}-doc`}>Document</label>
          <input type="file" accept=".json,.yaml,.yml" aria-label="Read the document from a file" onChange={(e) => { const f = e.target.files?.[0]; if (f) void f.text().then(setText) }} />
          <textarea id={`${uid}-doc`} className="mono" rows={10} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
          <p className="field-help">An export document, JSON or YAML. Nothing changes until you apply the plan.</p>
        </div>
        <TextField id={`${uid}-pass`} label="Passphrase" type="password" value={passphrase} onChange={setPassphrase} help="The export's passphrase, if it was exported with one." autoComplete="off" />
        <div className="field field-check">
          <div className="check-row">
            <input id={`${uid}-prune`} type="checkbox" checked={prune} onChange={(e) => setPrune(e.target.checked)} />
            <label htmlFor={`${uid}-prune`}>Delete what the document does not have</label>
          </div>
        </div>
        <ErrorAlert error={error} title={busy === 'apply' || plan ? 'Could not import' : 'Could not plan the import'} />
        <div className="form-actions">
          <button type="button" className="button" onClick={() => void run('plan')} disabled={busy !== null || text.trim() === ''}>
            {busy === 'plan' ? <><Spinner /> Planning…</> : 'Show plan'}
          </button>
          <button type="button" className="button primary" onClick={() => void run('apply')} disabled={!canApply || busy !== null || plan === null || plannedFrom !== key || changes === 0} title={canApply ? undefined : NEEDS_ROLE.admin}>
            {busy === 'apply' ? <><Spinner /> Applying…</> : 'Apply plan'}
          </button>
        </div>
        {plan && plannedFrom !== key && <p className="field-help">The document changed since this plan: show the plan again before applying.</p>}
        {!canApply && <p className="field-help">Planning needs the editor role; applying a plan (which may create deployments) needs the admin role.</p>}
        </RoleFieldset>
      </section>

      {plan && (
        <section className="card form-section" aria-labelledby={`${uid}-plan`}>
          <h2 id={`${uid}-plan`} className="form-section-title">
            Plan: {plan.summary.create} to create, {plan.summary.update} to update, {plan.summary.delete} to delete, {plan.summary.unchanged} unchanged
          </h2>
          <div className="table-wrap">
            <table>
              <thead><tr><th>Object</th><th>Name</th><th>Action</th><th>Changes</th></tr></thead>
              <tbody>
                {plan.items.map((i) => (
                  <tr key={`${i.kind}:${i.deployment}:${i.id}`}>
                    <td>{KIND_LABEL[i.kind]} <span className="mono muted">{i.id}</span></td>
                    <td>{i.name}</td>
                    <td><strong>{i.action}</strong></td>
                    <td>
                      {(i.changes ?? []).map((c) => (
                        <div key={c.path} className="mono">{c.path}: {show(c.from)} → {show(c.to)}</div>
                      ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </>
  )
}
