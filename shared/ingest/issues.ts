import type { z } from 'zod';

/** One reason an event was refused: where, and what was expected. */
export interface ValidationIssue {
  path: string;
  message: string;
}

export function fromZodIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): ValidationIssue[] {
  return issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter((p) => p.length > 0).join('.') || '(root)',
    message: issue.message,
  }));
}

export function describeIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('; ');
}
