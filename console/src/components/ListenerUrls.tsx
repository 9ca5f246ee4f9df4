import { useEffect, useState } from 'react'
import type { Deployment, ListenerAddress } from '../api/types.ts'
import { CheckIcon, CopyIcon } from './Icons.tsx'
import { IconButton } from './IconButton.tsx'

export const TRANSPORT_LABELS: Record<ListenerAddress['transport'], string> = {
  tcp: 'MQTT',
  tls: 'MQTT over TLS',
  ws: 'MQTT over WebSocket',
  wss: 'MQTT over secure WebSocket',
}

/**
 * Copies `text`. The Clipboard API exists only in secure contexts (https, localhost): a console
 * opened at http://192.168.1.5:18083 falls back to a selected textarea and execCommand.
 */
async function copy(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text)
      return true
    }
  } catch {
    // fall through to the old way
  }
  const area = document.createElement('textarea')
  area.value = text
  area.setAttribute('readonly', '')
  area.style.position = 'fixed'
  area.style.opacity = '0'
  document.body.appendChild(area)
  area.select()
  try {
    return document.execCommand('copy')
  } catch {
    return false
  } finally {
    area.remove()
  }
}

/** An icon button that copies a URL (or what `label` names); its label says which, a polite status says it worked. */
export function CopyButton({ text, label = `Copy ${text}` }: { text: string; label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle')
  useEffect(() => {
    if (state === 'idle') return
    const t = setTimeout(() => setState('idle'), 2000)
    return () => clearTimeout(t)
  }, [state])
  return (
    <>
      <IconButton className="copy-button" label={label} onClick={() => void copy(text).then((ok) => setState(ok ? 'copied' : 'failed'))}>
        {state === 'copied' ? <CheckIcon /> : <CopyIcon />}
      </IconButton>
      <span className="visually-hidden" role="status">
        {state === 'copied' ? 'Copied' : state === 'failed' ? 'Could not copy: select the text instead' : ''}
      </span>
    </>
  )
}

/**
 * The addresses devices connect to. `compact` (the deployments list): one URL per listener, the
 * first address of this machine; otherwise every address of every listener, labelled.
 */
export function ListenerUrls({ mqtt, compact = false }: { mqtt: NonNullable<Deployment['mqtt']>; compact?: boolean }) {
  if (compact) {
    return (
      <ul className="listener-urls" aria-label="Device addresses">
        {mqtt.addresses.map((l) => l.urls[0] && (
          <li key={l.transport} title={TRANSPORT_LABELS[l.transport]}>
            <code className="copyable">{l.urls[0]}</code>
            <CopyButton text={l.urls[0]} />
          </li>
        ))}
      </ul>
    )
  }
  return (
    <dl className="listener-list">
      {mqtt.addresses.map((l) => (
        <div key={l.transport} className="listener-entry">
          <dt>{TRANSPORT_LABELS[l.transport]} <span className="muted">port {l.port}</span></dt>
          {l.urls.map((u) => (
            <dd key={u}>
              <code className="copyable">{u}</code>
              <CopyButton text={u} />
            </dd>
          ))}
        </div>
      ))}
    </dl>
  )
}
