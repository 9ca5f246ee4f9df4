import { Fragment, useCallback, useEffect, useState, type ReactNode } from 'react'
import { SESSION_EXPIRED_EVENT, api, session } from './api/client.ts'
import type { Me } from './api/types.ts'
import { ErrorAlert } from './components/Alert.tsx'
import { AppShell } from './layout/AppShell.tsx'
import { DeploymentProvider } from './lib/deployment-context.tsx'
import { IdentityProvider, NeedsRole, useCan } from './lib/identity.tsx'
import { href, navigate, useHashRoute, type Route } from './lib/router.ts'
import { ApiKeysPage } from './pages/admin/ApiKeysPage.tsx'
import { UsersPage } from './pages/admin/UsersPage.tsx'
import { AuditPage } from './pages/AuditPage.tsx'
import { DeploymentsPage } from './pages/DeploymentsPage.tsx'
import { LoginPage } from './pages/LoginPage.tsx'
import { NotFoundPage } from './pages/NotFoundPage.tsx'
import { ConnectorDetailsPage } from './pages/connectors/ConnectorDetailsPage.tsx'
import { EditConnectorPage, NewConnectorPage } from './pages/connectors/ConnectorFormPage.tsx'
import { ConnectorsPage } from './pages/connectors/ConnectorsPage.tsx'
import { RuleDetailsPage } from './pages/rules/RuleDetailsPage.tsx'
import { EditRulePage, NewRulePage } from './pages/rules/RuleFormPage.tsx'
import { RulesPage } from './pages/rules/RulesPage.tsx'
import { AclPage } from './pages/mqtt/AclPage.tsx'
import { BrokerPage } from './pages/mqtt/BrokerPage.tsx'
import { BrokerSettingsPage } from './pages/mqtt/BrokerSettingsPage.tsx'
import { DeviceUsersPage } from './pages/mqtt/DeviceUsersPage.tsx'
import { TransferPage } from './pages/transfer/TransferPage.tsx'

const RETURN_KEY = 'junction.returnTo'
export const SESSION_EXPIRED_MESSAGE = 'Your session expired, log in again'

/** Pages only a role may use; reached by their URL, they say so instead of failing on a 403. */
function PageFor({ route }: { route: Route }) {
  const editor = useCan('editor')
  const admin = useCan('admin')
  switch (route.page) {
    case 'connector-new':
    case 'connector-edit':
      if (!editor) return <NeedsRole needs="editor" what="Creating and editing connectors" />
      break
    case 'rule-new':
    case 'rule-edit':
      if (!editor) return <NeedsRole needs="editor" what="Creating and editing rules" />
      break
    case 'users':
    case 'api-keys':
      if (!admin) return <NeedsRole needs="admin" what="Managing console users and API keys" />
      break
    case 'audit':
      if (!admin) return <NeedsRole needs="admin" what="Reading the audit log" />
      break
  }
  return <>{pageFor(route)}</>
}

function pageFor(route: Route): ReactNode {
  switch (route.page) {
    case 'deployments':
      return <DeploymentsPage />
    case 'connectors':
      return <ConnectorsPage dep={route.dep} />
    case 'connector-new':
      return <NewConnectorPage dep={route.dep} type={route.type} />
    case 'connector-details':
      return <ConnectorDetailsPage dep={route.dep} id={route.id} />
    case 'connector-edit':
      return <EditConnectorPage dep={route.dep} id={route.id} />
    case 'rules':
      return <RulesPage dep={route.dep} />
    case 'rule-new':
      return <NewRulePage dep={route.dep} />
    case 'rule-details':
      return <RuleDetailsPage dep={route.dep} id={route.id} />
    case 'rule-edit':
      return <EditRulePage dep={route.dep} id={route.id} />
    case 'device-users':
      return <DeviceUsersPage dep={route.dep} />
    case 'acl':
      return <AclPage dep={route.dep} />
    case 'broker-settings':
      return <BrokerSettingsPage dep={route.dep} />
    case 'broker':
      return <BrokerPage dep={route.dep} />
    case 'audit':
      return <AuditPage />
    case 'users':
      return <UsersPage />
    case 'api-keys':
      return <ApiKeysPage />
    case 'transfer':
      return <TransferPage dep={route.dep} />
    case 'not-found':
      return <NotFoundPage path={route.path} />
    case 'login':
      return null
  }
}

const TITLES: Partial<Record<Route['page'], string>> = {
  deployments: 'Deployments',
  connectors: 'Connectors',
  rules: 'Rules',
  'device-users': 'Device users',
  acl: 'ACL',
  'broker-settings': 'Broker settings',
  broker: 'Broker',
  transfer: 'Export and import',
  login: 'Log in',
  audit: 'Audit log',
  users: 'Console users',
  'api-keys': 'API keys',
}

export function App() {
  const { route, hash } = useHashRoute()
  const [loggedIn, setLoggedIn] = useState(() => session.token() !== null)
  const [notice, setNotice] = useState<string | null>(null)
  const [loggingOut, setLoggingOut] = useState(false)
  const [me, setMe] = useState<Me | null>(null)
  const [meError, setMeError] = useState<unknown>(null)

  // The role decides which controls pages show. Asked again on every page change: an admin may
  // have changed it since (the API applies a change at once; the console follows on the next page).
  useEffect(() => {
    if (!loggedIn) {
      setMe(null)
      return
    }
    let current = true
    api.me().then(
      (m) => { if (current) { setMe((old) => (old && old.name === m.name && old.role === m.role && old.kind === m.kind ? old : m)); setMeError(null) } },
      (e) => { if (current) setMeError(e) },
    )
    return () => { current = false }
  }, [loggedIn, route.page])

  // A 401 from any call: back to the login page, then back here after logging in.
  useEffect(() => {
    const onExpired = () => {
      if (window.location.hash && !window.location.hash.startsWith('#/login')) sessionStorage.setItem(RETURN_KEY, window.location.hash)
      setLoggedIn(false)
      setNotice(SESSION_EXPIRED_MESSAGE)
      navigate(href.login())
    }
    window.addEventListener(SESSION_EXPIRED_EVENT, onExpired)
    return () => window.removeEventListener(SESSION_EXPIRED_EVENT, onExpired)
  }, [])

  // Not logged in: every page shows the login at #/login, remembering where the user was going.
  useEffect(() => {
    if (!loggedIn && route.page !== 'login') {
      if (hash && hash !== '#/' && hash !== '#') sessionStorage.setItem(RETURN_KEY, hash)
      navigate(href.login())
    } else if (loggedIn && route.page === 'login') {
      navigate(href.deployments())
    }
  }, [loggedIn, route.page, hash])

  useEffect(() => {
    const t = TITLES[route.page]
    if (t) document.title = `${t} · Junction`
  }, [route.page])

  const onLoggedIn = useCallback(() => {
    const back = sessionStorage.getItem(RETURN_KEY)
    sessionStorage.removeItem(RETURN_KEY)
    setNotice(null)
    setLoggedIn(true)
    navigate(back && !back.startsWith('#/login') ? back : href.deployments())
  }, [])

  const logout = useCallback(async () => {
    setLoggingOut(true)
    try {
      await api.logout()
    } catch {
      // The session ends here either way (an expired token answers 401).
    }
    session.clear()
    sessionStorage.removeItem(RETURN_KEY)
    setMe(null)
    setLoggingOut(false)
    setNotice(null)
    setLoggedIn(false)
    navigate(href.login())
  }, [])

  if (!loggedIn || route.page === 'login') {
    return <LoginPage notice={notice} onLoggedIn={onLoggedIn} />
  }

  if (me === null) {
    return (
      <main className="content">
        {meError ? <ErrorAlert error={meError} title="Could not tell who is logged in" /> : <p className="loading">Loading…</p>}
      </main>
    )
  }

  const shell = (
    <IdentityProvider me={me}>
      <AppShell route={route} user={me.name} role={me.role} onLogout={logout} loggingOut={loggingOut}>
        {/* A new page for every route: no state (dialogs, messages) carries over from another connector or rule. */}
        <Fragment key={JSON.stringify(route)}><PageFor route={route} /></Fragment>
      </AppShell>
    </IdentityProvider>
  )
  return 'dep' in route ? (
    <DeploymentProvider key={route.dep} dep={route.dep}>
      {shell}
    </DeploymentProvider>
  ) : (
    shell
  )
}
