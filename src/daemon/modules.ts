/**
 * Every plane module of this build (plane-module.ts). Importing a feature's daemon module
 * registers it; the interface daemon imports this file once.
 */
import './lb-module.js';
import './vxlan-module.js';
