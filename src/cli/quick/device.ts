/**
 * The running interface as the wg-quick verbs see it, through its UAPI socket (the calls
 * wg-quick makes with `wg`): read its state, apply a set operation, and tell whether a
 * name is a WireGuard interface (`wg show interfaces` lists every UAPI socket).
 */
import { statSync } from 'node:fs';
import { getSystemErrorName } from 'node:util';
import { strerror } from '../../text/errno.js';
import { getDevice, setDevice } from '../../uapi/client.js';
import { IpcError } from '../../uapi/errors.js';
import type { Device } from '../../uapi/model.js';
import { UAPI_DIR, uapiSocketPath } from '../../uapi/socket-path.js';

export interface QuickDevice {
  get(ifname: string): Promise<Device>;
  set(ifname: string, change: Device): Promise<void>;
  isWireGuard(ifname: string): boolean;
  /** Resolves once the daemon's socket is gone (it exits when its interface is deleted), or after ms. */
  waitGone(ifname: string, ms: number): Promise<boolean>;
}

export class UapiDevice implements QuickDevice {
  constructor(private readonly dir = UAPI_DIR) {}

  get(ifname: string): Promise<Device> {
    return getDevice(this.dir, ifname);
  }

  set(ifname: string, change: Device): Promise<void> {
    return setDevice(this.dir, ifname, change);
  }

  isWireGuard(ifname: string): boolean {
    try {
      return statSync(uapiSocketPath(ifname, this.dir)).isSocket();
    } catch {
      return false;
    }
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
