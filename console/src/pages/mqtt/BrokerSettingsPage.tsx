import { useEffect, useId, useState } from 'react'
import { api } from '../../api/client.ts'
import type { MqttLimits } from '../../api/types.ts'
import { ErrorAlert } from '../../components/Alert.tsx'
import { FlashMessage } from '../../components/FlashMessage.tsx'
import { SubmitButton } from '../../components/FormButtons.tsx'
import { TextField } from '../../components/TextField.tsx'
import { ExternalBrokerNotice } from '../../components/ExternalBrokerNotice.tsx'
import { useDeployment } from '../../lib/deployment-context.tsx'
import { RoleFieldset } from '../../lib/identity.tsx'
import { useFormSubmit, type FieldErrors } from '../../lib/use-form-submit.ts'

type NumericLimit = Exclude<keyof MqttLimits, 'allowAnonymous'>

/** The number fields, in order: label, help, and whether empty means "no limit" (null). */
const LIMITS: ReadonlyArray<{ key: NumericLimit; label: string; help: string; nullable: boolean; empty?: string }> = [
  { key: 'maxConnections', label: 'Max connections', help: 'Concurrent client connections. Empty: no limit.', nullable: true },
  { key: 'maxConnectionRate', label: 'Max connection rate', help: 'New connections per second the deployment accepts. Empty: no limit.', nullable: true },
  { key: 'maxMessageRate', label: 'Max message rate', help: 'Messages per second one client may publish. Empty: no limit.', nullable: true },
  { key: 'maxPacketSize', label: 'Max packet size', help: 'Largest MQTT packet accepted and sent, in bytes (16 to 268435455; default 1048576).', nullable: false },
  { key: 'maxInflight', label: 'Max inflight', help: 'QoS 1/2 messages sent to one client and not yet acknowledged (default 32).', nullable: false },
  { key: 'maxQueuedMessages', label: 'Max queued messages', help: 'Messages queued per session beyond its inflight window (default 1000).', nullable: false },
  { key: 'maxSessionExpiry', label: 'Max session expiry', help: 'Upper bound of a session expiry interval, in seconds (default 7200).', nullable: false },
  { key: 'serverKeepAlive', label: 'Server keep alive', help: 'MQTT 5 keep alive in seconds, imposed on clients that ask for more or none. Empty: off.', nullable: true, empty: 'Off' },
]

const text = (v: number | null) => (v === null ? '' : String(v))

/** The form's values as the deployment's `mqtt`, and what is not a number (by field path). */
function parse(values: Record<NumericLimit, string>, allowAnonymous: boolean): { mqtt: Partial<MqttLimits>; problems: FieldErrors } {
  const problems: FieldErrors = {}
  const mqtt: Partial<MqttLimits> = { allowAnonymous }
  for (const l of LIMITS) {
    const raw = values[l.key].trim()
    if (raw === '') {
      if (l.nullable) (mqtt as Record<string, unknown>)[l.key] = null
      else problems[`mqtt.${l.key}`] = 'Enter a number.'
      continue
    }
    const n = Number(raw)
    if (!Number.isFinite(n)) problems[`mqtt.${l.key}`] = 'Enter a number.'
    else (mqtt as Record<string, unknown>)[l.key] = n
  }
  return { mqtt, problems }
}

/** Device access > Broker settings: anonymous clients and the broker's limits (apply without a restart). */
export function BrokerSettingsPage({ dep }: { dep: string }) {
  const uid = useId()
  const deployment = useDeployment()
  const [allowAnonymous, setAllowAnonymous] = useState<boolean | null>(null)
  const [values, setValues] = useState<Record<NumericLimit, string> | null>(null)
  const [flash, setFlash] = useState<string | null>(null)
  const d = deployment.data
  // Sent from the form, which exists once `values` and `allowAnonymous` do.
  const { busy, error, fieldErrors, submit: save } = useFormSubmit({
    check: () => {
      const { problems } = parse(values!, allowAnonymous!)
      return Object.keys(problems).length > 0 ? problems : undefined
    },
    send: async () => {
      const saved = await api.updateDeployment(dep, { mqtt: parse(values!, allowAnonymous!).mqtt })
      deployment.set(saved)
      setFlash('Broker settings saved.')
    },
    focusOf: (fields) => {
      const first = LIMITS.find((l) => fields[`mqtt.${l.key}`] !== undefined)
      return first && `${uid}-${first.key}`
    },
    focusLater: true,
  })

  // The form starts from the deployment once; its 3-second refresh does not overwrite edits.
  useEffect(() => {
    if (d && values === null) {
      setAllowAnonymous(d.mqtt.allowAnonymous)
      setValues(Object.fromEntries(LIMITS.map((l) => [l.key, text(d.mqtt[l.key])])) as Record<NumericLimit, string>)
    }
  }, [d, values])

  const header = (
    <header className="page-header">
      <div>
        <p className="eyebrow">Device access</p>
        <h1>Broker settings</h1>
        <p className="page-intro">Who may connect without credentials, and the limits the deployment's MQTT broker enforces. Changes apply without a restart.</p>
      </div>
    </header>
  )
  const notice = <ExternalBrokerNotice />
  if (!values || allowAnonymous === null) {
    return (
      <>
        {header}{notice}
        <ErrorAlert error={deployment.error} title="Could not load the deployment" />
        {!deployment.error && <p className="loading">Loading the settings…</p>}
      </>
    )
  }

  const placedAll = Object.keys(fieldErrors).length > 0 && Object.keys(fieldErrors).every((p) => LIMITS.some((l) => p === `mqtt.${l.key}`))

  return (
    <>
      {header}{notice}
      <FlashMessage message={flash} onDismiss={() => setFlash(null)} />
      <form className="form" onSubmit={save} noValidate>
        {/* The settings are the deployment's (PATCH /deployments/{dep}): admins only. */}
        <RoleFieldset needs="admin">
        <section className="card form-section" aria-labelledby={`${uid}-auth`}>
          <h2 id={`${uid}-auth`} className="form-section-title">Authentication</h2>
          <div className={`field field-check${fieldErrors['mqtt.allowAnonymous'] ? ' has-error' : ''}`}>
            <div className="check-row">
              <input id={`${uid}-anonymous`} type="checkbox" checked={allowAnonymous} onChange={(e) => setAllowAnonymous(e.target.checked)} aria-describedby={`${uid}-anonymous-help`} />
              <label htmlFor={`${uid}-anonymous`}>Allow anonymous clients</label>
            </div>
            <p id={`${uid}-anonymous-help`} className="field-help">
              Clients without a username, or with one that is not a device user, may connect. A device user's username always needs its password.
            </p>
          </div>
        </section>
        <section className="card form-section" aria-labelledby={`${uid}-limits`}>
          <h2 id={`${uid}-limits`} className="form-section-title">Limits</h2>
          {LIMITS.map((l) => (
            <TextField
              key={l.key}
              id={`${uid}-${l.key}`}
              label={l.label}
              type="number"
              inputMode="decimal"
              placeholder={l.nullable ? (l.empty ?? 'No limit') : undefined}
              value={values[l.key]}
              onChange={(v) => setValues({ ...values, [l.key]: v })}
              error={fieldErrors[`mqtt.${l.key}`]}
              help={l.help}
            />
          ))}
        </section>
        {error !== null && !placedAll && <ErrorAlert error={error} title="Could not save the broker settings" />}
        <div className="form-actions">
          <SubmitButton busy={busy}>Save settings</SubmitButton>
        </div>
        </RoleFieldset>
      </form>
    </>
  )
}
