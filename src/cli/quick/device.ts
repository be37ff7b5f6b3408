/**
 * The running interface as the wg-quick verbs see it, through its UAPI socket (the calls
 * wg-quick makes with `wg`): read its state, apply a set operation, and tell whether a
 * name is a WireGuard interface (`wg show interfaces` lists every UAPI socket) and whether
 * its daemon still runs or died leaving its sockets behind (`ferry down` after a crash).
 */
import { rmSync, statSync } from 'node:fs';
import { getSystemErrorName } from 'node:util';
import { strerror } from '../../text/errno.js';
import { getDevice, setDevice } from '../../uapi/client.js';
import { IpcError } from '../../uapi/errors.js';
import type { Device } from '../../uapi/model.js';
import { UAPI_DIR, uapiSocketPath } from '../../uapi/socket-path.js';
import { CONTROL_DIR, controlSocketPath } from '../../control/control-server.js';
import { socketIsLive } from '../../control/uapi-server.js';

/** live: the UAPI socket answers; stale: a socket file is there but nothing listens (the daemon died); absent: neither. */
export type DaemonState = 'live' | 'stale' | 'absent';

export interface QuickDevice {
  get(ifname: string): Promise<Device>;
  set(ifname: string, change: Device): Promise<void>;
  isWireGuard(ifname: string): boolean;
  /** Resolves once the daemon's socket is gone (it exits when its interface is deleted), or after ms. */
  waitGone(ifname: string, ms: number): Promise<boolean>;
  daemonState(ifname: string): Promise<DaemonState>;
  /** Removes the UAPI and control sockets nothing listens on any more; returns their paths. */
  removeStaleSockets(ifname: string): Promise<string[]>;
}

function isSocketFile(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

export class UapiDevice implements QuickDevice {
  constructor(
    private readonly dir = UAPI_DIR,
    private readonly controlDir = CONTROL_DIR,
  ) {}

  private sockets(ifname: string): string[] {
    return [uapiSocketPath(ifname, this.dir), controlSocketPath(ifname, this.controlDir)];
  }

  get(ifname: string): Promise<Device> {
    return getDevice(this.dir, ifname);
  }

  set(ifname: string, change: Device): Promise<void> {
    return setDevice(this.dir, ifname, change);
  }

  isWireGuard(ifname: string): boolean {
    return isSocketFile(uapiSocketPath(ifname, this.dir));
  }

  async daemonState(ifname: string): Promise<DaemonState> {
    const present = this.sockets(ifname).filter(isSocketFile);
    if (present.length === 0) return 'absent';
    for (const path of present) if (await socketIsLive(path)) return 'live';
    return 'stale';
  }

  async removeStaleSockets(ifname: string): Promise<string[]> {
    const removed: string[] = [];
    for (const path of this.sockets(ifname).filter(isSocketFile)) {
      if (await socketIsLive(path)) continue;
      rmSync(path, { force: true });
      removed.push(path);
    }
    return removed;
  }

  async waitGone(ifname: string, ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    while (this.isWireGuard(ifname)) {
      if (Date.now() > until) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
    return true;
  }
}

const STRERROR: Record<string, string> = {
  EINVAL: 'Invalid argument',
  EADDRINUSE: 'Address already in use',
  EIO: 'Input/output error',
  EPROTO: 'Protocol error',
  ENOENT: 'No such file or directory',
  ECONNREFUSED: 'Connection refused',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
};

/** The text wg's perror() would print for a UAPI failure (strerror of the errno). */
export function describeUapiError(err: unknown): string {
  if (err instanceof IpcError) return strerror(err.errno);
  const e = err as { errno?: number; code?: string; message?: string };
  let name = typeof e.code === 'string' ? e.code : undefined;
  if (name === undefined && typeof e.errno === 'number') {
    try {
      name = getSystemErrorName(e.errno);
    } catch {
      name = undefined;
    }
  }
  return (name !== undefined ? STRERROR[name] : undefined) ?? e.message ?? String(err);
}
