import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto'
import type { ListenerSettings, MqttSettings } from '../core/domain.js'
import { validationError } from '../core/errors.js'
import type { FieldError } from '../core/schema-validation.js'
import { MASK } from '../core/secrets.js'

type Limits = Omit<MqttSettings, 'listeners' | 'tls'>

/** A partial change of a deployment's broker settings (`mqtt` in POST/PATCH /deployments). */
export type MqttSettingsPatch = Partial<Limits> & {
  readonly listeners?: {
    readonly tls?: Partial<ListenerSettings>
    readonly ws?: Partial<ListenerSettings & { path: string }>
    readonly wss?: Partial<ListenerSettings & { path: string }>
  }
  /** `key: "******"` keeps the stored key; `null` for both removes them (back to the generated certificate). */
  readonly tls?: { readonly certificate?: string | null; readonly key?: string | null }
}

const LISTENERS = ['tls', 'ws', 'wss'] as const

/**
 * `current` with `patch` applied, or a VALIDATION_FAILED ApiError. The JSON Schema already checked
 * types and ranges; this checks what spans fields: the certificate and key parse and belong
 * together, and no two listeners ask for the same port.
 */
export function applyMqttPatch(current: MqttSettings, patch: MqttSettingsPatch | undefined, mqttPort: number | null, prefix = 'mqtt'): MqttSettings {
  if (!patch) return current
  const { listeners: lp, tls: tp, ...limits } = patch
  const defined = <T extends object>(o: T | undefined) => Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>
  const next: MqttSettings = {
    ...current,
    ...defined(limits),
    listeners: {
      tls: { ...current.listeners.tls, ...defined(lp?.tls) },
      ws: { ...current.listeners.ws, ...defined(lp?.ws) },
      wss: { ...current.listeners.wss, ...defined(lp?.wss) },
    },
    tls: {
      certificate: tp?.certificate === undefined ? current.tls.certificate : tp.certificate,
      key: tp?.key === undefined || tp.key === MASK ? current.tls.key : tp.key,
    },
  }
  const errors = [...tlsProblems(next.tls, tp, prefix), ...portClashes(next, mqttPort, prefix)]
  if (errors.length > 0) throw validationError(errors)
  return next
}

function tlsProblems(tls: MqttSettings['tls'], sent: MqttSettingsPatch['tls'], prefix: string): FieldError[] {
  const at = (f: string) => `${prefix}.tls.${f}`
  if (sent?.key === MASK && tls.key === null) {
    return [{ path: at('key'), message: 'no key is stored to keep', hint: 'Send the private key in PEM, or null to remove the certificate.' }]
  }
  if (tls.certificate === null && tls.key === null) return []
  if (tls.certificate === null) return [{ path: at('certificate'), message: 'a private key needs its certificate', hint: 'Send the certificate (PEM) too, or null for both.' }]
  if (tls.key === null) return [{ path: at('key'), message: 'a certificate needs its private key', hint: 'Send the private key (PEM) too, or null for both.' }]
  const errors: FieldError[] = []
  let cert: X509Certificate | undefined
  let key: KeyObject | undefined
  try {
    if (!tls.certificate.includes('-----BEGIN CERTIFICATE-----')) throw new Error('not PEM')
    cert = new X509Certificate(tls.certificate)
  } catch {
    errors.push({ path: at('certificate'), message: 'is not a PEM certificate', hint: 'Paste the server certificate, from "-----BEGIN CERTIFICATE-----" to "-----END CERTIFICATE-----".' })
  }
  try {
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(tls.key)) throw new Error('not PEM')
    key = createPrivateKey(tls.key)
  } catch (err) {
    const encrypted = /ENCRYPTED/.test(tls.key) || /passphrase/i.test((err as Error).message)
    errors.push(encrypted
      ? { path: at('key'), message: 'is encrypted with a passphrase', hint: 'Send the key unencrypted (e.g. openssl pkey -in key.pem -out plain.pem); it is encrypted at rest by Junction.' }
      : { path: at('key'), message: 'is not a PEM private key', hint: 'Paste the private key, from "-----BEGIN PRIVATE KEY-----" to its END line.' })
  }
  if (cert && key && !cert.checkPrivateKey(key)) {
    errors.push({ path: at('key'), message: 'does not belong to the certificate', hint: 'Send the private key the certificate was issued for.' })
  }
  return errors
}

function portClashes(s: MqttSettings, mqttPort: number | null, prefix: string): FieldError[] {
  const taken = new Map<number, string>()
  if (mqttPort !== null && mqttPort !== 0) taken.set(mqttPort, 'mqttPort (the TCP listener)')
  const errors: FieldError[] = []
  for (const name of LISTENERS) {
    const { port, enabled } = s.listeners[name]
    if (port === null || port === 0 || !enabled) continue
    const other = taken.get(port)
    if (other) errors.push({ path: `${prefix}.listeners.${name}.port`, message: `port ${port} is also the port of ${other}`, hint: 'Give each listener its own port, or null for its default.' })
    else taken.set(port, `listeners.${name}`)
  }
  return errors
}

/** The settings as the API shows them: the TLS key masked. */
export function maskMqttSettings(s: MqttSettings): MqttSettings {
  return s.tls.key === null ? s : { ...s, tls: { ...s.tls, key: MASK } }
}
