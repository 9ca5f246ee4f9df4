import type { MqttSettings } from '../../core/domain.js'
import type { Transport } from './listener-urls.js'

/** One listener to open. */
export interface ListenerSpec {
  readonly transport: Transport
  /** 0 = any free port. */
  readonly port: number
  /** The user did not choose the port: when taken, the next free one is used (and reported). */
  readonly fallback: boolean
  /** The HTTP path WebSocket clients connect to (ws and wss only). */
  readonly path?: string
}

/** Each transport's port when none is set, as EMQX uses them. */
export const DEFAULT_LISTENER_PORTS: Readonly<Record<Transport, number>> = { tcp: 1883, tls: 8883, ws: 8083, wss: 8084 }

/**
 * The listeners a deployment opens: plain TCP always (its port is the deployment's `mqttPort`),
 * then TLS, WebSocket and secure WebSocket as the settings enable them. A null port is the
 * transport's default with fallback; a set port is the user's choice and a taken one is an error.
 * A TCP port of 0 ("any free port", what tests ask for) makes every unset port 0 too, so a
 * process that asks for no fixed port binds none.
 */
export function planListeners(tcp: { readonly port: number; readonly explicit: boolean }, settings: Pick<MqttSettings, 'listeners'>, defaults: Readonly<Record<Transport, number>> = DEFAULT_LISTENER_PORTS): ListenerSpec[] {
  const anyPort = tcp.explicit && tcp.port === 0
  const specs: ListenerSpec[] = [{ transport: 'tcp', port: tcp.port, fallback: !tcp.explicit }]
  const extra = (transport: Exclude<Transport, 'tcp'>, port: number | null, path?: string): ListenerSpec => {
    const chosen = port !== null
    return { transport, port: chosen ? port : anyPort ? 0 : defaults[transport], fallback: !chosen && !anyPort, ...(path === undefined ? {} : { path: path.startsWith('/') ? path : `/${path}` }) }
  }
  const { tls, ws, wss } = settings.listeners
  if (tls.enabled) specs.push(extra('tls', tls.port))
  if (ws.enabled) specs.push(extra('ws', ws.port, ws.path))
  if (wss.enabled) specs.push(extra('wss', wss.port, wss.path))
  return specs
}
