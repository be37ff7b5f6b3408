import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ServiceNotifier } from './service-notifier.js';

function logger() {
  const lines: { msg: string }[] = [];
  return { log: pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) }), lines };
}

test('fromEnv: takes NOTIFY_SOCKET and the watchdog out of the environment; WATCHDOG_PID must be ours', () => {
  const { log } = logger();
  const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42', OTHER: 'x' };
  const n = ServiceNotifier.fromEnv(log, env, 42);
  assert.ok(n);
  assert.equal(n.watchdogUsec, 30_000_000);
  assert.deepEqual(env, { OTHER: 'x' }, 'children (hooks, ip) do not inherit them');
  assert.equal(ServiceNotifier.fromEnv(log, { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '1000', WATCHDOG_PID: '7' }, 42)?.watchdogUsec, 0, 'a watchdog meant for another process');
  assert.equal(ServiceNotifier.fromEnv(log, { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: 'soon' }, 42)?.watchdogUsec, 0);
  assert.equal(ServiceNotifier.fromEnv(log, { WATCHDOG_USEC: '1000' }, 42), null, 'outside systemd');
});

test('states: READY with STATUS, STATUS only when changed and on one line, RELOADING with MONOTONIC_USEC, STOPPING', () => {
  const { log } = logger();
  const sent: string[] = [];
  const n = new ServiceNotifier({ socket: '/x', watchdogUsec: 0, logger: log, send: (s) => void sent.push(s) });
  n.ready('wg0: 2 peers');
  n.status('wg0: 2 peers');
  n.status('wg0:\n3 peers');
  n.reloading();
  n.stopping('stopping (SIGTERM)');
  assert.deepEqual(sent.slice(0, 2), ['READY=1\nSTATUS=wg0: 2 peers', 'STATUS=wg0: 3 peers']);
  assert.match(sent[2], /^RELOADING=1\nMONOTONIC_USEC=\d+$/);
  assert.equal(sent[3], 'STOPPING=1\nSTATUS=stopping (SIGTERM)');
  assert.equal(sent.length, 4);
});

test('watchdog: WATCHDOG=1 at once and every half interval; STATUS follows changes, coalesced; close stops both', async () => {
  const { log } = logger();
  const sent: string[] = [];
  const n = new ServiceNotifier({ socket: '/x', watchdogUsec: 100_000, logger: log, send: (s) => void sent.push(s) });
  let summary = 'a';
  let changed: () => void = () => undefined;
  n.startWatchdog();
  n.startStatus(() => summary, (fn) => {
    changed = fn;
    return () => (changed = () => undefined);
  }, 60_000);
  assert.deepEqual(sent, ['WATCHDOG=1']);
  const started = performance.now();
  await new Promise((r) => setTimeout(r, 230));
  const elapsed = performance.now() - started;
  const beats = sent.filter((s) => s === 'WATCHDOG=1').length;
  // Never more often than every 50 ms; under load timers fire late, so only a floor of one more beat.
  assert.ok(beats >= 2 && beats <= Math.floor(elapsed / 50) + 1, `${beats} beats in ${Math.round(elapsed)} ms at 50 ms`);
  summary = 'b';
  changed();
  changed();
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(sent.filter((s) => s.startsWith('STATUS')), ['STATUS=b'], 'two changes, one STATUS');
  n.close();
  const after = sent.length;
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(sent.length, after);
});

test('a failing socket is logged once and never thrown', () => {
  const { log, lines } = logger();
  const n = new ServiceNotifier({ socket: '/nonexistent/notify', watchdogUsec: 0, logger: log });
  n.ready('x');
  n.status('y');
  assert.equal(n.send('WATCHDOG=1'), false);
  assert.equal(lines.filter((l) => l.msg === 'cannot notify systemd').length, 1);
});
