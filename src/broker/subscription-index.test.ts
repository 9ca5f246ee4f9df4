import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SubscriptionIndex, parseShare, type Subscription } from './subscription-index.js'

const sub = (subscriber: string, filter: string, extra: Partial<Subscription<string>> = {}): Subscription<string> => {
  const share = parseShare(filter)!
  return { subscriber, filter: share.filter, group: share.group, qos: 1, nl: false, rap: false, rh: 0, id: undefined, ...extra }
}

describe('SubscriptionIndex', () => {
  it('matches + and # as MQTT says, and keeps wildcards away from $ topics', () => {
    const index = new SubscriptionIndex<string>()
    for (const [who, f] of [['a', 'a/+/c'], ['b', 'a/#'], ['c', '#'], ['d', '+/b/c'], ['e', '$SYS/#'], ['f', 'a/b/c/+']]) index.add(sub(who!, f!))
    const who = (topic: string) => index.match(topic).deliveries.map((d) => d.subscriber).sort()
    assert.deepEqual(who('a/b/c'), ['a', 'b', 'c', 'd'])
    assert.deepEqual(who('a'), ['b', 'c'], 'a/# matches its parent level')
    assert.deepEqual(who('$SYS/x'), ['e'], 'a leading wildcard does not match a $ topic')
    assert.deepEqual(who('a//c'), ['a', 'b', 'c'], '+ matches an empty level')
  })

  it('gives one delivery per subscriber with the highest QoS and every identifier', () => {
    const index = new SubscriptionIndex<string>()
    index.add(sub('s', 'x/#', { qos: 0, id: 1 }))
    index.add(sub('s', 'x/+', { qos: 2, id: 7, nl: true }))
    const [d, ...rest] = index.match('x/y').deliveries
    assert.equal(rest.length, 0)
    assert.deepEqual({ qos: d!.qos, ids: d!.ids, nl: d!.nl }, { qos: 2, ids: [1, 7], nl: false })
  })

  it('forgets a cached route when subscriptions change, and prunes empty branches', () => {
    const index = new SubscriptionIndex<string>()
    index.add(sub('a', 't/1'))
    assert.equal(index.match('t/1').deliveries.length, 1)
    assert.equal(index.remove('a', 't/1', undefined), true)
    assert.equal(index.match('t/1').deliveries.length, 0)
    assert.equal(index.size, 0)
    assert.equal(index.remove('a', 't/1', undefined), false)
  })

  it('shares a $share group: each message to one member in turn, preferring usable ones', () => {
    const index = new SubscriptionIndex<string>()
    for (const m of ['m1', 'm2', 'm3']) index.add(sub(m, '$share/g/jobs/#'))
    index.add(sub('other', '$share/h/jobs/#'))
    const route = index.match('jobs/1')
    assert.equal(route.deliveries.length, 0)
    assert.equal(route.groups.length, 2)
    const g = route.groups.find((x) => x.name === 'g')!
    const picks = [1, 2, 3, 4, 5, 6].map(() => g.pick(() => true)!.subscriber)
    assert.deepEqual(picks, ['m1', 'm2', 'm3', 'm1', 'm2', 'm3'])
    assert.equal(g.pick((s) => s === 'm3')!.subscriber, 'm3')
  })
})

describe('shared subscription filters', () => {
  it('splits $share/{group}/{filter} and refuses a group without a filter', () => {
    assert.deepEqual(parseShare('$share/g/a/b'), { group: 'g', filter: 'a/b' })
    assert.deepEqual(parseShare('a/b'), { group: undefined, filter: 'a/b' })
    assert.equal(parseShare('$share/g'), undefined)
    assert.equal(parseShare('$share//a'), undefined)
    assert.equal(parseShare('$share/g+/a'), undefined)
  })
})
