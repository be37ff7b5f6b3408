/**
 * ferry's load balancer alone on a real TUN, for the lb benchmark (no daemon, no planes,
 * so the measurement is the stage's; the netns tests run the LB through ferryd instead):
 *   ip netns exec NS node --import tsx lb-node.ts TUN CONFIG
 * Opens TUN in the current namespace, mounts the LB built from CONFIG on a Datapath and
 * serves: translated packets go back out the TUN to backends behind the host. Health
 * checks run from this namespace. Prints {"ready":true,"pid":PID}; then reads commands on stdin,
 * one per line, and answers each with one JSON line:
 *   apply PATH    reload the config at PATH (LoadBalancer.apply)
 *   stats         drops, per-service and per-backend counters and health
 *   exit, stop    close everything and exit
 */
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { BufferPool } from '../src/buffer/pool.js';
import { parseConfig } from '../src/config/parse.js';
import { lbSettingsFromConfig } from '../src/config/lb-settings.js';
import { Datapath } from '../src/datapath/datapath.js';
import { TunDevice } from '../src/io/tun.js';
import { NetHealthProber } from '../src/lb/health-probes.js';
import { LoadBalancer } from '../src/lb/load-balancer.js';
import { Counter } from '../src/lb/service.js';
import type { LbSettings } from '../src/lb/settings.js';

const [tunName, configPath] = process.argv.slice(2);

function load(path: string): LbSettings {
  const s = lbSettingsFromConfig(parseConfig(readFileSync(path, 'utf8'), { file: path }));
  if (s === null) throw new Error(`${path} has no [FerryLb]`);
  return s;
}

const pool = new BufferPool({ slotCount: 2048, debug: false });
const tun = TunDevice.open(tunName, { pool, mtu: 1420, up: true });
const dp = new Datapath({ pool, tun, onIoError: (where, err) => process.stderr.write(`${where}: ${String(err)}\n`) });
const events: string[] = [];
const lb = new LoadBalancer({ settings: load(configPath), prober: new NetHealthProber(), onHealthChange: (b, healthy, why) => events.push(`${b.name} ${healthy ? 'up' : 'down'}: ${why}`) });
lb.mount(dp);
dp.start();
console.log(JSON.stringify({ ready: true, pid: process.pid }));

function stats(): unknown {
  const services = lb.balancer.list().map((s) => ({
    name: s.name,
    connections: s.counters[Counter.Connections],
    backends: Object.fromEntries(s.backends.map((b) => [b.host, { healthy: b.healthy, drain: b.drain, connections: b.counters[Counter.Connections], flows: b.flows, refused: b.counters[Counter.Refused] }])),
  }));
  return { drops: dp.drops.snapshot(), stage: lb.stage.stats, answers: lb.answers.stats, conntrack: lb.conntrack.count, services, events };
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [cmd, arg] = line.trim().split(/\s+/);
  try {
    if (cmd === 'apply') console.log(JSON.stringify({ applied: lb.apply(load(arg)) }));
    else if (cmd === 'stats') console.log(JSON.stringify({ stats: stats() }));
    else if (cmd === 'exit' || cmd === 'stop') shutdown();
    else console.log(JSON.stringify({ error: `unknown command ${cmd}` }));
  } catch (err) {
    console.log(JSON.stringify({ error: String(err) }));
  }
});
rl.on('close', shutdown);

function shutdown(): void {
  lb.close();
  dp.close();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
