import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, loadConfig } from '../../lambda/config';
import { LOG_RETENTION_DAYS, SETTINGS, show } from '../../lambda/settings';
import type { Setting } from '../../lambda/settings';
import { ContextError, parseGatewayContext } from '../../lib/context';
import { ContactTransferGateway } from '../../lib/contact-transfer-gateway';
import { CONFIGURATION_FILE, configurationWithTables, DEFAULT_TIMEOUT_SECONDS, PROPS_FILE, renderPropsModule } from '../../lib/settings-docs';
import { INSTANCE_ARN } from './synth';

const settings = Object.values(SETTINGS) as readonly Setting<unknown>[];
const FIX = 'run `npm run settings` to rewrite it from lambda/settings.ts';

describe('the settings table is what people read', () => {
  it("docs/configuration.md's function environment, CDK context and computed figures tables are the code's", () => {
    const page = readFileSync(CONFIGURATION_FILE, 'utf8');
    expect(page, FIX).toBe(configurationWithTables(page));
    for (const definition of settings) {
      if (definition.env !== undefined) expect(page).toContain(`| \`${definition.env}\` |`);
      if (definition.context !== undefined) expect(page).toContain(`| \`${definition.context}\` |`);
    }
  });

  it("docs/contract.md's configuration rows give the table's defaults", () => {
    const contract = readFileSync(join(__dirname, '..', '..', 'docs', 'contract.md'), 'utf8');
    const configuration = contract.slice(contract.indexOf('## 1. Configuration'), contract.indexOf('## 2.'));
    const rows = [...configuration.matchAll(/^\| `(\w+)` \| (yes|no) \| ([^|]+) \|/gm)];
    expect(rows.length).toBeGreaterThanOrEqual(4);
    for (const [, key = '', required, shown] of rows) {
      const definition = settings.find((candidate) => candidate.context === key);
      expect(definition, key).toBeDefined();
      expect(required, key).toBe(definition?.absent === 'required' ? 'yes' : 'no');
      if (definition?.default !== undefined) expect(shown?.trim(), key).toBe(`\`${show(definition.default)}\``);
    }
  });

  it("the construct's props and their @defaults are the table's", () => {
    expect(readFileSync(PROPS_FILE, 'utf8'), FIX).toBe(renderPropsModule());
    expect(renderPropsModule()).toContain('@default 11\n   */\n  readonly maxTransfers?: number;');
    expect(renderPropsModule()).toContain('readonly connectInstanceArn: string;');
    expect(renderPropsModule()).toContain('readonly logRetentionDays?: RetentionDays;');
  });

  it("lists exactly CloudWatch Logs' retention periods as aws-cdk-lib names them", () => {
    const cdkValues = Object.values(RetentionDays).filter((days): days is number => typeof days === 'number');
    expect([...LOG_RETENTION_DAYS].sort((a, b) => a - b)).toEqual([...new Set(cdkValues)].sort((a, b) => a - b));
  });
});

describe('the computed figures build on what the construct deploys', () => {
  it("the default function timeout is the construct's", () => {
    // Constructed, not synthesized: the template's queues are checked against the same numbers in stack.test.ts and backstops.test.ts.
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const gateway = new ContactTransferGateway(new Stack(app, 'Figures'), 'Gateway', { connectInstanceArn: INSTANCE_ARN });
    expect(gateway.gatewayFunction.timeout?.toSeconds()).toBe(DEFAULT_TIMEOUT_SECONDS);
  });
});

describe('one bound, enforced at synth and at cold start alike', () => {
  const edges = settings.filter(
    (definition): definition is Setting<unknown> & { context: string; env: string } => definition.context !== undefined && definition.env !== undefined,
  );
  const minimal = { CONNECT_INSTANCE_ARN: INSTANCE_ARN, IDEMPOTENCY_TABLE_NAME: 'idem', LEDGER_TABLE_NAME: 'ledger' };

  it.each(edges.map((definition) => [definition.context, definition] as const))('%s: a value the context refuses, the function refuses too', (_key, definition) => {
    const refused = ['0', '-1', '1000001', 'aws.x', 'x y', 'TASK,FAX', 'LOUD', '1.5'].filter(
      (value) => definition.kind.parse(value) === undefined && definition.context !== 'connectInstanceArn',
    );
    for (const value of refused) {
      expect(() => parseGatewayContext({ connectInstanceArn: INSTANCE_ARN, [definition.context]: value })).toThrow(ContextError);
      if (definition.context === 'logLevel') continue; // Powertools reads POWERTOOLS_LOG_LEVEL itself.
      expect(() => loadConfig({ ...minimal, [definition.env]: value })).toThrow(ConfigurationError);
    }
  });

  it('what the construct encodes into the environment, the function reads back as the context gave it', () => {
    const parsed = parseGatewayContext({
      connectInstanceArn: INSTANCE_ARN,
      allowedChannels: 'task,EMAIL',
      eventSources: '["a.b","c.d"]',
      transferRatePerSecond: '0.5',
      metadataCacheTtlSeconds: 0,
    });
    const environment = Object.fromEntries(edges.map((definition) => [definition.env, String((parsed as unknown as Record<string, unknown>)[definition.context])]));
    const config = loadConfig({ ...minimal, ...environment });
    expect(config).toMatchObject({ allowedChannels: ['TASK', 'EMAIL'], pace: { ratePerSecond: 0.5 }, metadataCacheTtlMs: 0, doors: { eventSources: ['a.b', 'c.d'] } });
  });
});
