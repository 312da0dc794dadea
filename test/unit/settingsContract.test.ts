import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFunctionApp } from '../../infra/local/host.js';
import type { RegisteredFunction } from '../../infra/local/functionsCore.js';
import { ACCESS_SETTING_NAMES } from '../../shared/access.js';
import { CHATOPS_SETTING_NAMES, chatopsSettings } from '../../shared/chatops/settings.js';
import { SETTING_NAMES, loadSettings } from '../../shared/config.js';
import { appSettings, literal, readBicep } from '../helpers/bicep.js';
import { ROOT } from '../helpers/localHost.js';

/**
 * The settings contract between the app, the Azure template and local.settings.json (the file
 * `func start` reads). The registrations are read by loading the app through the local host's
 * FunctionsCore, so the test follows whatever shape the function declarations take.
 */
const resources = readBicep(join(ROOT, 'infra', 'resources.bicep'));
const template = appSettings(resources);
const templateNames = new Set(template.map((s) => s.name));
const localValues = (JSON.parse(readFileSync(join(ROOT, 'local.settings.json'), 'utf8')) as { Values: Record<string, string> }).Values;

/** Settings neither loadSettings nor a binding reads, each with why it is set anyway. */
const PLATFORM_SETTINGS: Record<string, string> = {
  AZURE_CLIENT_ID: "@azure/identity's DefaultAzureCredential picks the user-assigned identity by it (Cosmos, Storage, ARM, telemetry)",
  FUNCTIONS_WORKER_RUNTIME: 'Core Tools needs it locally; on Flex Consumption the runtime is functionAppConfig.runtime instead',
};

/** Settings Flex Consumption no longer takes as app settings (its functionAppConfig carries them). */
const FLEX_DEPRECATED = [
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_EXTENSION_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_NODE_DEFAULT_VERSION',
];

let functions: RegisteredFunction[];
beforeAll(async () => {
  ({ functions } = await loadFunctionApp(join(ROOT, 'functions', 'index.ts'), () => undefined));
});

/** `%NAME%` app-setting references in every binding option of every function. */
function bindingSettingReferences(): Map<string, string[]> {
  const refs = new Map<string, string[]>();
  for (const fn of functions) {
    for (const binding of Object.values(fn.metadata.bindings)) {
      for (const value of Object.values(binding)) {
        const m = typeof value === 'string' ? /^%([^%]+)%$/.exec(value) : null;
        if (m) refs.set(m[1] as string, [...(refs.get(m[1] as string) ?? []), fn.metadata.name]);
      }
    }
  }
  return refs;
}

/** The `connection` setting names of non-HTTP bindings (AzureWebJobsStorage when a storage binding omits it). */
function connectionSettings(): Set<string> {
  const names = new Set<string>();
  for (const fn of functions) {
    for (const binding of Object.values(fn.metadata.bindings)) {
      if (typeof binding.connection === 'string') names.add(binding.connection);
      else if (/^queue/i.test(binding.type)) names.add('AzureWebJobsStorage');
    }
  }
  return names;
}

/** A connection is configured by NAME (a connection string) or NAME__* (an identity-based connection). */
const hasConnection = (names: Set<string>, connection: string) =>
  names.has(connection) || [...names].some((n) => n.startsWith(`${connection}__`));

/** Whether the app reads a setting: its schemas, a %NAME% in a binding, or a binding connection. */
function readByApp(name: string): boolean {
  const connection = name.split('__')[0] as string;
  return (
    SETTING_NAMES.includes(name) ||
    CHATOPS_SETTING_NAMES.includes(name) ||
    ACCESS_SETTING_NAMES.includes(name) ||
    bindingSettingReferences().has(name) ||
    connectionSettings().has(connection)
  );
}

/** Sample values for template settings whose value is an expression, to run them through the app's own validation. */
const EXPRESSION_SAMPLES: Record<string, string> = {
  AzureWebJobsStorage__accountName: 'stlineageabc',
  AzureWebJobsStorage__credential: 'managedidentity',
  AzureWebJobsStorage__clientId: '00000000-0000-0000-0000-000000000001',
  AZURE_CLIENT_ID: '00000000-0000-0000-0000-000000000001',
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=00000000-0000-0000-0000-000000000002',
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=00000000-0000-0000-0000-000000000001;Authorization=AAD',
  COSMOS_ENDPOINT: 'https://cosmos-lineage-abc.documents.azure.com:443/',
  STORAGE_BLOB_ENDPOINT: 'https://stlineageabc.blob.core.windows.net/',
  STORAGE_QUEUE_ENDPOINT: 'https://stlineageabc.queue.core.windows.net/',
  REDACTION_KEY: 'a resolved Key Vault secret of 96 hex digits……',
  SLACK_SIGNING_SECRET: '8f742231b10e8888abcd99yyyzzz85a5',
  TEAMS_WEBHOOK_SECRET: 'dGVhbXMgc2VjcmV0IHRva2Vu',
  APPROVAL_SIGNING_SECRET: 'a resolved Key Vault secret for signed approvals',
  IDENTITY_KEYVAULT_KEY_ID: 'https://kv-lineage-abc.vault.azure.net/keys/identity-wrapping-key',
  OPENLINEAGE_API_KEY: 'a resolved Key Vault secret of 64 hex digits',
  CHATOPS_DEFAULT_WORKSPACE: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws',
  // string(registries): Bicep writes an array as JSON.
  AML_REGISTRIES: '["/subscriptions/s/resourceGroups/rg-shared/providers/Microsoft.MachineLearningServices/registries/shared-reg"]',
  EVENTHUB_CONNECTION__fullyQualifiedNamespace: 'evhns-lineage-abc.servicebus.windows.net',
  EVENTHUB_CONNECTION__credential: 'managedidentity',
  EVENTHUB_CONNECTION__clientId: '00000000-0000-0000-0000-000000000001',
  COMPLIANCE_LINEAGE_SCHEDULE: '0 0 2 * * *',
  COMPLIANCE_DRIFT_SCHEDULE: '0 15 2 * * *',
  COMPLIANCE_RETENTION_SCHEDULE: '0 30 2 * * *',
  COMPLIANCE_PII_SCHEDULE: '0 45 2 * * *',
  COMPLIANCE_INTEGRITY_SCHEDULE: '0 10 * * * *',
  COMPLIANCE_SERVING_SCHEDULE: '0 20 * * * *',
  COMPLIANCE_SCHEMA_DRIFT_SCHEDULE: '0 50 2 * * *',
  RECONCILE_SCHEDULE: '0 */30 * * * *',
  TLOG_SEQUENCE_SCHEDULE: '0 */5 * * * *',
  TLOG_KEYVAULT_KEY_ID: 'https://kv-lineage-abc.vault.azure.net/keys/checkpoint-signing',
  RETENTION_REQUESTS_DAYS: '30',
  RETENTION_RAW_EVENTS_DAYS: '2557',
  RETENTION_GRACE_DAYS: '7',
  AUDIT_WINDOW_DAYS: '2557',
  FRESHNESS_STALE_HOURS: '24',
  RECONCILE_OLDER_THAN_HOURS: '24',
};

function templateAsEnvironment(): Record<string, string> {
  return Object.fromEntries(
    template.map(({ name, value }) => {
      const text = literal(value, resources);
      if (text !== undefined) return [name, text];
      const sample = EXPRESSION_SAMPLES[name];
      if (sample === undefined) throw new Error(`add a sample value for ${name} (its template value is the expression ${value})`);
      return [name, sample];
    }),
  );
}

describe('settings contract: app registrations ↔ template ↔ local.settings.json', () => {
  it('loads every function through the worker contract', () => {
    const names = functions.map((f) => f.metadata.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'captureEventGrid',
        'captureEventHub',
        'enrichResource',
        'projectFanOutPart',
        'complianceLineage',
        'lineage',
      ]),
    );
    expect(bindingSettingReferences().size).toBeGreaterThanOrEqual(6);
  });

  it('every %NAME% in a trigger binding is set by the template and by local.settings.json', () => {
    const missing = [...bindingSettingReferences()].flatMap(([name, fns]) => [
      ...(templateNames.has(name) ? [] : [`template lacks ${name} (${fns.join(', ')})`]),
      ...(name in localValues ? [] : [`local.settings.json lacks ${name} (${fns.join(', ')})`]),
    ]);
    expect(missing).toEqual([]);
  });

  it('every binding connection is configured in both, by connection string or identity', () => {
    const local = new Set(Object.keys(localValues));
    const missing = [...connectionSettings()].flatMap((c) => [
      ...(hasConnection(templateNames, c) ? [] : [`template lacks ${c} or ${c}__*`]),
      ...(hasConnection(local, c) ? [] : [`local.settings.json lacks ${c}`]),
    ]);
    expect(missing).toEqual([]);
  });

  it("the template's settings pass the app's own validation (nothing required is missing, every value has the right shape)", () => {
    const env = templateAsEnvironment();
    const settings = loadSettings(env);
    expect(settings.STORAGE_BLOB_ENDPOINT).toBeDefined(); // managed identity, no connection string
    expect(settings.COSMOS_KEY).toBeUndefined();
    expect(settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING).toContain('Authorization=AAD');
    // Checkpoints are signed in Key Vault, not with a local key file.
    expect(settings.TLOG_KEYVAULT_KEY_ID).toMatch(/^https:\/\/.+\.vault\.azure\.net\/keys\//);
    const chat = chatopsSettings(env);
    expect(chat.SLACK_SIGNING_SECRET).toBeDefined();
    expect(chat.TEAMS_WEBHOOK_SECRET).toBeDefined();
    // In Azure identities are sealed under the vault's key, never a key file on the instance.
    expect(settings.IDENTITY_KEYVAULT_KEY_ID).toBeDefined();
    expect(settings.APPROVAL_SIGNING_SECRET).toBeDefined();
  });

  it("local.settings.json passes the app's own validation", () => {
    const settings = loadSettings(localValues);
    expect(settings.COSMOS_ENDPOINT).toBe('https://127.0.0.1:8081/');
    expect(settings.STORAGE_CONNECTION_STRING).toBe('UseDevelopmentStorage=true');
  });

  it('every setting the template or local.settings.json sets is read by the app or listed as a platform setting', () => {
    const unread = [...templateNames, ...Object.keys(localValues)].filter((n) => !readByApp(n) && !(n in PLATFORM_SETTINGS));
    expect(unread).toEqual([]);
    for (const name of Object.keys(PLATFORM_SETTINGS)) expect(readByApp(name)).toBe(false); // keep the list honest
  });

  it('sets no setting Flex Consumption has deprecated', () => {
    expect(FLEX_DEPRECATED.filter((n) => templateNames.has(n))).toEqual([]);
  });

  it('keeps secrets in Key Vault: the template sets them only as Key Vault references', () => {
    for (const name of ['REDACTION_KEY', 'SLACK_SIGNING_SECRET', 'TEAMS_WEBHOOK_SECRET', 'OPENLINEAGE_API_KEY']) {
      expect(template.find((s) => s.name === name)?.value).toMatch(
        /^'@Microsoft\.KeyVault\(VaultName=\$\{vault\.name\};SecretName=[a-z-]+\)'$/,
      );
    }
    // Set only when the deployer gave one: a reference to a missing secret would stay unresolved.
    expect(template.find((s) => s.name === 'APPROVAL_SIGNING_SECRET')?.value).toBe(
      "empty(approvalSigningSecret) ? '' : '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=approval-signing-secret)'",
    );
    expect(template.find((s) => s.name === 'IDENTITY_KEYVAULT_KEY_ID')?.value).toBe('vault::identityKey.properties.keyUri');
    expect(() =>
      loadSettings({ ...localValues, APPROVAL_SIGNING_SECRET: '@Microsoft.KeyVault(VaultName=kv;SecretName=approval-signing-secret)' }),
    ).toThrow(/APPROVAL_SIGNING_SECRET: is a Key Vault reference/);
    // And the app refuses a reference App Service left unresolved instead of using it as the secret.
    expect(() => loadSettings({ ...localValues, REDACTION_KEY: '@Microsoft.KeyVault(VaultName=kv;SecretName=redaction-key)' })).toThrow(
      /REDACTION_KEY: is a Key Vault reference/,
    );
    expect(() => chatopsSettings({ SLACK_SIGNING_SECRET: '@Microsoft.KeyVault(VaultName=kv;SecretName=slack-signing-secret)' })).toThrow(
      /SLACK_SIGNING_SECRET: is a Key Vault reference/,
    );
  });

  it('the app reads settings only through its validated schemas', () => {
    const files = (dir: string): string[] =>
      readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
      );
    const readers = [...files('functions'), ...files('shared')].filter((f) => /process\.env\b/.test(readFileSync(join(ROOT, f), 'utf8')));
    // access.ts reads its own (validated) settings on every request: roles, key-only reach, workspace mapping.
    expect(readers.sort()).toEqual([join('shared', 'access.ts'), join('shared', 'chatops', 'settings.ts'), join('shared', 'config.ts')]);
  });
});
