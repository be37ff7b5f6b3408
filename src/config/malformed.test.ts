import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, FerryError } from '../errors.js';
import { ConfigError } from './issues.js';
import { parseConfig } from './parse.js';
import { PEER_A, PEER_B, PRIV, PSK } from '../../test/support/test-keys.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-config-bad-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'garbage.key'), 'not a key at all\n', { mode: 0o600 });
writeFileSync(join(dir, 'trailing.key'), `${PRIV} extra\n`, { mode: 0o600 });
writeFileSync(join(dir, 'empty.key'), '', { mode: 0o600 });
writeFileSync(join(dir, 'good.key'), `${PRIV}\n`, { mode: 0o600 });
mkdirSync(join(dir, 'adir'));

const IFACE = `[Interface]\nPrivateKey = ${PRIV}\n`;
const PEER = `[Peer]\nPublicKey = ${PEER_A}\n`;

function errorsOf(text: string): ConfigError {
  try {
    parseConfig(text, { file: 'wg0.conf', dir });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('the config was accepted');
}

/** [name, config text, line of the error, fragment of its message] — each config has exactly one error. */
const CASES: [string, string, number, string][] = [
  ['unknown key in [Interface]', `${IFACE}Foo = 1\n`, 3, 'unknown key "Foo" in [Interface]: expected one of PrivateKey'],
  ['unknown key in [Peer]', `${PEER}Keepalive = 25\n`, 3, 'unknown key "Keepalive" in [Peer]'],
  ['PrivateKey of the wrong length', `[Interface]\nPrivateKey = ${PRIV.slice(1)}\n`, 2, 'PrivateKey is not a valid key: expected 44 base64 characters (32 bytes, as wg genkey prints), got 43 characters'],
  ['PrivateKey with bad base64 padding bits', `[Interface]\nPrivateKey = ${PRIV.slice(0, 42)}B=\n`, 2, 'which is not valid base64'],
  ['PublicKey with a bad character', `[Peer]\nPublicKey = ${PEER_A.slice(0, 10)}*${PEER_A.slice(11)}\n`, 2, 'PublicKey is not a valid key'],
  ['PresharedKey too short', `${PEER}PresharedKey = abc=\n`, 3, 'PresharedKey is not a valid key'],
  ['PublicKey in [Interface]', `${IFACE}PublicKey = ${PEER_A}\n`, 3, 'PublicKey belongs in [Peer], not [Interface]'],
  ['ListenPort in [Peer]', `${PEER}ListenPort = 51820\n`, 3, 'ListenPort belongs in [Interface], not [Peer]'],
  ['Address in [Peer]', `${PEER}Address = 10.0.0.1/24\n`, 3, 'Address belongs in [Interface], not [Peer]'],
  ['ListenPort twice', `${IFACE}ListenPort = 1\nlistenport = 2\n`, 4, 'ListenPort is given twice (first at line 3): expected it once per [Interface]'],
  ['ListenPort twice across two [Interface] sections', `${IFACE}ListenPort = 1\n[Interface]\nListenPort = 2\n`, 5, 'ListenPort is given twice (first at line 3)'],
  ['PublicKey twice in one peer', `${PEER}PublicKey = ${PEER_B}\n`, 3, 'PublicKey is given twice (first at line 2): expected it once per [Peer]'],
  ['Endpoint twice', `${PEER}Endpoint = 1.2.3.4:5\nEndpoint = 1.2.3.4:6\n`, 4, 'Endpoint is given twice'],
  ['[Peer] without PublicKey', `${IFACE}\n[Peer]\nAllowedIPs = 10.0.0.0/8\n`, 4, '[Peer] has no PublicKey: expected PublicKey = <base64 key>'],
  ['ListenPort out of range', `${IFACE}ListenPort = 70000\n`, 3, 'ListenPort "70000" is out of range: expected a port 0-65535'],
  ['ListenPort not a number', `${IFACE}ListenPort = domain\n`, 3, 'ListenPort "domain" is not a number: expected a port 0-65535'],
  ['ListenPort empty', `${IFACE}ListenPort =\n`, 3, 'ListenPort has no value: expected a port 0-65535'],
  ['PublicKey empty', '[Peer]\nPublicKey = \n', 2, 'PublicKey has no value: expected a base64 key'],
  ['AllowedIPs prefix too long', `${PEER}AllowedIPs = 10.0.0.0/33\n`, 3, 'AllowedIPs entry "10.0.0.0/33" has a bad prefix length: expected 0-32 for IPv4'],
  ['AllowedIPs IPv6 prefix too long', `${PEER}AllowedIPs = fd00::/129\n`, 3, 'expected 0-128 for IPv6'],
  ['AllowedIPs not an address', `${PEER}AllowedIPs = 10.0.0.0/8, example.com/24\n`, 3, '"example.com" is not an IP address: expected ADDRESS[/PREFIX]'],
  ['AllowedIPs trailing comma', `${PEER}AllowedIPs = 10.0.0.0/8,\n`, 3, 'AllowedIPs has an empty entry'],
  ['AllowedIPs with a "-" (the installed wg rejects it)', `${PEER}AllowedIPs = -10.0.0.0/8\n`, 3, '"-10.0.0.0" is not an IP address'],
  ['AllowedIPs with a zone', `${PEER}AllowedIPs = fe80::1%eth0/64\n`, 3, 'is not an IP address'],
  ['AllowedIPs empty prefix length', `${PEER}AllowedIPs = 10.0.0.0/\n`, 3, 'has a bad prefix length'],
  ['Address with a bad prefix', `${IFACE}Address = 10.0.0.1/24, 10.0.0.300/24\n`, 3, 'Address entry "10.0.0.300/24": "10.0.0.300" is not an IP address'],
  ['DNS bad address', `${IFACE}DNS = 1.1.1.1, 1.2.3.999\n`, 3, 'DNS entry "1.2.3.999" is not a valid IP address'],
  ['DNS bad search domain', `${IFACE}DNS = exa$mple.com\n`, 3, 'DNS entry "exa$mple.com" is neither an IP address nor a search domain'],
  ['Endpoint without port', `${PEER}Endpoint = 192.0.2.1\n`, 3, 'Endpoint "192.0.2.1" has no port: expected HOST:PORT or [IPv6]:PORT'],
  ['Endpoint with port 0', `${PEER}Endpoint = 192.0.2.1:0\n`, 3, 'has a bad port "0": expected a port 1-65535'],
  ['Endpoint port too large', `${PEER}Endpoint = [fd00::1]:65536\n`, 3, 'has a bad port "65536"'],
  ['Endpoint without closing bracket', `${PEER}Endpoint = [fd00::1:51820\n`, 3, 'has no closing bracket'],
  ['Endpoint bracket without port', `${PEER}Endpoint = [fd00::1]\n`, 3, 'Endpoint "[fd00::1]" has no port'],
  ['Endpoint bad IPv4', `${PEER}Endpoint = 1.2.3.256:51820\n`, 3, '"1.2.3.256" is not a valid IPv4 address'],
  ['Endpoint bad IPv6', `${PEER}Endpoint = [fd00:::1]:51820\n`, 3, '"fd00:::1" is not a valid IPv6 address'],
  ['Endpoint bad hostname', `${PEER}Endpoint = bad!host:51820\n`, 3, '"bad!host" is neither an IP address nor a hostname'],
  ['Endpoint scope on IPv4', `${PEER}Endpoint = 10.0.0.1%eth0:51820\n`, 3, "a scope ('%') is only allowed on an IPv6 address"],
  ['PersistentKeepalive not a number', `${PEER}PersistentKeepalive = fast\n`, 3, 'PersistentKeepalive "fast" is invalid: expected off or seconds 0-65535'],
  ['PersistentKeepalive too large', `${PEER}PersistentKeepalive = 65536\n`, 3, 'PersistentKeepalive "65536" is invalid'],
  ['MTU not a number', `${IFACE}MTU = big\n`, 3, 'MTU "big" is invalid: expected a number 68-65535'],
  ['MTU too small', `${IFACE}MTU = 67\n`, 3, 'MTU "67" is invalid'],
  ['MTU with inner space (wg-quick keeps it)', `${IFACE}MTU = 14 20\n`, 3, 'MTU "14 20" is invalid'],
  ['Table with a space', `${IFACE}Table = my table\n`, 3, 'Table "my table" is invalid: expected off, auto, a table number'],
  ['Table number too large', `${IFACE}Table = 4294967296\n`, 3, 'Table "4294967296" is invalid'],
  ['FwMark bare 0x', `${IFACE}FwMark = 0x\n`, 3, 'FwMark "0x" is invalid: expected off, 0-4294967295 or 0x0-0xffffffff'],
  ['FwMark upper-case 0X (wg reads it as decimal)', `${IFACE}FwMark = 0X10\n`, 3, 'FwMark "0X10" is invalid'],
  ['FwMark too large', `${IFACE}FwMark = 0x100000000\n`, 3, 'FwMark "0x100000000" is invalid'],
  ['FwMark negative', `${IFACE}FwMark = -1\n`, 3, 'FwMark "-1" is invalid'],
  ['SaveConfig not boolean', `${IFACE}SaveConfig = yes\n`, 3, 'SaveConfig "yes" is not a boolean: expected true or false'],
  ['SaveConfig empty', `${IFACE}SaveConfig =\n`, 3, 'SaveConfig has no value: expected true or false'],
  ['unknown section', `${IFACE}[Peers]\nPublicKey = ${PEER_A}\n`, 3, 'unknown section [Peers]: expected [Interface], [Peer] or a [Ferry…] section'],
  ['malformed section header', `${IFACE}[Peer\nPublicKey = ${PEER_A}\n`, 3, 'malformed section header'],
  ['key outside any section', `ListenPort = 51820\n${IFACE}`, 1, 'ListenPort is outside any section: expected it under [Interface]'],
  ['peer key outside any section', `# hello\nPublicKey = ${PEER_A}\n${IFACE}`, 2, 'PublicKey is outside any section: expected it under [Peer]'],
  ['unknown key outside any section', `Hello = 1\n${IFACE}`, 1, 'unknown key "Hello" is outside any section: expected an [Interface] or [Peer] header first'],
  ['line without "="', `${IFACE}ListenPort 51820\n`, 3, 'line is not "Key = Value" nor a [Section] header'],
  ['PrivateKeyFile missing', '[Interface]\nPrivateKeyFile = missing.key\n', 2, `PrivateKeyFile "${join(dir, 'missing.key')}" does not exist`],
  ['PrivateKeyFile with garbage', '[Interface]\nPrivateKeyFile = garbage.key\n', 2, 'does not hold a valid key: expected 44 base64 characters (32 bytes) and nothing else'],
  ['PrivateKeyFile with trailing text', '[Interface]\nPrivateKeyFile = trailing.key\n', 2, 'does not hold a valid key'],
  ['PrivateKeyFile empty', '[Interface]\nPrivateKeyFile = empty.key\n', 2, 'is empty: expected one base64 key'],
  ['PrivateKeyFile is a directory', '[Interface]\nPrivateKeyFile = adir\n', 2, 'is a directory'],
  ['PrivateKeyFile with no value', '[Interface]\nPrivateKeyFile =\n', 2, 'PrivateKeyFile has no value: expected a path'],
  ['PrivateKey and PrivateKeyFile', `${IFACE}PrivateKeyFile = good.key\n`, 3, 'PrivateKeyFile conflicts with PrivateKey at line 2: expected only one of them'],
  ['PrivateKeyFile then PrivateKey', `[Interface]\nPrivateKeyFile = good.key\nPrivateKey = ${PRIV}\n`, 3, 'PrivateKey conflicts with PrivateKeyFile at line 2'],
  ['PresharedKey and PresharedKeyFile', `${PEER}PresharedKey = ${PSK}\nPresharedKeyFile = good.key\n`, 4, 'PresharedKeyFile conflicts with PresharedKey at line 3'],
  ['PresharedKeyFile missing', `${PEER}PresharedKeyFile = /nonexistent/ferry.psk\n`, 3, 'PresharedKeyFile "/nonexistent/ferry.psk" does not exist'],
  ['the same peer twice', `${IFACE}\n${PEER}AllowedIPs = 10.0.0.1/32\n\n[peer]\npublickey = ${PEER_A}\n`, 9, 'PublicKey repeats the [Peer] at line 4: expected each peer once'],
];

test(`malformed configs are rejected with file:line and a clear message (${CASES.length} cases)`, async (t) => {
  assert.ok(CASES.length >= 30);
  for (const [name, text, line, fragment] of CASES) {
    await t.test(name, () => {
      const err = errorsOf(text);
      assert.equal(err.errors.length, 1, `exactly one error, got:\n${err.message}`);
      const [issue] = err.errors;
      assert.equal(issue.file, 'wg0.conf');
      assert.equal(issue.line, line, err.message);
      assert.ok(issue.message.includes(fragment), `"${issue.message}" should contain "${fragment}"`);
      assert.equal(err.message, `wg0.conf:${line}: ${issue.message}`);
      for (const secret of [PRIV, PSK, PRIV.slice(1), PRIV.slice(0, 42)]) assert.ok(!err.message.includes(secret), 'no key material in messages');
    });
  }
});

test('every error of a file is reported, in line order, as one FerryError(FERRY_CONFIG)', () => {
  const text = [
    '[Interface]', // 1
    `PrivateKey = ${PRIV.slice(2)}`, // 2 bad key
    'ListenPort = 99999', // 3 out of range
    'MTU = tiny', // 4
    'Bogus = 1', // 5
    '', // 6
    '[Peer]', // 7 no PublicKey
    'AllowedIPs = 10.0.0.0/40', // 8
    'Endpoint = nowhere', // 9
    '', // 10
    '[Peer]', // 11
    `PublicKey = ${PEER_A}`, // 12
    'PersistentKeepalive = -1', // 13
    '[Nope]', // 14
    'Whatever = 1', // 15: inside the unknown section, not reported again
  ].join('\n');
  const err = errorsOf(text);
  assert.ok(err instanceof FerryError);
  assert.equal(err.code, ErrorCode.Config);
  assert.deepEqual(
    err.errors.map((e) => e.line),
    [2, 3, 4, 5, 7, 8, 9, 13, 14],
  );
  const lines = err.message.split('\n');
  assert.equal(lines.length, 9);
  assert.match(lines[0], /^wg0\.conf:2: PrivateKey is not a valid key/);
  assert.match(lines[1], /^wg0\.conf:3: ListenPort "99999" is out of range/);
  assert.match(lines[4], /^wg0\.conf:7: \[Peer\] has no PublicKey/);
  assert.match(lines[8], /^wg0\.conf:14: unknown section \[Nope\]/);
});

test('a mistyped key name never echoes its value, which may be a private key', () => {
  const err = errorsOf(`[Interface]\nPrivteKey = ${PRIV}\n`);
  assert.match(err.message, /^wg0\.conf:2: unknown key "PrivteKey" in \[Interface\]/);
  assert.ok(!err.message.includes(PRIV));
  // A pasted key ends in '=', so it parses as a key named by its first 43 characters.
  const err2 = errorsOf(`[Interface]\n${PRIV}\n[Peer]\nPublicKey = ${PEER_A}\n${PSK.replace(/=$/, '')}\n`);
  assert.deepEqual(
    err2.errors.map((e) => e.message),
    ['an unknown key (not shown: it may be key material) in [Interface]: expected one of PrivateKey, ListenPort, FwMark, PrivateKeyFile, Address, DNS, MTU, Table, PreUp, PostUp, PreDown, PostDown, SaveConfig, FerryOffload', 'line is not "Key = Value" nor a [Section] header'],
  );
  for (const secret of [PRIV, PRIV.slice(0, 43), PSK.slice(0, 43)]) assert.ok(!err2.message.includes(secret));
});

test('the default file name in messages is <config>', () => {
  assert.throws(() => parseConfig('[Interface]\nMTU = 1\n'), (e: ConfigError) => e.message === '<config>:2: MTU "1" is invalid: expected a number 68-65535');
});
