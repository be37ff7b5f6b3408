/**
 * What /readyz and /metrics answer for a ferryd: not ready while starting, the interface's
 * own readiness while it runs, and not ready again from the moment it starts stopping, so
 * a load balancer or kubelet stops sending before anything is taken down.
 */
import type { HttpAddress } from '../../config/ferry-section.js';
import { ProbeHttpServer } from '../../control/http-server.js';
import type { InterfaceHealth, Readiness } from '../../daemon/interface-health.js';
import type { Logger } from '../../daemon/logger.js';

type Phase = 'starting' | 'running' | 'stopping';

export class ServiceProbes {
  phase: Phase = 'starting';
  health: InterfaceHealth | null = null;

  running(health: InterfaceHealth): void {
    this.health = health;
    this.phase = 'running';
  }

  readiness(): Readiness {
    if (this.phase === 'stopping') return { ready: false, reasons: ['shutting down'] };
    if (this.phase === 'starting' || this.health === null) return { ready: false, reasons: ['starting'] };
    return this.health.isReady();
  }

  metrics(): string {
    return this.health?.metrics() ?? '';
  }
}

/** Opens the HTTP port when an address is given; logs where. */
export async function listenProbes(address: HttpAddress | null, probes: ServiceProbes, logger: Logger): Promise<ProbeHttpServer | null> {
  if (address === null) return null;
  const server = await ProbeHttpServer.listen({ ...address, source: probes, onError: (m) => logger.warn(`http: ${m}`) });
  logger.info({ address: address.host, port: server.port }, 'serving /livez, /readyz and /metrics');
  return server;
}
