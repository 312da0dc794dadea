import { z } from 'zod';
import { parseThreshold } from './util/metricThreshold.js';

/** What the gate can require: these lineage facts, or a threshold on a metric (`metric:auc>=0.8`). */
export const GATE_REQUIREMENTS = ['data', 'code', 'environment', 'job', 'metrics', 'approval'] as const;
export const gateRequirementSchema = z
  .string()
  .refine((r) => (GATE_REQUIREMENTS as readonly string[]).includes(r) || parseThreshold(r) !== undefined, {
    message: `expected one of ${GATE_REQUIREMENTS.join(', ')} or metric:NAME>=VALUE (also <=, >, <)`,
  });
/** `a, b` -> [`a`, `b`]. */
const commaList = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** An Azure ML registry's ARM id, every segment free of what could steer a request path (armIdProblem). */
const REGISTRY_ID_RE =
  /^\/subscriptions\/[^/?#%\\\s]+\/resourceGroups\/[^/?#%\\\s]+\/providers\/Microsoft\.MachineLearningServices\/registries\/[^/?#%\\\s]+$/i;
const registryIdsSchema = z
  .string()
  .transform((s, ctx) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected a JSON array of registry ARM ids' });
      return z.NEVER;
    }
  })
  .pipe(
    z
      .array(
        z
          .string()
          .regex(
            REGISTRY_ID_RE,
            'expected /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.MachineLearningServices/registries/NAME',
          )
          .refine((id) => !id.split('/').some((seg) => seg === '.' || seg === '..'), 'a registry id has no "." or ".." segment'),
      )
      .max(100),
  );

/**
 * App Service leaves a Key Vault reference it could not resolve (secret missing, access not yet
 * granted) in the setting as written. Such a value must never be used as the secret itself.
 */
export function isUnresolvedKeyVaultReference(value: string): boolean {
  return /^@Microsoft\.KeyVault\(/i.test(value.trim());
}
export const UNRESOLVED_REFERENCE =
  'is a Key Vault reference App Service could not resolve (is the secret in the vault, and may the app read it?)';

/**
 * Every setting the app reads, with its default. Validated once, at the composition root, so a
 * misconfigured deployment fails at its first invocation with a message naming the setting.
 */
const settingsObject = z.object({
  COSMOS_ENDPOINT: z.url({ message: 'COSMOS_ENDPOINT must be the https URL of a Cosmos DB account' }),
  /** Account key. Leave unset in Azure: the app then uses its managed identity. */
  COSMOS_KEY: z.string().min(1).optional(),
  COSMOS_DATABASE: z.string().min(1).default('lineage'),
  /** Connection string for Blob Storage (Azurite locally). Prefer STORAGE_BLOB_ENDPOINT in Azure. */
  STORAGE_CONNECTION_STRING: z.string().min(1).optional(),
  /** Blob endpoint reached with the managed identity, e.g. https://acct.blob.core.windows.net. */
  STORAGE_BLOB_ENDPOINT: z.url().optional(),
  DEADLETTER_CONTAINER: z
    .string()
    .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/)
    .default('deadletters'),
  /** Azure ML management REST API; a loopback http:// stand-in needs no credential. */
  AZUREML_MANAGEMENT_ENDPOINT: z.url().default('https://management.azure.com'),
  AZUREML_API_VERSION: z.string().min(1).default('2025-12-01'),
  /**
   * Replaces the scheme and host of the workspaces' MLflow tracking URIs (REGION.api.azureml.ms).
   * Unset in Azure; unset with a loopback management endpoint, the stand-in there serves MLflow too.
   */
  AZUREML_MLFLOW_ENDPOINT: z.url().optional(),
  /**
   * Azure ML registries whose assets are read when an event names them by `azureml://registries/NAME/…`
   * (which says no subscription or resource group), as a JSON array of their ARM ids: the template
   * passes its `registries` parameter (azd env AML_REGISTRIES). Registry assets named by their ARM id
   * (Activity Log, registry logs) are read without it.
   */
  AML_REGISTRIES: registryIdsSchema.default([]),
  /** Per-request timeout and attempts (429 waits for Retry-After; 5xx and timeouts back off). */
  AZUREML_REST_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  AZUREML_REST_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(5),
  /** Queue endpoint reached with the managed identity (with STORAGE_BLOB_ENDPOINT). */
  STORAGE_QUEUE_ENDPOINT: z.url().optional(),
  ENRICHMENT_QUEUE: z
    .string()
    .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/)
    .default('enrichment'),
  /**
   * Queue of the closure stage (function maintainClosures): capture nudges it when an event stores
   * new links, and the stage brings closures up to date in batches, off the capture path.
   */
  CLOSURE_QUEUE: z
    .string()
    .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/)
    .default('closures'),
  /** Deliveries of one enrichment message before it is dead-lettered (the queue trigger's maxDequeueCount). */
  ENRICHMENT_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  /**
   * Queue of the parts of an event's graph work beyond what capture does inline (an event naming
   * thousands of models), worked by projectFanOutPart.
   */
  FANOUT_QUEUE: z
    .string()
    .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/)
    .default('fanout'),
  /** Deliveries of one fan-out part before it is dead-lettered (the queue trigger's maxDequeueCount). */
  FANOUT_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  /**
   * Queue of long operations (compliance runs, replays started over HTTP) and deferred chat
   * answers, worked by runOperation; their status records live in OPERATIONS_CONTAINER.
   */
  OPERATIONS_QUEUE: z
    .string()
    .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/)
    .default('operations'),
  OPERATIONS_CONTAINER: z
    .string()
    .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/)
    .default('operations'),
  /** Deliveries of one operation before it is recorded as failed (the queue trigger's maxDequeueCount). */
  OPERATIONS_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  /**
   * Key for the keyed hashes that replace caller identities before anything is stored. Set a
   * secret per deployment (the Bicep template generates one); the default is for local use only.
   */
  REDACTION_KEY: z
    .string()
    .min(16)
    .refine((s) => !isUnresolvedKeyVaultReference(s), UNRESOLVED_REFERENCE)
    .default('local-development-redaction-key'),
  /** What a model version needs to pass the gate: any of data, code, environment, job, metrics, approval, metric:NAME>=VALUE. */
  GATE_REQUIRE: z.string().default('data,code,environment,job').transform(commaList).pipe(z.array(gateRequirementSchema)),
  /** Per-metric direction for diffs, `NAME:higher|lower` comma-separated; names not listed go by convention (loss lower, auc higher). */
  METRIC_DIRECTIONS: z
    .string()
    .regex(/^\s*(?:[^,:]+:(?:higher|lower)\s*(?:,\s*|$))*$/i, 'expected NAME:higher or NAME:lower, comma-separated')
    .default(''),
  /**
   * How approvals are read from model versions' tags, properties and registry stage,
   * `[approved@|rejected@]tag:KEY=VALUES;property:KEY=VALUES;stage=VALUES` (VALUES `a|b` or `*`);
   * unset: stage production/approved, or an approved_by/approver tag.
   */
  APPROVAL_RULES: z
    .string()
    .regex(
      /^\s*(?:(?:(?:approved|rejected)@)?(?:(?:tag|property):[^=;]+|stage)=[^;]+\s*(?:;\s*|$))+$/i,
      'expected rules like tag:stage=production|approved;tag:approved_by=*',
    )
    .optional(),
  /** Shared secret for signed approvals (X-Lineage-Signature); unset: approvals need the approver or admin role. */
  APPROVAL_SIGNING_SECRET: z
    .string()
    .min(16)
    .refine((s) => !isUnresolvedKeyVaultReference(s), UNRESOLVED_REFERENCE)
    .optional(),
  /** Azure Key Vault RSA key that wraps the data keys sealing identities, e.g. https://vault.vault.azure.net/keys/identities. */
  IDENTITY_KEYVAULT_KEY_ID: z.url().optional(),
  /** Without a Key Vault key: the local key file (256-bit, base64) that wraps them, created on first start. */
  IDENTITY_LOCAL_KEY_FILE: z.string().min(1).default('.identity/identity-wrapping-key'),
  /** Blob container of sealed identities and the reveal log. */
  IDENTITY_CONTAINER: z
    .string()
    .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/)
    .default('identities'),
  /** Blob container for compliance reports, run state, legal holds and the retention archive. */
  COMPLIANCE_CONTAINER: z
    .string()
    .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/)
    .default('compliance'),
  /** Retention policies, in days, per kind of record (raw events are the audit evidence). */
  RETENTION_RAW_EVENTS_DAYS: z.coerce.number().int().min(1).max(36_500).default(2557),
  RETENTION_REQUESTS_DAYS: z.coerce.number().int().min(1).max(36_500).default(30),
  /** Days past its policy before a record not yet purged counts as kept too long (timer outages, TTL lag). */
  RETENTION_GRACE_DAYS: z.coerce.number().int().min(0).max(365).default(7),
  /** Records referenced by the graph and younger than this must still exist, or be tombstoned by policy. */
  AUDIT_WINDOW_DAYS: z.coerce.number().int().min(1).max(36_500).default(2557),
  /** A deployment serving now whose latest observation (of it or its endpoint) is older than this is listed as stale (compliance `freshness`). */
  FRESHNESS_STALE_HOURS: z.coerce.number().min(0.1).max(8760).default(24),
  /**
   * The reconcile timer (reconcileServing, RECONCILE_SCHEDULE) re-reads every online endpoint and
   * deployment serving now, and those not serving and jobs not finished whose latest observation is older than this.
   */
  RECONCILE_OLDER_THAN_HOURS: z.coerce.number().min(0).max(8760).default(24),
  /** Azure Monitor (Application Insights); unset: telemetry stays off and is never loaded. */
  APPLICATIONINSIGHTS_CONNECTION_STRING: z.string().min(1).optional(),
  /** `Authorization=AAD`: export with the managed identity (Application Insights without local auth). */
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: z.string().min(1).optional(),
  /** The evidence log's origin: first line of every checkpoint and the key name of its signatures. */
  TLOG_ORIGIN: z
    .string()
    .regex(/^[^\s+]+$/, 'no spaces or plus signs (a schema-less URL, e.g. lineage.example.com/raw-events)')
    .default('aml-lineage.local/raw-events'),
  /** Azure Key Vault key (EC P-256) that signs checkpoints, e.g. https://vault.vault.azure.net/keys/checkpoints. */
  TLOG_KEYVAULT_KEY_ID: z.url().optional(),
  /** Without a Key Vault key: the local PEM key file that signs checkpoints, created on first start. */
  TLOG_LOCAL_KEY_FILE: z.string().min(1).default('.tlog/checkpoint-signing-key.pem'),
  /** Blob container for signed checkpoints (time-based immutability in Azure). */
  TLOG_CHECKPOINT_CONTAINER: z
    .string()
    .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/)
    .default('checkpoints'),
  /** How far back each sequencer run looks again for events whose store timestamp came late (clock skew). */
  TLOG_SCAN_OVERLAP_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /**
   * The key OpenLineage clients send (their HTTP transport's `api_key` auth: `Authorization: Bearer
   * KEY`; `x-functions-key` and `?code=` work too) to POST /api/v1/lineage. In Azure a Key Vault
   * reference; locally the host uses LOCAL_FUNCTION_KEY when this is unset. Unset: the route is closed.
   */
  OPENLINEAGE_API_KEY: z.string().min(1).optional(),
  /** Publishing our lineage as OpenLineage RunEvents: the Event Hub's name. Unset: nothing is published. */
  OPENLINEAGE_EVENTHUB_NAME: z.string().min(1).optional(),
  /** Its namespace: a connection string, or the host name (NS.servicebus.windows.net) for the managed identity. */
  OPENLINEAGE_EVENTHUB_CONNECTION: z.string().min(1).optional(),
  /** Last good version (endpoint timeline, rollback): the traffic share a version must have taken, in percent… */
  ROLLBACK_MIN_TRAFFIC_PERCENT: z.coerce.number().min(0).max(100).default(10),
  /** …for at least this many minutes in total, with no drift signal while it served and the gate passed. */
  ROLLBACK_MIN_SERVICE_MINUTES: z.coerce.number().int().min(0).max(525_600).default(60),
  LINEAGE_MAX_DEPTH: z.coerce.number().int().min(1).max(50).default(50),
  LINEAGE_MAX_NODES: z.coerce.number().int().min(1).max(100_000).default(1000),
  /**
   * The app's public origin (a gateway or custom domain) for links to the lineage explorer in
   * compliance reports; chat answers read it too (chatops/settings.ts).
   */
  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Set by the platform (and by the local host, as Core Tools does): the app's host name, for the same links when PUBLIC_BASE_URL is unset. */
  WEBSITE_HOSTNAME: z
    .string()
    .regex(/^[\w.-]+(?::\d+)?$/, 'must be a host name, optionally with a port')
    .optional(),
});
const settingsSchema = settingsObject
  .refine((s) => s.STORAGE_CONNECTION_STRING !== undefined || s.STORAGE_BLOB_ENDPOINT !== undefined, {
    message: 'set STORAGE_CONNECTION_STRING (local) or STORAGE_BLOB_ENDPOINT (managed identity)',
    path: ['STORAGE_BLOB_ENDPOINT'],
  })
  .refine((s) => (s.OPENLINEAGE_EVENTHUB_NAME === undefined) === (s.OPENLINEAGE_EVENTHUB_CONNECTION === undefined), {
    message: 'set both OPENLINEAGE_EVENTHUB_NAME and OPENLINEAGE_EVENTHUB_CONNECTION to publish OpenLineage, or neither',
    path: ['OPENLINEAGE_EVENTHUB_CONNECTION'],
  });

export type Settings = z.infer<typeof settingsSchema>;

/** The name of every setting the app reads through loadSettings (the settings contract test uses it). */
export const SETTING_NAMES: readonly string[] = Object.keys(settingsObject.shape);

export function loadSettings(env: Record<string, string | undefined> = process.env): Settings {
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = settingsSchema.safeParse(input);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => `${i.path.join('.') || 'settings'}: ${i.message}`).join('; ');
    throw new Error(`Invalid settings: ${details}`);
  }
  return parsed.data;
}
