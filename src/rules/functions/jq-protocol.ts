/** What jq.ts and its worker thread (jq-worker.ts) exchange. */

/** Index in the shared flags: 1 when jq is loaded, 2 when it failed to load. */
export const FLAG_READY = 0
/** Index in the shared flags: counts answers posted, so the caller can wait for the next one. */
export const FLAG_ANSWERED = 1

export interface JqWorkerData {
  /** Two Int32 slots (FLAG_READY, FLAG_ANSWERED). */
  readonly flags: SharedArrayBuffer
  /** The most characters of JSON results one call may produce (unless twice its input is more). */
  readonly maxOutput: number
}

export interface JqRequest {
  readonly id: number
  readonly program: string
  /** JSON text. */
  readonly input: string
}

export type JqAnswer =
  | { readonly id: number; readonly output: string }
  | { readonly id: number; readonly error: string; readonly exitCode?: number; readonly broken?: true }
