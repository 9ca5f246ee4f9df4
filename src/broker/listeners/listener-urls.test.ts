import assert from 'node:assert/strict'
import type { NetworkInterfaceInfo } from 'node:os'
import { describe, it } from 'node:test'
import { listenerUrls, reachableHosts } from './listener-urls.js'

const nic = (address: string, family: 'IPv4' | 'IPv6', internal = false): NetworkInterfaceInfo =>
  ({ address, family, internal, netmask: '', mac: '00:00:00:00:00:00', cidr: null, ...(family === 'IPv6' ? { scopeid: 0 } : {}) }) as NetworkInterfaceInfo

const interfaces = {
  lo: [nic('127.0.0.1', 'IPv4', true), nic('::1', 'IPv6', true)],
  eth0: [nic('192.168.1.5', 'IPv4'), nic('fe80::1', 'IPv6'), nic('2001:db8::5', 'IPv6')],
  wlan0: [nic('10.0.0.7', 'IPv4')],
}

describe('reachableHosts', () => {
  it('a 0.0.0.0 bind lists the IPv4 interface addresses, then localhost and 127.0.0.1, never 0.0.0.0', () => {
    assert.deepEqual(reachableHosts('0.0.0.0', interfaces), ['192.168.1.5', '10.0.0.7', 'localhost', '127.0.0.1'])
  })

  it('a :: bind adds global IPv6 addresses in brackets, not link-local ones', () => {
    assert.deepEqual(reachableHosts('::', interfaces), ['192.168.1.5', '[2001:db8::5]', '10.0.0.7', 'localhost', '127.0.0.1'])
  })

  it('a specific address is the only one; 127.0.0.1 also answers as localhost', () => {
    assert.deepEqual(reachableHosts('192.168.1.5', interfaces), ['192.168.1.5'])
    assert.deepEqual(reachableHosts('127.0.0.1', interfaces), ['127.0.0.1', 'localhost'])
    assert.deepEqual(reachableHosts('2001:db8::5', interfaces), ['[2001:db8::5]'])
  })

  it('a machine with only loopback still gets usable hosts', () => {
    assert.deepEqual(reachableHosts('0.0.0.0', { lo: interfaces.lo }), ['localhost', '127.0.0.1'])
  })
})

describe('listenerUrls', () => {
  it('each transport has its scheme; WebSocket URLs carry the path', () => {
    const hosts = ['192.168.1.5', 'localhost']
    assert.deepEqual(listenerUrls('tcp', hosts, 1883), ['mqtt://192.168.1.5:1883', 'mqtt://localhost:1883'])
    assert.deepEqual(listenerUrls('tls', hosts, 8883), ['mqtts://192.168.1.5:8883', 'mqtts://localhost:8883'])
    assert.deepEqual(listenerUrls('ws', hosts, 8083, '/mqtt'), ['ws://192.168.1.5:8083/mqtt', 'ws://localhost:8083/mqtt'])
    assert.deepEqual(listenerUrls('wss', ['[2001:db8::5]'], 8084, '/ws'), ['wss://[2001:db8::5]:8084/ws'])
  })
})
