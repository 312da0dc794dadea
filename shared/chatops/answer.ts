/**
 * A platform-neutral chat answer: a title, a few short lines of the most useful facts, and a link
 * to the full JSON. Chat is for a glance; anything longer belongs behind the link, so every answer
 * is bounded here before a platform renders it.
 */
export interface Answer {
  title: string;
  lines: string[];
  /** The `/api/...` URL that returns the complete answer. */
  link?: string;
  /** The lineage explorer's view of the same thing (`/api/explorer/...`), for people rather than programs. */
  view?: string;
  tone: 'good' | 'warning' | 'error' | 'info';
}

export const LIMITS = {
  /** Lines below the title; with the title and the link, at most ~15 lines on screen. */
  lines: 12,
  lineChars: 240,
  /** Slack header blocks take at most 150 characters of plain text. */
  titleChars: 150,
  /** Items named in one line before "… and N more". */
  items: 6,
};

export function truncate(text: string, max: number): string {
  const chars = [...text]; // by code point, so an emoji is never cut in half
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

export const more = (n: number) => `… and ${n} more`;
const MORE = /^… and (\d+) more$/;

/** "a, b, c … and 4 more" */
export function listed(items: string[], max = LIMITS.items): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} ${more(items.length - max)}`;
}

/**
 * The first `n` lines, then one "… and N more" for the rest. A trailing marker from an earlier cut
 * is counted in, so cutting twice still reports how many lines the reader does not see.
 */
export function keepFirst(lines: string[], n: number): string[] {
  const marker = MORE.exec(lines[lines.length - 1] ?? '');
  const items = marker ? lines.slice(0, -1) : lines;
  const kept = items.slice(0, Math.max(0, n));
  const rest = (marker ? Number(marker[1]) : 0) + items.length - kept.length;
  return rest > 0 ? [...kept, more(rest)] : kept;
}

/** At most `max` lines, the last saying how many were dropped. */
export function capLines(lines: string[], max: number): string[] {
  return lines.length <= max ? lines : keepFirst(lines, max - 1);
}

/** As many leading lines as fit in `maxChars` once joined with newlines, the last saying how many were dropped. */
export function fitChars(lines: string[], maxChars: number): string[] {
  const size = (ls: string[]) => ls.reduce((n, l) => n + l.length + 1, -1);
  for (let n = lines.length; n > 0; n--) {
    const candidate = keepFirst(lines, n);
    if (size(candidate) <= maxChars) return candidate;
  }
  return keepFirst(lines, 0);
}

export function bounded(answer: Answer): Answer {
  return {
    ...answer,
    title: truncate(answer.title.replace(/\s+/g, ' ').trim(), LIMITS.titleChars),
    lines: capLines(
      answer.lines.map((l) => truncate(l.replace(/\s+/g, ' ').trim(), LIMITS.lineChars)),
      LIMITS.lines,
    ),
  };
}
