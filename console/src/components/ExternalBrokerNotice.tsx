import { useDeployment } from '../lib/deployment-context.tsx'

/**
 * On the device-facing pages (broker settings, device users, ACL) of a deployment attached to an
 * external broker: they do not apply there, and the API refuses changes (EXTERNAL_BROKER_MODE);
 * said before anyone fills in a form.
 */
export function ExternalBrokerNotice() {
  const d = useDeployment().data
  if (d?.broker.mode !== 'external') return null
  return (
    <p className="alert alert-info" role="note">
      <strong>Attached to an external broker</strong> ({d.broker.servers?.join(', ')}): devices connect to that broker, and its own users, ACL and limits apply. The
      settings here are kept for when the deployment runs its own broker again; changes are refused meanwhile.
    </p>
  )
}
