import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { encode, SETTINGS, show } from '../lambda/settings';
import type { Setting } from '../lambda/settings';

/**
 * What the settings table (lambda/settings.ts) says, written where people read it: the construct's props with their
 * `@default`s (lib/gateway-props.ts) and the README's two configuration tables. Generated, never edited by hand;
 * `npm run settings` rewrites them and test/stack/settings.test.ts fails when they are behind the table.
 */

const ROOT = path.join(__dirname, '..');
export const PROPS_FILE = path.join(ROOT, 'lib', 'gateway-props.ts');
export const README_FILE = path.join(ROOT, 'README.md');

const entries = Object.values(SETTINGS) as readonly Setting<unknown>[];
/** Table-safe Markdown; an ARN pattern goes in code, where its `<placeholders>` are not taken for HTML. */
const cell = (value: string): string => value.replace(/\|/g, '\\|').replace(/(?<!`)\b(arn:[^\s`,]+)/g, '`$1`');
const code = (value: string): string => `\`${value}\``;

function defaultOf(definition: Setting<unknown>, form: 'context' | 'env'): string {
  if (definition.absent !== undefined || definition.default === undefined) return definition.absent ?? 'none';
  return code(form === 'env' ? encode(definition.default) : show(definition.default));
}

/** The README's CDK context table: every knob a deployer sets. */
export function renderContextTable(): string {
  const rows = entries
    .filter((definition) => definition.context !== undefined)
    .map((definition) =>
      [code(definition.context ?? ''), defaultOf(definition, 'context'), definition.kind.expectation, definition.meaning].map(cell).join(' | '),
    );
  return ['| key | default | accepted | meaning |', '|---|---|---|---|', ...rows.map((row) => `| ${row} |`)].join('\n');
}

/** The README's function environment table: what the construct hands the function. */
export function renderEnvironmentTable(): string {
  const rows = entries
    .filter((definition) => definition.env !== undefined)
    .map((definition) =>
      [
        code(definition.env ?? ''),
        definition.context !== undefined ? code(definition.context) : definition.setBy ?? 'the construct',
        defaultOf(definition, 'env'),
        definition.kind.expectation,
        definition.meaning,
      ]
        .map(cell)
        .join(' | '),
    );
  return ['| variable | set from | default | accepted | meaning |', '|---|---|---|---|---|', ...rows.map((row) => `| ${row} |`)].join('\n');
}

const MARKERS = {
  context: ['<!-- settings:context -->', '<!-- /settings:context -->'],
  env: ['<!-- settings:env -->', '<!-- /settings:env -->'],
} as const;

/** The README with both tables replaced by what the table says now. */
export function readmeWithTables(readme: string): string {
  let result = readme;
  for (const [name, [open, close]] of Object.entries(MARKERS)) {
    const start = result.indexOf(open);
    const end = result.indexOf(close);
    if (start < 0 || end < start) throw new Error(`README.md has no ${open} ... ${close} section.`);
    const table = name === 'context' ? renderContextTable() : renderEnvironmentTable();
    result = `${result.slice(0, start + open.length)}\n${table}\n${result.slice(end)}`;
  }
  return result;
}

/** The construct's props and the resolved settings, as TypeScript. */
export function renderPropsModule(): string {
  const contextual = entries.filter((definition): definition is Setting<unknown> & { context: string } => definition.context !== undefined);
  const doc = (definition: Setting<unknown>, withDefault: boolean): string[] => {
    const lines = [`${definition.meaning[0]?.toUpperCase() ?? ''}${definition.meaning.slice(1)}: ${definition.kind.expectation}.`];
    if (withDefault) {
      lines.push(definition.absent === undefined && definition.default !== undefined ? `@default ${show(definition.default)}` : `@default - ${definition.absent ?? 'none'}`);
    }
    return ['  /**', ...lines.map((line) => `   * ${line.replace(/\*\//g, '*\\/')}`), '   */'];
  };
  const typeOf = (definition: Setting<unknown>, resolved: boolean): string => {
    const { propType } = definition.kind;
    if (propType === 'string[]') return 'readonly string[]';
    if (resolved && propType === 'RetentionDays') return 'number';
    return propType;
  };
  const props = contextual.flatMap((definition) => {
    const optional = definition.absent !== 'required';
    return [...doc(definition, optional), `  readonly ${definition.context}${optional ? '?' : ''}: ${typeOf(definition, false)};`];
  });
  const resolved = contextual.flatMap((definition) => {
    const optional = definition.default === undefined && definition.absent !== 'required';
    return [...doc(definition, false), `  readonly ${definition.context}${optional ? '?' : ''}: ${typeOf(definition, true)};`];
  });
  return [
    '// Generated from lambda/settings.ts by `npm run settings` (lib/settings-docs.ts); edit the table, not this file.',
    "import type { RetentionDays } from 'aws-cdk-lib/aws-logs';",
    "import type { ConnectInstance } from '../lambda/domain/arn';",
    '',
    '/** The gateway\'s knobs as construct props: `connectInstanceArn` is required, everything else has a default. */',
    'export interface GatewaySettingsProps {',
    ...props,
    '}',
    '',
    '/** The settings after validation, defaults applied: what CDK context parsing returns and the construct builds from. */',
    'export interface GatewaySettings {',
    '  /** The instance `connectInstanceArn` names. */',
    '  readonly connectInstance: ConnectInstance;',
    ...resolved,
    '}',
    '',
  ].join('\n');
}

// `npm run settings`: rewrite the generated files from the table.
if (require.main === module) {
  writeFileSync(PROPS_FILE, renderPropsModule());
  writeFileSync(README_FILE, readmeWithTables(readFileSync(README_FILE, 'utf8')));
  console.log(`Wrote ${path.relative(ROOT, PROPS_FILE)} and the configuration tables of ${path.relative(ROOT, README_FILE)}.`);
}
