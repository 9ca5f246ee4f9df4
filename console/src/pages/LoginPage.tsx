import { useState, type FormEvent } from 'react'
import { api, session } from '../api/client.ts'
import { ErrorAlert } from '../components/Alert.tsx'
import { Spinner } from '../components/Spinner.tsx'

/** The admin login: the token goes to sessionStorage (gone when the tab closes). */
export function LoginPage({ notice, onLoggedIn }: { notice: string | null; onLoggedIn: () => void }) {
  const [username, setUsername] = useState('admin')
  const [password, setPassword] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const [showNotice, setShowNotice] = useState(true)

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    setShowNotice(false)
    try {
      const r = await api.login(username, password)
      session.save(r.token, r.username, r.role)
      onLoggedIn()
    } catch (err) {
      setError(err)
      setBusy(false)
    }
  }

  return (
    <div className="login-screen">
      <main className="login-card">
        <div className="login-brand">
          <Logo />
          <span className="brand-name">Junction</span>
        </div>
        <h1 className="login-title">Log in to the console</h1>
        <p className="muted">MQTT data integration: connectors and rules.</p>
        {notice && showNotice && (
          <div role="alert" className="alert alert-warning">
            {notice}
          </div>
        )}
        <form onSubmit={submit} className="stack" noValidate>
          <div className="field">
            <label htmlFor="login-username">Username</label>
            <input id="login-username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required />
          </div>
          <div className="field">
            <label htmlFor="login-password">Password</label>
            <input id="login-password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} autoFocus required />
          </div>
          <ErrorAlert error={error} />
          <button type="submit" className="button primary block" disabled={busy}>
            {busy ? (
              <>
                <Spinner /> Logging in…
              </>
            ) : (
              'Log in'
            )}
          </button>
        </form>
        <p className="login-foot muted">The admin password is printed once at first start, or set with <code>JUNCTION_ADMIN_PASSWORD</code>.</p>
      </main>
    </div>
  )
}

export function Logo({ size = 28 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="7" fill="#2563eb" />
      <path d="M8 10h7a5 5 0 0 1 5 5v7M13 22h11" stroke="#fff" strokeWidth="3" strokeLinecap="round" fill="none" />
      <circle cx="24" cy="10" r="2.5" fill="#fff" />
    </svg>
  )
}
