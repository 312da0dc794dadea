import { z } from 'zod';

/**
 * What the fan-out queue carries: "project part N of the logged event HASH". The event itself
 * stays in the raw event log (the evidence); the worker reads it there and cuts the same parts
 * again, so a message is a few dozen bytes whatever the event's size.
 */
export const fanOutPartSchema = z
  .object({
    kind: z.literal('fanout-part'),
    hash: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256: and 64 hex digits'),
    /** 1 to parts - 1: part 0 is projected by capture itself. */
    part: z.number().int().min(1),
    parts: z.number().int().min(2),
    /** When capture received the event, kept in provenance as for the part projected inline. */
    receivedAt: z.iso.datetime({ offset: true }),
  })
  .refine((m) => m.part < m.parts, { path: ['part'], message: 'must be less than parts' });
export type FanOutPart = z.infer<typeof fanOutPartSchema>;
