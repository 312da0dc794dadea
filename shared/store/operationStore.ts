import type { ContainerClient } from '@azure/storage-blob';
import { z } from 'zod';
import { CorruptDocumentError } from '../errors.js';
import { JsonQueue } from './jsonQueue.js';
import { storeCall, unlessNotFound } from './storeErrors.js';

/**
 * Long operations (compliance runs, replays) outlive the HTTP request that starts them: the
 * request writes a status record and queues a message; runOperation works the message and keeps
 * the record current. Records are one JSON blob each (`{id}.json`) in OPERATIONS_CONTAINER.
 */
export const OPERATION_KINDS = ['compliance-run', 'replay'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];
export const OPERATION_STATES = ['queued', 'running', 'succeeded', 'failed'] as const;

export const operationSchema = z
  .object({
    id: z.uuid(),
    kind: z.enum(OPERATION_KINDS),
    state: z.enum(OPERATION_STATES),
    /** The request body as the start route parsed it: what the worker runs. */
    request: z.record(z.string(), z.unknown()),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    startedAt: z.iso.datetime().optional(),
    finishedAt: z.iso.datetime().optional(),
    /** Deliveries that started the work: more than one after a worker recycle or a failure. */
    attempts: z.number().int().min(0),
    progress: z.object({ done: z.number().int().min(0), unit: z.string() }).optional(),
    /** The answer the synchronous route used to give (200 body), once succeeded. */
    result: z.unknown().optional(),
    /** Problem details (RFC 9457), once failed; `lastError` is the latest failed delivery's reason while retries remain. */
    error: z.object({ status: z.number().int(), code: z.string(), title: z.string(), detail: z.string() }).loose().optional(),
    lastError: z.string().optional(),
  })
  .meta({ id: 'Operation' });
export type Operation = z.infer<typeof operationSchema>;

export const isFinished = (op: Operation): boolean => op.state === 'succeeded' || op.state === 'failed';

export class OperationStore {
  constructor(readonly container: ContainerClient) {}

  async ensure(): Promise<void> {
    await storeCall(`creating the container ${this.container.containerName}`, () => this.container.createIfNotExists());
  }

  async get(id: string): Promise<Operation | undefined> {
    // One GET: downloadToBuffer reads in ranges, which can straddle the worker's next write.
    const text = await unlessNotFound(
      storeCall(`reading operation ${id}`, async () => {
        const body = (await this.container.getBlockBlobClient(`${id}.json`).download()).readableStreamBody;
        const chunks: Buffer[] = [];
        for await (const chunk of body ?? []) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
        return Buffer.concat(chunks).toString('utf8');
      }),
    );
    if (text === undefined) return undefined;
    const parsed = operationSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new CorruptDocumentError(`operation ${id} is not an operation record`);
    return parsed.data;
  }

  /** Writes the record (`create`: only if no record has this id yet). */
  async put(op: Operation, create = false): Promise<void> {
    const text = JSON.stringify(op);
    await storeCall(`writing operation ${op.id}`, () =>
      this.container.getBlockBlobClient(`${op.id}.json`).upload(text, Buffer.byteLength(text), {
        blobHTTPHeaders: { blobContentType: 'application/json' },
        conditions: create ? { ifNoneMatch: '*' } : undefined,
      }),
    );
  }
}

/**
 * What the operations queue carries: an operation to run, or a chat answer to compute and post
 * later (its fields are the platform's; chatops parses them). Base64 JSON, the queue trigger's
 * default encoding.
 */
export type OperationMessage = { kind: 'operation'; id: string } | { kind: 'slack-answer'; [field: string]: unknown };

export class OperationQueue extends JsonQueue<OperationMessage> {
  async send(message: OperationMessage): Promise<void> {
    await this.enqueue([message]);
  }
}
