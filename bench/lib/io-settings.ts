/** Options of `npm run bench -- io` (see bench/io.ts). */
export type Impl = 'native' | 'dgram';

export interface IoSettings {
  /** Measured window per run, after the warm-up. */
  seconds: number;
  warmup: number;
  /** Each round runs native then dgram. */
  rounds: number;
  /** UDP payload of the source's datagrams (the TUN carries payload + 28 bytes). */
  payload: number;
  /** Native batch (TUN reads, sendmmsg, recvmmsg); the dgram baseline's TUN reads. */
  batch: number;
  /** split: source on CPU 0, both forwarders on CPU 1; spread: source and A on 0, B on 1; none. */
  pin: 'split' | 'spread' | 'none';
  /** Baseline sends on a connected socket instead of addressing every datagram. */
  dgramConnected: boolean;
  /** Native forwarders use UDP GSO (A) and GRO (B). */
  offload: boolean;
  /** Native forwarders stay in their callback up to this long waiting for more (0: off). */
  lingerMs: number;
}

const NUMERIC = ['seconds', 'warmup', 'rounds', 'payload', 'batch'] as const;

export function parseIoSettings(argv: string[]): IoSettings {
  const s: IoSettings = { seconds: 5, warmup: 1, rounds: 3, payload: 64, batch: 256, pin: 'split', dgramConnected: false, offload: true, lingerMs: 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    const v = argv[i + 1] ?? '';
    if (k === 'pin' && (v === 'split' || v === 'spread' || v === 'none')) s.pin = v;
    else if (k === 'dgram-connected' && (v === '0' || v === '1')) s.dgramConnected = v === '1';
    else if (k === 'offload' && (v === '0' || v === '1')) s.offload = v === '1';
    else if (k === 'linger-ms' && /^\d+$/.test(v) && Number(v) <= 50) s.lingerMs = Number(v);
    else if ((NUMERIC as readonly string[]).includes(k) && v !== '' && Number(v) > 0) s[k as (typeof NUMERIC)[number]] = Number(v);
    else throw new Error(`unknown or bad option ${argv[i]} ${v}`);
  }
  if (!Number.isInteger(s.batch) || s.batch > 1024) throw new Error('--batch must be an integer in [1, 1024]');
  if (!Number.isInteger(s.payload) || s.payload < 8 || s.payload > 1400) throw new Error('--payload must be an integer in [8, 1400]');
  if (!Number.isInteger(s.rounds)) throw new Error('--rounds must be an integer');
  return s;
}
