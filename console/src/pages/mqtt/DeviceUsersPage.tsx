import { useId, useRef, useState } from 'react'
import { ApiError, api } from '../../api/client.ts'
import type { DeviceUser } from '../../api/types.ts'
import { ErrorAlert } from '../../components/Alert.tsx'
import { ConfirmDeleteDialog } from '../../components/ConfirmDeleteDialog.tsx'
import { Dialog } from '../../components/Dialog.tsx'
import { FlashMessage } from '../../components/FlashMessage.tsx'
import { DialogFormFooter, SubmitButton } from '../../components/FormButtons.tsx'
import { KeyIcon } from '../../components/Icons.tsx'
import { DeleteIconButton, IconButton } from '../../components/IconButton.tsx'
import { StackTable, ACTIONS_COLUMN, ActionsCell, cell, type StackColumn } from '../../components/StackTable.tsx'
import { TextField } from '../../components/TextField.tsx'
import { ExternalBrokerNotice } from '../../components/ExternalBrokerNotice.tsx'
import { useDeployment } from '../../lib/deployment-context.tsx'
import { fieldErrorsOf } from '../../lib/field-errors.ts'
import { formatAgo, formatCount, fieldMessage, formatDate } from '../../lib/format.ts'
import { href } from '../../lib/router.ts'
import { firstInvalidOf, useFormSubmit } from '../../lib/use-form-submit.ts'
import { useResource } from '../../lib/use-resource.ts'
import { NEEDS_ROLE, useCan } from '../../lib/identity.tsx'

const COLUMNS: ReadonlyArray<string | StackColumn> = ['Username', 'Superuser', 'Updated', ACTIONS_COLUMN]

/** Device access > Device users: who may connect to the deployment's broker with a password. */
export function DeviceUsersPage({ dep }: { dep: string }) {
  const deployment = useDeployment()
  const users = useResource(() => api.deviceUsers(dep).then((r) => r.data), `device-users:${dep}`)
  const [flash, setFlash] = useState<string | null>(null)
  const [changing, setChanging] = useState<DeviceUser | null>(null)
  const [deleting, setDeleting] = useState<DeviceUser | null>(null)
  const list = users.data
  const anonymous = deployment.data?.mqtt.allowAnonymous
  const canEdit = useCan('editor')

  return (
    <>
      <header className="page-header">
        <div>
          <p className="eyebrow">Device access</p>
          <h1>Device users</h1>
          <p className="page-intro">
            MQTT clients connect with a device user's username and password. Passwords are stored as scrypt hashes and never shown again.{' '}
            {anonymous === true && <>Clients without credentials are allowed too (see <a href={href.brokerSettings(dep)}>Broker settings</a>).</>}
            {anonymous === false && <>Clients without credentials are refused (see <a href={href.brokerSettings(dep)}>Broker settings</a>).</>}
          </p>
        </div>
      </header>
      <ExternalBrokerNotice />
      <FlashMessage message={flash} onDismiss={() => setFlash(null)} />
      {canEdit && <AddUserForm dep={dep} onAdded={(u) => { setFlash(`Device user ${u.username} added.`); void users.reload() }} />}
      <ErrorAlert error={users.error} title="Could not load the device users" />
      {!list && users.loading && <p className="loading">Loading device users…</p>}
      {list && list.length === 0 && (
        <div className="empty-state">
          <h2>No device users yet</h2>
          <p>{canEdit ? 'Add one above' : `${NEEDS_ROLE.editor} to add one`}, then connect with it, e.g. <code>mosquitto_pub -u name -P password -t t -m hello</code>.</p>
        </div>
      )}
      {list && list.length > 0 && (
        <div className="table-wrap">
          <StackTable columns={COLUMNS}>
            {list.map((u) => (
              <tr key={u.username} role="row">
                <td {...cell('Username')} className="mono">{u.username}</td>
                <td {...cell('Superuser')}>{u.superuser ? 'yes' : 'no'}</td>
                <td {...cell('Updated')}>{formatDate(u.updatedAt)}</td>
                <ActionsCell>
                  {canEdit && (
                    <>
                      <IconButton label={`Change password of ${u.username}`} onClick={() => setChanging(u)}>
                        <KeyIcon />
                      </IconButton>
                      <DeleteIconButton label={`Delete ${u.username}`} onClick={() => setDeleting(u)} />
                    </>
                  )}
                </ActionsCell>
              </tr>
            ))}
          </StackTable>
        </div>
      )}
      {changing && (
        <ChangePasswordDialog dep={dep} user={changing} onClose={() => setChanging(null)} onChanged={() => { setFlash(`Password of ${changing.username} changed.`); setChanging(null); void users.reload() }} />
      )}
      <LoginStatsSection dep={dep} />
      {deleting && (
        <DeleteUserDialog dep={dep} user={deleting} onClose={() => setDeleting(null)} onDeleted={() => { setFlash(`Device user ${deleting.username} deleted.`); setDeleting(null); void users.reload() }} />
      )}
    </>
  )
}

function AddUserForm({ dep, onAdded }: { dep: string; onAdded: (u: DeviceUser) => void }) {
  const uid = useId()
  const ids = { username: `${uid}-username`, password: `${uid}-password`, superuser: `${uid}-superuser` }
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [superuser, setSuperuser] = useState(false)
  const usernameRef = useRef<HTMLInputElement>(null)
  const { busy, error, fieldErrors, submit } = useFormSubmit({
    send: async () => {
      const u = await api.createDeviceUser(dep, { username, password, ...(superuser ? { superuser } : {}) })
      setUsername('')
      setPassword('')
      setSuperuser(false)
      onAdded(u)
      usernameRef.current?.focus()
    },
    fieldErrorsOf: (err) => {
      const fields = fieldErrorsOf(err)
      if (err instanceof ApiError && err.code === 'USERNAME_TAKEN') fields.username = fieldMessage(err.message)
      return fields
    },
    placed: (path) => path in ids,
    focusOf: firstInvalidOf(['username', 'password'], ids),
  })

  return (
    <form className="form card form-section" onSubmit={submit} noValidate aria-labelledby={`${uid}-title`}>
      <h2 id={`${uid}-title`} className="form-section-title">Add a device user</h2>
      <TextField inputRef={usernameRef} id={ids.username} label="Username" required value={username} onChange={setUsername} error={fieldErrors.username} help="The MQTT username the device connects with." spellCheck={false} />
      <TextField id={ids.password} label="Password" required type="password" value={password} onChange={setPassword} error={fieldErrors.password} help="Stored as a hash; it cannot be shown later." autoComplete="new-password" />
      <div className="field field-check">
        <div className="check-row">
          <input id={ids.superuser} type="checkbox" checked={superuser} onChange={(e) => setSuperuser(e.target.checked)} aria-describedby={`${ids.superuser}-help`} />
          <label htmlFor={ids.superuser}>Superuser</label>
        </div>
        <p id={`${ids.superuser}-help`} className="field-help">A superuser may publish and subscribe to every topic, whatever the ACL says.</p>
      </div>
      <ErrorAlert error={error} title="Could not add the device user" />
      <div className="form-actions">
        <SubmitButton busy={busy} busyLabel="Adding…">Add user</SubmitButton>
      </div>
    </form>
  )
}

function ChangePasswordDialog({ dep, user, onClose, onChanged }: { dep: string; user: DeviceUser; onClose: () => void; onChanged: () => void }) {
  const uid = useId()
  const [password, setPassword] = useState('')
  const { busy, error, fieldErrors, submit } = useFormSubmit({
    send: async () => {
      await api.updateDeviceUser(dep, user.username, { password })
      onChanged()
    },
    placed: (path) => path === 'password',
    busyAfterSuccess: true,
    keepFieldErrorsWhileSending: true,
  })

  return (
    <Dialog
      title={`Change password of ${user.username}`}
      onClose={onClose}
      footer={<DialogFormFooter form={`${uid}-form`} busy={busy} onCancel={onClose}>Save password</DialogFormFooter>}
    >
      <form id={`${uid}-form`} onSubmit={submit} noValidate>
        <TextField id={`${uid}-password`} label="New password" required type="password" value={password} onChange={setPassword} error={fieldErrors.password} help="Clients already connected stay connected; the next CONNECT needs the new password." autoComplete="new-password" autoFocus />
      </form>
      <ErrorAlert error={error} title="Could not change the password" />
    </Dialog>
  )
}

function DeleteUserDialog({ dep, user, onClose, onDeleted }: { dep: string; user: DeviceUser; onClose: () => void; onDeleted: () => void }) {
  return (
    <ConfirmDeleteDialog title={`Delete device user ${user.username}?`} remove={() => api.deleteDeviceUser(dep, user.username)} onClose={onClose} onDeleted={onDeleted} errorTitle="Could not delete the device user">
      <p>Devices using <strong>{user.username}</strong> can no longer connect with it. Clients connected now stay connected until they reconnect.</p>
    </ConfirmDeleteDialog>
  )
}

/** Logins since Junction started, refreshed every few seconds: where guessing shows up. */
function LoginStatsSection({ dep }: { dep: string }) {
  const uid = useId()
  const stats = useResource(() => api.loginStats(dep), `login-stats:${dep}`, 5000)
  const s = stats.data
  const worst = [
    ...(s?.failedByUsername ?? []).slice(0, 5).map((f) => ({ key: `u:${f.username}`, what: `username ${f.username}`, failures: f.failures, at: f.lastFailureAt })),
    ...(s?.failedByPeerhost ?? []).slice(0, 5).map((f) => ({ key: `h:${f.peerhost}`, what: `address ${f.peerhost}`, failures: f.failures, at: f.lastFailureAt })),
  ]
  return (
    <section className="card form-section login-stats" aria-labelledby={`${uid}-title`}>
      <h2 id={`${uid}-title`} className="form-section-title">Logins since start</h2>
      <ErrorAlert error={stats.error} title="Could not load the login counts" />
      {s && (
        <>
          <p>
            {formatCount(s.succeeded)} succeeded, {formatCount(s.failed)} failed, {formatCount(s.anonymousRefused)} anonymous refused.
          </p>
          {worst.length > 0 && (
            <ul className="link-list">
              {worst.map((w) => (
                <li key={w.key}>
                  {w.what}: {formatCount(w.failures)} failed, last {formatAgo(w.at)}
                </li>
              ))}
            </ul>
          )}
          <p className="muted small">After a failure, further attempts of that username or address wait before their password is checked (200 ms, doubling, at most 5 s).</p>
        </>
      )}
    </section>
  )
}
