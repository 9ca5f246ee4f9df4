import { useState } from 'react'
import { api } from '../../api/client.ts'
import type { ConnectorSummary } from '../../api/types.ts'
import { ErrorAlert } from '../../components/Alert.tsx'
import { DeploymentNotRunning } from '../../components/DeploymentNotRunning.tsx'
import { EditIcon, PlusIcon } from '../../components/Icons.tsx'
import { DeleteIconButton, IconButton } from '../../components/IconButton.tsx'
import { StackTable, ACTIONS_COLUMN, ActionsCell, cell, type StackColumn } from '../../components/StackTable.tsx'
import { StatusBadge } from '../../components/StatusBadge.tsx'
import { DeliveryBadge } from '../../components/DeliveryBadge.tsx'
import { TypeIcon } from '../../components/TypeIcon.tsx'
import { FlashMessage } from '../../components/FlashMessage.tsx'
import { ListenerUrls } from '../../components/ListenerUrls.tsx'
import { ServerlessNotice } from '../../components/ServerlessNotice.tsx'
import { typeTitle, useConnectorTypes } from '../../lib/connector-types.ts'
import { EDIT_NEEDS_PLAN, useDeployment } from '../../lib/deployment-context.tsx'
import { takeFlash } from '../../lib/flash.ts'
import { NEEDS_ROLE, useCan } from '../../lib/identity.tsx'
import { href, navigate } from '../../lib/router.ts'
import { useResource } from '../../lib/use-resource.ts'
import { ConnectorTypeGrid } from './ConnectorTypeGrid.tsx'
import { DeleteConnectorDialog, type DeleteTarget } from './DeleteConnectorDialog.tsx'

const CONNECTOR_COLUMNS: ReadonlyArray<string | StackColumn> = [
  'Name',
  'ID',
  'Type',
  'Status',
  { label: 'Rules', className: 'num' },
  ACTIONS_COLUMN,
]

/** Data Integration > Connectors: the type grid the first time, then the live list. */
export function ConnectorsPage({ dep }: { dep: string }) {
  const deployment = useDeployment()
  const types = useConnectorTypes()
  const connectors = useResource(() => api.connectors(dep).then((r) => r.data), `connectors:${dep}`, 2000)
  const [picking, setPicking] = useState(false)
  const [deleting, setDeleting] = useState<DeleteTarget | null>(null)
  const [flash, setFlash] = useState<string | null>(() => takeFlash())

  const d = deployment.data
  const running = d?.status === 'running'
  const list = connectors.data
  const serverless = d?.plan === 'serverless'
  const hasConnectors = (list?.length ?? 0) > 0
  const canEdit = useCan('editor')

  return (
    <>
      <header className="page-header">
        <div>
          <p className="eyebrow">Data Integration</p>
          <h1>Connectors</h1>
          <p className="page-intro">Connections from this deployment to cloud resources and your own services. Rules send data through them.</p>
        </div>
        {canEdit && running && hasConnectors && !picking && (
          <button type="button" className="button primary" onClick={() => setPicking(true)}>
            <PlusIcon /> New Connector
          </button>
        )}
      </header>

      {running && d.mqtt && (
        <details className="device-addresses">
          <summary>Device addresses</summary>
          <p className="field-help">Devices connect to any of these. TLS and secure WebSocket use the certificate set for this deployment, or one Junction generated (its file and fingerprint are in the log).</p>
          <ListenerUrls mqtt={d.mqtt} />
        </details>
      )}
      {serverless && hasConnectors && <ServerlessNotice />}
      {d && !running && <DeploymentNotRunning deployment={d} onStarted={() => void deployment.reload()} what="Connectors can be created only while it runs." />}
      <ErrorAlert error={deployment.error} title="Could not load the deployment" />
      <ErrorAlert error={connectors.error} title="Could not load the connectors" />
      <FlashMessage message={flash} onDismiss={() => setFlash(null)} />

      {canEdit && running && types.data && (!hasConnectors || picking) && list && (
        <ConnectorTypeGrid dep={dep} types={types.data} onClose={hasConnectors ? () => setPicking(false) : undefined} />
      )}
      <ErrorAlert error={types.error} title="Could not load the connector types" />

      {!list && connectors.loading && <p className="loading">Loading connectors…</p>}
      {list && !hasConnectors && !canEdit && (
        <div className="empty-state">
          <h2>No connectors yet</h2>
          <p>{NEEDS_ROLE.editor} to create one.</p>
        </div>
      )}
      {list && !hasConnectors && canEdit && d && !running && (
        <div className="empty-state">
          <p>This deployment has no connectors yet. Start it, then choose a resource to connect.</p>
        </div>
      )}
      {list && hasConnectors && (
        <div className="table-wrap">
          <StackTable columns={CONNECTOR_COLUMNS}>
              {list.map((c) => (
                <ConnectorRow key={c.id} dep={dep} c={c} typeTitle={typeTitle(types.data, c.type)} serverless={serverless} canEdit={canEdit} onDelete={() => setDeleting({ id: c.id, name: c.name, ruleCount: c.ruleCount })} />
              ))}
            </StackTable>
        </div>
      )}

      {deleting && (
        <DeleteConnectorDialog
          dep={dep}
          target={deleting}
          onClose={() => setDeleting(null)}
          onDeleted={() => {
            setFlash(`Connector ${deleting.name} (${deleting.id}) deleted.`)
            setDeleting(null)
            void connectors.reload()
          }}
        />
      )}
    </>
  )
}

function ConnectorRow({ dep, c, typeTitle, serverless, canEdit, onDelete }: { dep: string; c: ConnectorSummary; typeTitle: string; serverless: boolean; canEdit: boolean; onDelete: () => void }) {
  return (
    <tr role="row">
      <td {...cell('Name')}>
        {/* The name links to the details, as in every list (deployments, rules). */}
        <a href={href.connector(dep, c.id)} className="strong-link">
          {c.name}
        </a>
        {c.description && <div className="cell-sub">{c.description}</div>}
      </td>
      <td {...cell('ID')} className="mono">
        {c.id}
      </td>
      <td {...cell('Type')}>
        <span className="type-cell">
          <TypeIcon type={c.type} title={typeTitle} size={20} />
          {typeTitle}
        </span>
      </td>
      <td {...cell('Status')}>
        <span className="badge-row">
          <StatusBadge status={c.status} reason={c.statusReason} />{' '}
          <DeliveryBadge health={c.delivery} />
        </span>
      </td>
      <td {...cell('Rules')} className="num">{c.ruleCount}</td>
      <ActionsCell>
        {canEdit ? (
          <>
            <IconButton label={`Edit ${c.name}`} title={serverless ? EDIT_NEEDS_PLAN : undefined} disabled={serverless} onClick={() => navigate(href.editConnector(dep, c.id))}>
              <EditIcon />
            </IconButton>
            <DeleteIconButton label={`Delete ${c.name}`} onClick={onDelete} />
          </>
        ) : (
          <a href={href.connector(dep, c.id)} aria-label={`Details of ${c.name}`}>Details</a>
        )}
      </ActionsCell>
    </tr>
  )
}
