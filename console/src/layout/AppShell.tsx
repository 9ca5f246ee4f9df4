import type { ReactNode } from 'react'
import { ActivityIcon, CopyIcon, FlowIcon, KeyIcon, PlugIcon, ServerIcon, ShieldIcon, SlidersIcon, UserIcon } from '../components/Icons.tsx'
import type { Role } from '../api/types.ts'
import { useDeploymentOptional } from '../lib/deployment-context.tsx'
import { IfCan } from '../lib/identity.tsx'
import { href, type Route } from '../lib/router.ts'
import { Logo } from '../pages/LoginPage.tsx'

/** Sidebar (product name, navigation), top bar (user, Log out) and the page. */
export function AppShell({ route, user, role, onLogout, loggingOut, children }: { route: Route; user: string; role: Role; onLogout: () => void; loggingOut: boolean; children: ReactNode }) {
  const dep = 'dep' in route ? route.dep : undefined
  const section = route.page.startsWith('connector') ? 'connectors' : route.page.startsWith('rule') ? 'rules' : route.page === 'deployments' ? 'deployments' : route.page
  return (
    <div className="app">
      <a className="skip-link" href="#content" onClick={(e) => { e.preventDefault(); document.getElementById('content')?.focus() }}>
        Skip to content
      </a>
      <aside className="sidebar">
        <a className="brand" href={href.deployments()} aria-label="Junction home">
          <Logo size={26} />
          <span className="brand-name">Junction</span>
        </a>
        <nav className="nav" aria-label="Main">
          <a href={href.deployments()} className="nav-link" aria-current={section === 'deployments' ? 'page' : undefined}>
            <ServerIcon />
            <span>Deployments</span>
          </a>
          {dep !== undefined && (
            <div className="nav-group">
              <DeploymentLabel dep={dep} />
              {/* A link as well as a heading: the product's place (EMQX's "Data Integration") is a visible, reachable entry. */}
              <a href={href.connectors(dep)} className="nav-heading nav-section-link">
                Data Integration
              </a>
              <a href={href.connectors(dep)} className="nav-link" aria-current={section === 'connectors' ? 'page' : undefined}>
                <PlugIcon />
                <span>Connectors</span>
              </a>
              <a href={href.rules(dep)} className="nav-link" aria-current={section === 'rules' ? 'page' : undefined}>
                <FlowIcon />
                <span>Rules</span>
              </a>
              <p className="nav-heading">Device access</p>
              <a href={href.broker(dep)} className="nav-link" aria-current={section === 'broker' ? 'page' : undefined}>
                <ActivityIcon />
                <span>Broker</span>
              </a>
              <a href={href.deviceUsers(dep)} className="nav-link" aria-current={section === 'device-users' ? 'page' : undefined}>
                <KeyIcon />
                <span>Device users</span>
              </a>
              <a href={href.acl(dep)} className="nav-link" aria-current={section === 'acl' ? 'page' : undefined}>
                <ShieldIcon />
                <span>ACL</span>
              </a>
              <a href={href.brokerSettings(dep)} className="nav-link" aria-current={section === 'broker-settings' ? 'page' : undefined}>
                <SlidersIcon />
                <span>Broker settings</span>
              </a>
              {/* Export is admin, import planning editor: a viewer has nothing to do there. */}
              <IfCan needs="editor">
                <p className="nav-heading">Configuration</p>
                <a href={href.transfer(dep)} className="nav-link" aria-current={section === 'transfer' ? 'page' : undefined}>
                  <CopyIcon />
                  <span>Export and import</span>
                </a>
              </IfCan>
            </div>
          )}
          {/* Only admins may use these: the others do not see them at all. */}
          <IfCan needs="admin">
            <p className="nav-heading">Administration</p>
            <a href={href.users()} className="nav-link" aria-current={section === 'users' ? 'page' : undefined}>
              <UserIcon />
              <span>Console users</span>
            </a>
            <a href={href.apiKeys()} className="nav-link" aria-current={section === 'api-keys' ? 'page' : undefined}>
              <KeyIcon />
              <span>API keys</span>
            </a>
            <a href={href.audit()} className="nav-link" aria-current={section === 'audit' ? 'page' : undefined}>
              <ActivityIcon />
              <span>Audit log</span>
            </a>
          </IfCan>
        </nav>
      </aside>
      <div className="main">
        <header className="topbar">
          <div className="topbar-context">{dep !== undefined ? <DeploymentSummary /> : <span className="muted">MQTT data integration</span>}</div>
          <div className="topbar-user">
            <span className="user-chip" title={`Logged in as ${user} (${role})`}>
              <span className="avatar" aria-hidden="true">
                {user.charAt(0).toUpperCase()}
              </span>
              <span className="user-name">{user}</span>
              <span className={`role-badge role-${role}`}>{role}</span>
            </span>
            <button type="button" className="button small" onClick={onLogout} disabled={loggingOut}>
              Log out
            </button>
          </div>
        </header>
        <main id="content" className="content" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  )
}

function DeploymentLabel({ dep }: { dep: string }) {
  const d = useDeploymentOptional()?.data
  return (
    <p className="nav-deployment" title={`Deployment ${d?.name ?? dep}`}>
      <span className={`dot dot-${d?.status ?? 'unknown'}`} aria-hidden="true" />
      <span className="nav-deployment-name">{d?.name ?? dep}</span>
    </p>
  )
}

/** Which deployment the page is in, its plan, state and MQTT address. */
function DeploymentSummary() {
  const d = useDeploymentOptional()?.data
  if (!d) return null
  return (
    <span className="deployment-summary">
      <span className="deployment-summary-name">{d.name}</span>
      <span className={`plan plan-${d.plan}`}>{d.plan}</span>
      <span className={`dot dot-${d.status}`} aria-hidden="true" />
      <span className="muted">{d.status}</span>
      {d.mqtt.addresses[0]?.urls[0] && <span className="mono muted hide-narrow">{d.mqtt.addresses[0].urls[0]}</span>}
    </span>
  )
}
