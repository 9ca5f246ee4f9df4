/**
 * A one-time confirmation ("Connector x created.") that the user can dismiss. The live region is
 * always rendered, so a screen reader also announces a message that appears after the page.
 */
export function FlashMessage({ message, onDismiss }: { message: string | null; onDismiss: () => void }) {
  return (
    <div aria-live="polite">
      {message && (
        <p className="flash">
          {message}
          <button type="button" className="flash-close" aria-label="Dismiss message" onClick={onDismiss}>
            ×
          </button>
        </p>
      )}
    </div>
  )
}
