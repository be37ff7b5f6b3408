/**
 * The peer's half of udp-sticky.test.ts, run inside a namespace: plain node:dgram sockets
 * (one IPv4, one IPv6, each bound once), driven by lines on stdin:
 *   ADDRESS PORT PAYLOAD
 * sends PAYLOAD to ADDRESS:PORT and prints the reply's source as the kernel saw it:
 *   {"payload": "...", "from": "ADDRESS", "port": N}   or   {"timeout": true}
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { createInterface } from 'node:readline';

const sockets = { 4: createSocket('udp4'), 6: createSocket('udp6') };
let waiting: ((msg: Buffer, rinfo: RemoteInfo) => void) | null = null;
for (const s of Object.values(sockets) as Socket[]) {
  s.bind(0);
  s.on('message', (msg, rinfo) => waiting?.(msg, rinfo));
}

async function exchange(address: string, port: number, payload: string): Promise<void> {
  const reply = new Promise<Record<string, unknown>>((resolve) => {
    const timer = setTimeout(() => resolve({ timeout: true }), 3000);
    waiting = (msg, rinfo) => {
      clearTimeout(timer);
      resolve({ payload: msg.toString(), from: rinfo.address, port: rinfo.port });
    };
  });
  sockets[isIPv6(address) ? 6 : 4].send(payload, port, address);
  console.log(JSON.stringify(await reply));
  waiting = null;
}

const lines = createInterface({ input: process.stdin });
let chain = Promise.resolve();
lines.on('line', (line) => {
  const [address, port, payload] = line.trim().split(' ');
  chain = chain.then(() => exchange(address, Number(port), payload));
});
lines.on('close', () => void chain.then(() => process.exit(0)));
