/** A small busy indicator next to text such as "Saving…" (the text says it; the spinner only shows it). */
export function Spinner() {
  return <span className="spinner" aria-hidden="true" />
}
