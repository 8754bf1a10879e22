import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { encode, SETTINGS, show } from '../lambda/settings';
import type { Setting } from '../lambda/settings';
import { DEAD_LETTER_DOOR, deadLetterSettleSeconds, SWEEP } from './backstops';
import { EVENT_BUFFER, returnDelaySeconds } from '../lambda/event-buffer';
import { DEFAULT_TIMEOUT_SECONDS } from './contact-transfer-gateway';

/**
 * What the settings table (lambda/settings.ts) and the event buffer's and backstops' numbers say, written where people
 * read them: the construct's props with their `@default`s (lib/gateway-props.ts), and docs/configuration.md's two
 * configuration tables and its table of computed figures. Generated, never edited by hand; `npm run settings` rewrites
 * them and test/stack/settings.test.ts fails when they are behind the code.
 */

const ROOT = path.join(__dirname, '..');
export const PROPS_FILE = path.join(ROOT, 'lib', 'gateway-props.ts');
export const CONFIGURATION_FILE = path.join(ROOT, 'docs', 'configuration.md');
/** The construct's default function timeout, which the backstops' waits build on; test/stack/settings.test.ts checks it against the synthesized function. */
export { DEFAULT_TIMEOUT_SECONDS };

const entries = Object.values(SETTINGS) as readonly Setting<unknown>[];
/** Table-safe Markdown; an ARN pattern goes in code, where its `<placeholders>` are not taken for HTML. */
const cell = (value: string): string => value.replace(/\|/g, '\\|').replace(/(?<!`)\b(arn:[^\s`,]+)/g, '`$1`');
const code = (value: string): string => `\`${value}\``;

function defaultOf(definition: Setting<unknown>, form: 'context' | 'env'): string {
  if (definition.absent !== undefined || definition.default === undefined) return definition.absent ?? 'none';
  return code(form === 'env' ? encode(definition.default) : show(definition.default));
}

/** The CDK context table: every knob a deployer sets. */
export function renderContextTable(): string {
  const rows = entries
    .filter((definition) => definition.context !== undefined)
    .map((definition) =>
      [code(definition.context ?? ''), defaultOf(definition, 'context'), definition.kind.expectation, definition.meaning].map(cell).join(' | '),
    );
  return ['| key | default | accepted | meaning |', '|---|---|---|---|', ...rows.map((row) => `| ${row} |`)].join('\n');
}

/** The function environment table: what the construct hands the function. */
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

const seconds = (value: number): string => `${value} s`;
function duration(total: number): string {
  if (total < 3600) return `${Math.round(total / 60)} minutes`;
  const hours = Math.round(total / 360) / 10;
  return hours === 1 ? 'an hour' : `${hours} hours`;
}

/**
 * Seconds a record spends away from the buffer over all its receives before SQS moves it to the dead-letter queue, when
 * every return's backoff is set: `jitter` 0 is the least, 1 the most.
 */
export function backoffWindowSeconds(jitter: 0 | 1): number {
  let total = 0;
  for (let receive = 1; receive < EVENT_BUFFER.maxReceiveCount; receive += 1) total += returnDelaySeconds(receive, jitter === 0 ? 0 : 0.999_999);
  return total;
}

/** The numbers the code computes or fixes, with the file that does: one place to read them, none to copy them from. */
export function renderFiguresTable(): string {
  const settle = deadLetterSettleSeconds(DEFAULT_TIMEOUT_SECONDS);
  const rows: [string, string, string][] = [
    ['event buffer: records per invocation, concurrent invocations', `${EVENT_BUFFER.batchSize}, ${EVENT_BUFFER.maxConcurrency}`, 'lambda/event-buffer.ts'],
    ['event buffer: visibility timeout (a failed record returns after it when its backoff could not be set)', seconds(EVENT_BUFFER.visibilityTimeoutSeconds), 'lambda/event-buffer.ts'],
    [
      'event buffer: backoff of a failed record',
      `${seconds(returnDelaySeconds(1, 0))} after its first receive, doubling to at most ${seconds(returnDelaySeconds(EVENT_BUFFER.maxReceiveCount, 0))}, plus up to ${Math.round((returnDelaySeconds(1, 0.999_999) / returnDelaySeconds(1, 0) - 1) * 100)} % at random`,
      'lambda/event-buffer.ts',
    ],
    [
      'event buffer: a record the pacer turned away',
      `back after ${seconds(EVENT_BUFFER.pacedOutSeconds)} for its first ${EVENT_BUFFER.pacedOutQuickReturns} receives, then the backoff`,
      'lambda/event-buffer.ts',
    ],
    ['event buffer: receives before the dead-letter queue (`maxReceiveCount`)', String(EVENT_BUFFER.maxReceiveCount), 'lambda/event-buffer.ts (computed)'],
    [
      'event buffer: retries before the dead-letter queue',
      `${duration(backoffWindowSeconds(0))} to ${duration(backoffWindowSeconds(1))} with the backoff; never less than ${duration(EVENT_BUFFER.retryWindowSeconds)}, even if every return is the quickest`,
      'lambda/event-buffer.ts (computed)',
    ],
    ['event buffer: message retention', `${EVENT_BUFFER.retentionDays} days`, 'lambda/event-buffer.ts'],
    [
      'dead-letter door: records per invocation, concurrent invocations, visibility timeout',
      `${DEAD_LETTER_DOOR.batchSize}, ${DEAD_LETTER_DOOR.maxConcurrency}, ${seconds(DEAD_LETTER_DOOR.visibilityTimeoutSeconds)}`,
      'lib/backstops.ts',
    ],
    ['sweeper: runs every', `${SWEEP.everyMinutes} minutes`, 'lib/backstops.ts'],
    [
      'sweeper: settles a PENDING intent last attempted, or takes back a schedule whose create stopped, longer ago than',
      `${seconds(DEFAULT_TIMEOUT_SECONDS + SWEEP.marginSeconds)} (the function's timeout plus ${seconds(SWEEP.marginSeconds)})`,
      'lib/backstops.ts',
    ],
    ['dead-letter door: the longest a dead letter waits in the normal course', `${seconds(settle)} (about ${duration(settle)})`, 'lib/backstops.ts (computed)'],
  ];
  return ['| figure | value, with the default timeout of ' + seconds(DEFAULT_TIMEOUT_SECONDS) + ' | from |', '|---|---|---|', ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`)].join('\n');
}

const SECTIONS = {
  context: ['<!-- settings:context -->', '<!-- /settings:context -->', renderContextTable],
  env: ['<!-- settings:env -->', '<!-- /settings:env -->', renderEnvironmentTable],
  figures: ['<!-- settings:figures -->', '<!-- /settings:figures -->', renderFiguresTable],
} as const;

/** The configuration page with its generated tables replaced by what the code says. */
export function configurationWithTables(page: string): string {
  let result = page;
  for (const [open, close, render] of Object.values(SECTIONS)) {
    const start = result.indexOf(open);
    const end = result.indexOf(close);
    if (start < 0 || end < start) throw new Error(`docs/configuration.md has no ${open} ... ${close} section.`);
    result = `${result.slice(0, start + open.length)}\n${render()}\n${result.slice(end)}`;
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
  writeFileSync(CONFIGURATION_FILE, configurationWithTables(readFileSync(CONFIGURATION_FILE, 'utf8')));
  console.log(`Wrote ${path.relative(ROOT, PROPS_FILE)} and the generated tables of ${path.relative(ROOT, CONFIGURATION_FILE)}.`);
}
