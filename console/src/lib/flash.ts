/** A one-time message carried across a navigation ("Connector warehouse created"). */
let pending: string | null = null

export function setFlash(message: string): void {
  pending = message
}

export function takeFlash(): string | null {
  const m = pending
  pending = null
  return m
}
