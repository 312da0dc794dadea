import cliProgress from 'cli-progress';
import { createInterface } from 'node:readline/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * What the command-line tools share: options parsed by Node's own `util.parseArgs` (strict, so a
 * misspelt flag is refused rather than ignored), `--help`, checks for flags that contradict each
 * other, a confirmation for destructive steps, and progress bars (cli-progress) with totals and ETA.
 */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Shown in --help, e.g. FILE. */
  value?: string;
  description: string;
}

export interface CommandSpec {
  /** How it is run, e.g. `npm run replay --`. */
  name: string;
  summary: string;
  options: Record<string, OptionSpec>;
  /** Paragraphs after the options. */
  notes?: string[];
}

export type Values = Record<string, string | boolean | undefined>;

export type Parsed = { kind: 'run'; values: Values } | { kind: 'help'; text: string } | { kind: 'error'; message: string };

export function helpText(spec: CommandSpec): string {
  const help: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' };
  const options: Record<string, OptionSpec> = { ...spec.options, help };
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    return `  ${flag.padEnd(30)} ${o.description}`;
  });
  return [
    `Usage: ${spec.name} [options]`,
    '',
    spec.summary,
    '',
    'Options:',
    ...rows,
    ...(spec.notes ?? []).flatMap((n) => ['', n]),
    '',
  ].join('\n');
}

/**
 * Parses argv against the spec. `check` returns a message when the values make no sense together
 * (contradictory or missing flags); the message is shown with a pointer to --help.
 */
export function parseCommand(spec: CommandSpec, argv: string[], check?: (values: Values) => string | undefined): Parsed {
  const all: Record<string, OptionSpec> = { ...spec.options, help: { type: 'boolean', short: 'h', description: '' } };
  const options: NonNullable<ParseArgsConfig['options']> = Object.fromEntries(
    Object.entries(all).map(([name, o]) => [name, o.short ? { type: o.type, short: o.short } : { type: o.type }]),
  );
  let values: Values;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }) as { values: Values });
  } catch (error) {
    return { kind: 'error', message: error instanceof Error ? error.message : String(error) };
  }
  if (values.help === true) return { kind: 'help', text: helpText(spec) };
  const problem = check?.(values);
  return problem ? { kind: 'error', message: problem } : { kind: 'run', values };
}

/** Runs a command: --help prints and exits 0; a usage error prints and exits 2; a failure exits 1. */
export function runCommand(
  spec: CommandSpec,
  check: ((values: Values) => string | undefined) | undefined,
  main: (values: Values) => Promise<void>,
  argv = process.argv.slice(2),
): void {
  const parsed = parseCommand(spec, argv, check);
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    return;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`${spec.name}: ${parsed.message}\nRun with --help for the options.\n`);
    process.exitCode = 2;
    return;
  }
  main(parsed.values).catch((error: unknown) => {
    process.stderr.write(`${spec.name} failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

/**
 * Asks a yes/no question on the terminal; anything but y/yes is no. Without a terminal on stdin
 * nobody can answer, so the answer is no (pass --yes to proceed unattended).
 */
export async function confirm(
  question: string,
  io: { input: NodeJS.ReadableStream & { isTTY?: boolean }; output: NodeJS.WritableStream } = {
    input: process.stdin,
    output: process.stderr,
  },
): Promise<boolean> {
  if (!io.input.isTTY) return false;
  const rl = createInterface({ input: io.input, output: io.output });
  try {
    return /^(y|yes)$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** A progress bar on stderr with value/total, percentage, ETA and elapsed time; quiet when stderr is not a terminal. */
export function progressBar(label: string, unit: string): cliProgress.SingleBar {
  return new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | ETA {eta_formatted} | {duration_formatted}{detail}`,
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
}

/** True when the module at `url` is the program Node was started with (not imported by a test). */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(url);
}
