import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { backfillSpec, checkBackfill } from '../../infra/cli/backfill.js';
import { closuresSpec } from '../../infra/cli/closures.js';
import { confirm, parseCommand } from '../../infra/cli/command.js';
import { checkReplay, replaySpec } from '../../infra/cli/replay.js';

/** Argument handling of the command-line tools: help, unknown and contradictory flags, confirmation. */
const WS = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws';

describe('command-line tools', () => {
  it('answer --help (and -h) with their options instead of failing', () => {
    for (const [spec, check] of [
      [replaySpec, checkReplay],
      [backfillSpec, checkBackfill],
      [closuresSpec, undefined],
    ] as const) {
      const parsed = parseCommand(spec, ['--help'], check);
      expect(parsed.kind).toBe('help');
      const text = parsed.kind === 'help' ? parsed.text : '';
      expect(text).toContain(`Usage: ${spec.name} [options]`);
      for (const name of Object.keys(spec.options)) expect(text).toContain(`--${name}`);
      expect(text).toContain('-h, --help');
      expect(parseCommand(spec, ['-h'], check).kind).toBe('help');
    }
    expect(parseCommand(backfillSpec, ['--help'], checkBackfill).kind).toBe('help'); // even without the required --workspace
  });

  it('refuse unknown options and stray arguments by name', () => {
    expect(parseCommand(replaySpec, ['--rebuilt'], checkReplay)).toEqual({
      kind: 'error',
      message: expect.stringContaining("'--rebuilt'"),
    });
    expect(parseCommand(closuresSpec, ['now'])).toMatchObject({ kind: 'error', message: expect.stringContaining("'now'") });
    expect(parseCommand(backfillSpec, ['--workspace'], checkBackfill)).toMatchObject({
      kind: 'error',
      message: expect.stringContaining('--workspace'),
    });
  });

  it('replay refuses contradictory flags with a reason', () => {
    expect(parseCommand(replaySpec, ['--rebuild', '--dead-letters-only'], checkReplay)).toEqual({
      kind: 'error',
      message: '--rebuild deletes the graph and --dead-letters-only replays no event to rebuild it; drop one of them',
    });
    expect(parseCommand(replaySpec, ['--events-only', '--dead-letters-only'], checkReplay)).toMatchObject({
      kind: 'error',
      message: expect.stringContaining('would replay nothing'),
    });
    expect(parseCommand(replaySpec, ['--yes'], checkReplay)).toMatchObject({
      kind: 'error',
      message: expect.stringContaining('--rebuild'),
    });
    expect(parseCommand(replaySpec, ['--rebuild', '-y'], checkReplay)).toEqual({ kind: 'run', values: { rebuild: true, yes: true } });
    expect(parseCommand(replaySpec, ['--events-only'], checkReplay)).toEqual({ kind: 'run', values: { 'events-only': true } });
  });

  it('backfill needs a workspace ARM id', () => {
    expect(parseCommand(backfillSpec, [], checkBackfill)).toMatchObject({ kind: 'error', message: expect.stringContaining('required') });
    expect(parseCommand(backfillSpec, ['--workspace', 'ws-credit'], checkBackfill)).toMatchObject({
      kind: 'error',
      message: expect.stringContaining('"ws-credit"'),
    });
    expect(parseCommand(backfillSpec, ['-w', WS, '--restart'], checkBackfill)).toEqual({
      kind: 'run',
      values: { workspace: WS, restart: true },
    });
  });

  it('asks before destroying: yes only on y/yes from a terminal, no without one', async () => {
    const ask = async (answer: string, tty: boolean) => {
      const input = Object.assign(new PassThrough(), { isTTY: tty });
      const output = new PassThrough();
      const asked = confirm('Delete?', { input, output });
      input.write(`${answer}\n`);
      return asked;
    };
    expect(await ask('y', true)).toBe(true);
    expect(await ask('YES', true)).toBe(true);
    expect(await ask('', true)).toBe(false);
    expect(await ask('n', true)).toBe(false);
    expect(await ask('y', false)).toBe(false); // piped input cannot confirm
  });
});
