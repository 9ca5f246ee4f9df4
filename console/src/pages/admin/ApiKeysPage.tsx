import { useId, useState } from 'react'
import { ApiError, api } from '../../api/client.ts'
import type { ApiKey, NewApiKey, Role } from '../../api/types.ts'
import { ErrorAlert } from '../../components/Alert.tsx'
import { ConfirmDeleteDialog } from '../../components/ConfirmDeleteDialog.tsx'
import { FlashMessage } from '../../components/FlashMessage.tsx'
import { SubmitButton } from '../../components/FormButtons.tsx'
import { DeleteIconButton } from '../../components/IconButton.tsx'
import { CopyButton } from '../../components/ListenerUrls.tsx'
import { StackTable, ACTIONS_COLUMN, ActionsCell, cell, type StackColumn } from '../../components/StackTable.tsx'
import { TextField } from '../../components/TextField.tsx'
import { fieldErrorsOf } from '../../lib/field-errors.ts'
import { fieldMessage, formatDate } from '../../lib/format.ts'
import { firstInvalidOf, useFormSubmit } from '../../lib/use-form-submit.ts'
import { useResource } from '../../lib/use-resource.ts'
import { RoleHelp, RoleSelect } from './roles.tsx'

const COLUMNS: ReadonlyArray<string | StackColumn> = ['Key', 'Role', 'Description', 'Created', ACTIONS_COLUMN]

/** Administration > API keys: credentials for scripts and the CLI (HTTP Basic key:secret). Admins only. */
export function ApiKeysPage() {
  const keys = useResource(() => api.apiKeys().then((r) => r.data), 'api-keys')
  const [flash, setFlash] = useState<string | null>(null)
  const [created, setCreated] = useState<NewApiKey | null>(null)
  const [deleting, setDeleting] = useState<ApiKey | null>(null)
  const list = keys.data

  return (
    <>
      <header className="page-header">
        <div>
          <p className="eyebrow">Administration</p>
          <h1>API keys</h1>
          <p className="page-intro">
            Scripts and the <code>junction</code> CLI authenticate with a key and its secret as HTTP Basic (<code>-u key:secret</code>). Only a hash of the secret is stored: it is shown once, when the key is made.
          </p>
        </div>
      </header>
      <FlashMessage message={flash} onDismiss={() => setFlash(null)} />
      {created && <NewSecret created={created} onDismiss={() => setCreated(null)} />}
      <CreateKeyForm onCreated={(k) => { setFlash(null); setCreated(k); void keys.reload() }} />
      <ErrorAlert error={keys.error} title="Could not load the API keys" />
      {!list && keys.loading && <p className="loading">Loading API keys…</p>}
      {list && list.length === 0 && (
        <div className="empty-state">
          <h2>No API keys yet</h2>
          <p>Create one above for a script or the CLI.</p>
        </div>
      )}
      {list && list.length > 0 && (
        <div className="table-wrap">
          <StackTable columns={COLUMNS}>
            {list.map((k) => (
              <tr key={k.key} role="row">
                <td {...cell('Key')} className="mono">{k.key}</td>
                <td {...cell('Role')}><span className={`role-badge role-${k.role}`}>{k.role}</span></td>
                <td {...cell('Description')}>{k.description || <span className="muted">—</span>}</td>
                <td {...cell('Created')}>{formatDate(k.createdAt)}</td>
                <ActionsCell>
                  <DeleteIconButton label={`Delete ${k.key}`} onClick={() => setDeleting(k)} />
                </ActionsCell>
              </tr>
            ))}
          </StackTable>
        </div>
      )}
      {deleting && (
        <ConfirmDeleteDialog
          title={`Delete API key ${deleting.key}?`}
          remove={() => api.deleteApiKey(deleting.key)}
          onClose={() => setDeleting(null)}
          onDeleted={() => { setFlash(`API key ${deleting.key} deleted.`); if (created?.key === deleting.key) setCreated(null); setDeleting(null); void keys.reload() }}
          errorTitle="Could not delete the API key"
        >
          <p>Scripts using <strong className="mono">{deleting.key}</strong> ({deleting.role}) are refused from their next request on.</p>
        </ConfirmDeleteDialog>
      )}
    </>
  )
}

/** The one time the secret exists outside the script that will use it. */
function NewSecret({ created, onDismiss }: { created: NewApiKey; onDismiss: () => void }) {
  const uid = useId()
  return (
    <section className="card form-section new-secret" role="region" aria-labelledby={`${uid}-title`}>
      <h2 id={`${uid}-title`} className="form-section-title">API key {created.key} created</h2>
      <p className="alert alert-warning" role="note">
        Copy the secret now: it won't be shown again. Only its hash is stored; a lost secret means a new key.
      </p>
      <dl className="secret-list">
        <dt>Key</dt>
        <dd><code>{created.key}</code> <CopyButton text={created.key} label="Copy the key" /></dd>
        <dt>Secret</dt>
        <dd><code className="secret-value" aria-label="Secret">{created.secret}</code> <CopyButton text={created.secret} label="Copy the secret" /></dd>
        <dt>Role</dt>
        <dd>{created.role}</dd>
      </dl>
      <p className="muted small">For example: <code>{`curl -u ${created.key}:… http://…/api/v1/deployments`}</code></p>
      <div className="form-actions">
        <button type="button" className="button" onClick={onDismiss}>I have copied the secret</button>
      </div>
    </section>
  )
}

function CreateKeyForm({ onCreated }: { onCreated: (k: NewApiKey) => void }) {
  const uid = useId()
  const ids = { key: `${uid}-key`, role: `${uid}-role`, description: `${uid}-description` }
  const [key, setKey] = useState('')
  const [role, setRole] = useState<Role>('viewer')
  const [description, setDescription] = useState('')
  const { busy, error, fieldErrors, setFieldErrors, submit } = useFormSubmit({
    send: async () => {
      const k = await api.createApiKey({ ...(key.trim() ? { key: key.trim() } : {}), role, ...(description.trim() ? { description: description.trim() } : {}) })
      setKey('')
      setDescription('')
      setRole('viewer')
      onCreated(k)
    },
    fieldErrorsOf: (err) => {
      const fields = fieldErrorsOf(err)
      if (err instanceof ApiError && err.code === 'USER_EXISTS') fields.key = fieldMessage(err.message, err.body.hint)
      return fields
    },
    placed: (path) => path in ids,
    focusOf: firstInvalidOf(['key', 'description'], ids),
  })
  /** An edited field's error is out of date: it goes until the next Create says otherwise. */
  const edit = (name: 'key' | 'description', set: (v: string) => void) => (v: string) => {
    set(v)
    setFieldErrors(({ [name]: _, ...rest }) => rest)
  }

  return (
    <form className="form card form-section" onSubmit={submit} noValidate aria-labelledby={`${uid}-title`}>
      <h2 id={`${uid}-title`} className="form-section-title">Create an API key</h2>
      <TextField id={ids.key} label="Key name" value={key} onChange={edit('key', setKey)} error={fieldErrors.key} help="Optional: letters, digits and . _ @ -. Left empty, one is made (jk-…)." spellCheck={false} />
      <div className={`field${fieldErrors.role ? ' has-error' : ''}`}>
        <label htmlFor={ids.role}>Role</label>
        <RoleSelect id={ids.role} value={role} onChange={setRole} describedBy={`${ids.role}-help`} />
        <RoleHelp id={`${ids.role}-help`} />
      </div>
      <TextField id={ids.description} label="Description" value={description} onChange={edit('description', setDescription)} error={fieldErrors.description} help="What uses it, so it can be revoked knowingly later." />
      <ErrorAlert error={error} title="Could not create the API key" />
      <div className="form-actions">
        <SubmitButton busy={busy} busyLabel="Creating…">Create key</SubmitButton>
      </div>
    </form>
  )
}
