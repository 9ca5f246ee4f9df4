import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ClientAcl, aclProblems, filterCovers, filterMatchesTopic, filtersOverlap, topicFilterProblem, type AclRule, type MqttAcl } from './mqtt-acl.js'

const L = (s: string) => s.split('/')
const rule = (r: Partial<AclRule> & Pick<AclRule, 'topic'>): AclRule => ({ who: 'all', action: 'all', permission: 'allow', ...r })
const compile = (rules: AclRule[], def: 'allow' | 'deny', client = { clientid: 'c1', username: 'alice' as string | undefined }) =>
  new ClientAcl({ rules, default: def } satisfies MqttAcl, client)

describe('topic filter syntax', () => {
  for (const ok of ['a', 'a/b', '#', '+', 'a/+/c', 'a/#', '+/+/#', '/', 'a//b', 'devices/${clientid}/#', 'u/${username}/+', '$SYS/#', 'eq a/#', 'eq +', 'x-${username}-y']) {
    it(`accepts ${JSON.stringify(ok)}`, () => assert.equal(topicFilterProblem(ok), undefined))
  }
  for (const [bad, why] of [['', /empty/], ['a#', /#/], ['a/#/b', /#/], ['a/b+', /\+/], ['+a', /\+/], ['a/${user}', /placeholder/], ['a/\u0000', /NUL/], ['eq ', /empty/], ['##', /#/]] as const) {
    it(`refuses ${JSON.stringify(bad)}`, () => {
      const p = topicFilterProblem(bad)
      assert.ok(p, 'a problem')
      assert.match(p.message, why)
      assert.ok(p.hint.length > 0)
    })
  }
  it('reports each bad rule by its path', () => {
    const errors = aclProblems({ rules: [rule({ topic: 'ok/#' }), rule({ topic: 'a/#/b' }), rule({ topic: 'x+' })], default: 'deny' })
    assert.deepEqual(errors.map((e) => e.path), ['rules.1.topic', 'rules.2.topic'])
  })
})

describe('wildcard semantics', () => {
  it('matches topics like EMQX', () => {
    assert.ok(filterMatchesTopic(L('a/+/c'), L('a/b/c')))
    assert.ok(filterMatchesTopic(L('a/+/c'), L('a//c')), '+ matches an empty level')
    assert.ok(!filterMatchesTopic(L('a/+/c'), L('a/b/c/d')))
    assert.ok(filterMatchesTopic(L('a/#'), L('a')), '# matches the parent level too')
    assert.ok(filterMatchesTopic(L('a/#'), L('a/b/c')))
    assert.ok(!filterMatchesTopic(L('a/#'), L('b/a')))
    assert.ok(filterMatchesTopic(L('#'), L('x/y')))
    assert.ok(!filterMatchesTopic(L('#'), L('$SYS/x')), 'wildcards at the first level skip $ topics')
    assert.ok(!filterMatchesTopic(L('+/x'), L('$SYS/x')))
    assert.ok(filterMatchesTopic(L('$SYS/#'), L('$SYS/x')))
  })
  it('a filter covers a subscription only when it matches everything the subscription can receive', () => {
    assert.ok(filterCovers(L('a/#'), L('a/+/c')))
    assert.ok(filterCovers(L('a/#'), L('a/#')))
    assert.ok(filterCovers(L('a/+'), L('a/+')))
    assert.ok(filterCovers(L('a/+'), L('a/b')))
    assert.ok(!filterCovers(L('a/+'), L('a/#')))
    assert.ok(!filterCovers(L('a/b'), L('a/+')))
    assert.ok(!filterCovers(L('a/+/c'), L('a/+/+')))
    assert.ok(!filterCovers(L('#'), L('$SYS/#')))
  })
  it('filters overlap when some topic matches both', () => {
    assert.ok(filtersOverlap(L('a/secret'), L('a/#')))
    assert.ok(filtersOverlap(L('a/+'), L('+/b')))
    assert.ok(filtersOverlap(L('a/#'), L('a')))
    assert.ok(!filtersOverlap(L('a/b'), L('a/c')))
    assert.ok(!filtersOverlap(L('a/+'), L('a/b/c')))
    assert.ok(!filtersOverlap(L('$SYS/#'), L('#')))
  })
})

describe('a client ACL', () => {
  it('first matching rule wins, else the default', () => {
    const acl = compile([rule({ topic: 'a/secret', permission: 'deny' }), rule({ topic: 'a/#' })], 'deny')
    assert.equal(acl.canPublish('a/secret'), false)
    assert.equal(acl.canPublish('a/open'), true)
    assert.equal(acl.canPublish('b'), false, 'the default')
    const reversed = compile([rule({ topic: 'a/#' }), rule({ topic: 'a/secret', permission: 'deny' })], 'deny')
    assert.equal(reversed.canPublish('a/secret'), true, 'order decides')
    assert.equal(compile([], 'allow').canPublish('anything'), true)
  })

  it('fills in ${username} and ${clientid}', () => {
    const acl = compile([rule({ topic: 'devices/${clientid}/#' }), rule({ topic: 'users/${username}/inbox', action: 'subscribe' })], 'deny')
    assert.equal(acl.canPublish('devices/c1/temp'), true)
    assert.equal(acl.canPublish('devices/c2/temp'), false)
    assert.equal(acl.canSubscribe('users/alice/inbox'), true)
    assert.equal(acl.canSubscribe('users/bob/inbox'), false)
    assert.equal(acl.canPublish('users/alice/inbox'), false, 'that rule is for subscribe only')
  })

  it('a placeholder the client cannot fill, or could widen, makes the rule not apply', () => {
    const rules = [rule({ topic: 'u/${username}/#' })]
    assert.equal(compile(rules, 'deny', { clientid: 'c', username: undefined }).canPublish('u//x'), false)
    const sneaky = compile([rule({ topic: 'devices/${clientid}' })], 'deny', { clientid: '#', username: 'x' })
    assert.equal(sneaky.canPublish('devices/other'), false)
    assert.equal(compile([rule({ topic: 'd/${clientid}' })], 'deny', { clientid: 'a/b', username: undefined }).canPublish('d/a/b'), false)
  })

  it('matches who: a username, a client ID or all', () => {
    const rules = [
      rule({ who: { username: 'bob' }, topic: 'bob/#' }),
      rule({ who: { clientid: 'c1' }, topic: 'c1/#' }),
      rule({ who: 'all', topic: 'public/#', action: 'publish' }),
    ]
    const alice = compile(rules, 'deny', { clientid: 'c1', username: 'alice' })
    assert.equal(alice.canPublish('bob/x'), false)
    assert.equal(alice.canPublish('c1/x'), true)
    assert.equal(alice.canPublish('public/x'), true)
    const bob = compile(rules, 'deny', { clientid: 'c9', username: 'bob' })
    assert.equal(bob.canPublish('bob/x'), true)
    assert.equal(bob.canPublish('c1/x'), false)
    const anonymous = compile(rules, 'deny', { clientid: 'c9', username: undefined })
    assert.equal(anonymous.canPublish('bob/x'), false)
  })

  it('actions: publish, subscribe or all', () => {
    const acl = compile([rule({ topic: 'p', action: 'publish' }), rule({ topic: 's', action: 'subscribe' }), rule({ topic: 'b' })], 'deny')
    assert.deepEqual([acl.canPublish('p'), acl.canSubscribe('p')], [true, false])
    assert.deepEqual([acl.canPublish('s'), acl.canSubscribe('s')], [false, true])
    assert.deepEqual([acl.canPublish('b'), acl.canSubscribe('b')], [true, true])
  })

  it('subscriptions: allow needs cover, deny applies on overlap', () => {
    const acl = compile([rule({ topic: 'a/secret', permission: 'deny' }), rule({ topic: 'a/+' })], 'deny')
    assert.equal(acl.canSubscribe('a/open'), true)
    assert.equal(acl.canSubscribe('a/+'), false, 'a/+ would receive a/secret')
    assert.equal(acl.canSubscribe('a/#'), false)
    const wide = compile([rule({ topic: 'a/+' })], 'deny')
    assert.equal(wide.canSubscribe('a/#'), false, 'a/# reaches beyond a/+')
  })

  it('eq matches the text literally', () => {
    const acl = compile([rule({ topic: 'eq #', permission: 'deny', action: 'subscribe' }), rule({ topic: '#' })], 'deny')
    assert.equal(acl.canSubscribe('#'), false)
    assert.equal(acl.canSubscribe('a/#'), true)
    assert.equal(acl.canPublish('x'), true)
    const literal = compile([rule({ topic: 'eq a/+' })], 'deny')
    assert.equal(literal.canSubscribe('a/+'), true)
    assert.equal(literal.canSubscribe('a/b'), false)
    assert.equal(literal.canPublish('a/b'), false)
  })
})
