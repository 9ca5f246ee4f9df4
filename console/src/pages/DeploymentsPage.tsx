import { api } from '../api/client.ts'
import { ErrorAlert } from '../components/Alert.tsx'
import { StatusBadge } from '../components/StatusBadge.tsx'
import { href } from '../lib/router.ts'
import { useResource } from '../lib/use-resource.ts'

/** Every deployment: an MQTT broker with its own connectors and rules. */
export function DeploymentsPage() {
  const list = useResource(() => api.deployments().then((r) => r.data), 'deployments', 5000)
  const rows = list.data ?? []
  return (
    <>
      <header className="page-header">
        <div>
          <h1>Deployments</h1>
          <p className="page-intro">Each deployment is an MQTT broker with its own data integration. Open one to manage its connectors and rules.</p>
        </div>
      </header>
      <ErrorAlert error={list.error} title="Could not load the deployments" />
      {list.loading && !list.data ? (
        <p className="loading">Loading deployments…</p>
      ) : rows.length === 0 ? (
        <div className="empty-state">
          <p>There are no deployments. Create one with <code>POST /api/v1/deployments</code>; a fresh install has one named <code>default</code>.</p>
        </div>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Plan</th>
                <th scope="col">Status</th>
                <th scope="col">MQTT</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <tr key={d.id}>
                  <td>
                    <a href={href.connectors(d.id)} className="strong-link">
                      {d.name}
                    </a>
                    {d.name !== d.id && <div className="cell-sub mono">{d.id}</div>}
                  </td>
                  <td>
                    <span className={`plan plan-${d.plan}`}>{d.plan}</span>
                  </td>
                  <td>
                    <StatusBadge status={d.status} reason={d.statusReason} />
                  </td>
                  <td className="mono">{d.mqtt ? `mqtt://${d.mqtt.host}:${d.mqtt.port}` : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  )
}
