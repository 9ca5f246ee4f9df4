/** UUID functions (EMQX: "UUID Functions"): random (version 4) UUIDs in lowercase hex. */
import { randomUUID } from 'node:crypto'
import { type FunctionFamily, spec } from './values.js'

export const uuidFunctions: FunctionFamily = {
  uuid_v4: spec(0, 0, () => randomUUID()),
  uuid_v4_no_hyphen: spec(0, 0, () => randomUUID().replaceAll('-', '')),
}
