/**
 * Every [Ferry…] section this build understands: importing a section module registers
 * its schema (extensions.ts). One import per feature, so the parser knows them all.
 */
import './ferry-section.js';
import './lb-sections.js';
import './vxlan-sections.js';
