import { useState, type Dispatch, type FormEvent, type SetStateAction } from 'react'
import { fieldErrorsOf } from './field-errors.ts'

/** A form's errors by field path (`username`, `rules.2.topic`, `mqtt.maxInflight`) -> text. */
export type FieldErrors = Record<string, string>

export interface FormSubmitOptions {
  /** The request, and what follows its success. */
  send: () => Promise<void>
  /** Problems found before sending, or undefined: with any, they show as field errors and nothing is sent. */
  check?: () => FieldErrors | undefined
  /** The field errors of a failed send; by default the answer's `fields` (fieldErrorsOf). */
  fieldErrorsOf?: (err: unknown) => FieldErrors
  /** The paths the form shows next to a field: a failure naming one of them leaves `error` null. Without it, `error` is every failure. */
  placed?: (path: string) => boolean
  /** The id of the element to focus for these field errors (the first invalid field); none when it returns undefined. */
  focusOf?: (fields: FieldErrors) => string | undefined
  /** Focus that element in a timeout, after the errors have rendered, instead of at once. */
  focusLater?: boolean
  /** Success takes the form away (its dialog closes): it stays busy, so it cannot be sent twice meanwhile. */
  busyAfterSuccess?: boolean
  /** The field errors stay while sending, until the answer replaces them (by default they go at once). */
  keepFieldErrorsWhileSending?: boolean
}

export interface FormSubmit {
  /** From sending to the answer: the submit button is disabled and says so. */
  busy: boolean
  /** The last failure, for the form's alert; null while there is none (or `placed` shows it). */
  error: unknown
  fieldErrors: FieldErrors
  /** For a form that drops an edited field's error, or errors that no longer fit. */
  setFieldErrors: Dispatch<SetStateAction<FieldErrors>>
  /** The form's onSubmit: one send at a time. */
  submit: (e?: FormEvent) => Promise<void>
}

/** For `focusOf`: the id (in `ids`) of the first field in `order` that has an error. */
export function firstInvalidOf<F extends string>(order: readonly F[], ids: Record<F, string>): (fields: FieldErrors) => string | undefined {
  return (fields) => {
    const first = order.find((f) => fields[f] !== undefined)
    return first && ids[first]
  }
}

/**
 * The submit of a form that sends one request: the last error goes, `check` may stop it with
 * field errors, then `send` runs while the form is busy. A failure shows the answer's field
 * errors next to their fields, itself in `error`, and moves focus to the first invalid field.
 */
export function useFormSubmit(options: FormSubmitOptions): FormSubmit {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({})

  const focusFirst = (fields: FieldErrors) => {
    const id = options.focusOf?.(fields)
    if (!id) return
    if (options.focusLater) window.setTimeout(() => document.getElementById(id)?.focus(), 0)
    else document.getElementById(id)?.focus()
  }

  const submit = async (e?: FormEvent) => {
    e?.preventDefault()
    if (busy) return
    setError(null)
    const problems = options.check?.()
    if (problems) {
      setFieldErrors(problems)
      focusFirst(problems)
      return
    }
    setBusy(true)
    if (!options.keepFieldErrorsWhileSending) setFieldErrors({})
    try {
      await options.send()
      if (!options.busyAfterSuccess) setBusy(false)
    } catch (err) {
      const fields = (options.fieldErrorsOf ?? fieldErrorsOf)(err)
      setFieldErrors(fields)
      const { placed } = options
      setError(placed && Object.keys(fields).some((path) => placed(path)) ? null : err)
      focusFirst(fields)
      setBusy(false)
    }
  }

  return { busy, error, fieldErrors, setFieldErrors, submit }
}
