import mqtt, { type MqttClient } from 'mqtt'
import type { TestJunction } from '../support/junction.js'

/** A device: a real MQTT client on the deployment's embedded broker. */
export async function device(j: TestJunction, clientId = `dev-${Math.random().toString(36).slice(2, 8)}`, dep = 'default'): Promise<MqttClient> {
  const d = (await j.api('GET', `/api/v1/deployments/${dep}`)).body
  return mqtt.connectAsync(`mqtt://127.0.0.1:${d.mqtt.port}`, { clientId, protocolVersion: 4, reconnectPeriod: 0 })
}

export const randomName = (prefix: string) => `${prefix}_${Math.random().toString(36).slice(2, 10)}`
