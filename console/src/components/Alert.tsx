import type { ReactNode } from 'react'
import { ApiError } from '../api/client.ts'
import { RichText } from './RichText.tsx'

/** An error where the user acted: the API's message, its hint, and the stable code. */
export function ErrorAlert({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null
  const message = error instanceof Error ? error.message : String(error)
  const hint = error instanceof ApiError ? error.body.hint : undefined
  const code = error instanceof ApiError ? error.code : undefined
  return (
    <div role="alert" className="alert alert-error">
      {title && <strong className="alert-title">{title}</strong>}
      <p className="alert-message">
        <RichText text={message} />
      </p>
      {hint && (
        <p className="alert-hint">
          <RichText text={hint} />
        </p>
      )}
      {code && <p className="alert-code">{code}</p>}
    </div>
  )
}

export function Notice({ children }: { children: ReactNode }) {
  return (
    <div role="status" className="alert alert-info">
      {children}
    </div>
  )
}
