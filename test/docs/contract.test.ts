import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { describe, expect, it } from 'vitest';
import { REASONS } from '../../lambda/domain/errors';
import { MAX_BODY_BYTES, transferRequestSchema } from '../../lambda/domain/request';

/** docs/contract.md is what callers read; these checks keep its tables in step with the code they describe. */
const contract = readFileSync(join(__dirname, '..', '..', 'docs', 'contract.md'), 'utf8');
const tableRows = (heading: string): string[][] => {
  const section = contract.slice(contract.indexOf(heading));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('\n|')));
  return table
    .split('\n')
    .filter((line) => line.startsWith('|') && !line.startsWith('|---'))
    .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
};

describe('docs/contract.md', () => {
  it('has all twelve sections', () => {
    const numbered = [...contract.matchAll(/^## (\d+)\. /gm)].map((match) => Number(match[1]));
    expect(numbered).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(contract).toMatch(/^### 3\.2 EventBridge/m);
    expect(contract).toContain('**Bursts.**');
  });

  it("states the request's members, which are required and their limits as the schema checks them", () => {
    const generated = z.toJSONSchema(transferRequestSchema) as { properties: Record<string, { type: string; minLength: number; maxLength: number; properties?: object }>; required: string[] };
    const rows = tableRows('## 2. The request').slice(1);
    expect(rows.map(([member]) => member?.replace(/`/g, ''))).toEqual(Object.keys(generated.properties));
    for (const [member = '', required, limits] of rows) {
      const name = member.replace(/`/g, '');
      const schema = generated.properties[name]!;
      expect(required, name).toBe(generated.required.includes(name) ? 'yes' : 'no');
      if (schema.type === 'object') expect(limits, name).toContain(`1..${Object.keys(schema.properties ?? {}).length} conditions`);
      else expect(limits, name).toContain(`${schema.minLength}..${schema.maxLength}`);
    }
    expect(contract).toContain(`larger than ${MAX_BODY_BYTES / 1024} KiB is refused`);
  });

  it('lists every reason of the error table with its status and type', () => {
    const rows = tableRows('## 5. Errors').slice(1);
    for (const [reason, { status, type }] of Object.entries(REASONS)) {
      const row = rows.find(([reasons]) => reasons?.includes(`\`${reason}\``));
      expect(row, reason).toBeDefined();
      expect(row?.[1], reason).toBe(String(status));
      expect(row?.[2], reason).toBe(`\`${type}\``);
    }
  });
});
