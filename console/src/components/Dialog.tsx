import { useEffect, useId, useRef, type ReactNode } from 'react'
import { createPortal } from 'react-dom'

/**
 * A modal dialog on the native <dialog> element: focus moves into it and stays there, Escape
 * closes it. It renders outside the app root, which is hidden from assistive technology while
 * the dialog is open, so only the dialog's controls are announced (and found by role).
 */
export function Dialog({ title, onClose, children, footer }: { title: string; onClose: () => void; children: ReactNode; footer: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null)
  const titleId = useId()
  const onCloseRef = useRef(onClose)
  onCloseRef.current = onClose
  useEffect(() => {
    const el = ref.current
    if (!el) return
    const root = document.getElementById('root')
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null
    if (!el.open) el.showModal()
    root?.setAttribute('aria-hidden', 'true')
    const onCancel = (e: Event) => {
      e.preventDefault()
      onCloseRef.current()
    }
    el.addEventListener('cancel', onCancel)
    return () => {
      el.removeEventListener('cancel', onCancel)
      if (el.open) el.close()
      root?.removeAttribute('aria-hidden')
      // Back to the button that opened the dialog, when it is still there.
      if (opener?.isConnected) opener.focus()
    }
  }, [])
  return createPortal(
    <dialog ref={ref} className="dialog" aria-labelledby={titleId}>
      <h2 id={titleId} className="dialog-title">
        {title}
      </h2>
      <div className="dialog-body">{children}</div>
      <div className="dialog-footer">{footer}</div>
    </dialog>,
    document.body,
  )
}
