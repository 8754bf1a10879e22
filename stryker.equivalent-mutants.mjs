// @ts-check
/**
 * Mutants no test can tell from the original, so they are left out of `npm run mutate`'s score instead of being
 * counted as survivors. Each entry names the code by its text (so it still applies when lines move), optionally only
 * inside one method or one enclosing expression, and says in one line why every mutant of that code behaves as the
 * original does. Stryker
 * ignores every mutant inside a listed node, so an entry names the smallest node that holds only equivalent mutants.
 */
import { declareValuePlugin, PluginKind } from '@stryker-mutator/api/plugin';

/** @type {ReadonlyArray<{ file: string; code: string; method?: string; parent?: string; reason: string }>} */
export const EQUIVALENT_MUTANTS = [
  {
    file: 'lambda/domain/arn.ts',
    code: 'at < 0',
    reason: "`!owner || id === ''` refuses an ARN without the separator anyway, and `at` is never 0 in a value starting with 'arn:'.",
  },
  {
    file: 'lambda/domain/arn.ts',
    code: "''",
    parent: "at < 0 ? '' : value.slice(at + separator.length)",
    reason: 'With no separator there is no owner either, so the ARN is refused as malformed whatever the id.',
  },
  {
    file: 'lambda/domain/arn.ts',
    code: "{ kind: 'other-instance' }",
    reason: "Whatever is neither kind 'id' nor 'malformed' is refused as another instance's resource.",
  },
  {
    file: 'lambda/domain/request.ts',
    code: 'name.slice(0, (MAX_ECHOED_NAME_LENGTH + 1) * 2)',
    reason: 'The slice only bounds the work on a huge name; the code points kept and the cut are the same without it.',
  },
  {
    file: 'lambda/domain/request.ts',
    code: "issue.path.map(String).join('.')",
    reason: 'The request schema is flat, so every issue path has at most one member and the separator is never written.',
  },
  {
    file: 'lambda/usecase/sweep-settle.ts',
    method: 'settle',
    code: "{ message: 'Nothing to settle.' }",
    reason: 'settle answers with the settlement it recorded; the error it throws to leave the lock is never read.',
  },
  {
    file: 'lambda/usecase/sweep-settle.ts',
    method: 'settle',
    code: "{ message: 'Released: the contact is still active, so it was never transferred.' }",
    reason: 'settle answers with the settlement it recorded; the error it throws to leave the lock is never read.',
  },
  {
    file: 'lambda/usecase/sweep-settle.ts',
    method: 'settle',
    code: "{ message: 'Set aside for an operator.' }",
    reason: 'settle answers with the settlement it recorded; the error it throws to leave the lock is never read.',
  },
  {
    file: 'lambda/usecase/sweep-settle.ts',
    method: 'settle',
    code: "'answering-earlier-attempt'",
    reason: "The tag only sets whether execute's answer is a replay, which settle does not report.",
  },
  {
    file: 'lambda/usecase/earlier-attempt.ts',
    method: 'resume',
    code: "'resuming'",
    reason: "send treats every tag but 'reserved-now' and 'answering-earlier-attempt' alike.",
  },
  {
    file: 'lambda/usecase/look-ups.ts',
    method: 'lookUp',
    code: '{ counted: 0, lastNumber: 0 }',
    reason: 'Without a contact rule 5 refuses before the tally is read.',
  },
  {
    file: 'lambda/usecase/transfer-contact.ts',
    code: 'treeId !== undefined',
    reason: 'A treeId member holding undefined is the same answer: JSON drops it and no door reads it.',
  },
  {
    file: 'lambda/usecase/look-ups.ts',
    code: 'treeId !== undefined',
    reason: 'A treeId member holding undefined is the same answer: JSON drops it and no door reads it.',
  },
  {
    file: 'lambda/usecase/transfer-contact.ts',
    code: 'gathered.treeId !== undefined',
    reason: 'A treeId member holding undefined is the same answer: JSON drops it and no door reads it.',
  },
  // kill-sched: the scheduled transfers' parsing and the transfer context.
  {
    file: 'lambda/domain/schedule.ts',
    code: "error instanceof TransferError && error.reason === 'VALIDATION_FAILED'",
    reason: 'Only a VALIDATION_FAILED refusal carries Fields, so merging another refusal\'s fields with a bad time lists the time alone either way.',
  },
  {
    file: 'lambda/domain/schedule.ts',
    code: '[]',
    parent: 'error.fields ?? []',
    reason: 'What parseTransferRequest is given is an object rest, always an object, so its VALIDATION_FAILED always lists Fields.',
  },
  {
    file: 'lambda/domain/schedule.ts',
    code: "typeof afterSeconds !== 'number'",
    reason: 'Number.isInteger is false for anything that is not a number, so AfterSeconds of another type is refused anyway.',
  },
  {
    file: 'lambda/usecase/transfer-context.ts',
    code: 'false',
    parent: 'replayed: false',
    reason: 'Every answer that is not a replay comes from send, which sets replayed; the other paths throw or are replays.',
  },
  {
    file: 'lambda/usecase/transfer-context.ts',
    code: 'keys?.idempotencyKey',
    reason: 'Every call without keys passes a reservation, which always carries its idempotency key, so keys is never read then.',
  },
  // The shared pacer: lambda/adapters/transfer-pacer.ts and the files beside it.
  {
    file: 'lambda/adapters/transfer-pacer.ts',
    code: 'this.forgetPassed(now);',
    reason: 'Forgetting slots that have come only bounds the memory: release ignores a slot that has come anyway.',
  },
  {
    file: 'lambda/adapters/transfer-pacer.ts',
    method: 'forgetPassed',
    code: '{\n    for (const sendAt of this.reserved.keys()) if (sendAt <= now) this.reserved.delete(sendAt);\n  }',
    reason: 'Forgetting slots that have come only bounds the memory: release ignores a slot that has come anyway.',
  },
  // kill-domain: the request's error sentences.
  {
    file: 'lambda/domain/request.ts',
    method: 'expectedKind',
    code: "'Conditions.NotWithAgent'",
    reason: 'zod reports any wrong NotWithAgent (false, text, null) as invalid_value, so expectedKind never sees that field.',
  },
  {
    file: 'lambda/domain/request.ts',
    method: 'expectedKind',
    code: "'true'",
    reason: 'zod reports any wrong NotWithAgent (false, text, null) as invalid_value, so expectedKind never sees that field.',
  },
  // The doors: lambda/doors/*.ts.
  {
    file: 'lambda/doors/http.ts',
    code: "'utf8'",
    parent: "Buffer.from(event.body, 'utf8')",
    reason: 'Buffer.from reads a string as UTF-8 when given no encoding, so naming it changes nothing.',
  },
  {
    file: 'lambda/doors/sqs.ts',
    method: 'constructor',
    code: "{\n    super('The transfer happened but the ledger did not record it; the record returns to the buffer so a replay records it.');\n    this.name = 'UnrecordedTransfer';\n  }",
    reason: 'The error only makes the record a batch item failure, which nothing logs; a constructor that throws fails the record alike.',
  },
  {
    file: 'lambda/doors/history.ts',
    method: 'serveHistory',
    code: 'event.pathParameters?.ContactId',
    reason: 'The log line comes after historyQueryOf accepted a ContactId, so pathParameters is never null there.',
  },
  {
    file: 'lambda/doors/dead-letters.ts',
    method: 'transferStateOf',
    code: "'not'",
    reason: "serveDeadLetter only tells 'transferred' and 'maybe' apart from the rest, so any other state records the failure alike.",
  },
  {
    file: 'lambda/doors/dead-letters.ts',
    method: 'serveDeadLetter',
    code: "'The dead-lettered request holds a pending intent; it returns to the queue until the sweeper or a retry settles the intent.'",
    reason: 'The error only makes the record a batch item failure, which nothing logs.',
  },
];

/** @param {import('@babel/core').NodePath} path */
function enclosingMethod(path) {
  const method = path.findParent((parent) => parent.isClassMethod() || parent.isFunctionDeclaration());
  const key = method?.node && 'key' in method.node ? method.node.key : method?.node && 'id' in method.node ? method.node.id : undefined;
  return key && 'name' in key ? key.name : undefined;
}

/** @param {import('@babel/core').NodePath} path */
function fileOf(path) {
  const file = /** @type {{ opts?: { filename?: string }; code?: string } | undefined} */ (/** @type {any} */ (path.hub)?.file);
  return { name: (file?.opts?.filename ?? '').replaceAll('\\', '/'), code: file?.code ?? '' };
}

/**
 * @param {import('@babel/core').NodePath | null} path
 * @param {string} code
 */
function sourceOf(path, code) {
  const { start, end } = path?.node ?? {};
  return start == null || end == null ? undefined : code.slice(start, end);
}

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, 'equivalent-mutants', {
    /** @param {import('@babel/core').NodePath} path */
    shouldIgnore(path) {
      const file = fileOf(path);
      const text = sourceOf(path, file.code);
      const entry = EQUIVALENT_MUTANTS.find(
        ({ file: name, code, method, parent }) =>
          file.name.endsWith(name) &&
          text === code &&
          (method === undefined || enclosingMethod(path) === method) &&
          (parent === undefined || sourceOf(path.parentPath, file.code) === parent),
      );
      return entry && `Equivalent: ${entry.reason}`;
    },
  }),
];
