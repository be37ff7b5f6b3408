/**
 * A ConfigReader for wg-quick files, through src/config/ (parseConfig, resolveEndpoints,
 * toUapiSet): it accepts what wg-quick accepts (Address, DNS, hooks, PrivateKeyFile,
 * ferry's sections — all ignored here) and reports every problem with file:line.
 *
 * The wg verbs (`ferry setconf` …) keep wg's own reader (conf.ts), so they accept and
 * reject exactly what wg does; this one is for the wg-quick verbs:
 * `setconfMain(io, 'syncconf', [ifname, file], quickConfigReader)`.
 */
import { formatIssue, isConfigError } from '../../config/issues.js';
import { parseConfig } from '../../config/parse.js';
import { resolveEndpoints, retriesFromEnv } from '../../config/resolve.js';
import { toUapiSet } from '../../config/uapi-set.js';
import type { ConfigReader } from './conf.js';

export const quickConfigReader: ConfigReader = async (io, text, file, append) => {
  try {
    const config = await resolveEndpoints(parseConfig(text, { file }), { retries: retriesFromEnv(io.env) });
    for (const w of config.warnings) io.err(`${formatIssue(w)}\n`);
    return toUapiSet(config, { replacePeers: !append });
  } catch (err) {
    if (!isConfigError(err)) throw err;
    io.err(`${err.message}\n`);
    return null;
  }
};
