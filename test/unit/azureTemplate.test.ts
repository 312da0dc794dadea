import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REWIND_CONSUMER_GROUP } from '../../infra/cli/rewind.js';
import { appSettings, literal, readBicep, resourceBody } from '../helpers/bicep.js';
import { ROOT } from '../helpers/localHost.js';

/**
 * Keeps the Azure template honest where no Bicep compiler runs: the facts the README and the
 * issue rest on, checked against the text of infra/ (the Azure documentation pages behind each
 * are listed in README, "Deploy to Azure").
 */
const infra = (...p: string[]) => join(ROOT, 'infra', ...p);
const main = readBicep(infra('main.bicep'));
const resources = readBicep(infra('resources.bicep'));
const workspace = readBicep(infra('modules', 'workspace.bicep'));
const registry = readBicep(infra('modules', 'registry.bicep'));
const subscriptions = readBicep(infra('eventSubscriptions.bicep'));
const subscription = readBicep(infra('modules', 'eventSubscription.bicep'));
const all = [main, resources, workspace, registry, subscriptions, subscription];
const azureYaml = readFileSync(join(ROOT, 'azure.yaml'), 'utf8');
const setting = (name: string) => appSettings(resources).find((s) => s.name === name)?.value;

/** Preview API versions kept on purpose, with why (no generally available version has what we use). */
const PREVIEW_ALLOWED: Record<string, string> = {
  'Microsoft.Insights/diagnosticSettings': 'the only GA version, 2016-09-01, has no eventHubName',
};

describe('Azure template', () => {
  it('uses generally available API versions except where none has what the template needs', () => {
    const previews = all.flatMap((f) => f.apiVersions).filter((v) => /preview/i.test(v.apiVersion));
    expect(previews.filter((v) => !(v.type in PREVIEW_ALLOWED))).toEqual([]);
    expect(previews.length).toBeGreaterThan(0); // the allow-list is used, not stale
  });

  it('runs Node 22 on Flex Consumption while package.json still allows Node 20 (CI) and 22', () => {
    const app = resourceBody(resources, 'app');
    expect(app).toContain("runtime: { name: 'node', version: '22' }");
    expect(resourceBody(resources, 'plan')).toContain("tier: 'FlexConsumption'");
    const engines = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    const floor = Number(/^>=(\d+)$/.exec(engines)?.[1]);
    expect(floor <= 20 && floor <= 22).toBe(true);
  });

  it('creates the user-assigned identity before the app and uses it for deployment storage and Key Vault references', () => {
    const app = resourceBody(resources, 'app');
    expect(resources.resources.get('identity')?.type).toBe('Microsoft.ManagedIdentity/userAssignedIdentities');
    expect(app).toContain("identity: { type: 'UserAssigned', userAssignedIdentities: { '${identity.id}': {} } }");
    expect(app).toContain("authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identity.id }");
    expect(app).toContain('keyVaultReferenceIdentity: identity.id');
    expect(app).not.toMatch(/SystemAssigned/);
    // Every role the identity needs is assigned before the app exists (the app depends on them).
    const dependsOn =
      /dependsOn: \[([^\]]+)\]/
        .exec(app)?.[1]
        ?.split(',')
        .map((s) => s.trim()) ?? [];
    for (const [name, scope] of [
      ['hostBlobs', 'storage'],
      ['queueAccess', 'queues'],
      ['readLogs', 'eventHubs'],
      ['readSecrets', 'vault'],
      ['useIdentityKey', 'vault::identityKey'],
      ['signCheckpoints', 'vault::checkpointKey'],
      ['publishTelemetry', 'insights'],
      ['cosmosData', 'cosmos'],
    ] as const) {
      expect(dependsOn).toContain(name);
      const body = resourceBody(resources, name);
      expect(body).toContain('principalId: identity.properties.principalId');
      expect(body).toMatch(new RegExp(`(scope|parent): ${scope}\\b`));
    }
  });

  it('holds the evidence log: its Cosmos container, a WORM checkpoint container, a P-256 signing key and the right to sign with it', () => {
    const cosmos = resourceBody(resources, 'cosmos');
    expect(cosmos).toMatch(
      /resource tlog 'containers' = \{\s*name: 'tlog'\s*properties: \{ resource: \{ id: 'tlog', partitionKey: \{ paths: \['\/pk'\]/,
    );
    // Checkpoints: a container under a time-based retention (WORM) policy, named by the app's setting.
    const storage = resourceBody(resources, 'storage');
    expect(storage).toMatch(
      /resource checkpoints 'containers' = \{\s*name: checkpointContainer\s*resource worm 'immutabilityPolicies' = \{\s*name: 'default'\s*properties: \{ immutabilityPeriodSinceCreationInDays: checkpointRetentionDays, allowProtectedAppendWrites: false \}/,
    );
    expect(setting('TLOG_CHECKPOINT_CONTAINER')).toBe('checkpointContainer');
    // The signing key: EC P-256 in the vault, for sign (and verify) only; the app gets its id.
    const vault = resourceBody(resources, 'vault');
    expect(vault).toMatch(
      /resource checkpointKey 'keys' = \{\s*name: 'checkpoint-signing'\s*properties: \{ kty: 'EC', curveName: 'P-256', keyOps: \['sign', 'verify'\] \}/,
    );
    expect(setting('TLOG_KEYVAULT_KEY_ID')).toBe('vault::checkpointKey.properties.keyUri');
    // Key Vault Crypto User (keys/read, keys/sign) for the app's identity, scoped to the checkpoint key alone.
    const sign = resourceBody(resources, 'signCheckpoints');
    expect(readFileSync(infra('resources.bicep'), 'utf8')).toMatch(/^\s+keyVaultCryptoUser: '12338af0-0e69-4776-bea7-57ae8d297424'/m);
    expect(sign).toMatch(/scope: vault::checkpointKey\b/);
    expect(sign).toContain('roles.keyVaultCryptoUser');
    expect(sign).toContain('principalId: identity.properties.principalId');
    expect(setting('TLOG_SEQUENCE_SCHEDULE')).toBe('sequenceSchedule');
    expect(setting('COMPLIANCE_INTEGRITY_SCHEDULE')).toBe('complianceSchedules.integrity');
  });

  it('creates every queue the app uses, poison queues included, and grants queue rights on those queues only', () => {
    const queueNames =
      /^\[(.+)\]$/
        .exec(resources.vars.get('appQueues') ?? '')?.[1]
        ?.split(',')
        .map((q) => literal(q.trim(), resources)) ?? [];
    for (const setting of ['ENRICHMENT_QUEUE', 'OPERATIONS_QUEUE', 'CLOSURE_QUEUE', 'FANOUT_QUEUE']) {
      const name = literal(appSettings(resources).find((s) => s.name === setting)?.value ?? '', resources);
      expect(queueNames, setting).toContain(name);
      expect(queueNames, setting).toContain(`${name}-poison`); // where the host moves a message after maxDequeueCount deliveries
    }
    const queues = resourceBody(resources, 'queues');
    expect(resources.resources.get('queues')?.type).toBe('Microsoft.Storage/storageAccounts/queueServices/queues');
    expect(queues).toContain('for name in appQueues');
    expect(queues).toContain('parent: storage::queueService');
    const access = resourceBody(resources, 'queueAccess');
    expect(access).toContain('for (name, i) in appQueues');
    expect(access).toContain('scope: queues[i]');
    expect(access).toContain('roles.storageQueueDataContributor');
    // No queue role on the whole account (host storage needs Storage Blob Data Owner only).
    const accountScoped = [
      ...resources.text.matchAll(
        /^resource (\w+) 'Microsoft\.Authorization\/roleAssignments@[^']+' = \{\n {2}scope: storage\n[\s\S]*?^\}/gm,
      ),
    ];
    expect(accountScoped.map((m) => m[1])).toEqual(['hostBlobs']);
    expect(resourceBody(resources, 'storage')).toContain("resource operations 'containers' = { name: operationsContainer }");
    expect(literal(setting('OPERATIONS_CONTAINER') ?? '', resources)).toBe('operations');
  });

  it('connects the host storage, Event Hubs and telemetry with that identity, not keys', () => {
    expect(setting('AzureWebJobsStorage__credential')).toBe('identityCredential.credential');
    expect(setting('AzureWebJobsStorage__clientId')).toBe('identityCredential.clientId');
    expect(setting('EVENTHUB_CONNECTION__clientId')).toBe('identityCredential.clientId');
    expect(resources.vars.get('identityCredential')).toBe("{ credential: 'managedidentity', clientId: identity.properties.clientId }");
    expect(setting('APPLICATIONINSIGHTS_AUTHENTICATION_STRING')).toBe("'ClientId=${identity.properties.clientId};Authorization=AAD'");
    expect(resourceBody(resources, 'storage')).toContain('allowSharedKeyAccess: false');
    expect(resourceBody(resources, 'cosmos')).toContain('disableLocalAuth: true');
    expect(resourceBody(resources, 'insights')).toContain('DisableLocalAuth: true');
  });

  it('gives Azure Monitor a Manage, Send and Listen rule on a namespace in the workspace region', () => {
    const eventHubs = resourceBody(resources, 'eventHubs');
    expect(
      /monitorRule 'authorizationRules'[\s\S]*?rights: \[([^\]]+)\]/
        .exec(eventHubs)?.[1]
        ?.split(',')
        .map((s) => s.trim()),
    ).toEqual(expect.arrayContaining(["'Manage'", "'Send'", "'Listen'"]));
    expect(eventHubs).toContain('location: eventHubsLocation');
    expect(resources.vars.get('eventHubsLocation')).toBe('workspaces[0].location');
    // The diagnostic setting is made only where the namespace shares the workspace's region.
    expect(main.text).toContain(
      "eventHubAuthorizationRuleId: ws.location == resources.outputs.eventHubsLocation ? resources.outputs.monitorRuleId : ''",
    );
    expect(workspace.text).toContain(
      "resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(eventHubAuthorizationRuleId))",
    );
    expect(main.outputs).toContain('WORKSPACES_WITHOUT_RESOURCE_LOGS');
  });

  it("gives the app Reader, and nothing more, on each registry it reads assets from, in the registry's own resource group", () => {
    const reader = 'acdd72a7-3385-48ef-bd42-f606fba81ae7'; // built-in Reader
    expect(registry.vars.get('reader')).toBe(`'${reader}'`);
    const assignment = resourceBody(registry, 'appReadsRegistry');
    expect(assignment).toContain('scope: registry');
    expect(assignment).toContain("roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', reader)");
    expect(registry.text).not.toMatch(/dataActions|Contributor|Registry User/i);
    // One module per registry id, deployed where the registry lives; none by default.
    expect(main.params.get('registries')?.defaultValue).toBe('[]');
    expect(main.text).toContain("scope: resourceGroup(split(id, '/')[2], split(id, '/')[4])");
    expect(main.text).toContain("registryName: split(id, '/')[8]");
    // The same list tells the app where `azureml://registries/NAME/…` assets are read (AML_REGISTRIES, a JSON array).
    expect(main.text).toMatch(/module resources 'resources\.bicep' = \{[^}]*\n {4}registries: registries\n/);
    expect(resources.params.get('registries')?.defaultValue).toBe('[]');
    expect(setting('AML_REGISTRIES')).toBe('string(registries)');
  });

  it('reads resource logs through a consumer group of its own, named by the binding setting', () => {
    expect(resourceBody(resources, 'eventHubs')).toContain("resource lineageReader 'consumergroups' = { name: consumerGroup }");
    expect(setting('EVENTHUB_CONSUMER_GROUP')).toBe('consumerGroup');
    expect(resources.vars.get('consumerGroup')).not.toBe("'$Default'");
  });

  it('creates the consumer group npm run rewind reads with by default, beside the app group', () => {
    expect(resourceBody(resources, 'eventHubs')).toContain("resource rewindReader 'consumergroups' = { name: rewindConsumerGroup }");
    expect(resources.vars.get('rewindConsumerGroup')).toBe(`'${REWIND_CONSUMER_GROUP}'`);
    expect(resources.vars.get('rewindConsumerGroup')).not.toBe(resources.vars.get('consumerGroup'));
    // Where rewind reads, as the app does: the outputs azd env get-values lists.
    expect(setting('EVENTHUB_CONNECTION__fullyQualifiedNamespace')).toBe('eventHubsNamespace');
    expect(main.text).toContain('output EVENTHUB_NAMESPACE string = resources.outputs.eventHubsNamespace');
    expect(main.text).toContain('output EVENTHUB_NAME string = resources.outputs.eventHubName');
    expect(resources.text).toContain('output eventHubsNamespace string = eventHubsNamespace');
  });

  it('puts each system topic in its workspace region and can reuse the one a workspace already has', () => {
    const topics = resourceBody(resources, 'topics');
    expect(topics).toContain('location: ws.location');
    expect(topics).toContain("topicType: 'Microsoft.MachineLearningServices.Workspaces'");
    expect(resources.resources.get('reusedTopics')?.existing).toBe(true);
    // Both kinds get the dead-letter role for their own identity.
    expect(resourceBody(resources, 'reusedTopicDeadLetters')).toContain('principalId: reusedTopics[i].identity.principalId');
    expect(resourceBody(resources, 'topicDeadLetters')).toContain('principalId: topics[i].identity.principalId');
  });

  it('turns on App Service authentication with Entra only when an app id is given, letting key-only callers through', () => {
    expect(main.params.get('entraClientId')).toEqual({ type: 'string', defaultValue: "''" });
    expect(main.text).toMatch(/^\s+entraClientId: entraClientId$/m);
    expect(resources.resources.get('appAuth')).toEqual({ type: 'Microsoft.Web/sites/config', apiVersion: '2024-04-01', existing: false });
    const auth = resourceBody(resources, 'appAuth');
    expect(auth).toMatch(/^resource appAuth '[^']+' = if \(!empty\(entraClientId\)\) \{/);
    expect(auth).toContain('parent: app');
    expect(auth).toContain("name: 'authsettingsV2'");
    expect(auth).toContain('platform: { enabled: true }');
    // Tokens are checked when sent; requests without one still reach the app, which gives them KEY_ONLY_ROLE.
    expect(auth).toContain("globalValidation: { requireAuthentication: false, unauthenticatedClientAction: 'AllowAnonymous' }");
    expect(auth).toMatch(/azureActiveDirectory: \{\s*enabled: true\s*registration: \{\s*clientId: entraClientId/);
    expect(auth).toContain("openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'");
    expect(auth).toContain("allowedAudiences: ['api://${entraClientId}']");
    expect(auth).not.toMatch(/clientSecret/);
  });

  it('never generates or rewrites the redaction key in the template; the postprovision hooks create it once', () => {
    for (const f of all) expect(f.text).not.toMatch(/newGuid\(|redactionKey/);
    for (const hook of ['postprovision.sh', 'postprovision.ps1']) {
      const text = readFileSync(infra('hooks', hook), 'utf8');
      expect(text).toMatch(/secret list/); // decides on a successful listing, never on a failed read
      expect(text).toMatch(/redaction-key/);
      expect(text).toMatch(/configreferences\/appsettings\/refresh/);
    }
  });

  it('wires azd: service tag, package folder, parameters, hooks and the outputs the hooks read', () => {
    expect(azureYaml).toMatch(/^ {2}lineage:/m);
    expect(resourceBody(resources, 'app')).toContain("tags: union(tags, { 'azd-service-name': 'lineage' })");
    expect(azureYaml).toMatch(/host: function/);
    expect(azureYaml).toMatch(/language: ts/);
    expect(azureYaml).toMatch(/remoteBuild: false/);
    expect(azureYaml).toMatch(/dist: dist\/package/);

    const parameters = (JSON.parse(readFileSync(infra('main.parameters.json'), 'utf8')) as { parameters: Record<string, unknown> })
      .parameters;
    for (const name of Object.keys(parameters)) expect(main.params.has(name)).toBe(true);
    for (const [name, p] of main.params) if (p.defaultValue === undefined) expect(Object.keys(parameters)).toContain(name);

    const hooks = [...azureYaml.matchAll(/run: (\.\/infra\/hooks\/\S+)/g)].map((m) => m[1] as string);
    expect(hooks.filter((h) => h.endsWith('.sh')).length).toBe(3);
    expect(hooks.filter((h) => h.endsWith('.ps1')).length).toBe(3);
    const builtIn = new Set(['AZURE_ENV_NAME']);
    for (const hook of hooks) {
      expect(existsSync(join(ROOT, hook))).toBe(true);
      const text = readFileSync(join(ROOT, hook), 'utf8');
      // Environment variables: $env:NAME in PowerShell, $NAME or ${NAME…} in sh.
      const pattern = hook.endsWith('.ps1') ? /\$env:([A-Z][A-Z0-9_]+)/g : /\$\{?([A-Z][A-Z0-9_]+)/g;
      const used = new Set([...text.matchAll(pattern)].map((m) => m[1] as string));
      expect(used.size).toBeGreaterThan(0);
      for (const name of used) expect(main.outputs.has(name) || builtIn.has(name), `${hook} reads ${name}`).toBe(true);
    }
    // The postdeploy hooks pass exactly the parameters eventSubscriptions.bicep declares.
    for (const hook of ['postdeploy.sh', 'postdeploy.ps1']) {
      const text = readFileSync(infra('hooks', hook), 'utf8');
      for (const name of subscriptions.params.keys()) expect(text).toContain(`${name}=`);
    }
    for (const path of [...main.modules.values(), ...subscriptions.modules.values()]) expect(existsSync(infra(path))).toBe(true);
  });

  it('subscribes captureEventGrid by its webhook with the extension key, dead-lettering with the topic identity', () => {
    expect(subscriptions.text).toContain(
      "endpointUrl: 'https://${functionAppHost}/runtime/webhooks/eventgrid?functionName=captureEventGrid&code=${eventGridKey}'",
    );
    expect(subscriptions.params.get('eventGridKey')?.type).toBe('string');
    expect(readFileSync(infra('eventSubscriptions.bicep'), 'utf8')).toMatch(/@secure\(\)\nparam eventGridKey/);
    expect(subscription.text).toContain("deadLetterWithResourceIdentity: {\n      identity: { type: 'SystemAssigned' }");
    expect(resources.text).toContain("var eventGridDeadLetterContainer = 'eventgrid-deadletters'");
    expect(subscription.text).toContain("blobContainerName: 'eventgrid-deadletters'");
  });
});
