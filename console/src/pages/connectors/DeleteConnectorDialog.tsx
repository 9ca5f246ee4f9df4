import { useEffect, useState } from 'react'
import { ApiError, api } from '../../api/client.ts'
import type { RuleRef } from '../../api/types.ts'
import { ErrorAlert } from '../../components/Alert.tsx'
import { DeleteButton, useDeleting } from '../../components/ConfirmDeleteDialog.tsx'
import { Dialog } from '../../components/Dialog.tsx'
import { plural } from '../../lib/format.ts'
import { href } from '../../lib/router.ts'

export interface DeleteTarget {
  id: string
  name: string
  ruleCount: number
}

/**
 * Deleting a connector: refused while rules use it (they are listed as links); otherwise the
 * connector ID must be typed to enable Delete.
 */
export function DeleteConnectorDialog({ dep, target, onClose, onDeleted }: { dep: string; target: DeleteTarget; onClose: () => void; onDeleted: () => void }) {
  const [rules, setRules] = useState<RuleRef[] | null>(null)
  const [inUse, setInUse] = useState(target.ruleCount > 0)
  const [typed, setTyped] = useState('')
  const deleting = useDeleting(async () => {
    try {
      await api.deleteConnector(dep, target.id, typed)
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 'CONNECTOR_IN_USE')) throw e
      setRules(e.body.rules ?? [])
      setInUse(true)
      return false
    }
  }, onDeleted)
  const { busy, error, setError } = deleting

  useEffect(() => {
    // The list's rule count may be a poll old: the details say which rules use it now.
    let live = true
    api.connector(dep, target.id).then(
      (d) => {
        if (!live) return
        setRules(d.rules)
        setInUse(d.rules.length > 0)
      },
      (e) => live && setError(e),
    )
    return () => {
      live = false
    }
  }, [dep, target.id])

  if (inUse) {
    const n = rules?.length ?? target.ruleCount
    return (
      <Dialog
        title={`Cannot delete ${target.name}`}
        onClose={onClose}
        footer={
          <button type="button" className="button" onClick={onClose} autoFocus>
            Cancel
          </button>
        }
      >
        <p>
          <strong>{target.name}</strong> is used by {plural(n, 'rule')}. Remove the connector from these rules (or delete them) first:
        </p>
        {rules === null ? (
          <p className="loading">Loading the rules…</p>
        ) : (
          <ul className="link-list">
            {rules.map((r) => (
              <li key={r.id}>
                <a href={href.rule(dep, r.id)} onClick={onClose}>
                  {r.name}
                </a>{' '}
                <span className="mono muted">{r.id}</span>
              </li>
            ))}
          </ul>
        )}
        <ErrorAlert error={error} />
      </Dialog>
    )
  }

  const matches = typed === target.id
  return (
    <Dialog
      title={`Delete ${target.name}?`}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <DeleteButton deleting={deleting} disabled={!matches} />
        </>
      }
    >
      <p>
        This stops the connection and removes the connector for good. To confirm, type its ID <code className="copyable">{target.id}</code>.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault()
          if (matches && !busy) void deleting.run()
        }}
      >
        <div className="field">
          <label htmlFor="delete-confirm">Type the connector ID to confirm</label>
          <input id="delete-confirm" className="mono" autoComplete="off" spellCheck={false} value={typed} onChange={(e) => setTyped(e.target.value)} autoFocus />
        </div>
      </form>
      <ErrorAlert error={error} />
    </Dialog>
  )
}
