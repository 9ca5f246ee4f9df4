import { useEffect, useId, useRef, useState, type FormEvent } from 'react'
import { api } from '../api/client.ts'
import type { Deployment, Plan } from '../api/types.ts'
import { ErrorAlert } from '../components/Alert.tsx'
import { Dialog } from '../components/Dialog.tsx'
import { DialogFormFooter } from '../components/FormButtons.tsx'
import { SchemaForm } from '../components/SchemaForm.tsx'
import { PlusIcon } from '../components/Icons.tsx'
import { ListenerUrls } from '../components/ListenerUrls.tsx'
import { Spinner } from '../components/Spinner.tsx'
import { StackTable, ACTIONS_COLUMN, ActionsCell, cell, type StackColumn } from '../components/StackTable.tsx'
import { StatusBadge } from '../components/StatusBadge.tsx'
import { TextField } from '../components/TextField.tsx'
import { FlashMessage } from '../components/FlashMessage.tsx'
import { EDIT_NEEDS_PLAN } from '../lib/deployment-context.tsx'
import { fieldErrorsOf } from '../lib/field-errors.ts'
import { useCan } from '../lib/identity.tsx'
import { href } from '../lib/router.ts'
import { useResource } from '../lib/use-resource.ts'
import { initialValues, toPayload, type FormObject } from '../lib/schema.ts'
import type { JsonSchema } from '../api/types.ts'

type Action = 'start' | 'stop'

const DEPLOYMENT_COLUMNS: ReadonlyArray<string | StackColumn> = [
  'Name',
  'Plan',
  'Status',
  'MQTT',
  ACTIONS_COLUMN,
]

/** Every deployment: an MQTT broker with its own connectors and rules. */
export function DeploymentsPage() {
  const list = useResource(() => api.deployments().then((r) => r.data), 'deployments', 5000)
  const canCreate = useCan('admin')
  const canStartStop = useCan('editor')
  // The answers of this page's own create / start / stop, shown until a poll has caught up, so a
  // poll that was already under way cannot put the old status back for a moment.
  const [latest, setLatest] = useState<Record<string, Deployment>>({})
  const [pending, setPending] = useState<Record<string, Action>>({})
  const [actionError, setActionError] = useState<{ title: string; error: unknown } | null>(null)
  const [flash, setFlash] = useState<string | null>(null)
  const [creating, setCreating] = useState(false)
  /** The deployment whose Stop waits for confirmation: stopping disconnects its devices. */
  const [confirmStop, setConfirmStop] = useState<Deployment | null>(null)

  useEffect(() => {
    const polled = list.data
    if (!polled) return
    setLatest((l) => {
      const stale = Object.keys(l).filter((id) => {
        const p = polled.find((d) => d.id === id)
        return p !== undefined && p.updatedAt >= l[id]!.updatedAt
      })
      if (stale.length === 0) return l
      const next = { ...l }
      for (const id of stale) delete next[id]
      return next
    })
  }, [list.data])

  const rows = merge(list.data, latest)
  const empty = rows !== undefined && rows.length === 0

  const remember = (d: Deployment) => setLatest((l) => ({ ...l, [d.id]: d }))

  const act = async (d: Deployment, action: Action) => {
    if (pending[d.id]) return
    setPending((p) => ({ ...p, [d.id]: action }))
    setActionError(null)
    setFlash(null)
    try {
      const next = action === 'start' ? await api.startDeployment(d.id) : await api.stopDeployment(d.id)
      remember(next)
      if (action === 'start' && next.status !== 'running') {
        setActionError({ title: `Deployment ${d.name} did not start`, error: new Error(next.statusReason ?? `Its status is ${next.status}.`) })
      } else {
        setFlash(`Deployment ${next.name} ${action === 'start' ? 'started' : 'stopped'}.`)
      }
      await list.reload()
    } catch (e) {
      setActionError({ title: `Could not ${action} ${d.name}`, error: e })
    } finally {
      setPending((p) => {
        const { [d.id]: _, ...rest } = p
        return rest
      })
    }
  }

  const newButton = canCreate ? (
    <button type="button" className="button primary" onClick={() => setCreating(true)}>
      <PlusIcon /> New deployment
    </button>
  ) : null

  return (
    <>
      <header className="page-header">
        <div>
          <h1>Deployments</h1>
          <p className="page-intro">Each deployment is an MQTT broker with its own data integration. Open one to manage its connectors and rules.</p>
        </div>
        {!empty && newButton}
      </header>
      <ErrorAlert error={list.error} title="Could not load the deployments" />
      {actionError && <ErrorAlert error={actionError.error} title={actionError.title} />}
      <FlashMessage message={flash} onDismiss={() => setFlash(null)} />
      {rows === undefined ? (
        list.loading && <p className="loading">Loading deployments…</p>
      ) : empty ? (
        <div className="empty-state">
          <h2>No deployments yet</h2>
          <p>A deployment is an MQTT broker for your devices, with its own connectors and rules. Create one to get its MQTT address.</p>
          {newButton}
        </div>
      ) : (
        <div className="table-wrap">
          <StackTable columns={DEPLOYMENT_COLUMNS}>
              {rows.map((d) => {
                const busy = pending[d.id]
                const action: Action = d.status === 'running' ? 'stop' : 'start'
                const label = action === 'stop' ? 'Stop' : 'Start'
                return (
                  <tr key={d.id} role="row">
                    <td {...cell('Name')}>
                      <a href={href.connectors(d.id)} className="strong-link">
                        {d.name}
                      </a>
                      {d.name !== d.id && <div className="cell-sub mono">{d.id}</div>}
                    </td>
                    <td {...cell('Plan')}>
                      <span className={`plan plan-${d.plan}`}>{d.plan}</span>
                    </td>
                    <td {...cell('Status')}>
                      <StatusBadge status={d.status} reason={d.statusReason} />
                    </td>
                    <td {...cell('MQTT')} className="mono">
                      {d.broker.mode === 'external' ? (
                        <>
                          <span className="cell-sub">external </span>{d.broker.servers?.join(', ')}{' '}
                          <StatusBadge status={d.broker.status ?? 'stopped'} reason={d.broker.statusReason} />
                        </>
                      ) : d.mqtt.addresses.length > 0 ? <ListenerUrls mqtt={d.mqtt} compact /> : '—'}
                    </td>
                    <ActionsCell>
                      {/* aria-disabled rather than disabled: the button keeps the keyboard focus while the request runs. */}
                      {canStartStop && <button
                        type="button"
                        className="button small"
                        aria-label={`${label} ${d.name}`}
                        title={action === 'stop' ? `Stop ${d.name}: its broker and connectors stop, devices are disconnected` : `Start ${d.name}`}
                        aria-disabled={busy ? true : undefined}
                        aria-busy={busy ? true : undefined}
                        onClick={() => (action === 'stop' ? setConfirmStop(d) : void act(d, action))}
                      >
                        {busy && <Spinner />}
                        {label}
                      </button>}
                      {/* The product's place, named per deployment (the name link goes there too, less obviously). */}
                      <a className="button small" href={href.connectors(d.id)} aria-label={`Data Integration of ${d.name}`}>
                        Data Integration
                      </a>
                    </ActionsCell>
                  </tr>
                )
              })}
            </StackTable>
        </div>
      )}
      {confirmStop && (
        <Dialog
          title={`Stop deployment ${confirmStop.name}?`}
          onClose={() => setConfirmStop(null)}
          footer={
            <>
              <button type="button" className="button ghost" onClick={() => setConfirmStop(null)}>
                Cancel
              </button>
              <button
                type="button"
                className="button danger"
                onClick={() => {
                  const d = confirmStop
                  setConfirmStop(null)
                  void act(d, 'stop')
                }}
              >
                Stop deployment
              </button>
            </>
          }
        >
          <p>
            Its MQTT broker stops: connected devices are disconnected, its connectors close and its rules stop until you start it again. Its connectors, rules and
            settings are kept.
          </p>
        </Dialog>
      )}
      {creating && (
        <NewDeploymentDialog
          onClose={() => setCreating(false)}
          onCreated={(d) => {
            remember(d)
            setCreating(false)
            setActionError(null)
            setFlash(
              d.status === 'running'
                ? `Deployment ${d.name} created${d.mqtt.addresses[0]?.urls[0] ? `; devices connect to ${d.mqtt.addresses[0].urls[0]}` : ''}.`
                : `Deployment ${d.name} created, but its broker did not start${d.statusReason ? `: ${d.statusReason}` : ''}.`,
            )
            void list.reload()
          }}
        />
      )}
    </>
  )
}

/** The polled list, with this page's newer answers in place of (or after) their rows. */
function merge(polled: Deployment[] | undefined, latest: Record<string, Deployment>): Deployment[] | undefined {
  const own = Object.values(latest)
  if (!polled) return own.length ? own : undefined
  const seen = new Set<string>()
  const out = polled.map((d) => {
    seen.add(d.id)
    const l = latest[d.id]
    return l && l.updatedAt > d.updatedAt ? l : d
  })
  for (const l of own) if (!seen.has(l.id)) out.push(l)
  return out
}

const PLANS: Array<{ value: Plan; title: string }> = [
  { value: 'serverless', title: 'Serverless' },
  { value: 'dedicated', title: 'Dedicated' },
  { value: 'premium', title: 'Premium' },
]

const FIELDS = ['name', 'plan', 'mqttPort', 'broker.servers'] as const

type BrokerMode = 'embedded' | 'external'

/** The served `broker` schema without what the dialog asks for itself (mode, servers) or leaves to the API (topics: derived from the rules). */
function externalFields(schema: JsonSchema): JsonSchema {
  const { mode: _m, servers: _s, topics: _t, ...rest } = schema.properties ?? {}
  return { ...schema, properties: rest, required: [] }
}

function NewDeploymentDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (d: Deployment) => void }) {
  const uid = useId()
  const ids = { form: `${uid}-form`, name: `${uid}-name`, plan: `${uid}-plan`, mqttPort: `${uid}-mqtt-port`, 'broker.servers': `${uid}-servers`, broker: `${uid}-broker` }
  const [name, setName] = useState('')
  const [brokerMode, setBrokerMode] = useState<BrokerMode>('embedded')
  const [servers, setServers] = useState('')
  const brokerSchema = useResource(() => api.brokerSettingsSchema(), 'broker-settings-schema')
  const fields = brokerSchema.data ? externalFields(brokerSchema.data) : undefined
  const [brokerValues, setBrokerValues] = useState<FormObject | undefined>(undefined)
  const values = brokerValues ?? (fields ? initialValues(fields) : {})
  const [plan, setPlan] = useState<Plan>('dedicated')
  const [port, setPort] = useState('')
  const [busy, setBusy] = useState(false)
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({})
  const [error, setError] = useState<unknown>(null)
  const nameRef = useRef<HTMLInputElement>(null)
  const portRef = useRef<HTMLInputElement>(null)
  const live = useRef(true)

  useEffect(() => {
    // The dialog is open by now (its effect runs first): start typing the name.
    nameRef.current?.focus()
    return () => {
      live.current = false
    }
  }, [])

  const showErrors = (fields: Record<string, string>, e: unknown) => {
    setFieldErrors(fields)
    setError(e)
    // Move focus to the first field named, so keyboard and screen reader users land on it.
    const first = FIELDS.find((f) => fields[f] !== undefined)
    if (first) window.setTimeout(() => document.getElementById(ids[first])?.focus(), 0)
  }

  const submit = async (e?: FormEvent) => {
    e?.preventDefault()
    if (busy) return
    let mqttPort: number | undefined
    if (brokerMode === 'embedded' && (portRef.current?.validity.badInput || port.trim() !== '')) {
      const n = Number(port)
      if (portRef.current?.validity.badInput || !Number.isInteger(n) || n < 1 || n > 65535) {
        showErrors({ mqttPort: 'Enter a whole number from 1 to 65535, or leave it empty.' }, null)
        return
      }
      mqttPort = n
    }
    setBusy(true)
    setError(null)
    setFieldErrors({})
    try {
      const broker = brokerMode === 'external'
        ? { mode: 'external', servers: servers.split(/[\s,]+/).filter((x) => x !== ''), ...(fields ? toPayload(fields, values) : {}) }
        : undefined
      const created = await api.createDeployment({ name: name.trim(), plan, ...(mqttPort === undefined ? {} : { mqttPort }), ...(broker ? { broker } : {}) })
      onCreated(created)
    } catch (err) {
      if (!live.current) return
      showErrors(fieldErrorsOf(err), err)
      setBusy(false)
    }
  }

  // Errors the form shows next to a field need no second copy above the buttons.
  const placed = FIELDS.filter((f) => fieldErrors[f] !== undefined).length
  const unplaced = Object.keys(fieldErrors).some((k) => !(FIELDS as readonly string[]).includes(k))
  const showAlert = error !== null && (placed === 0 || unplaced)

  return (
    <Dialog
      title="New deployment"
      onClose={onClose}
      footer={
        <DialogFormFooter form={ids.form} busy={busy} busyLabel="Creating…" onCancel={onClose}>
          Create
        </DialogFormFooter>
      }
    >
      <p className="muted">A new MQTT broker with its own connectors and rules. It starts as soon as it is created.</p>
      <form id={ids.form} onSubmit={submit} noValidate>
        <TextField
          inputRef={nameRef}
          id={ids.name}
          label="Name"
          required
          value={name}
          onChange={setName}
          error={fieldErrors.name}
          help="Unique among the deployments; shown in lists and logs."
          spellCheck={false}
        />
        <div className={`field${fieldErrors.plan ? ' has-error' : ''}`}>
          <label htmlFor={ids.plan}>Plan</label>
          <select
            id={ids.plan}
            value={plan}
            onChange={(e) => setPlan(e.target.value as Plan)}
            aria-invalid={fieldErrors.plan ? true : undefined}
            aria-describedby={`${ids.plan}-help${fieldErrors.plan ? ` ${ids.plan}-error` : ''}`}
          >
            {PLANS.map((p) => (
              <option key={p.value} value={p.value}>
                {p.title}
              </option>
            ))}
          </select>
          {fieldErrors.plan && (
            <p id={`${ids.plan}-error`} className="field-error">
              {fieldErrors.plan}
            </p>
          )}
          <p id={`${ids.plan}-help`} className="field-help">
            {EDIT_NEEDS_PLAN}; on serverless, connectors can only be created and deleted.
          </p>
        </div>
        <div className="field">
          <label htmlFor={ids.broker}>Broker</label>
          <select id={ids.broker} value={brokerMode} onChange={(e) => setBrokerMode(e.target.value as BrokerMode)} aria-describedby={`${ids.broker}-help`}>
            <option value="embedded">Its own (embedded)</option>
            <option value="external">An existing MQTT broker (external)</option>
          </select>
          <p id={`${ids.broker}-help`} className="field-help">
            {brokerMode === 'embedded'
              ? 'Junction runs an MQTT broker for this deployment; devices connect to it.'
              : 'Junction attaches to your broker as a client and subscribes to what its rules need; devices, users and ACLs stay on that broker.'}
          </p>
        </div>
        {brokerMode === 'external' && (
          <>
            <TextField
              id={ids['broker.servers']}
              label="Servers"
              required
              value={servers}
              onChange={setServers}
              error={fieldErrors['broker.servers'] ?? Object.entries(fieldErrors).find(([k]) => k.startsWith('broker.servers.'))?.[1]}
              help="host:port of the broker, or of each node of a cluster, separated by commas; each Junction node prefers one (by its node name) and tries the others in turn."
              placeholder="broker.example.com:1883"
              spellCheck={false}
            />
            <ErrorAlert error={brokerSchema.error} title="Could not load the broker settings" />
            {fields && <SchemaForm schema={fields} values={values} onChange={setBrokerValues} errors={fieldErrors} path="broker" split />}
          </>
        )}
        {brokerMode === 'embedded' && <div className={`field${fieldErrors.mqttPort ? ' has-error' : ''}`}>
          <label htmlFor={ids.mqttPort}>MQTT port</label>
          <input
            ref={portRef}
            id={ids.mqttPort}
            type="number"
            inputMode="numeric"
            min={1}
            max={65535}
            step={1}
            placeholder="Automatic"
            value={port}
            onChange={(e) => setPort(e.target.value)}
            aria-invalid={fieldErrors.mqttPort ? true : undefined}
            aria-describedby={fieldErrors.mqttPort ? `${ids.mqttPort}-error` : `${ids.mqttPort}-help`}
            autoComplete="off"
          />
          {fieldErrors.mqttPort ? (
            <p id={`${ids.mqttPort}-error`} className="field-error">
              {fieldErrors.mqttPort}
            </p>
          ) : (
            <p id={`${ids.mqttPort}-help`} className="field-help">
              Optional. Leave empty to use the first free port from 1883.
            </p>
          )}
        </div>}
      </form>
      {showAlert && <ErrorAlert error={error} title="Could not create the deployment" />}
    </Dialog>
  )
}
