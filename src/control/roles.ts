/**
 * Roles of console users and API keys, weakest first: a route declares the weakest role that may
 * call it and every stronger role may too.
 * - `viewer`: reads (secrets stay masked, as for everyone);
 * - `editor`: also changes connectors, rules, device users/ACLs and failed messages;
 * - `admin`: everything, including deployments, users, API keys and the audit log.
 */
export const ROLES = ['viewer', 'editor', 'admin'] as const
export type Role = (typeof ROLES)[number]

/** What a route asks for: a role, or `public` (no authentication at all). */
export type RouteRole = Role | 'public'

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value)
}

/** Rows written before roles existed say `administrator`. */
export function toRole(stored: string): Role {
  if (stored === 'administrator') return 'admin'
  return isRole(stored) ? stored : 'viewer'
}

export function roleAllows(has: Role, needs: Role): boolean {
  return ROLES.indexOf(has) >= ROLES.indexOf(needs)
}
