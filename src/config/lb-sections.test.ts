import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IPProto } from '../packet/constants.js';
import { Scheduler } from '../lb/service.js';
import { isConfigError } from './issues.js';
import { lbSettingsFromConfig } from './lb-settings.js';
import { parseConfig } from './parse.js';

const PRIV = 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=';
const PEER = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';

/** The example, as written there. */
const EXAMPLE = `[Interface]                       # no PrivateKey needed: an LB-only interface is fine
Address = 10.96.255.253/32

[FerryLb]
ServiceRange = 10.96.0.0/16       # VIPs live here; ferry up routes the range into the TUN
SnatAddress = 10.96.255.254       # source for translated flows whose replies must come back through ferry
SnatPorts = 32768-60999
ConntrackMax = 262144

[FerryService]                    # one per service; repeatable
Name = web
Address = 10.96.0.10:80           # VIP:port, or [fd00:96::10]:80
Protocol = tcp                    # tcp | udp
Scheduler = maglev                # maglev (default) | random | round-robin
Backend = 10.0.1.2:8080           # repeatable; optional "weight=N", "drain"
Backend = 10.0.2.2:8080 weight=2
SessionAffinity = none            # none | client-ip [SECONDS] (default 10800, as Kubernetes)
HealthCheck = tcp                 # tcp [PORT] | http [PORT] /path [STATUS] | icmp | none (tcp: a TCP
                                  # connect to the backend's address and port, or PORT; also for UDP services)
HealthInterval = 2
UnhealthyThreshold = 2
HealthyThreshold = 2
`;

function errors(text: string, settings = false): string[] {
  try {
    const config = parseConfig(text, { file: 'lb.conf' });
    if (settings) lbSettingsFromConfig(config);
  } catch (err) {
    if (isConfigError(err)) return err.errors.map((e) => `${e.line}: ${e.message}`);
    throw err;
  }
  return [];
}

test("the issue's example parses into typed settings", () => {
  const s = lbSettingsFromConfig(parseConfig(EXAMPLE, { file: 'lb.conf' }));
  assert.ok(s !== null);
  assert.deepEqual(s.serviceRanges.map((p) => [p.family, [...p.bytes], p.cidr]), [[4, [10, 96, 0, 0], 16]]);
  assert.deepEqual([...s.snatV4!.subarray(0, 4)], [10, 96, 255, 254]);
  assert.equal(s.snatV6, null);
  assert.deepEqual(s.snatPorts, [32768, 60999]);
  assert.equal(s.conntrackMax, 262144);
  assert.equal(s.services.length, 1);
  const web = s.services[0];
  assert.equal(web.name, 'web');
  assert.deepEqual([web.family, [...web.vip.subarray(0, 4)], web.port, web.proto, web.scheduler, web.affinityMs, web.snatAlways], [4, [10, 96, 0, 10], 80, IPProto.TCP, Scheduler.Maglev, 0, false]);
  assert.deepEqual(web.health, { kind: 'tcp', port: 0, path: '/', status: 200, intervalMs: 2000, unhealthyThreshold: 2, healthyThreshold: 2 });
  assert.deepEqual(
    web.backends.map((b) => [b.name, b.host, b.port, b.weight, b.drain, b.line]),
    [
      ['10.0.1.2:8080', '10.0.1.2', 8080, 1, false, 15],
      ['10.0.2.2:8080', '10.0.2.2', 8080, 2, false, 16],
    ],
  );
});

test('every value form: IPv6, udp, schedulers, drain, affinity, http/icmp checks, Snat = always, defaults', () => {
  const text = `[FerryLb]
ServiceRange = 10.96.0.0/16, fd00:96::/112
SnatAddress = 10.96.255.254, fd00:96::fffe
[FerryService]
Name = dns6
Address = [fd00:96::53]:53
Protocol = UDP
Scheduler = round-robin
Backend = [fd00:1::2]:5353 drain
Backend = [fd00:2::2]:5353 weight=3 drain
SessionAffinity = client-ip 60
HealthCheck = http 8081 /healthz 204
HealthInterval = 0.5
Snat = always
[FerryService]
Name = r
Address = 10.96.0.11:443
Scheduler = random
SessionAffinity = client-ip
HealthCheck = icmp
`;
  const s = lbSettingsFromConfig(parseConfig(text, { file: 'x.conf' }));
  assert.ok(s !== null);
  assert.equal(s.conntrackMax, 262144);
  assert.deepEqual(s.snatPorts, [32768, 60999]);
  assert.equal(s.snatV6?.[15], 0xfe);
  const [dns, r] = s.services;
  assert.deepEqual([dns.family, dns.port, dns.proto, dns.scheduler, dns.affinityMs, dns.snatAlways], [6, 53, IPProto.UDP, Scheduler.RoundRobin, 60_000, true]);
  assert.deepEqual(dns.backends.map((b) => [b.name, b.weight, b.drain]), [['[fd00:1::2]:5353', 1, true], ['[fd00:2::2]:5353', 3, true]]);
  assert.deepEqual(dns.health, { kind: 'http', port: 8081, path: '/healthz', status: 204, intervalMs: 500, unhealthyThreshold: 2, healthyThreshold: 2 });
  assert.deepEqual([r.scheduler, r.affinityMs, r.health.kind, r.backends.length], [Scheduler.Random, 10_800_000, 'icmp', 0]);
});

test('bad values are errors with file:line, all of them at once', () => {
  const text = `[FerryLb]
ServiceRange = 10.96.0.1/16
SnatAddress = 10.97.0.1
SnatPorts = 60999-32768
ConntrackMax = lots
[FerryService]
Name = web site
Address = 10.96.0.10
Protocol = sctp
Scheduler = fastest
Backend = 10.0.1.2:8080 weight=0
Backend = 10.0.1.3:8080 heavy
Backend = [fd00::2]:80
SessionAffinity = client-ip forever
HealthCheck = http healthz
HealthInterval = 0
UnhealthyThreshold = 0
HealthyThreshold = many
Snat = never
`;
  assert.deepEqual(errors(text), [
    '2: ServiceRange entry "10.96.0.1/16" has bits set past its prefix length: expected a network address',
    '4: SnatPorts "60999-32768" runs backwards: expected LOW-HIGH with LOW <= HIGH',
    '5: ConntrackMax "lots" is invalid: expected entries 16-16777216',
    '7: Name "web site" is invalid: expected 1-63 letters, digits, \'.\', \'_\' or \'-\'',
    '8: Address "10.96.0.10" is invalid: expected ADDRESS:PORT or [IPV6]:PORT',
    '9: Protocol "sctp" is invalid: expected tcp or udp',
    '10: Scheduler "fastest" is invalid: expected maglev, random or round-robin',
    '11: Backend weight "0" is invalid: expected a number 1-1000',
    '12: Backend "10.0.1.3:8080 heavy": unknown option "heavy": expected weight=N or drain',
    '14: SessionAffinity timeout "forever" is invalid: expected seconds 1-86400',
    '15: HealthCheck "http healthz" is invalid: expected tcp [PORT], http [PORT] /PATH [STATUS], icmp or none',
    '16: HealthInterval "0" is invalid: expected seconds 0.1-3600',
    '17: UnhealthyThreshold "0" is invalid: expected a count 1-100',
    '18: HealthyThreshold "many" is invalid: expected a count 1-100',
    '19: Snat "never" is invalid: expected auto (only backends reached through the host) or always',
  ]);
  assert.deepEqual(errors('[FerryLb]\nServiceRange = 10.96.0.0/16\nColour = red\n'), ['3: unknown key "Colour" in [FerryLb]: expected one of ServiceRange, SnatAddress, SnatPorts, ConntrackMax']);
  // A good range makes the SNAT address's own check visible; a family mismatch is reported at the backend.
  assert.deepEqual(errors('[FerryLb]\nServiceRange = 10.96.0.0/16\nSnatAddress = 10.97.0.1\n[FerryService]\nName = a\nAddress = 10.96.0.10:80\nBackend = [fd00::2]:80\nBackend = 10.0.0.2:80\nBackend = 10.0.0.2:80\n'), [
    '3: SnatAddress 10.97.0.1 is outside ServiceRange: replies to it must be routed into the TUN, so expected an address inside ServiceRange',
    '7: Backend [fd00::2]:80 is IPv6 but the service address is IPv4: expected backends of the service\'s family',
    '9: Backend 10.0.0.2:80 is given twice (first at line 8)',
  ]);
  assert.deepEqual(errors('[FerryLb]\nSnatAddress = 10.96.0.1\n[FerryService]\nProtocol = udp\n'), [
    '1: [FerryLb] has no ServiceRange: expected ServiceRange = ADDRESS/PREFIX (where the VIPs live)',
    '3: [FerryService] has no Name: expected Name = NAME',
    '3: [FerryService] has no Address: expected Address = VIP:PORT or [VIP6]:PORT',
  ]);
});

test('whole-file checks: [FerryLb] needed, VIP in range, unique names and addresses, SNAT address for host backends', () => {
  assert.deepEqual(errors('[FerryService]\nName = a\nAddress = 10.96.0.10:80\n', true), ['1: [FerryService] needs a [FerryLb] section: expected [FerryLb] with ServiceRange (and SnatAddress) in this file']);
  const base = `[Interface]\nPrivateKey = ${PRIV}\nAddress = 10.96.0.1/32\n[Peer]\nPublicKey = ${PEER}\nAllowedIPs = 10.50.0.0/16\n[FerryLb]\nServiceRange = 10.96.0.0/16, fd00:96::/112\n`;
  const got = errors(
    `${base}[FerryService]\nName = a\nAddress = 10.95.0.10:80\n[FerryService]\nName = a\nAddress = 10.96.0.1:80\n[FerryService]\nName = c\nAddress = 10.96.0.20:80\nBackend = 10.0.1.2:80\n[FerryService]\nName = d\nAddress = 10.96.0.20:80\nBackend = 10.50.1.2:80\n[FerryService]\nName = e\nAddress = [fd00:96::5]:80\nBackend = [fd00:50::2]:80\nSnat = always\n`,
    true,
  );
  assert.deepEqual(got, [
    "9: service a: its address is outside ServiceRange: expected a VIP inside FerryLb's ServiceRange (that range is routed into the TUN)",
    '12: service name a is taken by the [FerryService] at line 9: expected unique names',
    '12: service a: its address is an [Interface] Address: the host would take its packets, expected an address only ferry answers',
    '15: service c: backend 10.0.1.2:80 is reached through the host (no [Peer] AllowedIPs hold it), so its replies must come back to a SnatAddress: expected an IPv4 SnatAddress in [FerryLb]',
    '19: service d has the address and protocol of service c (line 15)',
    '23: service e: it has Snat = always: expected an IPv6 SnatAddress in [FerryLb]',
  ]);
  // A peer's backend needs no SNAT address.
  const ok = lbSettingsFromConfig(parseConfig(`${base}[FerryService]\nName = d\nAddress = 10.96.0.20:80\nBackend = 10.50.1.2:80\n`, { file: 'x.conf' }));
  assert.equal(ok?.snatV4, null);
  assert.equal(lbSettingsFromConfig(parseConfig(`[Interface]\nPrivateKey = ${PRIV}\n`, { file: 'x.conf' })), null);
});
