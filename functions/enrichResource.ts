import { storageQueueFunction } from '../shared/api/app.js';
import { getServices } from '../shared/composition.js';
import { UpstreamError } from '../shared/enrichment/armClient.js';
import { enrichmentMessageSchema } from '../shared/ingest/enrichmentMessage.js';
import { describeIssues, fromZodIssues } from '../shared/ingest/issues.js';
import { contentHash } from '../shared/util/canonicalJson.js';
import { enrich } from '../shared/usecases/enrich.js';

/**
 * Works the enrichment queue: fetch the named resource from the Azure ML REST API and capture it.
 * Throttling and outages throw, so the queue redelivers with backoff; on the last delivery (or
 * for answers a retry cannot change, such as 403) the request goes to the dead-letter store with
 * its reason, replayable once fixed.
 */
export const enrichResource = storageQueueFunction('enrichResource', {
  queueName: '%ENRICHMENT_QUEUE%',
  connection: 'AzureWebJobsStorage',
  handler: async (message, context) => {
    const services = await getServices();
    const dequeueCount = Number((context.triggerMetadata as { dequeueCount?: unknown } | undefined)?.dequeueCount ?? 1);
    const deadLetter = async (reason: string, issues: Array<{ path: string; message: string }>) => {
      await services.deadLetters.put({
        hash: contentHash(message),
        channel: 'enrichment',
        receivedAt: new Date().toISOString(),
        reason,
        issues,
        body: message,
      });
      context.warn(`dead-lettered enrichment request: ${reason}`);
    };
    const parsed = enrichmentMessageSchema.safeParse(message);
    if (!parsed.success) {
      const issues = fromZodIssues(parsed.error.issues);
      return deadLetter(`not an enrichment request: ${describeIssues(issues)}`, issues);
    }
    try {
      const outcome = await enrich(services.enrich, parsed.data, { redelivered: dequeueCount > 1 });
      context.log(`enriched ${parsed.data.kind} ${parsed.data.armId.split('/providers/')[1] ?? parsed.data.armId}: ${outcome.status}`);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const permanent = error instanceof UpstreamError;
      if (permanent || dequeueCount >= services.settings.ENRICHMENT_MAX_ATTEMPTS) {
        return deadLetter(`${permanent ? 'refused by the REST API' : `failed after ${dequeueCount} deliveries`}: ${reason}`, [
          { path: permanent ? '(upstream)' : '(transient)', message: reason },
        ]);
      }
      throw error;
    }
  },
});
