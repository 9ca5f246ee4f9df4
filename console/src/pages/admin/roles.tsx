import type { Role } from '../../api/types.ts'

export const ROLES: readonly Role[] = ['viewer', 'editor', 'admin']

export const ROLE_HELP: Record<Role, string> = {
  viewer: 'reads everything, changes nothing (secrets stay masked)',
  editor: 'also changes connectors, rules, device users and ACLs, failed messages; starts and stops deployments',
  admin: 'everything, also deployments, console users, API keys and the audit log',
}

/** A select of the three roles, each option saying what the role may do. */
export function RoleSelect({ id, value, onChange, label, describedBy, disabled }: { id: string; value: Role; onChange: (role: Role) => void; label?: string; describedBy?: string; disabled?: boolean }) {
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.target.value as Role)} aria-label={label} aria-describedby={describedBy} disabled={disabled}>
      {ROLES.map((r) => (
        <option key={r} value={r}>
          {r}
        </option>
      ))}
    </select>
  )
}

/** What each role may do, under a role select. */
export function RoleHelp({ id }: { id: string }) {
  return (
    <ul id={id} className="field-help role-help">
      {ROLES.map((r) => (
        <li key={r}>
          <strong>{r}</strong>: {ROLE_HELP[r]}
        </li>
      ))}
    </ul>
  )
}
