/* global console, process, URL */
// Runs before `npm ci`, `npm test` and `npm start` (package.json's pre-scripts) on whatever Node the developer has,
// so it keeps to syntax and APIs every Node since 14 understands: an older Node gets one line saying what to do
// instead of a stack trace from a dependency that needs a newer one.
import { readFileSync } from 'node:fs';

const { engines } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const floor = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(engines.node);
if (!floor) {
  console.error(`tools/require-node.mjs reads only a ">=major[.minor[.patch]]" engines.node, not "${engines.node}"`);
  process.exit(1);
}
const wanted = floor.slice(1).map((part) => Number(part ?? 0));
const running = process.versions.node.split('.').map(Number);
// The first part that differs decides, as in semver.
const difference = wanted.map((part, index) => running[index] - part).find((delta) => delta !== 0);
if (difference !== undefined && difference < 0) {
  const version = wanted.join('.').replace(/(\.0)+$/, '');
  console.error(`This project needs Node.js ${version} or later, and this is Node.js ${process.versions.node}: run \`nvm install\` (it reads .nvmrc) or install Node.js ${wanted[0]}, then run the command again.`);
  process.exit(1);
}
