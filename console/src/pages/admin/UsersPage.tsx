import { useId, useRef, useState } from 'react'
import { ApiError, api } from '../../api/client.ts'
import type { ConsoleUser, Role } from '../../api/types.ts'
import { ErrorAlert } from '../../components/Alert.tsx'
import { DeleteButton, useDeleting } from '../../components/ConfirmDeleteDialog.tsx'
import { Dialog } from '../../components/Dialog.tsx'
import { FlashMessage } from '../../components/FlashMessage.tsx'
import { DialogFormFooter, SubmitButton } from '../../components/FormButtons.tsx'
import { KeyIcon } from '../../components/Icons.tsx'
import { DeleteIconButton, IconButton } from '../../components/IconButton.tsx'
import { StackTable, ACTIONS_COLUMN, ActionsCell, cell, type StackColumn } from '../../components/StackTable.tsx'
import { TextField } from '../../components/TextField.tsx'
import { fieldErrorsOf } from '../../lib/field-errors.ts'
import { fieldMessage, formatDate } from '../../lib/format.ts'
import { useIdentity } from '../../lib/identity.tsx'
import { firstInvalidOf, useFormSubmit } from '../../lib/use-form-submit.ts'
import { useResource } from '../../lib/use-resource.ts'
import { RoleHelp, RoleSelect } from './roles.tsx'

const COLUMNS: ReadonlyArray<string | StackColumn> = ['Username', 'Role', 'Created', 'Updated', ACTIONS_COLUMN]
/** The API's rule (POST /users): checked here too, so the field says so before a round trip. */
const MIN_PASSWORD = 8

/** Administration > Console users: who may log in to this console, with which role. Admins only. */
export function UsersPage() {
  const users = useResource(() => api.users().then((r) => r.data), 'console-users')
  const me = useIdentity()
  const [flash, setFlash] = useState<string | null>(null)
  const [rowError, setRowError] = useState<unknown>(null)
  const [resetting, setResetting] = useState<ConsoleUser | null>(null)
  const [deleting, setDeleting] = useState<ConsoleUser | null>(null)
  const [changingRole, setChangingRole] = useState<string | null>(null)
  const list = users.data

  const changeRole = async (u: ConsoleUser, role: Role) => {
    setChangingRole(u.username)
    setRowError(null)
    setFlash(null)
    try {
      const saved = await api.updateUser(u.username, { role })
      users.set((list ?? []).map((x) => (x.username === saved.username ? saved : x)))
      setFlash(`${saved.username} is now ${saved.role}. It applies to their next request.`)
    } catch (err) {
      setRowError(err)
    } finally {
      setChangingRole(null)
    }
  }

  return (
    <>
      <header className="page-header">
        <div>
          <p className="eyebrow">Administration</p>
          <h1>Console users</h1>
          <p className="page-intro">People who log in to this console. Passwords are stored as scrypt hashes and never shown. A role change or a deletion applies to the user's next request.</p>
        </div>
      </header>
      <FlashMessage message={flash} onDismiss={() => setFlash(null)} />
      <AddUserForm onAdded={(u) => { setFlash(`Console user ${u.username} added with the ${u.role} role.`); void users.reload() }} />
      <ErrorAlert error={users.error} title="Could not load the console users" />
      <ErrorAlert error={rowError} title="Could not change the role" />
      {!list && users.loading && <p className="loading">Loading console users…</p>}
      {list && list.length > 0 && (
        <div className="table-wrap">
          <StackTable columns={COLUMNS}>
            {list.map((u) => (
              <tr key={u.username} role="row">
                <td {...cell('Username')} className="mono">
                  {u.username}
                  {me?.kind === 'user' && me.name === u.username && <span className="muted"> (you)</span>}
                </td>
                <td {...cell('Role')}>
                  <RoleSelect id={`role-${u.username}`} label={`Role of ${u.username}`} value={u.role} disabled={changingRole === u.username} onChange={(role) => void changeRole(u, role)} />
                </td>
                <td {...cell('Created')}>{formatDate(u.createdAt)}</td>
                <td {...cell('Updated')}>{formatDate(u.updatedAt)}</td>
                <ActionsCell>
                  <IconButton label={`Reset password of ${u.username}`} onClick={() => setResetting(u)}>
                    <KeyIcon />
                  </IconButton>
                  <DeleteIconButton label={`Delete ${u.username}`} onClick={() => setDeleting(u)} />
                </ActionsCell>
              </tr>
            ))}
          </StackTable>
        </div>
      )}
      <p className="muted small">Last logins are not recorded; the audit log lists every change each user made.</p>
      {resetting && (
        <ResetPasswordDialog user={resetting} onClose={() => setResetting(null)} onDone={() => { setFlash(`Password of ${resetting.username} reset.`); setResetting(null); void users.reload() }} />
      )}
      {deleting && (
        <DeleteUserDialog user={deleting} onClose={() => setDeleting(null)} onDeleted={() => { setFlash(`Console user ${deleting.username} deleted.`); setDeleting(null); void users.reload() }} />
      )}
    </>
  )
}

/** The password's field error when it is too short for the API. */
function passwordProblems(password: string): { password: string } | undefined {
  return password.length < MIN_PASSWORD ? { password: `At least ${MIN_PASSWORD} characters (now ${password.length}).` } : undefined
}

function AddUserForm({ onAdded }: { onAdded: (u: ConsoleUser) => void }) {
  const uid = useId()
  const ids = { username: `${uid}-username`, password: `${uid}-password`, role: `${uid}-role` }
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [role, setRole] = useState<Role>('viewer')
  const usernameRef = useRef<HTMLInputElement>(null)
  const { busy, error, fieldErrors, setFieldErrors, submit } = useFormSubmit({
    check: () => passwordProblems(password),
    send: async () => {
      const u = await api.createUser({ username, password, role })
      setUsername('')
      setPassword('')
      setRole('viewer')
      onAdded(u)
      usernameRef.current?.focus()
    },
    fieldErrorsOf: (err) => {
      const fields = fieldErrorsOf(err)
      if (err instanceof ApiError && err.code === 'USER_EXISTS') fields.username = fieldMessage(err.message, err.body.hint)
      return fields
    },
    placed: (path) => path in ids,
    focusOf: firstInvalidOf(['username', 'password'], ids),
  })
  /** An edited field's error is out of date: it goes until the next Add says otherwise. */
  const edit = (name: 'username' | 'password', set: (v: string) => void) => (v: string) => {
    set(v)
    setFieldErrors(({ [name]: _, ...rest }) => rest)
  }

  return (
    <form className="form card form-section" onSubmit={submit} noValidate aria-labelledby={`${uid}-title`}>
      <h2 id={`${uid}-title`} className="form-section-title">Add a console user</h2>
      <TextField inputRef={usernameRef} id={ids.username} label="Username" required value={username} onChange={edit('username', setUsername)} error={fieldErrors.username} help="Letters, digits and . _ @ - (no colon)." spellCheck={false} />
      <TextField id={ids.password} label="Password" required type="password" value={password} onChange={edit('password', setPassword)} error={fieldErrors.password} help={`At least ${MIN_PASSWORD} characters; stored as a hash, never shown again.`} autoComplete="new-password" />
      <div className={`field${fieldErrors.role ? ' has-error' : ''}`}>
        <label htmlFor={ids.role}>Role</label>
        <RoleSelect id={ids.role} value={role} onChange={setRole} describedBy={`${ids.role}-help`} />
        <RoleHelp id={`${ids.role}-help`} />
      </div>
      <ErrorAlert error={error} title="Could not add the console user" />
      <div className="form-actions">
        <SubmitButton busy={busy} busyLabel="Adding…">Add user</SubmitButton>
      </div>
    </form>
  )
}

function ResetPasswordDialog({ user, onClose, onDone }: { user: ConsoleUser; onClose: () => void; onDone: () => void }) {
  const uid = useId()
  const [password, setPassword] = useState('')
  const { busy, error, fieldErrors, submit } = useFormSubmit({
    check: () => passwordProblems(password),
    send: async () => {
      await api.updateUser(user.username, { password })
      onDone()
    },
    placed: (path) => path === 'password',
    busyAfterSuccess: true,
  })

  return (
    <Dialog
      title={`Reset password of ${user.username}`}
      onClose={onClose}
      footer={<DialogFormFooter form={`${uid}-form`} busy={busy} onCancel={onClose}>Save password</DialogFormFooter>}
    >
      <form id={`${uid}-form`} onSubmit={submit} noValidate>
        <TextField id={`${uid}-password`} label="New password" required type="password" value={password} onChange={setPassword} error={fieldErrors.password} help={`At least ${MIN_PASSWORD} characters. Their console sessions stay open; the next login needs it.`} autoComplete="new-password" autoFocus />
      </form>
      <ErrorAlert error={error} title="Could not reset the password" />
    </Dialog>
  )
}

/** Deleting a login is not undone by a click: the admin types the name, as for a connector's ID. */
function DeleteUserDialog({ user, onClose, onDeleted }: { user: ConsoleUser; onClose: () => void; onDeleted: () => void }) {
  const uid = useId()
  const [typed, setTyped] = useState('')
  const deleting = useDeleting(() => api.deleteUser(user.username), onDeleted)
  return (
    <Dialog
      title={`Delete console user ${user.username}?`}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>Cancel</button>
          <DeleteButton deleting={deleting} disabled={typed !== user.username} />
        </>
      }
    >
      <p><strong>{user.username}</strong> can no longer log in, and their open sessions end at once. The audit log keeps what they did.</p>
      <TextField id={`${uid}-confirm`} label="Type the username to confirm" value={typed} onChange={setTyped} spellCheck={false} autoFocus />
      <ErrorAlert error={deleting.error} title="Could not delete the console user" />
    </Dialog>
  )
}
