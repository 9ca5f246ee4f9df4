/**
 * The start of a server's answer, quoted in an error message (an HTTP error body, a server's
 * error text): one line of at most `maxBytes`, `...` when the answer was longer (`totalBytes`,
 * when only its start was kept), and without the connector's secrets, since a server may echo the
 * request that carried them.
 */
export function excerpt(answer: string | Buffer | readonly Buffer[], o: { secrets?: readonly string[]; maxBytes?: number; totalBytes?: number } = {}): string {
  const max = o.maxBytes ?? 200
  const bytes = typeof answer === 'string' ? Buffer.from(answer) : Buffer.isBuffer(answer) ? answer : Buffer.concat(answer as Buffer[])
  const text = withoutSecrets(bytes.subarray(0, max).toString('utf8').replace(/[\x00-\x1f\x7f]+/g, ' ').trim(), o.secrets ?? [])
  return (o.totalBytes ?? bytes.length) > max ? `${text}...` : text
}

/** `text` with every occurrence of each secret as `******`. */
export function withoutSecrets(text: string, secrets: readonly string[]): string {
  for (const secret of secrets) if (secret !== '') text = text.split(secret).join('******')
  return text
}
