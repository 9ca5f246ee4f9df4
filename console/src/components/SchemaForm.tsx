import { useEffect, useId, useState, type ReactNode } from 'react'
import type { JsonSchema } from '../lib/schema.ts'
import {
  asFormObject,
  enumOptions,
  errorsUnder,
  fieldKind,
  fieldLabel,
  isMultiline,
  isPrimaryField,
  requiredKeys,
  type FormObject,
  type FormValue,
  type MapRows,
} from '../lib/schema.ts'
import { RichText } from './RichText.tsx'

export type Labeller = (key: string, schema: JsonSchema) => string

export interface SchemaFormProps {
  schema: JsonSchema
  values: FormObject
  onChange: (values: FormObject) => void
  /** Server field errors by request path ("config.port" -> message). */
  errors: Record<string, string>
  /** The request path of this object ("config", "actions.0.params"). */
  path: string
  /** Put optional and defaulted fields under a collapsed "Advanced settings". */
  split?: boolean
  labeller?: Labeller
  disabled?: boolean
}

/** Form fields generated from an object JSON Schema: one labelled control per property. */
export function SchemaForm({ schema, values, onChange, errors, path, split = false, labeller = fieldLabel, disabled = false }: SchemaFormProps) {
  const required = requiredKeys(schema, values)
  // A group with an `enable` switch (TLS) shows its other fields only while it is on.
  const switchedOff = fieldKind(schema.properties?.enable ?? {}) === 'boolean' && values.enable !== true
  const entries = Object.entries(schema.properties ?? {}).filter(([k]) => !switchedOff || k === 'enable')
  const primary = split ? entries.filter(([k, s]) => isPrimaryField(k, s, required.has(k))) : entries
  const advanced = split ? entries.filter(([k, s]) => !isPrimaryField(k, s, required.has(k))) : []
  const [open, setOpen] = useState(false)
  const regionId = useId()

  // A server error on a field under "Advanced settings" opens it, so the error is seen.
  const advancedHasError = advanced.some(([k]) => errorsUnder(errors, `${path}.${k}`).length > 0)
  useEffect(() => {
    if (advancedHasError) setOpen(true)
  }, [advancedHasError])

  const set = (key: string, v: FormValue) => onChange({ ...values, [key]: v })
  const render = ([key, sub]: [string, JsonSchema]) => (
    <SchemaField
      key={key}
      name={key}
      schema={sub}
      value={values[key]}
      onChange={(v) => set(key, v)}
      required={required.has(key)}
      path={`${path}.${key}`}
      errors={errors}
      labeller={labeller}
      disabled={disabled}
    />
  )

  return (
    <div className="schema-form">
      {primary.map(render)}
      {advanced.length > 0 && (
        <div className="advanced">
          <button
            type="button"
            className="advanced-toggle"
            aria-expanded={open}
            aria-controls={regionId}
            onClick={() => setOpen((o) => !o)}
          >
            <span className="chevron" aria-hidden="true">{open ? '▾' : '▸'}</span>
            Advanced settings
          </button>
          {open && (
            <div id={regionId} className="advanced-fields">
              {advanced.map(render)}
            </div>
          )}
        </div>
      )}
    </div>
  )
}

interface FieldProps {
  name: string
  schema: JsonSchema
  value: FormValue | undefined
  onChange: (v: FormValue) => void
  required: boolean
  path: string
  errors: Record<string, string>
  labeller: Labeller
  disabled: boolean
}

export const fieldId = (path: string) => `f-${path.replace(/[^a-zA-Z0-9_-]/g, '-')}`

function placeholderOf(schema: JsonSchema): string | undefined {
  if (schema.default !== undefined && schema.default !== '' && typeof schema.default !== 'object') return `${String(schema.default)} (default)`
  const ex = schema.examples?.[0]
  if (ex !== undefined && typeof ex !== 'object') return `e.g. ${String(ex)}`
  return undefined
}

function SchemaField({ name, schema, value, onChange, required, path, errors, labeller, disabled }: FieldProps) {
  const kind = fieldKind(schema)
  const label = labeller(name, schema)
  const id = fieldId(path)
  const error = errors[path]
  const helpId = `${id}-help`
  const errorId = `${id}-error`
  const describedBy = [schema.description ? helpId : '', error ? errorId : ''].filter(Boolean).join(' ') || undefined
  const help = schema.description ? (
    <p id={helpId} className="field-help">
      <RichText text={schema.description} />
    </p>
  ) : null
  const errorText = error ? (
    <p id={errorId} className="field-error">
      {error}
    </p>
  ) : null

  if (kind === 'object') {
    const obj = asFormObject(value)
    return (
      <fieldset className="field-group" aria-describedby={describedBy} disabled={disabled}>
        <legend>{label}</legend>
        {help}
        {errorText}
        <SchemaForm schema={schema} values={obj} onChange={onChange} errors={errors} path={path} labeller={labeller} disabled={disabled} />
      </fieldset>
    )
  }

  if (kind === 'map') {
    return (
      <MapField label={label} id={id} rows={Array.isArray(value) ? value : []} onChange={onChange} help={help} errorText={errorText} disabled={disabled} describedBy={describedBy} />
    )
  }

  if (kind === 'boolean') {
    return (
      <div className={`field field-check${error ? ' has-error' : ''}`}>
        <div className="check-row">
          <input
            id={id}
            type="checkbox"
            checked={value === true}
            onChange={(e) => onChange(e.target.checked)}
            aria-invalid={error ? true : undefined}
            aria-describedby={describedBy}
            disabled={disabled}
          />
          <label htmlFor={id}>{label}</label>
        </div>
        {help}
        {errorText}
      </div>
    )
  }

  const str = typeof value === 'string' ? value : ''
  const common = {
    id,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy,
    'aria-required': required || undefined,
    disabled,
  } as const
  let control
  if (kind === 'enum') {
    const options = enumOptions(schema) ?? []
    control = (
      <select {...common} value={str} onChange={(e) => onChange(e.target.value)}>
        {(schema.default === undefined || str === '') && <option value="">Select…</option>}
        {options.map((o) => (
          <option key={String(o)} value={String(o)}>
            {String(o)}
            {schema.default !== undefined && o === schema.default ? ' (default)' : ''}
          </option>
        ))}
      </select>
    )
  } else if (kind === 'integer' || kind === 'number') {
    control = (
      <input
        {...common}
        type="number"
        inputMode={kind === 'integer' ? 'numeric' : 'decimal'}
        step={kind === 'integer' ? 1 : 'any'}
        min={schema.minimum}
        max={schema.maximum}
        placeholder={placeholderOf(schema)}
        value={str}
        onChange={(e) => onChange(e.target.value)}
      />
    )
  } else if (isMultiline(name, schema)) {
    control = (
      <textarea
        {...common}
        className={schema.writeOnly ? 'secret-text mono' : 'mono'}
        rows={/\bPEM\b/.test(schema.description ?? '') ? 4 : 3}
        spellCheck={false}
        autoComplete="off"
        placeholder={placeholderOf(schema)}
        value={str}
        onChange={(e) => onChange(e.target.value)}
      />
    )
  } else {
    control = (
      <input
        {...common}
        type={schema.writeOnly ? 'password' : 'text'}
        autoComplete={schema.writeOnly ? 'new-password' : 'off'}
        spellCheck={false}
        placeholder={placeholderOf(schema)}
        value={str}
        onChange={(e) => onChange(e.target.value)}
      />
    )
  }

  return (
    <div className={`field${error ? ' has-error' : ''}`}>
      <div className="label-row">
        <label htmlFor={id}>{label}</label>
        {required && schema.default === undefined && (
          <span className="required-mark" aria-hidden="true" title="Required">
            *
          </span>
        )}
      </div>
      {control}
      {help}
      {errorText}
    </div>
  )
}

function MapField({ label, id, rows, onChange, help, errorText, disabled, describedBy }: {
  label: string
  id: string
  rows: MapRows
  onChange: (v: MapRows) => void
  help: ReactNode
  errorText: ReactNode
  disabled: boolean
  describedBy: string | undefined
}) {
  const update = (i: number, col: 0 | 1, text: string) => onChange(rows.map((r, j) => (j === i ? (col === 0 ? [text, r[1]] : [r[0], text]) : r)))
  return (
    <fieldset className="field-group map-field" aria-describedby={describedBy} disabled={disabled}>
      <legend>{label}</legend>
      {help}
      {rows.length > 0 && (
        <div className="map-rows">
          {rows.map(([k, v], i) => (
            <div className="map-row" key={i}>
              <input id={i === 0 ? id : undefined} aria-label={`${label} key ${i + 1}`} placeholder="key" value={k} onChange={(e) => update(i, 0, e.target.value)} />
              <input aria-label={`${label} value ${i + 1}`} placeholder="value (template)" value={v} onChange={(e) => update(i, 1, e.target.value)} />
              <button type="button" className="icon-button" aria-label={`Remove ${label} ${i + 1}`} onClick={() => onChange(rows.filter((_, j) => j !== i))}>
                ×
              </button>
            </div>
          ))}
        </div>
      )}
      <button type="button" className="button small" onClick={() => onChange([...rows, ['', '']])}>
        + Add entry
      </button>
      {errorText}
    </fieldset>
  )
}
