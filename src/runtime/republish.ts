import { Type } from '@sinclair/typebox'
import type { OutgoingMessage } from '../broker/broker-types.js'
import {
  ConnectorError, TemplateError, TemplateParamsError, compilePublishProperties, compileTemplate, mqttPropertiesSchema,
  userPropertiesSchema, type Channel, type MqttPropertiesParam, type OnSkipped, type Render,
} from '../connector-api/index.js'
import type { BuiltinActionDefinition } from './builtin-action.js'

/** The `republish` built-in's params, as EMQX's republish action names them. */
export const RepublishParamsSchema = Type.Object({
  topic: Type.String({ minLength: 1, description: 'Topic template, e.g. "alerts/${clientid}".' }),
  qos: Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)], { default: 0 }),
  retain: Type.Boolean({ default: false }),
  payload: Type.String({ default: '${payload}', description: 'Payload template; ${.} is the whole output as JSON.' }),
  mqtt_properties: mqttPropertiesSchema,
  user_properties: userPropertiesSchema,
}, { additionalProperties: false })

/**
 * Params of the `republish` built-in as validated (defaults filled in). A type rather than an
 * interface, so that it is a Record<string, unknown> like every action's params.
 */
export type RepublishParams = {
  topic: string
  qos: 0 | 1 | 2
  retain: boolean
  payload: string
  /** MQTT 5 PUBLISH properties, each a template (`Content-Type`...). */
  mqtt_properties?: MqttPropertiesParam
  /** A template that yields the user properties (a map or a list of {key, value}). */
  user_properties?: string
}

/** Publishes each rule output into the deployment's own broker. */
export const republishAction: BuiltinActionDefinition<RepublishParams> = {
  name: 'republish',
  paramsSchema: RepublishParamsSchema,
  checkParams(params) {
    compileRepublish(params)
  },
  openChannel(params, context): Channel {
    // As EMQX does, a property value that is not valid for its property is left out (debug log).
    const build = compileRepublish(params, (property, reason) => context.logger.debug('republish: MQTT property left out', { action: context.actionId, property, reason }))
    return {
      send: async (message) => {
        const broker = context.broker()
        if (!broker) throw new ConnectorError('CONNECTION_LOST', 'The deployment broker is not running', { kind: 'not_connected' })
        await broker.publish(build(message))
      },
    }
  },
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
