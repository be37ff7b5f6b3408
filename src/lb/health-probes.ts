/**
 * The real health probes, run from the daemon's own network namespace: a TCP connect
 * (node:net), an HTTP GET expecting a status (node:http), and an ICMP echo through a raw
 * socket (the raw-socket package, loaded only when an icmp check is configured; opening
 * it needs CAP_NET_RAW). Control path: they allocate freely and resolve to true/false.
 */
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { request } from 'node:http';
import { ErrorCode, FerryError } from '../errors.js';
import { internetChecksum } from '../packet/checksum.js';

export interface HealthProber {
  tcp(address: string, port: number, timeoutMs: number): Promise<boolean>;
  http(address: string, port: number, path: string, status: number, timeoutMs: number): Promise<boolean>;
  icmp(family: 4 | 6, address: string, timeoutMs: number): Promise<boolean>;
  close(): void;
}

type RawModule = typeof import('raw-socket');
type RawSocket = import('raw-socket').Socket;

interface PendingEcho {
  address: string;
  resolve: (ok: boolean) => void;
  timer: NodeJS.Timeout;
}

/** Echo requests carry this identifier; replies are matched by it, the sequence and the source. */
const ECHO_ID = (process.pid ^ 0x6665) & 0xffff;

export class NetHealthProber implements HealthProber {
  private raw: RawModule | null = null;
  private readonly sockets = new Map<4 | 6, RawSocket>();
  private readonly pending = new Map<number, PendingEcho>();
  /** TCP and HTTP checks under way: close() ends them (failed) and their sockets and timers with them. */
  private readonly running = new Set<() => void>();
  private sequence = 0;

  tcp(address: string, port: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const sock = connect({ host: address, port, timeout: timeoutMs });
      const cancel = () => done(false);
      const done = (ok: boolean) => {
        this.running.delete(cancel);
        sock.destroy();
        resolve(ok);
      };
      this.running.add(cancel);
      sock.once('connect', () => done(true));
      sock.once('timeout', () => done(false));
      sock.once('error', () => done(false));
    });
  }

  http(address: string, port: number, path: string, status: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const host = address.includes(':') ? `[${address}]` : address;
      const cancel = () => done(false);
      const done = (ok: boolean) => {
        this.running.delete(cancel);
        req.destroy();
        resolve(ok);
      };
      const req = request({ host: address, port, path, method: 'GET', timeout: timeoutMs, agent: false, headers: { host: `${host}:${port}`, 'user-agent': 'ferry-health-check' } }, (res) => {
        res.resume();
        done(res.statusCode === status);
      });
      this.running.add(cancel);
      req.once('timeout', () => done(false));
      req.once('error', () => done(false));
      req.end();
    });
  }

  icmp(family: 4 | 6, address: string, timeoutMs: number): Promise<boolean> {
    const sock = this.socket(family);
    this.sequence = (this.sequence + 1) & 0xffff;
    const seq = this.sequence;
    const packet = Buffer.alloc(16);
    packet[0] = family === 4 ? 8 : 128; // echo request
    packet.writeUInt16BE(ECHO_ID, 4);
    packet.writeUInt16BE(seq, 6);
    packet.write('ferry-hc', 8, 'latin1');
    // ICMPv4 carries its own checksum; the kernel fills ICMPv6's (it has a pseudo-header).
    if (family === 4) packet.writeUInt16BE(internetChecksum(packet, 0, packet.length), 2);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(seq, false), timeoutMs);
      this.pending.set(seq, { address, resolve, timer });
      sock.send(packet, 0, packet.length, address, (err) => {
        if (err) this.settle(seq, false);
      });
    });
  }

  close(): void {
    for (const cancel of [...this.running]) cancel();
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
    for (const seq of [...this.pending.keys()]) this.settle(seq, false);
  }

  private settle(seq: number, ok: boolean): void {
    const p = this.pending.get(seq);
    if (p === undefined) return;
    this.pending.delete(seq);
    clearTimeout(p.timer);
    p.resolve(ok);
  }

  private socket(family: 4 | 6): RawSocket {
    let sock = this.sockets.get(family);
    if (sock !== undefined) return sock;
    const raw = this.load();
    sock = raw.createSocket({ protocol: family === 4 ? raw.Protocol.ICMP : raw.Protocol.ICMPv6, addressFamily: family === 4 ? raw.AddressFamily.IPv4 : raw.AddressFamily.IPv6 });
    sock.on('message', (buf, source) => this.received(family, buf, source));
    sock.on('error', () => this.sockets.delete(family));
    this.sockets.set(family, sock);
    return sock;
  }

  private received(family: 4 | 6, buf: Buffer, source: string): void {
    // An IPv4 raw socket hands over the IP header too; an ICMPv6 one only the message.
    const at = family === 4 ? (buf[0] & 0x0f) * 4 : 0;
    if (buf.length < at + 8 || buf[at] !== (family === 4 ? 0 : 129) || buf.readUInt16BE(at + 4) !== ECHO_ID) return;
    const seq = buf.readUInt16BE(at + 6);
    const p = this.pending.get(seq);
    if (p !== undefined && sameAddress(p.address, source)) this.settle(seq, true);
  }

  private load(): RawModule {
    if (this.raw !== null) return this.raw;
    try {
      this.raw = createRequire(import.meta.url)('raw-socket') as RawModule;
    } catch (err) {
      throw new FerryError(ErrorCode.InvalidArgument, `ICMP health checks need the raw-socket package, which did not load: ${(err as Error).message}`, { cause: err });
    }
    return this.raw;
  }
}

function sameAddress(a: string, b: string): boolean {
  return a === b || a.toLowerCase() === b.toLowerCase().replace(/%.*$/, '');
}
