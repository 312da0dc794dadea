/**
 * Where a receiver starts reading a partition. The Azure client sends its event position as an
 * AMQP source filter (`apache.org:selector-filter:string`) holding a SQL-like expression on the
 * event's annotations:
 *
 *   amqp.annotation.x-opt-offset > '-1'           earliest
 *   amqp.annotation.x-opt-offset > '@latest'      only events enqueued after the link opens
 *   amqp.annotation.x-opt-offset >= '4096'        from an offset (a checkpoint uses `>`)
 *   amqp.annotation.x-opt-sequence-number > '41'  from a sequence number
 *   amqp.annotation.x-opt-enqueued-time > '1714550400000'  after a time (milliseconds since the epoch)
 */
export type StartPosition = { kind: 'latest' } | { kind: 'offset' | 'sequenceNumber' | 'enqueuedTime'; value: number; inclusive: boolean };

const ANNOTATIONS = {
  'x-opt-offset': 'offset',
  'x-opt-sequence-number': 'sequenceNumber',
  'x-opt-enqueued-time': 'enqueuedTime',
} as const;

const FILTER = /^\s*amqp\.annotation\.(x-opt-offset|x-opt-sequence-number|x-opt-enqueued-time)\s*(>=|>)\s*'([^']*)'\s*$/i;

/** Parses a selector filter; throws with the expression quoted when it is not one the service accepts. */
export function parseSelectorFilter(expression: string): StartPosition {
  const m = FILTER.exec(expression);
  if (!m) throw new Error(`unsupported selector filter "${expression}"`);
  const kind = ANNOTATIONS[(m[1] as string).toLowerCase() as keyof typeof ANNOTATIONS];
  const raw = m[3] as string;
  if (kind === 'offset' && raw === '@latest') return { kind: 'latest' };
  const value = Number(raw);
  if (raw === '' || !Number.isSafeInteger(value)) throw new Error(`selector filter "${expression}" needs an integer, got '${raw}'`);
  return { kind, value, inclusive: m[2] === '>=' };
}

/** What a position compares against on a stored event. */
export interface Positioned {
  sequenceNumber: number;
  offset: number;
  enqueuedTime: Date;
}

/** True when the event is at or after the start position (latest is resolved by the caller). */
export function isAtOrAfter(event: Positioned, start: Exclude<StartPosition, { kind: 'latest' }>): boolean {
  const actual =
    start.kind === 'offset' ? event.offset : start.kind === 'sequenceNumber' ? event.sequenceNumber : event.enqueuedTime.getTime();
  return start.inclusive ? actual >= start.value : actual > start.value;
}
