import type { InputHTMLAttributes, ReactNode, Ref } from 'react'

/**
 * A labelled text input of a hand-written form (the generated ones use SchemaForm): the required
 * mark, the server's error for the field (which replaces the help text) and aria wiring, with
 * `${id}-error` / `${id}-help` as the ids they are described by.
 */
export function TextField({ id, label, value, onChange, required, error, help, inputRef, ...input }: {
  id: string
  label: string
  value: string
  onChange: (value: string) => void
  required?: boolean
  error?: string
  help?: ReactNode
  inputRef?: Ref<HTMLInputElement>
} & Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'value' | 'onChange' | 'required'>) {
  const describedBy = error ? `${id}-error` : help ? `${id}-help` : undefined
  return (
    <div className={`field${error ? ' has-error' : ''}`}>
      {required ? (
        <div className="label-row">
          <label htmlFor={id}>{label}</label>
          <span className="required-mark" aria-hidden="true" title="Required">
            *
          </span>
        </div>
      ) : (
        <label htmlFor={id}>{label}</label>
      )}
      <input
        ref={inputRef}
        id={id}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-required={required ? 'true' : undefined}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        autoComplete="off"
        {...input}
      />
      {error ? (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      ) : (
        help && (
          <p id={`${id}-help`} className="field-help">
            {help}
          </p>
        )
      )}
    </div>
  )
}
