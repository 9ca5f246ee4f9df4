import { useState, type ReactNode } from 'react'
import { ErrorAlert } from './Alert.tsx'
import { Dialog } from './Dialog.tsx'
import { Spinner } from './Spinner.tsx'

export interface Deleting {
  /** From the click on; still set after success, so Delete cannot fire twice before the dialog closes. */
  busy: boolean
  /** Why the last attempt failed; null while none has. */
  error: unknown
  /** Shows an error that is not the delete's own (e.g. loading what the dialog lists). */
  setError: (error: unknown) => void
  run: () => Promise<void>
}

/**
 * The delete request of a dialog: `remove` runs once per click and `onDeleted` follows when it
 * resolves; a failure is kept in `error` and Delete can be pressed again. `remove` resolves to
 * false when it did not delete and has shown why itself (no error, no `onDeleted`).
 */
export function useDeleting(remove: () => Promise<boolean | void>, onDeleted: () => void): Deleting {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const run = async () => {
    setBusy(true)
    setError(null)
    try {
      if ((await remove()) === false) {
        setBusy(false)
        return
      }
      onDeleted()
    } catch (e) {
      setError(e)
      setBusy(false)
    }
  }
  return { busy, error, setError, run }
}

/** The dialog's Delete button, "Deleting…" with a spinner while the request runs. */
export function DeleteButton({ deleting, disabled = false }: { deleting: Deleting; disabled?: boolean }) {
  return (
    <button type="button" className="button danger" onClick={deleting.run} disabled={disabled || deleting.busy}>
      {deleting.busy ? (
        <>
          <Spinner /> Deleting…
        </>
      ) : (
        'Delete'
      )}
    </button>
  )
}

/**
 * "Delete x?" with Cancel (focused first, so Enter does not delete) and Delete; `children` say
 * what deleting it does. The dialog stays open with the error when the delete fails.
 */
export function ConfirmDeleteDialog({ title, remove, onClose, onDeleted, errorTitle, children }: {
  title: string
  remove: () => Promise<unknown>
  onClose: () => void
  onDeleted: () => void
  errorTitle?: string
  children: ReactNode
}) {
  const deleting = useDeleting(async () => {
    await remove()
  }, onDeleted)
  return (
    <Dialog
      title={title}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="button" onClick={onClose} autoFocus>
            Cancel
          </button>
          <DeleteButton deleting={deleting} />
        </>
      }
    >
      {children}
      <ErrorAlert error={deleting.error} title={errorTitle} />
    </Dialog>
  )
}
