import type { ReactNode } from 'react'

/**
 * A button that shows only an icon: `label` is its accessible name and, unless `title` says
 * more, its tooltip too. `className` adds to `icon-button` (e.g. `danger`).
 */
export function IconButton({ label, title = label, className, id, disabled, onClick, children }: {
  label: string
  title?: string
  className?: string
  id?: string
  disabled?: boolean
  onClick: () => void
  children: ReactNode
}) {
  return (
    <button type="button" id={id} className={className ? `icon-button ${className}` : 'icon-button'} aria-label={label} title={title} disabled={disabled} onClick={onClick}>
      {children}
    </button>
  )
}
