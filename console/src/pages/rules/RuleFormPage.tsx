import { useEffect, useState, type FormEvent, type ReactNode } from 'react'
import { ApiError, api } from '../../api/client.ts'
import type { ActionTypes, ConnectorSummary, ConnectorType, Rule, RuleAction, RuleTestResult } from '../../api/types.ts'
import type { JsonSchema } from '../../lib/schema.ts'
import { ErrorAlert } from '../../components/Alert.tsx'
import { PlusIcon } from '../../components/Icons.tsx'
import { DeleteIconButton } from '../../components/IconButton.tsx'
import { SchemaForm, fieldId } from '../../components/SchemaForm.tsx'
import { SubmitButton } from '../../components/FormButtons.tsx'
import { Spinner } from '../../components/Spinner.tsx'
import { SqlEditor } from '../../components/SqlEditor.tsx'
import { TextField } from '../../components/TextField.tsx'
import { typeTitle, useConnectorTypes } from '../../lib/connector-types.ts'
import { fieldErrorsOf } from '../../lib/field-errors.ts'
import { setFlash } from '../../lib/flash.ts'
import { href, navigate } from '../../lib/router.ts'
import { errorsUnder, initialValues, paramLabel, toPayload, type FormObject } from '../../lib/schema.ts'
import { useResource } from '../../lib/use-resource.ts'
import { sqlOutputNames } from '../../lib/sql-output-names.ts'
import { ActionTestPanel } from './ActionTestPanel.tsx'

const DEFAULT_SQL = 'SELECT\n  clientid,\n  payload.temp AS temp\nFROM\n  "sensors/#"\nWHERE\n  payload.temp > 20'

/** `#/deployments/{dep}/rules/new` */
export function NewRulePage({ dep }: { dep: string }) {
  return <RuleFormLoader dep={dep} />
}

/** `#/deployments/{dep}/rules/{id}/edit` */
export function EditRulePage({ dep, id }: { dep: string; id: string }) {
  return <RuleFormLoader dep={dep} id={id} />
}

function RuleFormLoader({ dep, id }: { dep: string; id?: string }) {
  const types = useConnectorTypes()
  const connectors = useResource(() => api.connectors(dep).then((r) => r.data), `connectors:${dep}`)
  const actionTypes = useResource(() => api.actionTypes(), 'action-types')
  const rule = useResource(() => (id ? api.rule(dep, id) : Promise.resolve(undefined)), `rule:${dep}:${id ?? 'new'}`)
  const error = types.error ?? connectors.error ?? actionTypes.error ?? rule.error
  if (error) return <ErrorAlert error={error} title="Could not load what the rule form needs" />
  if (!types.data || !connectors.data || !actionTypes.data || (id && !rule.data)) return <p className="loading">Loading…</p>
  return <RuleForm key={id ?? 'new'} dep={dep} catalog={{ types: types.data, connectors: connectors.data, actionTypes: actionTypes.data }} existing={rule.data} />
}

/** What an action may send to, with the schemas of its params and options, all from the API. */
interface Catalog {
  connectors: ConnectorSummary[]
  types: ConnectorType[]
  actionTypes: ActionTypes
}

interface TargetDraft {
  /** '' (not chosen), 'republish', or 'connector:<id>'. */
  target: string
  params: FormObject
  options: FormObject
}

interface ActionDraft extends TargetDraft {
  key: number
  /** Where what this action finally fails goes; undefined: nowhere (counted as failed). */
  fallback?: TargetDraft
}

let nextKey = 1

function targetOf(a: RuleAction): string {
  if (a.builtin === 'republish') return 'republish'
  return a.connectorId ? `connector:${a.connectorId}` : ''
}

function paramsSchemaFor(target: string, { connectors, types, actionTypes }: Catalog): JsonSchema | undefined {
  if (target === 'republish') return actionTypes.data.find((b) => b.builtin === 'republish')?.paramsSchema
  if (!target.startsWith('connector:')) return undefined
  const c = connectors.find((x) => `connector:${x.id}` === target)
  return c ? types.find((t) => t.type === c.type)?.paramsSchema : undefined
}

function targetDraftOf(a: RuleAction, catalog: Catalog): TargetDraft {
  const target = targetOf(a)
  const schema = paramsSchemaFor(target, catalog)
  return { target, params: schema ? initialValues(schema, a.params) : {}, options: initialValues(catalog.actionTypes.optionsSchema, a.options) }
}

function draftOf(a: RuleAction, catalog: Catalog): ActionDraft {
  return {
    key: nextKey++,
    ...targetDraftOf(a, catalog),
    ...(a.fallback ? { fallback: targetDraftOf(a.fallback, catalog) } : {}),
  }
}

/** The API's action for a draft (without its fallback). */
function actionOf(d: TargetDraft, catalog: Catalog): RuleAction {
  const schema = paramsSchemaFor(d.target, catalog)
  const params = schema ? toPayload(schema, d.params) : {}
  const options = toPayload(catalog.actionTypes.optionsSchema, d.options)
  if (options.diskBuffer === false) delete options.diskBuffer
  if (options.keepFailed === false) delete options.keepFailed
  const base: RuleAction = d.target === 'republish' ? { builtin: 'republish', params } : { connectorId: d.target.replace(/^connector:/, ''), params }
  return { ...base, ...(Object.keys(options).length > 0 ? { options } : {}) }
}

/** A topic that matches the first FROM filter, for the test panel ("sensors/#" -> "sensors/test"). */
function sampleTopic(sql: string): string {
  const m = /\bFROM\s+"([^"]+)"/i.exec(sql)
  if (!m?.[1] || m[1].startsWith('$events/')) return 't/1'
  return m[1].replace(/\+/g, 'a').replace(/#$/, 'test')
}

function RuleForm({ dep, catalog, existing }: { dep: string; catalog: Catalog; existing?: Rule }) {
  const [name, setName] = useState(existing?.name ?? '')
  const [description, setDescription] = useState(existing?.description ?? '')
  const [sql, setSql] = useState(existing?.sql ?? DEFAULT_SQL)
  // A new rule starts with one empty action, so "Send to" is on screen without "Add action".
  const [actions, setActions] = useState<ActionDraft[]>(() =>
    existing ? existing.actions.map((a) => draftOf(a, catalog)) : [{ key: nextKey++, target: '', params: {}, options: initialValues(catalog.actionTypes.optionsSchema) }],
  )
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({})
  const [sqlError, setSqlError] = useState<{ message: string; line?: number; column?: number } | null>(null)
  /** The SQL test's last output: the Test action's sample. */
  const [sample, setSample] = useState<Record<string, unknown> | undefined>(undefined)

  useEffect(() => {
    document.title = existing ? `Edit ${existing.name} · Rules · Junction` : 'New rule · Rules · Junction'
  }, [existing])

  // An action whose "Send to" was never chosen is the untouched starting one: not an action.
  const buildActions = (): RuleAction[] =>
    actions.filter((a) => a.target !== '').map((a) => ({
      ...actionOf(a, catalog),
      ...(a.fallback ? { fallback: actionOf(a.fallback, catalog) } : {}),
    }))

  const save = async (e: FormEvent) => {
    e.preventDefault()
    if (busy) return
    setBusy(true)
    const from = window.location.hash
    setError(null)
    setFieldErrors({})
    setSqlError(null)
    try {
      const body = { name, sql, description, actions: buildActions() }
      const saved = existing ? await api.updateRule(dep, existing.id, body) : await api.createRule(dep, body)
      const warnings = (saved.warnings ?? []).map((w) => ` ${w.path}: ${w.message}`).join('')
      setFlash(`Rule ${saved.name} ${existing ? 'saved' : 'created'}.${warnings}`)
      if (window.location.hash === from) navigate(href.rule(dep, saved.id))
    } catch (err) {
      const fields = fieldErrorsOf(err)
      if (err instanceof ApiError && err.code === 'INVALID_SQL') {
        setSqlError({ message: err.message, line: err.body.line, column: err.body.column })
        fields.sql = err.message
      }
      setFieldErrors(fields)
      setError(err)
      setBusy(false)
      const first = Object.keys(fields)[0]
      if (first) window.setTimeout(() => document.getElementById(fieldId(first))?.focus(), 0)
    }
  }

  const updateAction = (key: number, change: Partial<ActionDraft>) => setActions((list) => list.map((a) => (a.key === key ? { ...a, ...change } : a)))

  const sqlFieldError = fieldErrors.sql
  const actionsError = fieldErrors.actions
  const errTitle = error instanceof ApiError && (error.code === 'VALIDATION_FAILED' || error.code === 'INVALID_SQL' || error.code === 'ACTION_CHECK_FAILED') ? 'The rule was not saved' : 'Could not save the rule'

  return (
    <>
      <header className="page-header">
        <div>
          <p className="eyebrow">Data Integration · {existing ? <span className="mono">{existing.id}</span> : 'New rule'}</p>
          <h1>{existing ? `Edit ${existing.name}` : 'New rule'}</h1>
        </div>
      </header>

      <form className="form" onSubmit={save} noValidate>
        <section className="card form-section" aria-labelledby="rule-general">
          <h2 id="rule-general" className="form-section-title">General</h2>
          <TextField id={fieldId('name')} label="Name" required value={name} onChange={setName} error={fieldErrors.name} autoFocus={!existing} />
          <TextField id={fieldId('description')} label="Description" value={description} onChange={setDescription} error={fieldErrors.description} />
        </section>

        <div className="rule-sql-layout">
          <section className="card form-section" aria-labelledby="rule-sql-title">
            <h2 id="rule-sql-title" className="form-section-title">Rule SQL</h2>
            <div className={`field${sqlFieldError ? ' has-error' : ''}`}>
              <label htmlFor={fieldId('sql')}>SQL</label>
              <SqlEditor
                id={fieldId('sql')}
                value={sql}
                onChange={(v) => {
                  setSql(v)
                  if (sqlError) setSqlError(null)
                }}
                invalid={Boolean(sqlFieldError)}
                describedBy={sqlFieldError ? 'rule-sql-error rule-sql-help' : 'rule-sql-help'}
                errorAt={sqlError?.line !== undefined && sqlError.column !== undefined ? { line: sqlError.line, column: sqlError.column } : undefined}
                rows={9}
              />
              <p id="rule-sql-help" className="field-help">
                EMQX rule SQL: <code>SELECT</code> fields <code>FROM</code> "topic/filter/#" <code>WHERE</code> conditions; <code>payload.x</code> reads JSON payloads.
              </p>
              {sqlFieldError && (
                <p id="rule-sql-error" className="field-error">
                  {sqlFieldError}
                </p>
              )}
            </div>
          </section>
          <SqlTestPanel dep={dep} sql={sql} onSqlError={setSqlError} onOutput={setSample} />
        </div>

        <section className="card form-section" aria-labelledby="rule-actions-title">
          <div className="section-head">
            <h2 id="rule-actions-title" className="form-section-title">Actions</h2>
          </div>
          <p className="muted small">Each output of the SQL goes to every action: through a connector of this deployment, or republished into it.</p>
          {actionsError && <p className="field-error">{actionsError}</p>}
          {actions.length === 0 && <p className="empty-inline">No actions: the rule only counts matching messages. Add one to send its output somewhere.</p>}
          {actions.map((a, i) => (
            <ActionEditor
              key={a.key}
              index={i}
              draft={a}
              catalog={catalog}
              errors={fieldErrors}
              onChange={(change) => updateAction(a.key, change)}
              onRemove={() => setActions((list) => list.filter((x) => x.key !== a.key))}
              dep={dep}
              sample={sample}
              sql={sql}
            />
          ))}
          <button
            type="button"
            className="button"
            onClick={() => setActions((list) => [...list, { key: nextKey++, target: '', params: {}, options: initialValues(catalog.actionTypes.optionsSchema) }])}
          >
            <PlusIcon /> Add action
          </button>
        </section>

        {error !== null && <ErrorAlert error={error} title={errTitle} />}
        <div className="form-actions">
          <SubmitButton busy={busy}>Save</SubmitButton>
          <button type="button" className="button ghost" onClick={() => navigate(existing ? href.rule(dep, existing.id) : href.rules(dep))}>
            Cancel
          </button>
        </div>
      </form>
    </>
  )
}

function ActionEditor({ dep, index, draft, catalog, errors, onChange, onRemove, sample, sql }: {
  dep: string
  sample?: Record<string, unknown> | undefined
  sql: string
  index: number
  draft: ActionDraft
  catalog: Catalog
  errors: Record<string, string>
  onChange: (change: Partial<ActionDraft>) => void
  onRemove: () => void
}) {
  const path = `actions.${index}`
  const fallback = draft.fallback
  const fallbackHasError = errorsUnder(errors, `${path}.fallback`).length > 0
  return (
    <fieldset className="action-card">
      <legend>Action {index + 1}</legend>
      <TargetFields
        dep={dep}
        path={path}
        label="Send to"
        draft={draft}
        catalog={catalog}
        errors={errors}
        onChange={onChange}
        sample={sample}
        sql={sql}
        remove={
          <DeleteIconButton label={`Remove action ${index + 1}`} title="Remove this action" onClick={onRemove} />
        }
      />
      <details className="action-fallback" open={fallback !== undefined || fallbackHasError || undefined}>
        <summary>Fallback{fallback ? '' : ': none'}</summary>
        <p className="muted small">
          Messages this action finally fails (a permanent error, retries or the request TTL run out) go to the fallback instead of being only counted as failed:
          republish them, for example to <code>{'$failed/${topic}'}</code>, or send them through another connector.
        </p>
        <div className="field field-check">
          <div className="check-row">
            <input
              id={fieldId(`${path}.fallback.enabled`)}
              type="checkbox"
              checked={fallback !== undefined}
              onChange={(e) => onChange({ fallback: e.target.checked ? { target: '', params: {}, options: initialValues(catalog.actionTypes.optionsSchema) } : undefined })}
            />
            <label htmlFor={fieldId(`${path}.fallback.enabled`)}>Send the messages action {index + 1} finally fails to a fallback</label>
          </div>
        </div>
        {fallback && (
          <TargetFields
            dep={dep}
            path={`${path}.fallback`}
            label={`Fallback of action ${index + 1}`}
            draft={fallback}
            catalog={catalog}
            errors={errors}
            onChange={(change) => onChange({ fallback: { ...fallback, ...change } })}
            sample={sample}
            sql={sql}
          />
        )}
      </details>
    </fieldset>
  )
}

/** Where an action (or its fallback) sends: the target, its params form and its delivery options. */
function TargetFields({ dep, path, label, draft, catalog, errors, onChange, remove, sample, sql }: {
  dep: string
  sample?: Record<string, unknown> | undefined
  sql: string
  path: string
  label: string
  draft: TargetDraft
  catalog: Catalog
  errors: Record<string, string>
  onChange: (change: Partial<TargetDraft>) => void
  remove?: ReactNode
}) {
  const { connectors, types, actionTypes } = catalog
  const schema = paramsSchemaFor(draft.target, catalog)
  const targetError = errors[`${path}.connectorId`] ?? errors[`${path}.builtin`] ?? errors[path]
  const targetId = fieldId(`${path}.connectorId`)
  const optionsHaveError = errorsUnder(errors, `${path}.options`).length > 0
  const missing = draft.target.startsWith('connector:') && !schema
  return (
    <>
      <div className="action-head">
        <div className={`field grow${targetError ? ' has-error' : ''}`}>
          <label htmlFor={targetId}>{label}</label>
          <select
            id={targetId}
            value={draft.target}
            aria-invalid={targetError ? true : undefined}
            aria-describedby={targetError ? `${targetId}-error` : undefined}
            onChange={(e) => {
              const target = e.target.value
              const s = paramsSchemaFor(target, catalog)
              onChange({ target, params: s ? initialValues(s) : {} })
            }}
          >
            <option value="">Choose a connector…</option>
            <option value="republish">Republish into this deployment</option>
            {connectors.length > 0 && (
              <optgroup label="Connectors">
                {connectors.map((c) => (
                  <option key={c.id} value={`connector:${c.id}`}>
                    {c.name} · {typeTitle(types, c.type)} ({c.id})
                  </option>
                ))}
              </optgroup>
            )}
            {missing && <option value={draft.target}>{draft.target.replace(/^connector:/, '')} (not found)</option>}
          </select>
          {targetError && (
            <p id={`${targetId}-error`} className="field-error">
              {targetError}
            </p>
          )}
          {connectors.length === 0 && (
            <p className="field-help">
              This deployment has no connectors yet: <a href={href.connectors(dep)}>create one</a>, or republish.
            </p>
          )}
        </div>
        {remove}
      </div>
      {schema && (
        <>
          {schema.description && <p className="muted small">{schema.description}</p>}
          <OutputNames sql={sql} />
          <SchemaForm schema={schema} values={draft.params} onChange={(params) => onChange({ params })} errors={errors} path={`${path}.params`} labeller={paramLabel} />
          <details className="action-options" open={optionsHaveError || undefined}>
            <summary>Delivery options</summary>
            <SchemaForm schema={path.endsWith('.fallback') ? actionTypes.fallbackOptionsSchema : actionTypes.optionsSchema} values={draft.options} onChange={(options) => onChange({ options })} errors={errors} path={`${path}.options`} />
          </details>
          <ActionTestPanel
            dep={dep}
            path={path}
            action={actionOf(draft, catalog)}
            connectorType={connectors.find((c) => `connector:${c.id}` === draft.target)?.type}
            sample={sample}
          />
        </>
      )}
    </>
  )
}

/** Run the SQL on a sample message without side effects (POST .../rules/test). */
function SqlTestPanel({ dep, sql, onSqlError, onOutput }: { dep: string; sql: string; onSqlError: (e: { message: string; line?: number; column?: number } | null) => void; onOutput?: (output: Record<string, unknown> | undefined) => void }) {
  const [topic, setTopic] = useState('')
  const [payload, setPayload] = useState('{"temp": 25.5, "hum": 60}')
  const [clientid, setClientid] = useState('')
  const [busy, setBusy] = useState(false)
  const [result, setResult] = useState<RuleTestResult | null>(null)
  const [error, setError] = useState<unknown>(null)
  const derived = sampleTopic(sql)

  const run = async () => {
    setBusy(true)
    setResult(null)
    setError(null)
    try {
      const context: Record<string, unknown> = { topic: topic.trim() || derived, payload }
      if (clientid.trim()) context.clientid = clientid.trim()
      const tested = await api.testRule(dep, sql, context)
      setResult(tested)
      onOutput?.(tested.matched ? (tested.output as Record<string, unknown> | undefined) : undefined)
      onSqlError(null)
    } catch (e) {
      setError(e)
      if (e instanceof ApiError && e.code === 'INVALID_SQL') onSqlError({ message: e.message, line: e.body.line, column: e.body.column })
    } finally {
      setBusy(false)
    }
  }

  const sqlErr = error instanceof ApiError && error.code === 'INVALID_SQL' ? error.body : null
  return (
    <section className="card form-section test-panel" aria-labelledby="rule-test-title">
      <h2 id="rule-test-title" className="form-section-title">Try it on a sample message</h2>
      <div className="field">
        <label htmlFor="rule-test-topic">Topic</label>
        <input id="rule-test-topic" className="mono" value={topic} placeholder={derived} onChange={(e) => setTopic(e.target.value)} autoComplete="off" spellCheck={false} />
      </div>
      <div className="field">
        <label htmlFor="rule-test-payload">Payload</label>
        <textarea id="rule-test-payload" className="mono" rows={4} value={payload} onChange={(e) => setPayload(e.target.value)} spellCheck={false} />
      </div>
      <div className="field">
        <label htmlFor="rule-test-clientid">Client ID</label>
        <input id="rule-test-clientid" className="mono" value={clientid} placeholder="sample value" onChange={(e) => setClientid(e.target.value)} autoComplete="off" spellCheck={false} />
      </div>
      <button type="button" className="button" onClick={run} disabled={busy}>
        {busy ? (
          <>
            <Spinner /> Testing…
          </>
        ) : (
          'Test SQL'
        )}
      </button>
      <div role="status" className="test-output" aria-live="polite">
        {result &&
          (result.matched ? (
            <>
              <p className="test-output-title ok">Matched. Output:</p>
              <pre className="json">{JSON.stringify(result.outputs ?? result.output, null, 2)}</pre>
            </>
          ) : (
            <p className="test-output-title">Not matched{result.reason ? `: ${result.reason}` : ''}.</p>
          ))}
      </div>
      {sqlErr ? (
        <div role="alert" className="alert alert-error">
          <p className="alert-message">
            {sqlErr.line !== undefined ? `SQL error at line ${sqlErr.line}, column ${sqlErr.column}: ` : 'SQL error: '}
            {sqlErr.message.replace(/^Invalid rule SQL: (line \d+, column \d+: )?/, '')}
          </p>
          {sqlErr.hint && <p className="alert-hint">{sqlErr.hint}</p>}
        </div>
      ) : (
        <ErrorAlert error={error} title="The test did not run" />
      )}
    </section>
  )
}

/** The placeholders this rule's SQL outputs, next to the templates that use them. */
function OutputNames({ sql }: { sql: string }) {
  const names = sqlOutputNames(sql)
  if (names === null) return <p className="muted small output-names">This rule outputs the whole event (<code>SELECT *</code>): any of its fields works, e.g. <code>{'${payload.temp}'}</code>, <code>{'${clientid}'}</code>, <code>{'${topic}'}</code>.</p>
  if (names.length === 0) return null
  return (
    <p className="muted small output-names">
      This rule's output, for the templates:{' '}
      {names.map((n, i) => (
        <span key={n}>
          {i > 0 && ' '}
          <code>{`\${${n}}`}</code>
        </span>
      ))}
    </p>
  )
}
