/**
 * Whether ferryd asks for TUN offloads (docs/offloads.md#tun-offloads): FERRY_OFFLOAD=on|off
 * in the environment, else FerryOffload in the config's [Interface], else on. Read once at
 * start: a change takes a restart (the TUN is opened with or without its virtio header).
 */
import { ErrorCode, FerryError } from '../errors.js';
import type { WgQuickConfig } from '../config/model.js';

const OFFLOAD_ENV = 'FERRY_OFFLOAD';

export function offloadSetting(env: NodeJS.ProcessEnv, config: WgQuickConfig | null): boolean {
  const fromEnv = env[OFFLOAD_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    const v = fromEnv.trim().toLowerCase();
    if (v === 'on') return true;
    if (v === 'off') return false;
    throw new FerryError(ErrorCode.InvalidArgument, `${OFFLOAD_ENV}=${JSON.stringify(fromEnv)} is invalid: expected on or off`);
  }
  return config?.interface.offload ?? true;
}
