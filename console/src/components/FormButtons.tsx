import type { ReactNode } from 'react'
import { Spinner } from './Spinner.tsx'

/**
 * A form's primary submit button: while `busy`, disabled and `busyLabel` ("Saving…") with a
 * spinner. `form` is the form's id when the button stands outside it (a dialog's footer).
 */
export function SubmitButton({ busy, busyLabel = 'Saving…', form, children }: { busy: boolean; busyLabel?: string; form?: string; children: ReactNode }) {
  return (
    <button type="submit" form={form} className="button primary" disabled={busy}>
      {busy ? <><Spinner />{` ${busyLabel}`}</> : children}
    </button>
  )
}

/** The footer of a dialog holding a form (`form`, its id): Cancel, then the form's submit button. */
export function DialogFormFooter({ form, busy, busyLabel, onCancel, children }: { form: string; busy: boolean; busyLabel?: string; onCancel: () => void; children: ReactNode }) {
  return (
    <>
      <button type="button" className="button" onClick={onCancel}>Cancel</button>
      <SubmitButton form={form} busy={busy} busyLabel={busyLabel}>{children}</SubmitButton>
    </>
  )
}
