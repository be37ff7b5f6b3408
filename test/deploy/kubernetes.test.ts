/**
 * The deployment examples, checked without a cluster (kubectl cannot run here): every
 * manifest in deploy/kubernetes parses as YAML, the fields the examples use are the ones
 * Kubernetes knows (a small schema of allowed keys and types, so a typo like `startupprobe`
 * fails), and the pieces fit together: ferry is a native sidecar with NET_ADMIN and
 * /dev/net/tun, its config file is a mounted ConfigMap that ferry's parser accepts, its key
 * a mounted Secret named by PrivateKeyFile and never an environment variable, its startup
 * probe asks /readyz on the port FERRY_HTTP opens. The Dockerfile is checked for its shape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config/parse.js';
import { parseHttpAddress } from '../../src/config/ferry-section.js';
import { REPO } from '../support/wg.js';
import { check, list, obj, oneOf, type Shape } from '../support/shape.js';

const DIR = join(REPO, 'deploy/kubernetes');

// --- the part of the Kubernetes API the examples use ---------------------------------
const str: Shape = 'string';
const int: Shape = 'number';
const bool: Shape = 'boolean';
const strings: Shape = list(str);
const map = (value: Shape): Shape => obj({ '*': value });
const meta = obj({ name: str, namespace: str, labels: map(str), annotations: map(str) });
const httpGet = obj({ path: str, port: oneOf('string', 'number'), scheme: str });
const probe = obj({ httpGet, periodSeconds: int, failureThreshold: int, initialDelaySeconds: int, timeoutSeconds: int, successThreshold: int });
const container = obj({
  name: str,
  image: str,
  command: strings,
  args: strings,
  restartPolicy: str,
  env: list(obj({ name: str, value: str, valueFrom: map('object') })),
  ports: list(obj({ name: str, containerPort: int, protocol: str })),
  startupProbe: probe,
  readinessProbe: probe,
  livenessProbe: probe,
  securityContext: obj({
    runAsUser: int,
    runAsGroup: int,
    runAsNonRoot: bool,
    allowPrivilegeEscalation: bool,
    readOnlyRootFilesystem: bool,
    privileged: bool,
    capabilities: obj({ add: strings, drop: strings }),
    seccompProfile: obj({ type: str }),
  }),
  resources: obj({ requests: map(str), limits: map(str) }),
  volumeMounts: list(obj({ name: str, mountPath: str, readOnly: bool, subPath: str })),
});
const items = list(obj({ key: str, path: str, mode: int }));
const volume = obj({
  name: str,
  configMap: obj({ name: str, defaultMode: int, items }),
  secret: obj({ secretName: str, defaultMode: int, items }),
  hostPath: obj({ path: str, type: str }),
  emptyDir: obj({ medium: str, sizeLimit: str }),
});
const SHAPES: Record<string, Shape> = {
  Pod: obj({
    apiVersion: str,
    kind: str,
    metadata: meta,
    spec: obj({ terminationGracePeriodSeconds: int, initContainers: list(container), containers: list(container), volumes: list(volume), securityContext: map('object') }),
  }),
  ConfigMap: obj({ apiVersion: str, kind: str, metadata: meta, data: map(str) }),
  Secret: obj({ apiVersion: str, kind: str, metadata: meta, type: str, stringData: map(str), data: map(str) }),
  Kustomization: obj({ apiVersion: str, kind: str, resources: strings }),
};

interface Manifest {
  file: string;
  doc: Record<string, unknown> & { kind: string; metadata?: { name: string } };
}

function manifests(): Manifest[] {
  const out: Manifest[] = [];
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort()) {
    // YAML 1.1, as Kubernetes reads manifests (0400 is octal there, yes/no are booleans).
    for (const d of parseAllDocuments(readFileSync(join(DIR, file), 'utf8'), { version: '1.1' })) {
      assert.deepEqual(d.errors, [], `${file} parses`);
      assert.deepEqual(d.warnings, [], `${file} parses without warnings`);
      const doc = d.toJS() as Manifest['doc'] | null;
      if (doc !== null) out.push({ file, doc });
    }
  }
  return out;
}

type Container = { name: string; image: string; restartPolicy?: string; env?: { name: string; value?: string }[]; ports?: { name?: string; containerPort: number }[]; startupProbe?: { httpGet?: { path: string; port: string | number } }; securityContext?: { capabilities?: { add?: string[]; drop?: string[] }; readOnlyRootFilesystem?: boolean }; volumeMounts?: { name: string; mountPath: string }[] };
type Volume = { name: string; configMap?: { name: string; defaultMode?: number }; secret?: { secretName: string; defaultMode?: number }; hostPath?: { path: string; type?: string }; emptyDir?: object };

test('deploy/kubernetes: every manifest parses and uses only known fields of its kind', () => {
  const all = manifests();
  assert.ok(all.length >= 4);
  for (const { file, doc } of all) {
    const shape = SHAPES[doc.kind];
    assert.ok(shape, `${file}: kind ${doc.kind} is one the examples are checked for`);
    assert.deepEqual(check(doc, shape), [], `${file}: fields and types`);
    if (doc.kind !== 'Kustomization') assert.match(doc.metadata?.name ?? '', /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${file}: a DNS-1123 name`);
  }
  const kustomization = all.find((m) => m.doc.kind === 'Kustomization')?.doc as { resources: string[] } | undefined;
  assert.deepEqual(kustomization?.resources.slice().sort(), readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort(), 'the kustomization lists every manifest');
});

test('deploy/kubernetes: ferry is a native sidecar with NET_ADMIN, /dev/net/tun, its config and key mounted, a startup probe on /readyz', (t) => {
  const all = manifests();
  const pod = all.find((m) => m.doc.kind === 'Pod')?.doc as unknown as { spec: { initContainers: Container[]; containers: Container[]; volumes: Volume[] } };
  assert.ok(pod, 'a Pod');
  const ferry = pod.spec.initContainers.find((c) => c.name === 'ferry');
  assert.ok(ferry, 'ferry is an init container');
  assert.equal(ferry.restartPolicy, 'Always', 'a native sidecar: an init container that keeps running');
  assert.ok(pod.spec.containers.length >= 1, 'and an application beside it');

  const env = new Map((ferry.env ?? []).map((e) => [e.name, e.value ?? '']));
  for (const [name, value] of env) {
    assert.doesNotMatch(name, /KEY|SECRET/i, `no key in the environment (${name})`);
    assert.doesNotMatch(value, /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/, `no key in the environment (${name})`);
  }
  const caps = ferry.securityContext?.capabilities;
  assert.ok(caps?.add?.includes('NET_ADMIN'));
  assert.ok(caps?.drop?.includes('ALL'), 'nothing else');

  const volumes = new Map(pod.spec.volumes.map((v) => [v.name, v]));
  const mounts = ferry.volumeMounts ?? [];
  const mountAt = (path: string) => mounts.find((m) => m.mountPath === path);
  for (const m of mounts) assert.ok(volumes.has(m.name), `volume ${m.name} exists`);
  const tun = mountAt('/dev/net/tun');
  if (tun) assert.deepEqual(volumes.get(tun.name)?.hostPath, { path: '/dev/net/tun', type: 'CharDevice' });
  else assert.ok(caps?.add?.includes('MKNOD'), 'without the device mounted, ferry must be able to make it');
  if (ferry.securityContext?.readOnlyRootFilesystem) assert.ok(volumes.get(mountAt('/run')?.name ?? '')?.emptyDir, 'a writable /run for the sockets');

  // FERRY_CONFIG: a file in a mounted ConfigMap that ferry accepts.
  const configPath = env.get('FERRY_CONFIG') ?? '';
  assert.ok(configPath.endsWith('.conf'), 'FERRY_CONFIG names the config file');
  const configVolume = volumes.get(mountAt(posix.dirname(configPath))?.name ?? '');
  const configMap = all.find((m) => m.doc.kind === 'ConfigMap' && m.doc.metadata?.name === configVolume?.configMap?.name)?.doc as { data: Record<string, string> } | undefined;
  assert.ok(configMap, 'the directory of FERRY_CONFIG is a ConfigMap of these examples');
  const text = configMap.data[posix.basename(configPath)];
  assert.ok(text, `the ConfigMap holds ${posix.basename(configPath)}`);

  // PrivateKeyFile: a key of a mounted Secret of these examples.
  const keyPath = /^PrivateKeyFile = (.+)$/m.exec(text)?.[1] ?? '';
  assert.doesNotMatch(text, /^PrivateKey\s*=/m, 'no key in the ConfigMap');
  const keyVolume = volumes.get(mountAt(posix.dirname(keyPath))?.name ?? '');
  const secret = all.find((m) => m.doc.kind === 'Secret' && m.doc.metadata?.name === keyVolume?.secret?.secretName)?.doc as { stringData?: Record<string, string>; data?: Record<string, string> } | undefined;
  assert.ok(secret, 'PrivateKeyFile points into a mounted Secret of these examples');
  assert.ok(posix.basename(keyPath) in { ...secret.stringData, ...secret.data }, 'and names one of its keys');
  for (const v of [configVolume, keyVolume]) assert.equal((v?.configMap?.defaultMode ?? v?.secret?.defaultMode ?? 0o644) & 0o077, 0, `${v?.name} is readable by its owner only`);

  // The file as ferry reads it, with a real key where the Secret will be.
  const dir = mkdtempSync(join(tmpdir(), 'ferry-k8s-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'key'), 'YAhf1TEXEVPZXR2S2LOjoB1LG2YEAkp12bbIyapyynU=\n', { mode: 0o600 });
  const config = parseConfig(text.replace(keyPath, join(dir, 'key')), { file: configPath });
  assert.equal(config.peers.length >= 1, true);
  assert.ok(config.peers.every((p) => (p.persistentKeepalive ?? 0) > 0), 'a keepalive, so a handshake comes without traffic and the startup probe passes');

  // The probe asks /readyz on the port FERRY_HTTP opens, on an address the kubelet reaches.
  const http = parseHttpAddress(env.get('FERRY_HTTP') ?? '');
  assert.ok(!('error' in http), 'FERRY_HTTP is ADDRESS:PORT');
  assert.ok(['0.0.0.0', '::'].includes(http.host), 'the kubelet probes the pod address, not loopback');
  const port = ferry.ports?.find((p) => p.containerPort === http.port);
  assert.ok(port, 'the port is declared');
  const probePort = ferry.startupProbe?.httpGet?.port;
  assert.ok(probePort === port.name || probePort === port.containerPort);
  assert.equal(ferry.startupProbe?.httpGet?.path, '/readyz');
});

test('Dockerfile: two stages, the runtime on slim Node 20 with ip(8), ferryd the entry point in sidecar mode', () => {
  const text = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
  const from = [...text.matchAll(/^FROM (\S+)(?: AS (\S+))?$/gm)];
  assert.equal(from.length, 2, 'multi-stage');
  assert.match(from[0][1], /^node:20-/);
  assert.equal(from[1][1], 'node:20-bookworm-slim');
  assert.match(text, /^COPY --from=build /m);
  assert.match(text, /apt-get install -y --no-install-recommends iproute2/);
  assert.match(text, /npm install --global --ignore-scripts .*ferry-\*\.tgz/);
  assert.match(text, /^ENV FERRY_SIDECAR=1/m);
  assert.match(text, /^ENTRYPOINT \["ferryd"\]$/m);
  // What the build copies in must exist, and what it leaves out must be only build output.
  const ignored = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n').filter(Boolean);
  for (const needed of ['package.json', 'package-lock.json', 'binding.gyp', 'native', 'src', 'scripts', 'tsconfig.build.json']) {
    assert.ok(existsSync(join(REPO, needed)), needed);
    assert.ok(!ignored.includes(needed), `${needed} is in the build context`);
  }
});
