import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_BUFFER } from '../../lambda/event-buffer';

/**
 * The README is the front door: short, its quick start working as written, and every page it and docs/ link to
 * there. The quick start's commands are read out of the README, so a command that stops working fails here.
 */
const root = join(__dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const run = promisify(execFile);

/** The lines of a Markdown page outside fenced code blocks. */
function proseLines(text: string): string[] {
  let fenced = false;
  return text.split('\n').filter((line) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return false;
    }
    return !fenced;
  });
}

/** The `sh` blocks of one `## ` section, each as the shell command it is (continuations joined, comments dropped). */
function shellBlocks(text: string, heading: string): string[] {
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section`);
  const end = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) =>
    (match[1] ?? '')
      .replace(/\\\n\s*/g, '')
      .split('\n')
      .map((line) => line.replace(/\s+#.*$/, '').trim())
      .filter((line) => line !== '')
      .join('\n'),
  );
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const slug = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '')
    .replace(/ /g, '-');

const anchorsOf = (text: string): Set<string> =>
  new Set(proseLines(text).flatMap((line) => (/^#{1,6} (.+)$/.exec(line)?.[1] ? [slug(/^#{1,6} (.+)$/.exec(line)![1]!)] : [])));

const pages = [
  join(root, 'README.md'),
  join(root, 'client', 'README.md'),
  join(root, 'construct', 'README.md'),
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(root, 'docs', name)),
];

describe('the README is a front door', () => {
  it('is at most 250 lines and opens with a table of contents', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    expect(readme).toMatch(/\n## Contents\n/);
  });

  it('links every page of docs/', () => {
    for (const page of pages.filter((file) => dirname(file) === join(root, 'docs'))) {
      expect(readme, relative(root, page)).toContain(`](${relative(root, page)}`);
    }
  });
});

describe('links between the pages resolve', () => {
  it.each(pages.map((page) => [relative(root, page), page] as const))('%s', (_name, page) => {
    const text = readFileSync(page, 'utf8');
    const broken: string[] = [];
    for (const line of proseLines(text)) {
      for (const [, target = ''] of line.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target)) continue;
        const [file = '', anchor] = target.split('#');
        const linked = file === '' ? page : resolve(dirname(page), file);
        if (!existsSync(linked)) broken.push(target);
        else if (anchor !== undefined && linked.endsWith('.md') && !anchorsOf(readFileSync(linked, 'utf8')).has(anchor)) broken.push(target);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('one number, one place', () => {
  it("every receive count the pages state outside the generated tables is the buffer's maxReceiveCount", () => {
    for (const page of pages) {
      const prose = readFileSync(page, 'utf8').replace(/<!-- settings:(\w+) -->[\s\S]*?<!-- \/settings:\1 -->/g, '');
      for (const [stated] of prose.matchAll(/\b\d+(?:st|nd|rd|th)? receives?\b/g)) {
        expect(`${relative(root, page)}: ${stated}`).toBe(`${relative(root, page)}: ${EVENT_BUFFER.maxReceiveCount} receives`);
      }
    }
  });
});

describe("the README's quick start, run as written against local mode", () => {
  const [install = '', transfer = '', check = ''] = shellBlocks(readme, 'Quick start');
  let child: ChildProcess;
  let base = '';
  let output = '';

  beforeAll(async () => {
    const [first, ...rest] = install.split('&&').map((part) => part.trim());
    // `npm ci` would replace the node_modules this test runs from; that it installs is the lockfile's to hold.
    expect(first).toBe('npm ci');
    expect(existsSync(join(root, 'package-lock.json'))).toBe(true);
    const start = rest.join(' && ');
    expect(start).toBe('npm start');
    // Port 0: the test must not collide with a local mode someone runs on 3000; the URL comes from its output.
    child = spawn('sh', ['-c', start], { cwd: root, detached: true, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    base = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error(`${start} did not start:\n${output}`)), 60_000);
      const read = (chunk: Buffer): void => {
        output += chunk.toString();
        const served = /POST (http:\/\/127\.0\.0\.1:\d+)\/contact\/transfer/.exec(output);
        if (served?.[1]) {
          clearTimeout(timer);
          resolveUrl(served[1]);
        }
      };
      child.stdout?.on('data', read);
      child.stderr?.on('data', read);
      child.once('exit', (code) => reject(new Error(`${start} exited with ${String(code)}:\n${output}`)));
    });
  }, 90_000);

  afterAll(async () => {
    if (child.pid === undefined || child.exitCode !== null) return;
    const exited = new Promise((done) => child.once('exit', done));
    process.kill(-child.pid, 'SIGINT'); // Ctrl-C, as the README says: the whole process group
    const stopped = await Promise.race([exited.then(() => true), new Promise((done) => setTimeout(() => done(false), 10_000))]);
    if (!stopped) process.kill(-child.pid, 'SIGKILL');
  });

  const curl = (command: string) => {
    expect(command).toMatch(/^curl .*http:\/\/127\.0\.0\.1:3000\//);
    return run('sh', ['-c', command.replaceAll('http://127.0.0.1:3000', base)], { cwd: root });
  };

  it('transfers the demo task with the curl as written', async () => {
    const { stdout } = await curl(transfer);
    const answer = JSON.parse(stdout) as Record<string, unknown>;
    expect(answer.ContactId).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.ContactArn).toContain(`/contact/${String(answer.ContactId)}`);
    expect(readme).toContain('"ContactId": "<the new contact>", "ContactArn"');
  });

  it('answers the same command again with -i as a replay, the same answer', async () => {
    const first = JSON.parse((await curl(transfer)).stdout) as Record<string, unknown>;
    const { stdout } = await curl(transfer.replace(/^curl /, 'curl -i '));
    const [head = '', body = ''] = stdout.split(/\r?\n\r?\n/);
    expect(head).toMatch(/^Idempotent-Replayed: true\r?$/im);
    expect(JSON.parse(body)).toEqual(first);
    expect(readme).toContain('`Idempotent-Replayed: true`');
  });

  it('names the project check as the npm test script', () => {
    // Running it here would run this suite inside itself; it is the script CI runs.
    expect(check).toBe('npm test');
    const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.test).toContain('vitest run');
  });
});
