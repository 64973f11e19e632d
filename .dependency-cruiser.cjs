/**
 * Import rules checked by `npm test` (test/repo/import-cycles.test.ts): no file imports itself
 * through others — type-only imports included — in src/ and web/src/.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle between files: see docs/ARCHITECTURE.md for which way imports run.',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
