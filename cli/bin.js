#!/usr/bin/env node
// Plain JavaScript on purpose: it must run on an old Node to tell the user what to do.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `faultline needs Node.js 24 or newer; this is Node ${process.version}.\n` +
      'The project installs Node 24 for itself: run `npm install`, then use\n' +
      '  npm run faultline -- <command> [options]   or   npx faultline <command> [options]\n' +
      'which run on that Node whatever the machine has.',
  );
  process.exit(2);
}
await import('./main.ts');
