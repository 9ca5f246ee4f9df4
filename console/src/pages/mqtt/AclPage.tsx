import { useEffect, useId, useRef, useState } from 'react'
import { api } from '../../api/client.ts'
import type { AclPermission, AclRule, MqttAcl } from '../../api/types.ts'
import { ErrorAlert } from '../../components/Alert.tsx'
import { ExternalBrokerNotice } from '../../components/ExternalBrokerNotice.tsx'
import { FlashMessage } from '../../components/FlashMessage.tsx'
import { SubmitButton } from '../../components/FormButtons.tsx'
import { DownIcon, PlusIcon, UpIcon } from '../../components/Icons.tsx'
import { DeleteIconButton, IconButton } from '../../components/IconButton.tsx'
import { StackTable, ACTIONS_COLUMN, ActionsCell, cell, type StackColumn } from '../../components/StackTable.tsx'
import { formatDate } from '../../lib/format.ts'
import { useFormSubmit } from '../../lib/use-form-submit.ts'
import { useResource } from '../../lib/use-resource.ts'
import { RoleFieldset } from '../../lib/identity.tsx'

const COLUMNS: ReadonlyArray<string | StackColumn> = [{ label: '#', className: 'num' }, 'Who', 'Action', 'Topic', 'Permission', ACTIONS_COLUMN]

type WhoKind = 'all' | 'username' | 'clientid'

interface DraftRule {
  /** Stable across moves, for React. */
  key: number
  whoKind: WhoKind
  whoValue: string
  action: AclRule['action']
  topic: string
  permission: AclPermission
}

let nextKey = 1
const toDraft = (r: AclRule): DraftRule => ({
  key: nextKey++,
  whoKind: r.who === 'all' ? 'all' : 'username' in r.who ? 'username' : 'clientid',
  whoValue: r.who === 'all' ? '' : 'username' in r.who ? r.who.username : r.who.clientid,
  action: r.action,
  topic: r.topic,
  permission: r.permission,
})
const toRule = (d: DraftRule): AclRule => ({
  who: d.whoKind === 'all' ? 'all' : d.whoKind === 'username' ? { username: d.whoValue } : { clientid: d.whoValue },
  action: d.action,
  topic: d.topic,
  permission: d.permission,
})

/** Device access > ACL: ordered rules (first match wins) and the default permission. */
export function AclPage({ dep }: { dep: string }) {
  const uid = useId()
  const acl = useResource(() => api.acl(dep), `acl:${dep}`)
  const [rules, setRules] = useState<DraftRule[] | null>(null)
  const [fallback, setFallback] = useState<AclPermission>('allow')
  const [flash, setFlash] = useState<string | null>(null)
  const [savedAt, setSavedAt] = useState<string | null>(null)
  const focusAfter = useRef<string | null>(null)
  const { busy, error, fieldErrors, setFieldErrors, submit: save } = useFormSubmit({
    send: async () => {
      // Sent from the form, which exists once the draft does.
      const saved = await api.saveAcl(dep, { rules: rules!.map(toRule), default: fallback })
      setSavedAt(saved.updatedAt ?? null)
      setFlash('ACL saved. Connected clients are checked against it from their next publish or subscribe.')
    },
    focusOf: (fields) => Object.keys(fields).map(idOfPath).find((id) => id !== undefined),
    focusLater: true,
  })

  // The draft starts from the stored ACL once; later reloads do not overwrite the user's edits.
  useEffect(() => {
    if (acl.data && rules === null) {
      setRules(acl.data.rules.map(toDraft))
      setFallback(acl.data.default)
      setSavedAt(acl.data.updatedAt ?? null)
    }
  }, [acl.data, rules])

  useEffect(() => {
    if (focusAfter.current) {
      document.getElementById(focusAfter.current)?.focus()
      focusAfter.current = null
    }
  })

  if (!rules) {
    return (
      <>
        <AclHeader />
        <ErrorAlert error={acl.error} title="Could not load the ACL" />
        {acl.loading && <p className="loading">Loading the ACL…</p>}
      </>
    )
  }

  const edit = (i: number, change: Partial<DraftRule>) => setRules(rules.map((r, j) => (j === i ? { ...r, ...change } : r)))
  const reorder = (next: DraftRule[]) => {
    setRules(next)
    // Errors name rules by position: after a move or removal they would point at the wrong row.
    setFieldErrors({})
  }
  const move = (i: number, by: -1 | 1) => {
    const next = [...rules]
    const [r] = next.splice(i, 1)
    next.splice(i + by, 0, r!)
    reorder(next)
    focusAfter.current = `${uid}-move-${by < 0 ? 'up' : 'down'}-${i + by}`
  }
  const remove = (i: number) => {
    reorder(rules.filter((_, j) => j !== i))
    focusAfter.current = `${uid}-add`
  }
  const add = () => {
    setRules([...rules, { key: nextKey++, whoKind: 'all', whoValue: '', action: 'all', topic: '', permission: 'allow' }])
    focusAfter.current = `${uid}-topic-${rules.length}`
  }

  /** The input a server error path such as `rules.2.topic` belongs to. */
  function idOfPath(path: string): string | undefined {
    const m = /^rules\.(\d+)\.(who|action|topic|permission)/.exec(path)
    if (m) return `${uid}-${m[2]}-${m[1]}`
    if (path === 'default') return `${uid}-default`
    return undefined
  }
  const errorOf = (i: number, field: 'who' | 'action' | 'topic' | 'permission') =>
    Object.entries(fieldErrors).find(([p]) => p === `rules.${i}.${field}` || p.startsWith(`rules.${i}.${field}.`))?.[1]
  const placedAll = Object.keys(fieldErrors).length > 0 && Object.keys(fieldErrors).every((p) => idOfPath(p) !== undefined)

  const control = (i: number, field: 'who' | 'action' | 'topic' | 'permission') => {
    const err = errorOf(i, field)
    const id = `${uid}-${field}-${i}`
    return { id, 'aria-invalid': err ? true : undefined, 'aria-describedby': err ? `${id}-error` : undefined }
  }
  const errorText = (i: number, field: 'who' | 'action' | 'topic' | 'permission') => {
    const err = errorOf(i, field)
    return err ? <p id={`${uid}-${field}-${i}-error`} className="field-error">{err}</p> : null
  }

  return (
    <>
      <AclHeader />
      <FlashMessage message={flash} onDismiss={() => setFlash(null)} />
      <form className="form acl-form" onSubmit={save} noValidate>
        <RoleFieldset needs="editor">
        <section className="card form-section" aria-labelledby={`${uid}-rules-title`}>
          <h2 id={`${uid}-rules-title`} className="form-section-title">Rules</h2>
          <p className="muted small">
            Topics are MQTT filters (<code>+</code> one level, <code>#</code> the rest); <code>{'${username}'}</code> and <code>{'${clientid}'}</code> are
            replaced by the client's own, and <code>eq </code> before a filter matches it literally. Superusers skip the ACL.
            {savedAt ? ` Last saved ${formatDate(savedAt)}.` : ' Not saved yet: every client may do everything.'}
          </p>
          {rules.length === 0 ? (
            <p className="muted">No rules: the default permission decides everything.</p>
          ) : (
            <div className="table-wrap acl-rules">
              <StackTable columns={COLUMNS} compact>
                {rules.map((r, i) => {
                  const n = i + 1
                  return (
                    <tr key={r.key} role="row">
                      <td {...cell('#')} className="num">{n}</td>
                      <td {...cell('Who')}>
                        <select {...control(i, 'who')} aria-label={`Who of rule ${n}`} value={r.whoKind} onChange={(e) => edit(i, { whoKind: e.target.value as WhoKind })}>
                          <option value="all">All clients</option>
                          <option value="username">Username</option>
                          <option value="clientid">Client ID</option>
                        </select>
                        {r.whoKind !== 'all' && (
                          <input
                            className="acl-who-value"
                            aria-label={`${r.whoKind === 'username' ? 'Username' : 'Client ID'} of rule ${n}`}
                            value={r.whoValue}
                            onChange={(e) => edit(i, { whoValue: e.target.value })}
                            aria-invalid={errorOf(i, 'who') ? true : undefined}
                            spellCheck={false}
                            autoComplete="off"
                          />
                        )}
                        {errorText(i, 'who')}
                      </td>
                      <td {...cell('Action')}>
                        <select {...control(i, 'action')} aria-label={`Action of rule ${n}`} value={r.action} onChange={(e) => edit(i, { action: e.target.value as AclRule['action'] })}>
                          <option value="all">Both</option>
                          <option value="publish">Publish</option>
                          <option value="subscribe">Subscribe</option>
                        </select>
                        {errorText(i, 'action')}
                      </td>
                      <td {...cell('Topic')}>
                        <input {...control(i, 'topic')} aria-label={`Topic of rule ${n}`} className="mono" value={r.topic} placeholder="devices/${clientid}/#" onChange={(e) => edit(i, { topic: e.target.value })} spellCheck={false} autoComplete="off" />
                        {errorText(i, 'topic')}
                      </td>
                      <td {...cell('Permission')}>
                        <select {...control(i, 'permission')} aria-label={`Permission of rule ${n}`} value={r.permission} onChange={(e) => edit(i, { permission: e.target.value as AclPermission })}>
                          <option value="allow">Allow</option>
                          <option value="deny">Deny</option>
                        </select>
                        {errorText(i, 'permission')}
                      </td>
                      <ActionsCell>
                        <IconButton id={`${uid}-move-up-${i}`} label={`Move rule ${n} up`} disabled={i === 0} onClick={() => move(i, -1)}>
                          <UpIcon />
                        </IconButton>
                        <IconButton id={`${uid}-move-down-${i}`} label={`Move rule ${n} down`} disabled={i === rules.length - 1} onClick={() => move(i, 1)}>
                          <DownIcon />
                        </IconButton>
                        <DeleteIconButton label={`Remove rule ${n}`} onClick={() => remove(i)} />
                      </ActionsCell>
                    </tr>
                  )
                })}
              </StackTable>
            </div>
          )}
          <div className="form-actions">
            <button type="button" id={`${uid}-add`} className="button" onClick={add}>
              <PlusIcon /> Add rule
            </button>
          </div>
        </section>
        <section className="card form-section" aria-labelledby={`${uid}-default-title`}>
          <h2 id={`${uid}-default-title`} className="form-section-title">When no rule applies</h2>
          <div className={`field${fieldErrors.default ? ' has-error' : ''}`}>
            <label htmlFor={`${uid}-default`}>Default permission</label>
            <select id={`${uid}-default`} value={fallback} onChange={(e) => setFallback(e.target.value as AclPermission)} aria-invalid={fieldErrors.default ? true : undefined}>
              <option value="allow">Allow</option>
              <option value="deny">Deny</option>
            </select>
            {fieldErrors.default && <p className="field-error">{fieldErrors.default}</p>}
          </div>
        </section>
        {error !== null && !placedAll && <ErrorAlert error={error} title="Could not save the ACL" />}
        {error !== null && placedAll && <p role="alert" className="form-error field-error">The ACL was not saved: fix the fields marked above.</p>}
        <div className="form-actions">
          <SubmitButton busy={busy}>Save ACL</SubmitButton>
        </div>
        </RoleFieldset>
      </form>
    </>
  )
}

function AclHeader() {
  return (
    <>
      <header className="page-header">
        <div>
          <p className="eyebrow">Device access</p>
          <h1>ACL</h1>
          <p className="page-intro">Who may publish and subscribe to which topics. Rules are checked in order; the first one that applies decides.</p>
        </div>
      </header>
      <ExternalBrokerNotice />
    </>
  )
}
