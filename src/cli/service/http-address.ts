/**
 * Where ferryd serves HTTP (probes and metrics), if anywhere: FERRY_HTTP=ADDRESS:PORT in
 * the environment, else `Http =` in the config's [Ferry] section, else nowhere (opt-in).
 * FERRY_HTTP= (empty) turns a configured port off.
 */
import { ferrySettings, parseHttpAddress, type HttpAddress } from '../../config/ferry-section.js';
import type { WgQuickConfig } from '../../config/model.js';

const HTTP_ENV = 'FERRY_HTTP';

export function httpAddressFor(env: NodeJS.ProcessEnv, config: WgQuickConfig | null): { http: HttpAddress | null } | { error: string } {
  const fromEnv = env[HTTP_ENV];
  if (fromEnv !== undefined) {
    if (fromEnv.trim() === '') return { http: null };
    const a = parseHttpAddress(fromEnv.trim());
    return 'error' in a ? { error: `${HTTP_ENV}: ${a.error}` } : { http: a };
  }
  return { http: config === null ? null : ferrySettings(config).http };
}
