/** A coloured status pill: its text is the status itself; the reason shows as a tooltip. */
export function StatusBadge({ status, reason }: { status: string; reason?: string | null }) {
  return (
    <span className={`badge badge-${status}`} title={reason ?? undefined}>
      {status}
    </span>
  )
}
