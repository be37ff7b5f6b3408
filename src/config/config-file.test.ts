import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interfaceNameFromPath, isInterfaceName, loadConfig, resolveConfigPath } from './config-file.js';
import { ConfigError } from './issues.js';
import { PEER_A, PRIV } from '../../test/support/test-keys.js';

test('a name is looked up in /etc/ferry, then /etc/wireguard; a path is used as is', () => {
  const seen: string[] = [];
  const exists = (present: string[]) => (p: string) => (seen.push(p), present.includes(p));
  assert.equal(resolveConfigPath('wg0', { exists: exists(['/etc/ferry/wg0.conf', '/etc/wireguard/wg0.conf']) }), '/etc/ferry/wg0.conf');
  assert.equal(resolveConfigPath('wg0', { exists: exists(['/etc/wireguard/wg0.conf']) }), '/etc/wireguard/wg0.conf');
  assert.equal(resolveConfigPath('wg0', { exists: exists([]) }), '/etc/wireguard/wg0.conf', 'the error will name the last place');
  assert.equal(resolveConfigPath('a=b+c.d_e-f', { dirs: ['/x'], exists: () => true }), '/x/a=b+c.d_e-f.conf');
  seen.length = 0;
  assert.equal(resolveConfigPath('./wg0', { exists: exists([]) }), './wg0');
  assert.equal(resolveConfigPath('wg0.conf', { exists: exists([]) }), 'wg0.conf');
  assert.equal(resolveConfigPath('/srv/vpn/office.conf'), '/srv/vpn/office.conf');
  assert.deepEqual(seen, [], 'paths are not looked up');
  assert.throws(() => resolveConfigPath('much-too-long-name0'), (e: ConfigError) => e.message === 'much-too-long-name0: is neither an interface name (expected 1-15 characters of A-Z a-z 0-9 _ = + . -) nor a path to a .conf file');
  assert.throws(() => resolveConfigPath('bad name'), ConfigError);
});

test("interface names follow wg-quick's rule", () => {
  assert.equal(interfaceNameFromPath('/etc/wireguard/wg0.conf'), 'wg0');
  assert.equal(interfaceNameFromPath('office-vpn.1.conf'), 'office-vpn.1');
  assert.equal(interfaceNameFromPath('/a/b/123456789012345.conf'), '123456789012345');
  for (const bad of ['/a/1234567890123456.conf', '/a/.conf', '/a/wg 0.conf', '/a/wg0', '/a/wg0.conf.bak', '/a/wg@0.conf']) {
    assert.throws(() => interfaceNameFromPath(bad), (e: ConfigError) => e.errors[0].file === bad && /must be a valid interface name followed by \.conf/.test(e.message), bad);
  }
  assert.ok(isInterfaceName('wg0') && !isInterfaceName('') && !isInterfaceName('a/b'));
});

test('loadConfig reads, names and parses; a missing file is a ConfigError; open files draw a warning', () => {
  const root = mkdtempSync(join(tmpdir(), 'ferry-load-'));
  try {
    const ferry = join(root, 'ferry');
    const wireguard = join(root, 'wireguard');
    mkdirSync(ferry, { mode: 0o700 });
    mkdirSync(wireguard, { mode: 0o755 });
    writeFileSync(join(wireguard, 'wg7.conf'), `[Interface]\nPrivateKeyFile = wg7.key\n[Peer]\nPublicKey = ${PEER_A}\n`, { mode: 0o600 });
    writeFileSync(join(wireguard, 'wg7.key'), `${PRIV}\n`, { mode: 0o600 });
    const dirs = [ferry, wireguard];
    const loaded = loadConfig('wg7', { dirs });
    assert.equal(loaded.path, join(wireguard, 'wg7.conf'));
    assert.equal(loaded.interfaceName, 'wg7');
    assert.equal(loaded.config.source.file, loaded.path);
    assert.equal(loaded.config.peers.length, 1);
    assert.deepEqual(loaded.config.warnings, []);

    // /etc/ferry wins; its file and directory are open to all: warned like wg-quick does.
    writeFileSync(join(ferry, 'wg7.conf'), `[Interface]\nListenPort = 7\n`);
    chmodSync(join(ferry, 'wg7.conf'), 0o644);
    chmodSync(ferry, 0o755);
    const mine = loadConfig('wg7', { dirs });
    assert.equal(mine.config.interface.listenPort, 7);
    assert.deepEqual(mine.config.warnings, [{ file: join(ferry, 'wg7.conf'), line: 0, message: 'is world accessible: expected mode 0600 (it may hold a private key)' }]);

    assert.throws(() => loadConfig('wg8', { dirs }), (e: ConfigError) => e.message === `${join(wireguard, 'wg8.conf')}: does not exist`);
    assert.throws(() => loadConfig(join(root, 'ferry')), (e: ConfigError) => /must be a valid interface name followed by \.conf/.test(e.message));
    mkdirSync(join(root, 'd.conf'));
    assert.throws(() => loadConfig(join(root, 'd.conf')), (e: ConfigError) => e.message === `${join(root, 'd.conf')}: is a directory`);
    // Parse errors carry the full path.
    writeFileSync(join(root, 'bad0.conf'), '[Interface]\nMTU = 1\n', { mode: 0o600 });
    assert.throws(() => loadConfig(join(root, 'bad0.conf')), (e: ConfigError) => e.message === `${join(root, 'bad0.conf')}:2: MTU "1" is invalid: expected a number 68-65535`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
