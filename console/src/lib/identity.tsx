import { createContext, useContext, type ReactNode } from 'react'
import type { Me, Role } from '../api/types.ts'

/**
 * Who is logged in and with which role (GET /api/v1/me), so pages leave out the controls the role
 * may not use. This is for the eye only: the API refuses a weaker role with 403 either way.
 */
const IdentityContext = createContext<Me | null>(null)

const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 }

export const NEEDS_ROLE: Record<Role, string> = {
  viewer: '',
  editor: 'Needs the editor role',
  admin: 'Needs the admin role',
}

export function IdentityProvider({ me, children }: { me: Me; children: ReactNode }) {
  return <IdentityContext.Provider value={me}>{children}</IdentityContext.Provider>
}

export function useIdentity(): Me | null {
  return useContext(IdentityContext)
}

/** Whether the logged-in role is `needs` or stronger (false while it is not known). */
export function useCan(needs: Role): boolean {
  const me = useContext(IdentityContext)
  return me !== null && RANK[me.role] >= RANK[needs]
}

/** Its children only for `needs` or a stronger role. */
export function IfCan({ needs, children }: { needs: Role; children: ReactNode }) {
  return useCan(needs) ? <>{children}</> : null
}

/** Stands for a whole page the role may not use (a form reached by its URL). */
export function NeedsRole({ needs, what }: { needs: Role; what: string }) {
  const me = useIdentity()
  return (
    <div className="empty-state" role="note">
      <h1>{NEEDS_ROLE[needs]}</h1>
      <p className="muted">
        {what} needs the {needs} role{needs === 'editor' ? ' or admin' : ''}; you are logged in as {me?.name ?? 'someone'} with the {me?.role ?? 'unknown'} role. Ask an admin for a stronger role.
      </p>
    </div>
  )
}

/**
 * The fields of a form a weaker role may read but not change: disabled together (a fieldset), with
 * a note saying why, instead of fields that look editable and a Save that answers 403.
 */
export function RoleFieldset({ needs, children }: { needs: Role; children: ReactNode }) {
  const can = useCan(needs)
  return (
    <>
      {!can && (
        <p role="note" className="alert alert-info">
          Read only: {NEEDS_ROLE[needs].toLowerCase()} to change these.
        </p>
      )}
      <fieldset className="plain-fieldset" disabled={!can} title={can ? undefined : NEEDS_ROLE[needs]}>
        {children}
      </fieldset>
    </>
  )
}
