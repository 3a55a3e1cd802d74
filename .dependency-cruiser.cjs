// The import ladder of src/ (docs/architecture.md): a room imports only rooms below it, never a
// sibling on its own rung, and nothing imports in a circle. Type-only imports count
// (tsPreCompilationDeps), since a contract declared in a high room is what made the old cycles.
// `npm run lint` runs this.
const LADDER = [
  ['cli'],
  ['app.ts'],
  ['admin'],
  ['listener'],
  ['tls'],
  ['server'],
  ['middleware', 'handler', 'cache', 'rewrite', 'access'],
  ['request'],
  ['router'],
  ['upstream'],
  ['transport'],
  ['storage'],
  ['log', 'observe'],
  ['config'],
  ['http', 'version.ts'],
];

const pathOf = (room) => (room.endsWith('.ts') ? `^src/${room.replace('.', '\\.')}$` : `^src/${room}/`);
const forbidden = [
  {
    name: 'no-circular',
    comment: 'An import cycle, even through `import type`, means a contract lives in the wrong room.',
    severity: 'error',
    from: { path: '^src/' },
    to: { circular: true },
  },
  {
    name: 'known-room',
    comment: 'Every file of src/ belongs to a room of the ladder (.dependency-cruiser.cjs LADDER).',
    severity: 'error',
    from: { path: '^src/', pathNot: LADDER.flat().map(pathOf) },
    to: {},
  },
];
LADDER.forEach((rung, level) => {
  const above = LADDER.slice(0, level).flat();
  for (const room of rung) {
    const siblings = rung.filter((r) => r !== room);
    const targets = [...above, ...siblings];
    if (targets.length === 0) continue;
    forbidden.push({
      name: `ladder:${room}`,
      comment: `${room} may import only rooms below its rung: ${LADDER.slice(level + 1).flat().join(', ')}`,
      severity: 'error',
      from: { path: pathOf(room) },
      to: { path: targets.map(pathOf) },
    });
  }
});

module.exports = {
  forbidden,
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
  },
};
