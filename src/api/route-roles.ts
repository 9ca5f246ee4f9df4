import type { RouteRole } from '../control/roles.js'

/**
 * The weakest role each route needs, when the route does not say (`config.role`): reading needs
 * `viewer`, changing needs `editor`, and what shapes the installation itself (deployments, users,
 * API keys, the audit log) needs `admin`.
 */
const ADMIN_ROUTES: ReadonlyArray<readonly [method: string, url: RegExp]> = [
  ['POST', /^\/api\/v1\/deployments$/],
  ['PATCH', /^\/api\/v1\/deployments\/:dep$/],
  ['DELETE', /^\/api\/v1\/deployments\/:dep$/],
  // An export holds device users' password hashes; an import may create deployments.
  ['GET', /^\/api\/v1\/export$/],
  ['POST', /^\/api\/v1\/import(\/emqx)?\/apply$/],
]

export function defaultRouteRole(method: string, url: string): RouteRole {
  if (ADMIN_ROUTES.some(([m, re]) => m === method && re.test(url))) return 'admin'
  if (method === 'GET' || method === 'HEAD') return 'viewer'
  return 'editor'
}

export const ROLE_DESCRIPTION: Record<RouteRole, string> = {
  public: 'Role: none (no authentication).',
  viewer: 'Role: `viewer` or stronger (any authenticated user or API key).',
  editor: 'Role: `editor` or `admin`.',
  admin: 'Role: `admin` only.',
}
