/**
 * How `ferry up` starts the daemon (wg-quick's add_if with the userspace implementation):
 * `ferryd IFNAME`, which returns once the interface and its UAPI socket exist. The command
 * is FERRYD when set (words split at spaces, e.g. "node --import tsx /src/cli/ferryd.ts"),
 * else the ferryd next to this CLI: dist/cli/ferryd.js, or src/cli/ferryd.ts through tsx
 * when ferry itself runs from source.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface FerrydCommand {
  argv: string[];
  /** What the trace line shows ("ferryd wg0", as wg-quick shows "wireguard-go wg0"). */
  display: string;
}

export function ferrydCommand(ifname: string, env: NodeJS.ProcessEnv = process.env, cliDir = join(dirname(fileURLToPath(import.meta.url)), '..')): FerrydCommand {
  const custom = (env.FERRYD ?? '').trim();
  if (custom !== '') {
    const words = custom.split(/\s+/);
    return { argv: [...words, ifname], display: `${custom} ${ifname}` };
  }
  const js = join(cliDir, 'ferryd.js');
  const ts = join(cliDir, 'ferryd.ts');
  const argv = existsSync(js) || !existsSync(ts) ? [process.execPath, js, ifname] : [process.execPath, '--import', tsxLoader(), ts, ifname];
  return { argv, display: `ferryd ${ifname}` };
}

/** tsx as an absolute URL, so the daemon starts from any working directory. */
function tsxLoader(): string {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return 'tsx';
  }
}
