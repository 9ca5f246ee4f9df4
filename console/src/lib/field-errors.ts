import { ApiError } from '../api/client.ts'
import { fieldMessage } from './format.ts'

/** The `fields` of a 400 answer as path -> text (the first error per path), for the form to show. */
export function fieldErrorsOf(e: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (!(e instanceof ApiError)) return out
  for (const f of e.body.fields ?? []) {
    if (out[f.path] === undefined) out[f.path] = fieldMessage(f.message, f.hint)
  }
  if (e.code === 'NAME_TAKEN' && out.name === undefined) out.name = fieldMessage(e.message, e.body.hint)
  return out
}
