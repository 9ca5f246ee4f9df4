import { useEffect, useState } from 'react'

/** The console's pages, parsed from the location hash (`#/deployments/default/connectors`). */
export type Route =
  | { page: 'login' }
  | { page: 'deployments' }
  | { page: 'connectors'; dep: string }
  | { page: 'connector-new'; dep: string; type: string }
  | { page: 'connector-details'; dep: string; id: string }
  | { page: 'connector-edit'; dep: string; id: string }
  | { page: 'rules'; dep: string }
  | { page: 'rule-new'; dep: string }
  | { page: 'rule-details'; dep: string; id: string }
  | { page: 'rule-edit'; dep: string; id: string }
  | { page: 'device-users'; dep: string }
  | { page: 'acl'; dep: string }
  | { page: 'broker-settings'; dep: string }
  | { page: 'broker'; dep: string }
  | { page: 'audit' }
  | { page: 'users' }
  | { page: 'api-keys' }
  | { page: 'transfer'; dep: string }
  | { page: 'not-found'; path: string }

export function parseHash(hash: string): Route {
  const path = hash.replace(/^#/, '').split('?')[0] ?? ''
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p)
    } catch {
      return p
    }
  })
  const [a, dep, b, c, d, e] = parts
  if (parts.length === 0) return { page: 'deployments' }
  if (a === 'login' && parts.length === 1) return { page: 'login' }
  if (a === 'audit' && parts.length === 1) return { page: 'audit' }
  if (a === 'users' && parts.length === 1) return { page: 'users' }
  if (a === 'api-keys' && parts.length === 1) return { page: 'api-keys' }
  if (a !== 'deployments') return { page: 'not-found', path }
  if (dep === undefined) return { page: 'deployments' }
  if (b === undefined) return { page: 'connectors', dep }
  if (b === 'connectors') {
    if (c === undefined) return { page: 'connectors', dep }
    if (c === 'new' && d !== undefined && e === undefined) return { page: 'connector-new', dep, type: d }
    if (d === undefined) return { page: 'connector-details', dep, id: c }
    if (d === 'edit' && e === undefined) return { page: 'connector-edit', dep, id: c }
  }
  if (b === 'rules') {
    if (c === undefined) return { page: 'rules', dep }
    if (c === 'new' && d === undefined) return { page: 'rule-new', dep }
    if (d === undefined) return { page: 'rule-details', dep, id: c }
    if (d === 'edit' && e === undefined) return { page: 'rule-edit', dep, id: c }
  }
  if (b === 'mqtt' && d === undefined) {
    if (c === 'users') return { page: 'device-users', dep }
    if (c === 'acl') return { page: 'acl', dep }
    if (c === 'settings') return { page: 'broker-settings', dep }
    if (c === 'broker') return { page: 'broker', dep }
  }
  if (b === 'transfer' && c === undefined) return { page: 'transfer', dep }
  return { page: 'not-found', path }
}

const seg = encodeURIComponent

/** Hash hrefs for links, built in one place. */
export const href = {
  login: () => '#/login',
  deployments: () => '#/deployments',
  audit: () => '#/audit',
  users: () => '#/users',
  apiKeys: () => '#/api-keys',
  connectors: (dep: string) => `#/deployments/${seg(dep)}/connectors`,
  newConnector: (dep: string, type: string) => `#/deployments/${seg(dep)}/connectors/new/${seg(type)}`,
  connector: (dep: string, id: string) => `#/deployments/${seg(dep)}/connectors/${seg(id)}`,
  editConnector: (dep: string, id: string) => `#/deployments/${seg(dep)}/connectors/${seg(id)}/edit`,
  rules: (dep: string) => `#/deployments/${seg(dep)}/rules`,
  newRule: (dep: string) => `#/deployments/${seg(dep)}/rules/new`,
  rule: (dep: string, id: string) => `#/deployments/${seg(dep)}/rules/${seg(id)}`,
  editRule: (dep: string, id: string) => `#/deployments/${seg(dep)}/rules/${seg(id)}/edit`,
  deviceUsers: (dep: string) => `#/deployments/${seg(dep)}/mqtt/users`,
  acl: (dep: string) => `#/deployments/${seg(dep)}/mqtt/acl`,
  brokerSettings: (dep: string) => `#/deployments/${seg(dep)}/mqtt/settings`,
  broker: (dep: string) => `#/deployments/${seg(dep)}/mqtt/broker`,
  transfer: (dep: string) => `#/deployments/${seg(dep)}/transfer`,
}

export function navigate(to: string): void {
  if (window.location.hash === to) return
  window.location.hash = to
}

/** The current route; re-renders on every hash change. */
export function useHashRoute(): { route: Route; hash: string } {
  const [hash, setHash] = useState(() => window.location.hash)
  useEffect(() => {
    const onChange = () => setHash(window.location.hash)
    window.addEventListener('hashchange', onChange)
    return () => window.removeEventListener('hashchange', onChange)
  }, [])
  return { route: parseHash(hash), hash }
}
