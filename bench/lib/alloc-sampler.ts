/**
 * Where a stretch of code allocates: V8's sampling heap profiler (node:inspector), with
 * objects already collected included, summed by call chain. For finding the source when
 * bench/datapath.ts counts collections; function names are reliable, line numbers are not
 * (tsx compiles without telling the profiler).
 */
import { Session } from 'node:inspector/promises';

interface ProfileNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: ProfileNode[];
}

export interface AllocationSite {
  bytes: number;
  /** Innermost frame first. */
  stack: string;
}

export class AllocationSampler {
  private readonly session = new Session();

  async start(intervalBytes = 32): Promise<void> {
    this.session.connect();
    const params = { samplingInterval: intervalBytes, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true };
    await this.session.post('HeapProfiler.startSampling', params as { samplingInterval: number });
  }

  /**
   * Stops and returns the `top` call chains by bytes sampled (each chain cut to `depth`
   * frames), leaving out the profiler's own (node:inspector).
   */
  async stop(top = 10, depth = 6): Promise<AllocationSite[]> {
    const { profile } = await this.session.post('HeapProfiler.stopSampling');
    this.session.disconnect();
    const sites = new Map<string, number>();
    const walk = (n: ProfileNode, path: string[]): void => {
      const file = n.callFrame.url.split('/').slice(-2).join('/');
      const here = [...path, `${n.callFrame.functionName || '(anonymous)'}${file ? ` ${file}` : ''}`];
      if (n.selfSize > 0 && !here.some((f) => f.includes('node:inspector'))) {
        const key = here.slice(-depth).reverse().join(' < ');
        sites.set(key, (sites.get(key) ?? 0) + n.selfSize);
      }
      for (const c of n.children) walk(c, here);
    };
    walk(profile.head as ProfileNode, []);
    return [...sites].sort((a, b) => b[1] - a[1]).slice(0, top).map(([stack, bytes]) => ({ bytes, stack }));
  }
}
