/**
 * A small client for the UAPI socket (ferryd or wireguard-go): one connection per
 * operation, as wg does. Used by the ferry CLI and the demo.
 */
import { createConnection } from 'node:net';
import { uapiSocketPath } from './uapi-server.js';
import { UapiError } from './uapi-protocol.js';

/** Sends one operation (its lines, without the final empty line) and returns the answer lines before errno. */
export function uapiRequest(path: string, lines: string[], timeoutMs = 10_000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let text = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`UAPI ${path}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    let answered = false;
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      if (!answered) reject(new Error(`UAPI ${path}: the daemon closed the connection without an answer`));
    });
    sock.on('data', (d: string) => {
      text += d;
      const end = text.indexOf('\n\n');
      if (end < 0) return;
      clearTimeout(timer);
      answered = true;
      sock.end();
      const answer = text.slice(0, end).split('\n');
      const last = answer.pop() ?? '';
      const m = /^errno=(-?\d+)$/.exec(last);
      if (!m) return reject(new Error(`UAPI ${path}: malformed answer`));
      const errno = Number(m[1]);
      if (errno !== 0) return reject(new UapiError(errno, `UAPI ${path}: errno=${errno}`));
      resolve(answer);
    });
    sock.on('connect', () => sock.write(`${lines.join('\n')}\n\n`));
  });
}

export function uapiGet(ifname: string): Promise<Map<string, string>[]> {
  return uapiRequest(uapiSocketPath(ifname), ['get=1']).then(groupAnswer);
}

export function uapiSet(ifname: string, lines: string[]): Promise<string[]> {
  return uapiRequest(uapiSocketPath(ifname), ['set=1', ...lines]);
}

/** Splits a get answer into the device section and one section per peer (allowed_ip joined by ','). */
export function groupAnswer(lines: string[]): Map<string, string>[] {
  const sections: Map<string, string>[] = [new Map()];
  for (const line of lines) {
    const eq = line.indexOf('=');
    const k = line.slice(0, eq);
    const v = line.slice(eq + 1);
    if (k === 'public_key') sections.push(new Map());
    const cur = sections[sections.length - 1];
    if (k === 'allowed_ip' && cur.has(k)) cur.set(k, `${cur.get(k)},${v}`);
    else cur.set(k, v);
  }
  return sections;
}
