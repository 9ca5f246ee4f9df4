import type { ReactNode } from 'react'
import { TrashIcon } from './Icons.tsx'

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

/** The delete (or remove) button of a row or item: a danger IconButton with the trash icon. */
export function DeleteIconButton({ label, title, onClick }: { label: string; title?: string; onClick: () => void }) {
  return (
    <IconButton className="danger" label={label} title={title} onClick={onClick}>
      <TrashIcon />
    </IconButton>
  )
}
