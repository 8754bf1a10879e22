import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, listen, readBody } from './http-server';

/** Where local time comes from: the wall clock in local mode, a clock the test moves in tests. */
export interface SchedulerClock {
  now(): number;
}

export interface LocalSchedule {
  readonly name: string;
  readonly group: string;
  /** When it fires, ms since the epoch. */
  readonly at: number;
  readonly targetArn: string;
  readonly input: string;
}

/** An EventBridge Scheduler error: its name (the SDK's exception) and HTTP status. */
export class SchedulerModelError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

/** `at(yyyy-mm-ddThh:mm:ss)`, the one-time expression; local mode serves UTC only, as the gateway asks. */
const AT_EXPRESSION = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/;

/**
 * A local model of EventBridge Scheduler's one-time schedules, as the gateway uses them: a schedule fires once, at
 * its time, by handing its target's Input to `deliver` (local mode's event buffer), and is then deleted
 * (ActionAfterCompletion DELETE). Names are unique per group (a second create is a ConflictException).
 */
export class SchedulerModel {
  private readonly schedules = new Map<string, LocalSchedule>();
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;

  constructor(
    private readonly deliver: (targetArn: string, input: string) => void,
    readonly clock: SchedulerClock = { now: () => Date.now() },
  ) {}

  /** The next `times` calls answer Scheduler's 500, as a Scheduler outage would. */
  failNext(times: number): void {
    this.failures = times;
  }

  /** Spends one injected failure, if any is left. */
  takeFailure(): boolean {
    if (this.failures === 0) return false;
    this.failures -= 1;
    return true;
  }

  create(name: string, input: { GroupName?: unknown; ScheduleExpression?: unknown; ScheduleExpressionTimezone?: unknown; Target?: { Arn?: unknown; Input?: unknown } }): LocalSchedule {
    const group = typeof input.GroupName === 'string' ? input.GroupName : 'default';
    const expression = typeof input.ScheduleExpression === 'string' ? AT_EXPRESSION.exec(input.ScheduleExpression) : null;
    if (!expression || (input.ScheduleExpressionTimezone !== undefined && input.ScheduleExpressionTimezone !== 'UTC')) {
      throw new SchedulerModelError('ValidationException', 400, 'Local mode models one-time schedules in UTC only: at(yyyy-mm-ddThh:mm:ss).');
    }
    if (typeof input.Target?.Arn !== 'string' || typeof input.Target.Input !== 'string') throw new SchedulerModelError('ValidationException', 400, 'A target needs an Arn and an Input.');
    const key = `${group}/${name}`;
    if (this.schedules.has(key)) throw new SchedulerModelError('ConflictException', 409, `Schedule ${name} already exists.`);
    const schedule = { name, group, at: Date.parse(`${expression[1] ?? ''}Z`), targetArn: input.Target.Arn, input: input.Target.Input };
    this.schedules.set(key, schedule);
    return schedule;
  }

  delete(name: string, group = 'default'): void {
    if (!this.schedules.delete(`${group}/${name}`)) throw new SchedulerModelError('ResourceNotFoundException', 404, `Schedule ${name} does not exist.`);
  }

  /** The schedules waiting, soonest first. */
  list(): readonly LocalSchedule[] {
    return [...this.schedules.values()].sort((a, b) => a.at - b.at);
  }

  /** Fires every schedule whose time has come by the clock, each once, and deletes it. */
  fireDue(): readonly LocalSchedule[] {
    const due = this.list().filter((schedule) => schedule.at <= this.clock.now());
    for (const schedule of due) {
      this.schedules.delete(`${schedule.group}/${schedule.name}`);
      this.deliver(schedule.targetArn, schedule.input);
    }
    return due;
  }

  /** Looks for due schedules every `everyMs` (local mode; tests call fireDue on their own clock). */
  start(everyMs = 1000): void {
    this.timer ??= setInterval(() => this.fireDue(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

export interface SchedulerEndpoint {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The model behind EventBridge Scheduler's REST-JSON API for the two operations the function calls, so its own
 * @aws-sdk/client-scheduler reaches it by endpoint (AWS_ENDPOINT_URL_SCHEDULER) as it reaches Scheduler:
 * CreateSchedule `POST /schedules/{Name}` and DeleteSchedule `DELETE /schedules/{Name}?groupName=`. Errors carry
 * `x-amzn-errortype`, which the SDK reads the exception from. Signatures are not checked.
 */
export async function startSchedulerEndpoint(model: SchedulerModel): Promise<SchedulerEndpoint> {
  const server = createServer((request, response) => {
    const answer = (status: number, body: object, errorType?: string): void => {
      response.writeHead(status, { 'content-type': 'application/json', ...(errorType && { 'x-amzn-errortype': errorType }) });
      response.end(JSON.stringify(body));
    };
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://local');
      const name = /^\/schedules\/([^/]+)$/.exec(url.pathname)?.[1];
      try {
        if (name === undefined) throw new SchedulerModelError('ValidationException', 400, `Local mode serves CreateSchedule and DeleteSchedule only, not ${request.method ?? ''} ${url.pathname}.`);
        const scheduleName = decodeURIComponent(name);
        if (model.takeFailure()) throw new SchedulerModelError('InternalServerException', 500, 'Injected failure');
        if (request.method === 'POST') {
          const created = model.create(scheduleName, JSON.parse((await readBody(request)) || '{}') as Parameters<SchedulerModel['create']>[1]);
          return answer(200, { ScheduleArn: `arn:aws:scheduler:us-east-1:111122223333:schedule/${created.group}/${created.name}` });
        }
        if (request.method === 'DELETE') {
          model.delete(scheduleName, url.searchParams.get('groupName') ?? 'default');
          return answer(200, {});
        }
        throw new SchedulerModelError('ValidationException', 400, `Local mode serves CreateSchedule and DeleteSchedule only, not ${request.method ?? ''}.`);
      } catch (error) {
        if (error instanceof SchedulerModelError) return answer(error.status, { Message: error.message }, error.code);
        return answer(500, { Message: String(error) }, 'InternalServerException');
      }
    })();
  });
  await listen(server, 0, '127.0.0.1');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}
