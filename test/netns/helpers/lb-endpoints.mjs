/* global setInterval, clearInterval */
// Backends and clients for the load-balancer netns tests (plain Node, quick to start).
//   server NAME PORT              TCP: greets "NAME\n"; on "bye" answers "bye NAME\n" and closes.
//                                 UDP on the same port: answers "NAME SEQ" to "SEQ". Both families.
//   tcp-conns HOST PORT COUNT CONCURRENCY LOCALPORT0
//                                 COUNT connections (local ports LOCALPORT0…, so flows are
//                                 reproducible); prints {"names":{NAME:n},"errors":{CODE:n},"maxMs":…}
//   tcp-hold HOST PORT COUNT      opens COUNT connections, prints {"opened":[NAME…]}; on a stdin
//                                 line says "bye" on each and prints {"finished":[NAME…],"errors":[…]}
//   tcp-loop HOST PORT MS         one connection after another for MS; a JSON line each:
//                                 {"t":start (epoch ms),"ms":duration,"name"|"error":…}
//   udp-loop HOST PORT MS EVERY   a request every EVERY ms for MS, 250 ms timeout, 4 tries;
//                                 a JSON line per request: {"t" (epoch ms),"seq","name","tries"} or {"lost"}
import { createServer, connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { createInterface } from 'node:readline';

const [mode, a1, a2, a3, a4, a5] = process.argv.slice(2);
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const t0 = performance.now();
const now = () => Math.round(performance.now() - t0);

if (mode === 'server') {
  const name = a1;
  const port = Number(a2);
  const tcp = createServer((sock) => {
    sock.setNoDelay(true);
    sock.write(`${name}\n`);
    sock.on('data', (d) => {
      if (d.toString().includes('bye')) sock.end(`bye ${name}\n`);
    });
    sock.on('end', () => sock.end());
    sock.on('error', () => {});
  });
  const udp = createSocket({ type: 'udp6', ipv6Only: false });
  udp.on('message', (m, r) => udp.send(`${name} ${m.toString()}`, r.port, r.address));
  let ready = 0;
  const up = () => ++ready === 2 && out({ listening: port });
  tcp.listen({ port, host: '::', ipv6Only: false }, up);
  udp.bind(port, '::', up);
} else if (mode === 'tcp-conns') {
  const [host, port, count, conc, base] = [a1, Number(a2), Number(a3), Number(a4), Number(a5)];
  const names = {};
  const errors = {};
  let maxMs = 0;
  let next = 0;
  let done = 0;
  const one = () => {
    if (next >= count) return;
    const i = next++;
    const start = performance.now();
    let data = '';
    const sock = connect({ host, port, localPort: base + i, family: isIPv6(host) ? 6 : 4 });
    sock.setTimeout(5000);
    const finish = (err) => {
      maxMs = Math.max(maxMs, performance.now() - start);
      if (err) errors[err] = (errors[err] ?? 0) + 1;
      else names[data.trim()] = (names[data.trim()] ?? 0) + 1;
      sock.destroy();
      if (++done === count) out({ names, errors, maxMs: Math.round(maxMs) });
      else one();
    };
    sock.on('data', (d) => {
      data += d.toString();
      if (data.includes('\n')) {
        sock.end();
        finish(null);
      }
    });
    sock.on('timeout', () => finish('timeout'));
    sock.on('error', (e) => finish(e.code ?? 'error'));
  };
  for (let k = 0; k < conc; k++) one();
} else if (mode === 'tcp-hold') {
  const [host, port, count] = [a1, Number(a2), Number(a3)];
  const socks = [];
  const opened = [];
  for (let i = 0; i < count; i++) {
    const sock = connect({ host, port });
    let data = '';
    sock.on('data', (d) => {
      data += d.toString();
      if (sock.greeted === undefined && data.includes('\n')) {
        sock.greeted = data.trim();
        data = '';
        opened.push(sock.greeted);
        if (opened.length === count) out({ opened });
      }
    });
    sock.on('error', (e) => (sock.failed = e.code));
    socks.push(sock);
  }
  createInterface({ input: process.stdin }).once('line', () => {
    const finished = [];
    const errors = [];
    let left = socks.length;
    for (const sock of socks) {
      let reply = '';
      sock.removeAllListeners('data');
      sock.on('data', (d) => (reply += d.toString()));
      const end = () => {
        if (reply.startsWith('bye ')) finished.push(reply.trim().slice(4));
        else errors.push(`${sock.greeted}: ${sock.failed ?? `no bye (${JSON.stringify(reply)})`}`);
        if (--left === 0) {
          out({ finished, errors });
          process.exit(0);
        }
      };
      sock.once('close', end);
      sock.setTimeout(5000, () => sock.destroy());
      sock.write('bye\n');
    }
  });
} else if (mode === 'tcp-loop') {
  const [host, port, ms] = [a1, Number(a2), Number(a3)];
  const loop = () => {
    if (now() >= ms) return process.exit(0);
    const t = Date.now();
    const start = performance.now();
    let data = '';
    const sock = connect({ host, port });
    sock.setTimeout(10_000);
    let settled = false;
    const finish = (rec) => {
      if (settled) return;
      settled = true;
      sock.destroy();
      out({ t, ms: Math.round(performance.now() - start), ...rec });
      setTimeout(loop, 5);
    };
    sock.on('data', (d) => {
      data += d.toString();
      if (data.includes('\n')) finish({ name: data.trim() });
    });
    sock.on('timeout', () => finish({ error: 'timeout' }));
    sock.on('error', (e) => finish({ error: e.code ?? 'error' }));
    sock.on('end', () => finish({ error: 'closed' }));
  };
  loop();
} else if (mode === 'udp-loop') {
  const [host, port, ms, every] = [a1, Number(a2), Number(a3), Number(a4)];
  const sock = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  const pending = new Map();
  sock.on('message', (m) => {
    const [name, seqText] = m.toString().split(' ');
    const p = pending.get(Number(seqText));
    if (p === undefined) return;
    pending.delete(Number(seqText));
    clearTimeout(p.timer);
    out({ t: p.t, seq: Number(seqText), name, tries: p.tries });
  });
  sock.on('error', () => {});
  const send = (seq, p) => {
    p.tries++;
    sock.send(String(seq), port, host);
    p.timer = setTimeout(() => {
      if (p.tries >= 4) {
        pending.delete(seq);
        out({ t: p.t, seq, lost: true });
      } else send(seq, p);
    }, 250);
  };
  let seq = 0;
  const tick = setInterval(() => {
    if (now() >= ms) {
      clearInterval(tick);
      const wait = setInterval(() => {
        if (pending.size === 0) {
          clearInterval(wait);
          sock.close();
        }
      }, 50);
      return;
    }
    const p = { t: Date.now(), tries: 0, timer: null };
    pending.set(seq, p);
    send(seq++, p);
  }, every);
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
