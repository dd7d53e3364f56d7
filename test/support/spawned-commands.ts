import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

/**
 * Finds the external commands that the project's code spawns, statically, so that a test can
 * check each one is installed by scripts/setup.sh or present on a fresh machine.
 *
 * TypeScript/JavaScript: calls of node:child_process's exec, execSync, execFile, execFileSync,
 * spawn, spawnSync and fork, directly, through a namespace import (`cp.spawn`), through
 * `promisify(execFile)` (called at once or kept in a variable), whatever the local name.
 * The command is the first argument: a string literal, `process.execPath` (node), or a
 * constant of the same file or imported from a relative module whose initializer holds the
 * possible literals (`x ? '/usr/bin/wrk' : 'wrk'`). exec/execSync and `shell:` options run
 * a shell (sh) and their string is read as a shell line. A first argument that is none of
 * these is reported as unresolved, so a spawn cannot hide behind a variable.
 *
 * Shell scripts: each line is read as simple commands (see shellCommands); this covers the
 * plain sh of scripts/ and .ci/, not every construct of the language.
 */

export interface SpawnedCommand {
  /** The command's name (basename when given as a path). */
  command: string;
  /** file:line, relative to the repository root. */
  at: string;
}

export interface ScanResult {
  commands: SpawnedCommand[];
  /** Spawn calls whose command could not be told statically. */
  unresolved: string[];
}

const SPAWNERS = new Set(['exec', 'execSync', 'execFile', 'execFileSync', 'spawn', 'spawnSync', 'fork']);
const SHELL_SPAWNERS = new Set(['exec', 'execSync']);
const CHILD_PROCESS = new Set(['child_process', 'node:child_process']);

/** Shell words that start no external program. */
const SHELL_BUILTINS = new Set([
  '.', ':', '[', ']', 'alias', 'break', 'cd', 'command', 'continue', 'echo', 'eval', 'exit', 'export', 'false', 'getopts', 'hash', 'kill', 'local', 'printf', 'pwd', 'read', 'readonly', 'return', 'set', 'shift', 'test', 'times', 'trap', 'true', 'type', 'ulimit', 'umask', 'unset', 'wait',
]);
const SHELL_KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'while', 'until', 'case', 'esac', '!', '{', '}', 'in']);

const basename = (cmd: string): string => cmd.split('/').pop()!;

/** The functions a sh script defines (`name() {`): calling one runs the commands of its body, which count where they are. */
export function shellFunctions(script: string): Set<string> {
  return new Set([...script.matchAll(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(\)/gm)].map((m) => m[1]));
}

/**
 * The external commands of one line (or several) of POSIX sh: each simple command's first word
 * after variable assignments and keywords, command substitutions included. `$var cmd` counts
 * `cmd` (setup.sh's optional `$sudo`); a `for` header, `command -v X` (a lookup) and a call of
 * one of the script's `functions` run nothing.
 */
export function shellCommands(script: string, functions = shellFunctions(script)): string[] {
  const out: string[] = [];
  const lines = script
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    // Line continuations join lines; single-quoted text is data (node -e '...').
    .replace(/\\\n/g, ' ')
    .replace(/'[^']*'/g, "''");
  // Command substitutions are commands of their own, also inside double quotes.
  const substitutions: string[] = [];
  let text = lines;
  for (;;) {
    const m = /\$\(([^()]*)\)|`([^`]*)`/.exec(text);
    if (!m) break;
    substitutions.push(m[1] ?? m[2]);
    text = text.slice(0, m.index) + 'SUBST' + text.slice(m.index + m[0].length);
  }
  text = text.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const segment of [text, ...substitutions].join('\n').split(/\n|;|&&|\|\||\||(?<![<>])&(?![>&])|\(|\)/)) {
    const words = segment.trim().split(/\s+/).filter(Boolean);
    if (words[0] === 'for' || words[0] === 'case') continue;
    let i = 0;
    while (i < words.length && (SHELL_KEYWORDS.has(words[i]) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]) || words[i].startsWith('$'))) i++;
    const cmd = words[i];
    if (!cmd || SHELL_BUILTINS.has(cmd) || functions.has(cmd) || cmd === 'SUBST' || /^[0-9]*[<>]/.test(cmd) || cmd === '""' || cmd === "''") continue;
    if (cmd === 'exec' && words[i + 1]) out.push(basename(words[i + 1]));
    else out.push(basename(cmd));
  }
  return out;
}

interface FileScan {
  commands: SpawnedCommand[];
  unresolved: string[];
}

/** The string literals an expression can evaluate to, or null when it is anything else. */
function literals(e: ts.Expression): string[] | null {
  if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return [e.text];
  if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e)) return literals(e.expression);
  if (ts.isConditionalExpression(e)) {
    const a = literals(e.whenTrue);
    const b = literals(e.whenFalse);
    return a && b ? [...a, ...b] : null;
  }
  if (ts.isBinaryExpression(e) && (e.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken || e.operatorToken.kind === ts.SyntaxKind.BarBarToken)) {
    const a = literals(e.left);
    const b = literals(e.right);
    return a && b ? [...a, ...b] : null;
  }
  return null;
}

const isExecPath = (e: ts.Expression): boolean => ts.isPropertyAccessExpression(e) && e.name.text === 'execPath' && ts.isIdentifier(e.expression) && e.expression.text === 'process';

function constants(sf: ts.SourceFile): Map<string, ts.Expression> {
  const found = new Map<string, ts.Expression>();
  const visit = (n: ts.Node): void => {
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer) {
      const list = n.parent;
      if (ts.isVariableDeclarationList(list) && list.flags & ts.NodeFlags.Const) found.set(n.name.text, n.initializer);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

const parse = (file: string): ts.SourceFile => ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true, file.endsWith('.js') ? ts.ScriptKind.JS : ts.ScriptKind.TS);

function resolveModule(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const base = path.resolve(path.dirname(from), spec);
  return ['.ts', '.js', '/index.ts', '/index.js'].map((x) => base + x).find((f) => fs.existsSync(f)) ?? null;
}

export function scanSource(file: string, root: string): FileScan {
  const sf = parse(file);
  const rel = path.relative(root, file);
  const at = (n: ts.Node) => `${rel}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
  const result: FileScan = { commands: [], unresolved: [] };

  // Local names of the spawn functions, and of namespace imports of child_process.
  const spawners = new Map<string, string>();
  const namespaces = new Set<string>();
  /** Constants imported from relative modules: local name -> [file, exported name]. */
  const imported = new Map<string, [string, string]>();
  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier) || !st.importClause) continue;
    const spec = st.moduleSpecifier.text;
    const bindings = st.importClause.namedBindings;
    if (CHILD_PROCESS.has(spec)) {
      if (bindings && ts.isNamespaceImport(bindings)) namespaces.add(bindings.name.text);
      if (bindings && ts.isNamedImports(bindings)) {
        for (const el of bindings.elements) {
          const original = (el.propertyName ?? el.name).text;
          if (SPAWNERS.has(original)) spawners.set(el.name.text, original);
        }
      }
    } else if (bindings && ts.isNamedImports(bindings)) {
      const target = resolveModule(file, spec);
      if (target) for (const el of bindings.elements) imported.set(el.name.text, [target, (el.propertyName ?? el.name).text]);
    }
  }
  // CommonJS: const { spawn } = require('child_process'), const cp = require('node:child_process').
  const visitRequire = (n: ts.Node): void => {
    if (ts.isVariableDeclaration(n) && n.initializer && ts.isCallExpression(n.initializer) && ts.isIdentifier(n.initializer.expression) && n.initializer.expression.text === 'require') {
      const arg = n.initializer.arguments[0];
      if (arg && ts.isStringLiteral(arg) && CHILD_PROCESS.has(arg.text)) {
        if (ts.isIdentifier(n.name)) namespaces.add(n.name.text);
        else if (ts.isObjectBindingPattern(n.name)) {
          for (const el of n.name.elements) {
            const original = el.propertyName && ts.isIdentifier(el.propertyName) ? el.propertyName.text : (el.name as ts.Identifier).text;
            if (SPAWNERS.has(original)) spawners.set((el.name as ts.Identifier).text, original);
          }
        }
      }
    }
    ts.forEachChild(n, visitRequire);
  };
  visitRequire(sf);

  /** The spawn function an expression stands for: `execFile`, `cp.spawn`, `promisify(execFile)`. */
  const spawnerOf = (e: ts.Expression): string | null => {
    if (ts.isIdentifier(e)) return spawners.get(e.text) ?? null;
    if (ts.isPropertyAccessExpression(e) && ts.isIdentifier(e.expression) && namespaces.has(e.expression.text) && SPAWNERS.has(e.name.text)) return e.name.text;
    if (ts.isCallExpression(e) && e.arguments.length === 1) {
      const callee = e.expression;
      const named = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : '';
      if (named === 'promisify') return spawnerOf(e.arguments[0]);
    }
    return null;
  };
  // Variables holding a spawn function (const run = promisify(execFile)).
  const consts = constants(sf);
  for (const [name, init] of consts) {
    const s = spawnerOf(init);
    if (s) spawners.set(name, s);
  }

  const valuesOf = (e: ts.Expression): string[] | null => {
    if (isExecPath(e)) return ['node'];
    const direct = literals(e);
    if (direct) return direct;
    if (!ts.isIdentifier(e)) return null;
    const local = consts.get(e.text);
    if (local) return valuesOf(local);
    const imp = imported.get(e.text);
    if (imp) {
      const init = constants(parse(imp[0])).get(imp[1]);
      return init ? literals(init) : null;
    }
    return null;
  };

  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n)) {
      const kind = spawnerOf(n.expression);
      if (kind) record(n, kind);
    }
    ts.forEachChild(n, visit);
  };
  const record = (call: ts.CallExpression, kind: string): void => {
    const where = at(call);
    const add = (command: string): void => {
      result.commands.push({ command: basename(command), at: where });
    };
    if (kind === 'fork') return add('node');
    const first = call.arguments[0];
    const options = call.arguments.find((a, i) => i > 0 && ts.isObjectLiteralExpression(a)) as ts.ObjectLiteralExpression | undefined;
    const shellOption = options?.properties.find((p) => p.name && ts.isIdentifier(p.name) && p.name.text === 'shell');
    const shellOff = shellOption && ts.isPropertyAssignment(shellOption) && shellOption.initializer.kind === ts.SyntaxKind.FalseKeyword;
    const viaShell = SHELL_SPAWNERS.has(kind) || (shellOption !== undefined && !shellOff);
    const values = first ? valuesOf(first) : null;
    if (!values) {
      result.unresolved.push(`${where}: ${kind}(${first ? first.getText(sf) : ''}, ...)`);
      return;
    }
    if (!viaShell) return values.forEach(add);
    const shell = shellOption && ts.isPropertyAssignment(shellOption) ? literals(shellOption.initializer) : null;
    add(shell && shell.length === 1 ? shell[0] : 'sh');
    for (const v of values) shellCommands(v).forEach(add);
  };
  visit(sf);
  return result;
}

export function scanShell(file: string, root: string): FileScan {
  const rel = path.relative(root, file);
  const commands: SpawnedCommand[] = [];
  const text = fs.readFileSync(file, 'utf8');
  const functions = shellFunctions(text);
  text.split('\n').forEach((line, i) => {
    for (const command of shellCommands(line, functions)) commands.push({ command, at: `${rel}:${i + 1}` });
  });
  return { commands, unresolved: [] };
}

function walk(dir: string, keep: (f: string) => boolean): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return d.name === 'node_modules' || d.name === 'dist' ? [] : walk(p, keep);
    return keep(p) ? [p] : [];
  });
}

/** Every command spawned by src/, test/, bench/, bin/ (TypeScript/JavaScript), scripts/*.sh, .ci/run and package.json's scripts. */
export function scanRepository(root: string): ScanResult {
  const code = ['src', 'test', 'bench', 'bin'].flatMap((d) => walk(path.join(root, d), (f) => /\.(ts|js)$/.test(f)));
  const shells = [...walk(path.join(root, 'scripts'), (f) => f.endsWith('.sh')), path.join(root, '.ci', 'run')].filter((f) => fs.existsSync(f));
  const scans = [...code.map((f) => scanSource(f, root)), ...shells.map((f) => scanShell(f, root))];
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  // npm runs each script with sh.
  const npmScripts = Object.entries(pkg.scripts ?? {}).flatMap(([name, line]) => ['sh', ...shellCommands(line)].map((command) => ({ command, at: `package.json:scripts.${name}` })));
  return {
    commands: [...scans.flatMap((s) => s.commands), ...npmScripts],
    unresolved: scans.flatMap((s) => s.unresolved),
  };
}

/** The Debian packages scripts/setup.sh installs: the words of its `for pkg in ...; do` loop. */
export function setupPackages(setupScript: string): string[] {
  const m = /^\s*for\s+pkg\s+in\s+([^;]+);\s*do/m.exec(setupScript);
  return m ? m[1].trim().split(/\s+/) : [];
}

export interface CommandSource {
  command: string;
  /** The Debian package that ships the command. */
  debianPackage: string;
  /** base: on a fresh machine; service: a database or cache server the machine kind starts; setup: installed by scripts/setup.sh. */
  source: 'base' | 'service' | 'setup';
}

/** scripts/fresh-machine-commands.tsv: `command<TAB>package<TAB>source` lines, # comments. */
export function readCommandSources(file: string): CommandSource[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean)
    .map((l) => {
      const [command, debianPackage, source] = l.split(/\t+/);
      if (!command || !debianPackage || !['base', 'service', 'setup'].includes(source)) throw new Error(`${file}: malformed line "${l}"`);
      return { command, debianPackage, source: source as CommandSource['source'] };
    });
}
