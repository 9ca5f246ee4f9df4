import type { FieldError } from './schema-validation.js'

/**
 * Every error code the API can answer with, its HTTP status and what it means. docs/errors.md lists
 * exactly these (a test keeps the two in step). Codes are stable: tools match on them.
 */
export const API_ERRORS = {
  VALIDATION_FAILED: { status: 400, doc: 'The request body, path or query failed validation; `fields` lists every failing field with its path and a hint.' },
  INVALID_JSON: { status: 400, doc: 'The body is not valid JSON.' },
  JSON_TOO_DEEP: { status: 400, doc: 'The body nests objects and arrays deeper than 64 levels; `fields` has the path where it does. Checked before anything else reads the body.' },
  MALFORMED_REQUEST: { status: 400, doc: 'The request is not valid HTTP (a bad request line, header or chunk); the connection is closed.' },
  INVALID_URL: { status: 400, doc: 'The URL does not decode: a `%` not followed by two hex digits, or an escape that is not UTF-8.' },
  UNKNOWN_CONNECTOR_TYPE: { status: 400, doc: 'The `type` is not one of `GET /api/v1/connector-types`.' },
  INVALID_SQL: { status: 400, doc: 'The rule SQL does not parse or compile, or passes a limit of docs/rules.md (nesting, length, a regular expression the linear-time engine cannot run); `line`, `column`, `expected` and `hint` say where and what.' },
  ACTION_CHECK_FAILED: { status: 400, doc: 'An action was checked against its resource when the rule was saved, and the resource refused it (a missing table or column, a statement that writes nothing, a topic that does not exist and is not auto-created). `fields` has each refused action\'s field path (`actions.0.params.sql`), the resource\'s message and a hint; `checks` the connector error code per path.' },
  CONFIRMATION_REQUIRED: { status: 400, doc: 'Deleting a connector needs `?confirm=<its ID>`; it was missing or did not match.' },
  UNAUTHORIZED: { status: 401, doc: 'No valid credentials: use an API key (`key:secret` over HTTP Basic) or a login token (Bearer).' },
  FORBIDDEN: { status: 403, doc: "The credentials are valid but their role may not call this route; the route's `x-junction-role` in the OpenAPI document names the role it needs." },
  EDIT_NOT_ALLOWED_ON_PLAN: { status: 403, doc: 'Editing connectors needs a dedicated or premium deployment.' },
  DEPLOYMENT_NOT_FOUND: { status: 404, doc: 'No deployment with that ID.' },
  CONNECTOR_NOT_FOUND: { status: 404, doc: 'No connector with that ID in this deployment.' },
  RULE_NOT_FOUND: { status: 404, doc: 'No rule with that ID in this deployment.' },
  ACTION_NOT_FOUND: { status: 404, doc: 'The rule has no action with that index (actions count from 0).' },
  FAILED_MESSAGE_NOT_FOUND: { status: 404, doc: "No failed message with that ID in the action's store (replayed, discarded or evicted)." },
  DEVICE_USER_NOT_FOUND: { status: 404, doc: 'No device (MQTT) user with that username in this deployment.' },
  VERSION_NOT_FOUND: { status: 404, doc: 'The connector or rule has no such version in its change history (never made, or older than the versions kept).' },
  USER_NOT_FOUND: { status: 404, doc: 'No console user with that username.' },
  API_KEY_NOT_FOUND: { status: 404, doc: 'No API key with that name.' },
  NOT_FOUND: { status: 404, doc: 'No route has this path (for any method).' },
  METHOD_NOT_ALLOWED: { status: 405, doc: 'The path exists but not for this HTTP method; the `Allow` header lists its methods. (A wrong method answered `404 NOT_FOUND` before.)' },
  DEPLOYMENT_NOT_RUNNING: { status: 409, doc: 'Connectors can be created only while the deployment is running: start it first.' },
  NAME_TAKEN: { status: 409, doc: 'Another connector (or deployment) already has this name.' },
  USERNAME_TAKEN: { status: 409, doc: 'The deployment already has a device user with this username.' },
  USER_EXISTS: { status: 409, doc: 'A console user (or API key) with this name already exists.' },
  LAST_ADMIN: { status: 409, doc: 'The change would leave no console user or API key with the `admin` role.' },
  VERSION_CONFLICT: { status: 409, doc: 'The `version` sent is stale: someone saved a newer one. Reload and apply the change again.' },
  NOTHING_TO_REVERT: { status: 409, doc: 'A revert to a version that is the same as the connector or rule is now: nothing would change, and no version is recorded.' },
  CONNECTOR_IN_USE: { status: 409, doc: 'Rules still use this connector; `rules` lists them. Remove their actions first.' },
  DEPLOYMENT_NOT_EMPTY: { status: 409, doc: 'The deployment still has connectors; delete them first.' },
  EXTERNAL_BROKER_MODE: { status: 409, doc: 'The deployment is attached to an external broker (`broker.mode` `external`): device-facing settings (`mqttPort`, `mqtt`, device users, the ACL) belong to that broker and are refused; set them on the broker, or switch the deployment back to `broker: {"mode": "embedded"}`.' },
  RULE_NOT_RUNNING: { status: 409, doc: 'Replaying failed messages needs the rule running: enable it (and start its deployment) first.' },
  REQUEST_TIMEOUT: { status: 408, doc: 'The request did not arrive in time; the connection is closed.' },
  URL_PARAM_TOO_LONG: { status: 414, doc: 'A path parameter is longer than 100 characters (IDs and names are far shorter).' },
  PAYLOAD_TOO_LARGE: { status: 413, doc: 'The body is larger than the limit (512 KiB).' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, doc: 'Send `Content-Type: application/json`.' },
  HEADERS_TOO_LARGE: { status: 431, doc: 'The request line and headers are larger than the server accepts (16 KiB); the connection is closed.' },
  TOO_MANY_REQUESTS: { status: 429, doc: 'Too many failed authentications from this address or for this key/user; `Retry-After` says in how many seconds to try again.' },
  INTERNAL_ERROR: { status: 500, doc: 'A bug in Junction; the log has details under the request ID.' },
} as const

export type ApiErrorCode = keyof typeof API_ERRORS

export class ApiError extends Error {
  readonly code: ApiErrorCode
  readonly status: number
  readonly hint: string | undefined
  readonly fields: readonly FieldError[] | undefined
  /** Extra members of the error object (e.g. `rules` for CONNECTOR_IN_USE). */
  readonly extra: Record<string, unknown> | undefined

  constructor(code: ApiErrorCode, message: string, opts: { hint?: string; fields?: readonly FieldError[]; extra?: Record<string, unknown> } = {}) {
    super(message)
    this.name = 'ApiError'
    this.code = code
    this.status = API_ERRORS[code].status
    this.hint = opts.hint
    this.fields = opts.fields
    this.extra = opts.extra
  }

  toBody(): { error: Record<string, unknown> } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.hint === undefined ? {} : { hint: this.hint }),
        ...(this.fields === undefined ? {} : { fields: this.fields }),
        ...this.extra,
      },
    }
  }
}

export function validationError(fields: readonly FieldError[]): ApiError {
  const first = fields[0]
  const summary = first ? `${first.path || 'body'}: ${first.message}` : 'invalid request'
  const more = fields.length > 1 ? ` (and ${fields.length - 1} more)` : ''
  return new ApiError('VALIDATION_FAILED', `Invalid request: ${summary}${more}`, { fields, ...(first ? { hint: first.hint } : {}) })
}
