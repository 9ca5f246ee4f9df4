import { ApiError, SESSION_EXPIRED_EVENT, session } from './client.ts'

/** Export/import calls: they send a passphrase header and text bodies, which `api` does not. */

export interface PlanItem {
  kind: 'deployment' | 'connector' | 'rule' | 'mqttUser' | 'mqttAcl'
  deployment: string
  id: string
  name: string
  action: 'create' | 'update' | 'unchanged' | 'delete'
  changes?: Array<{ path: string; from?: unknown; to?: unknown }>
}
export interface ImportPlan {
  items: PlanItem[]
  summary: Record<PlanItem['action'], number>
  unmapped?: Array<{ kind: string; name: string; reason: string }>
}

async function call(method: string, path: string, opts: { body?: string; contentType?: string; passphrase?: string }): Promise<Response> {
  const headers: Record<string, string> = {}
  const token = session.token()
  if (token) headers.authorization = `Bearer ${token}`
  if (opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json'
  if (opts.passphrase) headers['x-junction-passphrase'] = opts.passphrase
  let res: Response
  try {
    res = await fetch(`./api/v1${path}`, { method, headers, ...(opts.body === undefined ? {} : { body: opts.body }) })
  } catch (e) {
    throw new ApiError(0, { code: 'NETWORK_ERROR', message: `Junction did not answer (${e instanceof Error ? e.message : String(e)})`, hint: 'Check that Junction is running and reachable, then try again.' })
  }
  if (!res.ok) {
    let err = { code: `HTTP_${res.status}`, message: `Junction answered ${res.status} ${res.statusText}`.trim() } as ConstructorParameters<typeof ApiError>[1]
    try { err = ((await res.json()) as { error: typeof err }).error ?? err } catch { /* not JSON */ }
    if (res.status === 401 && token) {
      session.clear()
      window.dispatchEvent(new CustomEvent(SESSION_EXPIRED_EVENT))
    }
    throw new ApiError(res.status, err)
  }
  return res
}

export async function exportDocument(dep: string | undefined, format: 'json' | 'yaml', passphrase: string): Promise<string> {
  const q = new URLSearchParams({ format, ...(dep ? { deployment: dep } : {}) })
  return (await call('GET', `/export?${q.toString()}`, { passphrase })).text()
}

/** `text`: an export document (JSON or YAML); JSON goes as JSON, anything else as YAML text. */
export async function importDocument(step: 'plan' | 'apply', text: string, passphrase: string, prune: boolean): Promise<ImportPlan> {
  const isJson = /^\s*[{[]/.test(text)
  const res = await call('POST', `/import/${step}${prune ? '?prune=true' : ''}`, { body: text, contentType: isJson ? 'application/json' : 'application/yaml', passphrase })
  return (await res.json()) as ImportPlan
}
