/** Display helpers: dates, rates, counts. */

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' })
}

export function formatAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—'
  const s = Math.round((now - new Date(iso).getTime()) / 1000)
  if (!Number.isFinite(s)) return '—'
  if (s < 5) return 'just now'
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`
  return `${Math.floor(s / 86400)} d ago`
}

export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—'
  return n.toLocaleString()
}

export function formatRate(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—'
  const v = n >= 100 ? Math.round(n).toLocaleString() : n >= 10 ? n.toFixed(1) : n.toFixed(2)
  return `${v}/s`
}

/** "must be an integer" + hint -> "Must be an integer. Give an integer." for text next to a field. */
export function fieldMessage(message: string, hint?: string): string {
  const m = message.charAt(0).toUpperCase() + message.slice(1)
  const withDot = /[.!?]$/.test(m) ? m : `${m}.`
  if (!hint || /^Add the field/i.test(hint)) return withDot
  return `${withDot} ${hint}`
}

/** "1 rule", "2 rules", "1 message", "3 rule actions": a count with its noun, never "rule(s)". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`
}
