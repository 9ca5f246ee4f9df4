/**
 * Topic filter functions from EMQX's source (emqx_rule_funcs: contains_topic/2,3 and
 * contains_topic_match/2,3; not in its docs). The first argument is a list of objects with a
 * `topic` (and `qos`), such as the topic filters of a subscribe event.
 *
 * contains_topic(Filters, Topic[, QoS]): some entry's topic equals Topic (and, with QoS, the
 * first such entry has that QoS). contains_topic_match(Filters, Filter[, QoS]): some entry's
 * topic matches the MQTT topic filter Filter.
 */
import { topicMatches } from '../../broker/topic-filter.js'
import { type FunctionFamily, arrayArg, binaryText, describe, fail, isBinary, isMap, ownGet, spec } from './values.js'

function containsTopic(name: string, args: readonly unknown[], match: (topic: string, wanted: string) => boolean): boolean {
  const list = arrayArg(name, args[0], 'an array of topic filters')
  if (!isBinary(args[1])) return fail(name, `expected a topic, got ${describe(args[1])}`)
  const wanted = binaryText(name, args[1], 'a topic')
  for (const entry of list) {
    if (!isMap(entry)) continue
    const topic = ownGet(entry, 'topic')
    if (!isBinary(topic) || !match(binaryText(name, topic, 'a topic'), wanted)) continue
    return args.length < 3 || ownGet(entry, 'qos') === args[2]
  }
  return false
}

export const topicFunctions: FunctionFamily = {
  contains_topic: spec(2, 3, (...args) => containsTopic('contains_topic', args, (t, w) => t === w)),
  contains_topic_match: spec(2, 3, (...args) => containsTopic('contains_topic_match', args, (entry, filter) => topicMatches(filter, entry))),
}
