// Topic matching lives with the broker, which matches subscriptions with it too.
export { topicMatches } from '../../broker/topic-filter.js'

/** Why `filter` is not a valid MQTT topic filter, or undefined when it is. */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter === '') return 'a topic filter cannot be empty'
  if (filter.includes('\u0000')) return 'a topic filter cannot contain the NUL character'
  const levels = filter.split('/')
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return '`#` must be a whole level and the last one'
    if (level.includes('+') && level !== '+') return '`+` must be a whole level'
  }
  return undefined
}
