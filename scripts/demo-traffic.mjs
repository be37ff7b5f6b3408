// Traffic endpoints the demo runs inside its namespaces (plain Node, no extra tools):
//   tcp-sink HOST PORT          accept one connection, print {"bytes","sha256"} when it ends
//   tcp-source HOST PORT MIB    send MIB MiB of random data, print {"bytes","sha256"}
//   udp-echo HOST PORT          echo datagrams until killed
//   udp-probe HOST PORT COUNT   COUNT request/reply round trips, print {"rtts":[ms...]}
import { createHash, randomBytes } from 'node:crypto';
import { createServer, connect } from 'node:net';
import { createSocket } from 'node:dgram';

const [mode, host, portText, arg] = process.argv.slice(2);
const port = Number(portText);
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

if (mode === 'tcp-sink') {
  const server = createServer((sock) => {
    const h = createHash('sha256');
    let bytes = 0;
    sock.on('data', (d) => {
      bytes += d.length;
      h.update(d);
    });
    sock.on('end', () => {
      out({ bytes, sha256: h.digest('hex') });
      server.close();
    });
  });
  server.listen(port, host, () => out({ listening: port }));
} else if (mode === 'tcp-source') {
  const total = Number(arg) * 1024 * 1024;
  const h = createHash('sha256');
  const sock = connect(port, host, () => {
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        const chunk = randomBytes(Math.min(256 * 1024, total - sent));
        h.update(chunk);
        sent += chunk.length;
        if (!sock.write(chunk)) return sock.once('drain', pump);
      }
      sock.end(() => out({ bytes: sent, sha256: h.digest('hex') }));
    };
    pump();
  });
} else if (mode === 'udp-echo') {
  const s = createSocket('udp4');
  s.on('message', (m, r) => s.send(m, r.port, r.address));
  s.bind(port, host, () => out({ listening: port }));
} else if (mode === 'udp-probe') {
  const count = Number(arg);
  const s = createSocket('udp4');
  const rtts = [];
  let t0 = 0;
  const next = () => {
    if (rtts.length === count) {
      out({ rtts });
      s.close();
      return;
    }
    t0 = performance.now();
    s.send(Buffer.from(String(rtts.length)), port, host);
  };
  const timer = setTimeout(() => {
    out({ rtts, timeout: true });
    process.exit(1);
  }, 20_000);
  timer.unref();
  s.on('message', () => {
    rtts.push(performance.now() - t0);
    next();
  });
  s.bind(0, () => next());
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
