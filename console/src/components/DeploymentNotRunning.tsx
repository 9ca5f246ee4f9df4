import { useState } from 'react'
import { api } from '../api/client.ts'
import type { Deployment } from '../api/types.ts'
import { useCan } from '../lib/identity.tsx'
import { ErrorAlert } from './Alert.tsx'
import { Spinner } from './Spinner.tsx'

/** "Deployment x is not running", with a Start button. */
export function DeploymentNotRunning({ deployment, onStarted, what }: { deployment: Deployment; onStarted: () => void; what: string }) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const canStart = useCan('editor')
  const start = async () => {
    setBusy(true)
    setError(null)
    try {
      await api.startDeployment(deployment.id)
      onStarted()
    } catch (e) {
      setError(e)
    } finally {
      setBusy(false)
    }
  }
  return (
    <div className="callout callout-warning">
      <div role="status" className="callout-text">
        Deployment <strong>{deployment.name}</strong> is not running ({deployment.status}
        {deployment.statusReason ? `: ${deployment.statusReason}` : ''}). {what}
      </div>
      {canStart && (
        <button type="button" className="button" onClick={start} disabled={busy}>
          {busy ? (
            <>
              <Spinner /> Starting…
            </>
          ) : (
            'Start deployment'
          )}
        </button>
      )}
      <ErrorAlert error={error} title="Could not start the deployment" />
    </div>
  )
}
