/**
 * Two [Ferry…] section schemas for tests of the generic machinery (kept raw, saved,
 * stripped, round-tripped), so those tests do not depend on any real feature's keys.
 * Importing this module registers them.
 */
import { registerExtension } from '../../src/config/extensions.js';

const keys = ['Name', 'Value', 'Item'];
registerExtension({ name: 'FerryExample', keys, repeatable: keys, multiple: true });
registerExtension({ name: 'FerryExampleList', keys, repeatable: keys, multiple: true });
