/**
 * `ferry syncconf IFNAME FILE` with [Ferry…] sections (as `ferry strip` prints them): wg's
 * reader gets the file without those sections (wg knows none), and once it has read the
 * rest without a complaint, the whole text goes to the ferry daemon of IFNAME
 * (control op `planes-sync`), which parses it with file:line errors and applies the
 * sections to its planes, checking everything before it changes anything. Only then does
 * syncconf send the WireGuard part over UAPI: a bad file changes neither.
 *
 * When no ferry daemon answers for IFNAME (a kernel or wireguard-go interface), the file
 * is read whole, as wg would: its [Ferry…] lines are wg's "Line unrecognized".
 */
import { existsSync } from 'node:fs';
import { controlRequest } from '../control/control-client.js';
import { controlSocketPath } from '../control/control-server.js';
import type { ConfigReader } from './wg/conf.js';

const SECTION = /^\[([^\]]*)\]$/;

/** The text with the lines of every [Ferry…] section blanked (line numbers kept), or null when it has none. */
export function withoutFerrySections(text: string): string | null {
  let inFerry = false;
  let found = false;
  const lines = text.split('\n').map((raw) => {
    // wg's view of a line: no comment, no whitespace at all.
    const line = raw.split('#')[0].replace(/[ \t\n\v\f\r]/g, '');
    const section = SECTION.exec(line);
    if (section !== null) inFerry = section[1].toLowerCase().startsWith('ferry');
    if (!inFerry) return raw;
    found = true;
    return '';
  });
  return found ? lines.join('\n') : null;
}

interface PlanesSyncAnswer {
  ok: boolean;
  errors: string[];
}

/** Wraps syncconf's reader so that a file's [Ferry…] sections reach the daemon of `ifname`. */
export function withFerrySections(reader: ConfigReader, ifname: string | undefined, controlPath = (name: string) => controlSocketPath(name)): ConfigReader {
  return async (io, text, file, append) => {
    const wgText = withoutFerrySections(text);
    if (wgText === null || ifname === undefined || !existsSync(controlPath(ifname))) return reader(io, text, file, append);
    const device = await reader(io, wgText, file, append);
    if (device === null) return null;
    let answer: PlanesSyncAnswer;
    try {
      answer = (await controlRequest(controlPath(ifname), 'planes-sync', { text, file }, undefined, 60_000)) as PlanesSyncAnswer;
    } catch (err) {
      io.err(`Unable to sync the [Ferry…] sections of ${ifname}: ${(err as Error).message}\n`);
      return null;
    }
    if (!answer.ok) {
      for (const line of answer.errors) io.err(`${line}\n`);
      io.err(`Unable to sync the [Ferry…] sections of ${ifname}: nothing was changed\n`);
      return null;
    }
    return device;
  };
}
