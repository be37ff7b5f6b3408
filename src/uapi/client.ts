/**
 * The one UAPI client, talking to userspace WireGuard daemons (ferryd, wireguard-go) as
 * wg(8) does (ipc-uapi-unix.h): an interface is a socket DIR/NAME.sock that accepts
 * connections; a socket that refuses them belongs to a dead daemon and is removed; one
 * connection per operation. ferry has no kernel interfaces, so a name without a live
 * socket is ENODEV. Used by the wg verbs, the wg-quick verbs and the ferry CLI.
 *
 * Names and directories are byte strings (one char per byte, as wg handles char*).
 */
import { opendirSync, statSync, unlinkSync } from 'node:fs';
import { createConnection } from 'node:net';
import { Errno } from '../text/errno.js';
import { IpcError } from './errors.js';
import { parseGet, parseSetAnswer } from './get-parse.js';
import type { Device } from './model.js';
import { formatSet } from './set-format.js';
import { UAPI_SOCKET_SUFFIX as SUFFIX, uapiSocketPath } from './socket-path.js';

/** An operation that gets no answer within this long fails with ETIMEDOUT (wg itself would wait forever). */
const ANSWER_TIMEOUT_MS = 30_000;
const ETIMEDOUT = 110;
const IFNAMSIZ = 16;

/** A name as wg keeps it: at most IFNAMSIZ - 1 = 15 bytes. */
export function deviceName(name: string): string {
  return name.slice(0, IFNAMSIZ - 1);
}

/** A byte string to a path Node's fs and net accept. */
function fsPath(bytes: string): string {
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function errnoOf(err: unknown): number {
  const n = (err as NodeJS.ErrnoException).errno;
  return typeof n === 'number' && n !== 0 ? Math.abs(n) : Errno.EIO;
}

/** Connects; resolves with the open socket or rejects with IpcError. */
function connect(path: string): Promise<import('node:net').Socket> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(fsPath(path));
    sock.once('connect', () => {
      sock.removeAllListeners('error');
      resolve(sock);
    });
    sock.once('error', (err) => reject(new IpcError(errnoOf(err))));
  });
}

/** userspace_has_wireguard_interface(): a socket file that does not refuse connections. */
async function hasInterface(dir: string, name: string): Promise<boolean> {
  if (name.includes('/')) return false;
  const path = uapiSocketPath(name, dir);
  try {
    if (!statSync(fsPath(path)).isSocket()) return false;
  } catch {
    return false;
  }
  try {
    (await connect(path)).destroy();
  } catch (err) {
    if ((err as IpcError).errno === Errno.ECONNREFUSED) {
      try {
        unlinkSync(fsPath(path));
      } catch {
        // someone else cleaned it up
      }
      return false;
    }
  }
  return true;
}

/** Names of the live interfaces, in directory order (as wg lists them). */
export async function listDevices(dir: string): Promise<string[]> {
  let handle;
  try {
    handle = opendirSync(fsPath(dir), { encoding: 'buffer' as BufferEncoding });
  } catch (err) {
    const errno = errnoOf(err);
    if (errno === Errno.ENOENT) return [];
    throw new IpcError(errno);
  }
  const names: string[] = [];
  try {
    for (let ent = handle.readSync(); ent !== null; ent = handle.readSync()) {
      const raw = ent.name as unknown as Buffer | string;
      const name = typeof raw === 'string' ? Buffer.from(raw, 'utf8').toString('latin1') : raw.toString('latin1');
      if (name.length <= SUFFIX.length || !name.endsWith(SUFFIX)) continue;
      const iface = name.slice(0, -SUFFIX.length);
      if (await hasInterface(dir, iface)) names.push(iface);
    }
  } finally {
    handle.closeSync();
  }
  return names.filter((n) => n.length > 0);
}

/** Sends one request and returns everything read up to the first empty line (or the end). */
async function exchange(dir: string, name: string, request: string): Promise<string> {
  if (!(await hasInterface(dir, name))) throw new IpcError(Errno.ENODEV);
  const sock = await connect(uapiSocketPath(name, dir));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let last = 0x0a; // an empty first line also ends the answer
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      sock.destroy();
      reject(new IpcError(ETIMEDOUT));
    }, ANSWER_TIMEOUT_MS);
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      const ended = (last === 0x0a && d[0] === 0x0a) || d.includes('\n\n');
      last = d[d.length - 1];
      if (ended) finish();
    });
    sock.on('end', finish);
    sock.on('close', finish);
    sock.on('error', (err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new IpcError(errnoOf(err)));
    });
    sock.write(Buffer.from(request, 'latin1'));
  });
}

/** ipc_get_device(). */
export async function getDevice(dir: string, name: string): Promise<Device> {
  const answer = await exchange(dir, name, 'get=1\n\n');
  const r = parseGet(answer);
  if (r.device === null) throw new IpcError(r.errno);
  return r.device;
}

/** ipc_set_device(). */
export async function setDevice(dir: string, name: string, dev: Device): Promise<void> {
  const answer = await exchange(dir, name, formatSet(dev));
  const errno = parseSetAnswer(answer);
  if (errno !== 0) throw new IpcError(errno);
}
