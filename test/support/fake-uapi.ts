/**
 * A fake userspace WireGuard daemon on a UAPI socket: answers `get=1` with a scripted
 * text and records each `set=1` request, answering it with `setAnswer`. An empty `get`
 * or `setAnswer` stands for a daemon that hangs up without answering.
 */
import { createServer, type Server } from 'node:net';

export interface FakeUapiState {
  get: string;
  setAnswer: string;
  /** Every set request, whole ("set=1\n…\n\n"). */
  sets: string[];
}

/** Listens on `path`; resolves once listening. Close the server (and remove the path) when done. */
export async function fakeUapiDaemon(path: string, state: FakeUapiState): Promise<Server> {
  const server = createServer((sock) => {
    let buf = '';
    sock.setEncoding('latin1');
    sock.on('error', () => {});
    sock.on('data', (d: string) => {
      buf += d;
      let end: number;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const op = buf.slice(0, end + 2);
        buf = buf.slice(end + 2);
        const isGet = op === 'get=1\n\n';
        if (!isGet) state.sets.push(op);
        const answer = isGet ? state.get : state.setAnswer;
        if (answer === '') sock.end();
        else sock.write(answer);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return server;
}
