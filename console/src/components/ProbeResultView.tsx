import type { ProbeResult } from '../api/types.ts'
import { RichText } from './RichText.tsx'

const STEP_NAMES: Record<string, string> = {
  resolve: 'Resolve host',
  connect: 'Connect',
  tls: 'TLS handshake',
  authenticate: 'Authenticate',
  authorize: 'Authorize',
  query: 'Query',
  metadata: 'Read metadata',
  request: 'Send request',
}

function Steps({ steps }: { steps: ProbeResult['steps'] }) {
  if (steps.length === 0) return null
  return (
    <ol className="probe-steps">
      {steps.map((s, i) => (
        <li key={i} className={s.ok ? 'step-ok' : 'step-failed'}>
          <span className="step-mark" aria-hidden="true">{s.ok ? '✓' : '✗'}</span>
          <span className="step-name">{STEP_NAMES[s.name] ?? s.name}</span>
          <span className="visually-hidden">{s.ok ? ' passed' : ' failed'}</span>
          <span className="step-ms">{s.ms} ms</span>
          {s.detail && <span className="step-detail">{s.detail}</span>}
        </li>
      ))}
    </ol>
  )
}

/** The result of a connector Test: success with latency and steps, or where and why it failed. */
export function ProbeResultView({ result }: { result: ProbeResult }) {
  if (result.ok) {
    return (
      <div role="status" className="probe probe-ok">
        <p className="probe-title">
          Connection successful <span className="probe-latency">in {result.latencyMs} ms</span>
        </p>
        <Steps steps={result.steps} />
      </div>
    )
  }
  const failed = result.steps.find((s) => !s.ok)
  // A failed Test always carries its error; the fallback is for an answer that somehow lacks it.
  const error = result.error ?? { code: 'UNKNOWN', message: 'no error given', hint: '' }
  return (
    <div role="alert" className="probe probe-failed">
      <p className="probe-title">
        Connection failed{failed ? ` at step “${STEP_NAMES[failed.name] ?? failed.name}”` : ''}: {error.message}
      </p>
      {error.hint && (
        <p className="probe-hint">
          <RichText text={error.hint} />
        </p>
      )}
      <p className="alert-code">{error.code}</p>
      <Steps steps={result.steps} />
    </div>
  )
}
