/**
 * `node --import tsx test/support/ferry-quick-cli.ts VERB ARG…`: runs one wg-quick verb of
 * ferry (up, down, save, strip) as the ferry CLI will, for tests until ferry.ts wires them.
 */
import { runQuickVerb, type QuickVerb } from '../../src/cli/quick/index.js';

const [verb, ...args] = process.argv.slice(2);
if (!['up', 'down', 'save', 'strip'].includes(verb ?? '')) {
  process.stderr.write('usage: ferry-quick-cli.ts up|down|save|strip CONFIG_FILE|INTERFACE\n');
  process.exit(1);
}
const code = await runQuickVerb(verb as QuickVerb, args, { stdout: process.stdout, stderr: process.stderr });
process.exitCode = code;
