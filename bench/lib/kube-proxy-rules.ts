/**
 * An iptables-restore ruleset shaped as kube-proxy's iptables mode writes it (the nat
 * table: KUBE-SERVICES → KUBE-SVC-* → KUBE-SEP-* DNAT, masquerade by mark in
 * KUBE-POSTROUTING), for the lb benchmark's baseline. A new connection walks
 * KUBE-SERVICES rule by rule until its VIP matches, which is why kube-proxy's cost per
 * connection grows with the number of services; the benchmark puts the measured service
 * last. Chain names follow kube-proxy's: the first 16 characters of base32(sha256(…)).
 */
import { createHash } from 'node:crypto';

export interface BenchService {
  name: string;
  vip: string;
  port: number;
  backends: Array<{ ip: string; port: number }>;
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

function chain(prefix: string, key: string): string {
  return `${prefix}-${base32(createHash('sha256').update(key).digest()).slice(0, 16)}`;
}

/** The nat table for these services, in order (the last one is matched last). */
export function kubeProxyRules(services: readonly BenchService[], clusterCidr = '10.244.0.0/16'): string {
  const chains: string[] = [':KUBE-SERVICES - [0:0]', ':KUBE-POSTROUTING - [0:0]', ':KUBE-MARK-MASQ - [0:0]', ':KUBE-NODEPORTS - [0:0]'];
  const rules: string[] = [
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0',
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  ];
  const svcRules: string[] = [];
  for (const s of services) {
    const id = `bench/${s.name}:http`;
    const svc = chain('KUBE-SVC', `${id}/tcp`);
    chains.push(`:${svc} - [0:0]`);
    svcRules.push(`-A KUBE-SERVICES -d ${s.vip}/32 -p tcp -m comment --comment "${id} cluster IP" -m tcp --dport ${s.port} -j ${svc}`);
    rules.push(`-A ${svc} ! -s ${clusterCidr} -d ${s.vip}/32 -p tcp -m comment --comment "${id} cluster IP" -m tcp --dport ${s.port} -j KUBE-MARK-MASQ`);
    s.backends.forEach((b, i) => {
      const sep = chain('KUBE-SEP', `${id}/tcp/${b.ip}:${b.port}`);
      chains.push(`:${sep} - [0:0]`);
      const left = s.backends.length - i;
      const pick = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(11)}` : '';
      rules.push(`-A ${svc} -m comment --comment "${id} -> ${b.ip}:${b.port}"${pick} -j ${sep}`);
      rules.push(`-A ${sep} -s ${b.ip}/32 -m comment --comment "${id}" -j KUBE-MARK-MASQ`);
      rules.push(`-A ${sep} -p tcp -m comment --comment "${id}" -m tcp -j DNAT --to-destination ${b.ip}:${b.port}`);
    });
  }
  svcRules.push('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  return ['*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ...chains, ...rules, ...svcRules, 'COMMIT', ''].join('\n');
}
