import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * A CLI command loads the core, not the HTTP server: the faces' request code, Express and the
 * metrics are required only when serving (Face.http, AppModule.forRoot with HTTP), which cut a
 * command's CPU by a fifth. This walks the static imports from the CLI's entry, as esbuild's
 * bundle evaluates them at start, and fails if one reaches the serving side.
 */

const SRC = path.resolve(__dirname, '..', '..', 'src');

/** Value imports and re-exports of a TypeScript file: `import type` and `require()` are not followed. */
function imports(text: string): string[] {
  const specs: string[] = [];
  const re = /^(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?'([^']+)'/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) specs.push(m[1]);
  return specs;
}

/** Every source file and package the entry imports, directly or not. */
function reach(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const file = todo.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of imports(fs.readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) {
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
        continue;
      }
      const base = path.resolve(path.dirname(file), spec);
      const target = [`${base}.ts`, path.join(base, 'index.ts')].find((p) => fs.existsSync(p));
      if (!target) throw new Error(`${path.relative(SRC, file)} imports ${spec}, which is not a source file`);
      todo.push(target);
    }
  }
  return { files, packages };
}

const rel = (files: Set<string>) => [...files].map((f) => path.relative(SRC, f));

it('follows value imports and re-exports, not type imports', () => {
  const text = ["import { a } from './a';", "import type { B } from './b';", "export { c } from './c';", "import './d';", "import * as e from 'e';", "const f = require('./f');"].join('\n');
  expect(imports(text)).toEqual(['./a', './c', './d', 'e']);
});

it('a CLI command does not load the HTTP server, the faces\' request code, Express or the metrics', () => {
  const { files, packages } = reach(path.join(SRC, 'cli', 'main.ts'));
  // metrics-access.ts is the parser of KMS_METRICS_ALLOW, which the configuration checks.
  const serving = rel(files).filter((f) => /^(server|http-parts|health\.controller)\.ts$|^metrics\/(?!metrics-access\.ts$)|^api\/[^/]+\/[^/]+\.module\.ts$|^api\/[^/]+\/[^/]+-face\.ts$/.test(f));
  expect(serving).toEqual([]);
  for (const p of ['express', '@nestjs/platform-express', 'prom-client']) expect(packages).not.toContain(p);
  // The walk does reach the core and the faces' descriptors (their tables and policy language).
  expect(rel(files)).toEqual(expect.arrayContaining(['app.module.ts', 'api/faces.ts', 'api/tencent/tencent.face.ts', 'accounts/accounts.service.ts']));
});

it('the server does load them (the walk would see it)', () => {
  const { files, packages } = reach(path.join(SRC, 'http-parts.ts'));
  expect(rel(files)).toEqual(expect.arrayContaining(['health.controller.ts', 'metrics/metrics.module.ts']));
  expect(packages).toContain('prom-client');
});
