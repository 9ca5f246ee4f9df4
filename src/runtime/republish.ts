import type { OutgoingMessage } from '../broker/broker-types.js'
import {
  ConnectorError, TemplateError, TemplateParamsError, compilePublishProperties, compileTemplate,
  type MqttPropertiesParam, type OnSkipped, type Render,
} from '../connector-api/index.js'

/** Params of the `republish` built-in, as EMQX's republish action names them. */
export interface RepublishParams {
  topic: string
  qos: 0 | 1 | 2
  retain: boolean
  payload: string
  /** MQTT 5 PUBLISH properties, each a template (`Content-Type`...). */
  mqtt_properties?: MqttPropertiesParam
  /** A template that yields the user properties (a map or a list of {key, value}). */
  user_properties?: string
}

export type BuildRepublish = (output: Readonly<Record<string, unknown>>) => OutgoingMessage

/**
 * Compiles a republish action's templates once (throws TemplateParamsError with the field's path
 * for a malformed one); the result builds the message for one rule output, with its MQTT 5
 * properties, or throws a permanent ConnectorError when the topic renders unusable.
 */
export function compileRepublish(params: RepublishParams, skipped?: OnSkipped): BuildRepublish {
  const topic = compileField('topic', params.topic)
  const payload = compileField('payload', params.payload)
  const properties = compilePublishProperties(params, skipped)
  return (output) => {
    const t = topic(output)
    if (t === '' || /[+#]/.test(t)) {
      throw new ConnectorError('CONNECTION_FAILED', `Cannot republish to topic "${t}"`, { kind: 'permanent', hint: 'The rendered topic must be non-empty and contain no wildcards.' })
    }
    const props = properties(output)
    return { topic: t, payload: payload(output), qos: params.qos, retain: params.retain, ...(props ? { properties: props } : {}) }
  }
}

function compileField(path: string, template: string): Render {
  try {
    return compileTemplate(template)
  } catch (err) {
    if (err instanceof TemplateError) throw new TemplateParamsError(path, `the template is invalid: ${err.message}`, 'Placeholders look like ${payload.temp} or ${clientid}.')
    throw err
  }
}
