// Bundles the CLI (fast start-up) and the library entry with esbuild. Type checking is `npm run typecheck`.
import { build } from 'esbuild';
import { rmSync, chmodSync } from 'node:fs';

rmSync(new URL('../dist/chunks', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { cli: 'src/bin.ts', index: 'src/index.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: false,
  legalComments: 'none',
  external: ['pg-native'],
  banner: {
    js: "import { createRequire as __vsCreateRequire } from 'node:module'; const require = __vsCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
chmodSync('dist/cli.js', 0o755);
