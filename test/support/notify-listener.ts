/**
 * A NOTIFY_SOCKET owned by the test: a unix datagram socket bound by a python3 child
 * (Node has no unix datagram sockets), which prints one JSON line per datagram with the
 * wall-clock and monotonic times it arrived. Stands in for systemd, which is not PID 1 here.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Scope } from './netns.js';

export interface Notification {
  /** The datagram: newline-separated KEY=VALUE assignments. */
  text: string;
  /** Wall-clock ms (for comparing with file times). */
  wallMs: number;
  /** Monotonic ms (for intervals). */
  monoMs: number;
}

export interface NotifyListener {
  readonly path: string;
  readonly received: Notification[];
  /** Resolves with the first notification (already received or to come) that matches. */
  waitFor(match: (n: Notification) => boolean, what: string, ms?: number): Promise<Notification>;
}

const SCRIPT = `
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps({"ready": True}), flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps({"text": data.decode(), "wall": time.time() * 1000, "mono": time.monotonic() * 1000}), flush=True)
`;

export async function notifyListener(t: Scope, path: string): Promise<NotifyListener> {
  const py = spawn('python3', ['-c', SCRIPT, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => void py.kill('SIGKILL'));
  const received: Notification[] = [];
  const waiters = new Set<() => void>();
  let bound!: () => void;
  const ready = new Promise<void>((r) => (bound = r));
  createInterface({ input: py.stdout }).on('line', (line) => {
    const m = JSON.parse(line) as { ready?: boolean; text: string; wall: number; mono: number };
    if (m.ready) return bound();
    received.push({ text: m.text, wallMs: m.wall, monoMs: m.mono });
    for (const w of waiters) w();
  });
  await Promise.race([ready, new Promise((_, reject) => setTimeout(() => reject(new Error('notify listener did not start')), 5000).unref())]);
  return {
    path,
    received,
    waitFor(match, what, ms = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = received.find(match);
          if (hit === undefined) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}; received: ${JSON.stringify(received.map((n) => n.text))}`));
        }, ms);
        if (!check()) waiters.add(check);
      });
    },
  };
}

/** The assignments of a notification, as a map (the last value of a key wins). */
export function assignments(n: Notification): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of n.text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}
