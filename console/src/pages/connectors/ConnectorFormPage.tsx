import { useEffect, useRef, useState, type FormEvent } from 'react'
import { ApiError, api } from '../../api/client.ts'
import type { ConnectorDetails, ConnectorType, ProbeResult } from '../../api/types.ts'
import { ErrorAlert } from '../../components/Alert.tsx'
import { ProbeResultView } from '../../components/ProbeResultView.tsx'
import { SchemaForm, fieldId } from '../../components/SchemaForm.tsx'
import { Spinner } from '../../components/Spinner.tsx'
import { TextField } from '../../components/TextField.tsx'
import { TypeIcon } from '../../components/TypeIcon.tsx'
import { useConnectorTypes } from '../../lib/connector-types.ts'
import { EDIT_NEEDS_PLAN, useDeployment } from '../../lib/deployment-context.tsx'
import { fieldErrorsOf } from '../../lib/field-errors.ts'
import { setFlash } from '../../lib/flash.ts'
import { href, navigate } from '../../lib/router.ts'
import { initialValues, toPayload, type FormObject } from '../../lib/schema.ts'
import { useResource } from '../../lib/use-resource.ts'

/** `#/deployments/{dep}/connectors/new/{type}` */
export function NewConnectorPage({ dep, type }: { dep: string; type: string }) {
  const types = useConnectorTypes()
  if (types.error) return <ErrorAlert error={types.error} title="Could not load the connector types" />
  if (!types.data) return <p className="loading">Loading…</p>
  const t = types.data.find((x) => x.type === type)
  if (!t) {
    return (
      <div className="empty-state">
        <h1>Unknown connector type</h1>
        <p>
          There is no connector type <code>{type}</code>. <a href={href.connectors(dep)}>Choose one from the list</a>.
        </p>
      </div>
    )
  }
  return <ConnectorForm key={type} dep={dep} type={t} />
}

/** `#/deployments/{dep}/connectors/{id}/edit` */
export function EditConnectorPage({ dep, id }: { dep: string; id: string }) {
  const types = useConnectorTypes()
  const details = useResource(() => api.connector(dep, id), `connector:${dep}:${id}`)
  const error = types.error ?? details.error
  if (error) return <ErrorAlert error={error} title="Could not load the connector" />
  if (!types.data || !details.data) return <p className="loading">Loading…</p>
  const t = types.data.find((x) => x.type === details.data?.type)
  if (!t) return <ErrorAlert error={new Error(`Unknown connector type ${details.data.type}`)} />
  return <ConnectorForm key={`${id}:${details.data.version}`} dep={dep} type={t} existing={details.data} />
}

type Busy = null | 'testing' | 'saving'

function ConnectorForm({ dep, type, existing }: { dep: string; type: ConnectorType; existing?: ConnectorDetails }) {
  const deployment = useDeployment()
  const [name, setName] = useState(existing?.name ?? '')
  const [description, setDescription] = useState(existing?.description ?? '')
  const [values, setValues] = useState<FormObject>(() => initialValues(type.configSchema, existing?.config))
  const [busy, setBusy] = useState<Busy>(null)
  const [probe, setProbe] = useState<ProbeResult | null>(null)
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({})
  const [error, setError] = useState<unknown>(null)
  const resultRef = useRef<HTMLDivElement>(null)
  const actionsRef = useRef<HTMLDivElement>(null)
  const [tests, setTests] = useState(0)
  // After the render that shows a Test answer (below a long form): bring it and Save on screen.
  useEffect(() => {
    if (tests > 0) showTestOutcome(resultRef.current, actionsRef.current)
  }, [tests])

  const serverless = existing !== undefined && deployment.data?.plan === 'serverless'
  const notRunning = existing === undefined && deployment.data !== undefined && deployment.data.status !== 'running'
  const cancelHref = existing ? href.connector(dep, existing.id) : href.connectors(dep)

  useEffect(() => {
    document.title = existing ? `Edit ${existing.name} · Junction` : `New ${type.title} connector · Junction`
  }, [existing, type.title])

  const config = () => toPayload(type.configSchema, values)

  const fail = (e: unknown) => {
    const fields = fieldErrorsOf(e)
    setFieldErrors(fields)
    setError(e)
    // Move focus to the first field the server named, so keyboard users land on it.
    const first = Object.keys(fields)[0]
    if (first) window.setTimeout(() => document.getElementById(fieldId(first))?.focus(), 0)
  }

  const test = async () => {
    setBusy('testing')
    setProbe(null)
    setError(null)
    setFieldErrors({})
    try {
      const r = existing ? await api.testConnector(dep, existing.id, config()) : await api.testNewConnector(dep, type.type, config())
      setProbe(r)
    } catch (e) {
      fail(e)
    } finally {
      setBusy(null)
      setTests((n) => n + 1)
    }
  }

  const save = async (e?: FormEvent) => {
    e?.preventDefault()
    if (busy) return
    setBusy('saving')
    const from = window.location.hash
    setError(null)
    setFieldErrors({})
    try {
      if (existing) {
        const saved = await api.updateConnector(dep, existing.id, { name, description, config: config(), version: existing.version })
        setFlash(`Connector ${saved.name} saved.`)
        if (window.location.hash === from) navigate(href.connector(dep, saved.id))
      } else {
        const created = await api.createConnector(dep, { name, type: type.type, ...(description ? { description } : {}), config: config() })
        setFlash(`Connector ${created.name} created with ID ${created.id}.`)
        if (window.location.hash === from) navigate(href.connectors(dep))
      }
    } catch (err) {
      fail(err)
      setBusy(null)
    }
  }

  const nameError = fieldErrors.name
  const descriptionError = fieldErrors.description
  const formErrorTitle = error instanceof ApiError && error.code === 'VALIDATION_FAILED' ? 'Some fields need attention' : undefined
  const conflict = error instanceof ApiError && error.code === 'VERSION_CONFLICT'

  return (
    <>
      <header className="page-header">
        <div className="title-with-icon">
          <TypeIcon type={type.type} title={type.title} size={36} />
          <div>
            <p className="eyebrow">{existing ? <>{type.title} connector · <span className="mono">{existing.id}</span></> : 'Data Integration · New connector'}</p>
            <h1>{existing ? `Edit ${existing.name}` : `New ${type.title} connector`}</h1>
            <p className="page-intro">
              {type.configSchema.description ?? type.summary} Fill in the connection, click <strong>Test</strong> to try it, then <strong>Save</strong>.
            </p>
          </div>
        </div>
      </header>

      {serverless && (
        <div role="alert" className="alert alert-warning">
          {EDIT_NEEDS_PLAN}. This deployment's plan is serverless.
        </div>
      )}
      {notRunning && deployment.data && (
        <div role="status" className="alert alert-warning">
          Deployment {deployment.data.name} is not running: start it before saving a connector (Test works regardless).
        </div>
      )}

      <form className="form card" onSubmit={save} noValidate>
        <section className="form-section" aria-labelledby="general-title">
          <h2 id="general-title" className="form-section-title">General</h2>
          <TextField
            id={fieldId('name')}
            label="Name"
            required
            value={name}
            onChange={setName}
            error={nameError}
            help="Unique in this deployment; shown in lists and logs."
            autoFocus={!existing}
            disabled={serverless}
          />
          <TextField id={fieldId('description')} label="Description" value={description} onChange={setDescription} error={descriptionError} disabled={serverless} />
        </section>

        <section className="form-section" aria-labelledby="connection-title">
          <h2 id="connection-title" className="form-section-title">Connection</h2>
          <SchemaForm schema={type.configSchema} values={values} onChange={setValues} errors={fieldErrors} path="config" split disabled={serverless} />
        </section>

        <div className="test-result" aria-live="polite" ref={resultRef}>
          {probe && <ProbeResultView result={probe} />}
        </div>
        {error !== null && (
          <div className="form-error">
            <ErrorAlert error={error} title={formErrorTitle} />
            {conflict && existing && (
              <a className="button small" href={href.editConnector(dep, existing.id)} onClick={() => window.location.reload()}>
                Reload the latest version
              </a>
            )}
          </div>
        )}

        <div className="form-actions" ref={actionsRef}>
          <button type="button" className="button" onClick={test} disabled={busy !== null || serverless}>
            {busy === 'testing' ? (
              <>
                <Spinner /> Testing…
              </>
            ) : (
              'Test'
            )}
          </button>
          <button type="submit" className="button primary" disabled={busy !== null || serverless}>
            {busy === 'saving' ? (
              <>
                <Spinner /> Saving…
              </>
            ) : (
              'Save'
            )}
          </button>
          <button type="button" className="button ghost" onClick={() => navigate(cancelHref)}>
            Cancel
          </button>
        </div>
      </form>
    </>
  )
}

/**
 * Scrolls so the Test answer and the buttons under it are both on screen: the buttons to the
 * bottom edge, then, when the answer's top is cut off, the answer to the top edge instead.
 */
function showTestOutcome(result: HTMLElement | null, actions: HTMLElement | null) {
  if (!result || !actions) return
  // A field error has moved the focus to its field: leave the view there.
  if (document.activeElement instanceof HTMLInputElement && document.activeElement.getAttribute('aria-invalid') === 'true') return
  actions.scrollIntoView({ block: 'nearest' })
  const top = result.getBoundingClientRect().top
  if (top < 0) result.scrollIntoView({ block: 'start' })
}
