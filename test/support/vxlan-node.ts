/**
 * A ferry L3 VTEP without the daemon, for interop tests and the benchmark: run it inside a
 * namespace as `node --import tsx test/support/vxlan-node.ts CONFIG IFNAME`. It reads a
 * ferry config file ([Interface] Address/MTU, [FerryVxlan], [FerryVxlanPeer]), opens the
 * TUN and the underlay socket, mounts the VXLAN plane on a Datapath and serves. Addresses
 * and routes on the TUN are the caller's to set (as `ferry up` will). Protocol on stdio:
 * one JSON line {"ready":…} when serving; each "stats" line on stdin is answered with a
 * JSON line of counters; stdin closing or SIGTERM closes everything and exits 0.
 */
import { createInterface } from 'node:readline';
import { BufferPool } from '../../src/buffer/pool.js';
import { loadConfig } from '../../src/config/config-file.js';
import { vxlanSettings } from '../../src/config/vxlan-settings.js';
import { Datapath } from '../../src/datapath/datapath.js';
import { TunDevice } from '../../src/io/tun.js';
import type { UdpSocket } from '../../src/io/udp.js';
import { macToString } from '../../src/packet/format.js';
import { mountL3Plane, openVxlanUnderlay } from '../../src/vxlan/build.js';
import { vxlanInnerMtu } from '../../src/vxlan/constants.js';

const [configPath, ifname] = process.argv.slice(2);
if (configPath === undefined || ifname === undefined) {
  console.error('usage: vxlan-node.ts CONFIG IFNAME');
  process.exit(2);
}

const { config } = loadConfig(configPath);
const settings = vxlanSettings(config, { ifname });
if (settings === null) throw new Error(`${configPath} has no [FerryVxlan]`);
const mtu = config.interface.mtu ?? vxlanInnerMtu(1500, settings.underlayFamily);
const pool = new BufferPool();
const tun = TunDevice.open(ifname, { pool, mtu, up: true });
let ioErrors = 0;
const dp = new Datapath({ pool, tun, mtu, onIoError: (where, err) => {
  if (ioErrors++ < 5) console.error(`io error at ${where}: ${String(err)}`);
} });
const udp = openVxlanUnderlay(pool, settings) as UdpSocket;
const plane = mountL3Plane(dp, udp, settings, config.interface.addresses);
dp.start();

function stats(): Record<string, unknown> {
  return {
    drops: plane.drops.snapshot(),
    datapathDrops: dp.drops.snapshot(),
    stats: plane.stats,
    arpReplies: plane.neighbors.arpReplies,
    ndReplies: plane.neighbors.ndReplies,
    peers: plane.peers.list().map((p) => ({ remote: p.remote, mac: p.macText, tx: p.txPackets, rx: p.rxPackets, txErrors: p.txErrors })),
    udp: { gso: udp.gso, gro: udp.gro, sendErrors: udp.sendErrors, lastSendError: udp.lastSendError, recvErrors: udp.recvErrors },
    ioErrors,
  };
}

let closed = false;
function close(): void {
  if (closed) return;
  closed = true;
  dp.close();
  process.exit(0);
}
process.on('SIGTERM', close);
process.on('SIGINT', close);
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim() === 'stats') process.stdout.write(`${JSON.stringify(stats())}\n`);
});
rl.on('close', close);
process.stdout.write(`${JSON.stringify({ ready: true, ifname, mac: macToString(plane.mac, 0), mtu, port: udp.localPort, vni: plane.vni })}\n`);
