import { describe, expect, it } from 'vitest';
import { DomainError } from '../../shared/errors.js';
import {
  gitCommit,
  nodeId,
  normalizeRepositoryUrl,
  parseArmId,
  parseRegistryUri,
  parseWorkspaceId,
  storageLocation,
  azureBlobUrl,
  datastoreBlobUrl,
  versionedAsset,
} from '../../shared/graph/keys.js';
import { resolveRef } from '../../shared/graph/refs.js';
import { WS } from '../helpers/fixtures.js';

const ws = parseWorkspaceId(WS)!;

describe('ARM ids and natural keys', () => {
  it('parses workspace ids in any casing, leading slash optional', () => {
    expect(parseWorkspaceId(WS.toUpperCase())?.key).toBe(ws.key);
    expect(parseWorkspaceId(WS.slice(1))?.key).toBe(ws.key);
    expect(parseWorkspaceId(`${WS}/jobs/x`)).toBeUndefined();
  });

  it.each([
    [`${WS}/models/credit/versions/3`, 'model', 'credit:3'],
    [`${WS}/data/loans/versions/2024.1`, 'data', 'loans:2024.1'],
    [`${WS}/environments/sklearn-env/versions/7`, 'environment', 'sklearn-env:7'],
    [`${WS}/codes/a1b2/versions/1`, 'code', 'a1b2:1'],
    [`${WS}/jobs/brave_tiger_123`, 'job', 'brave_tiger_123'],
    [`${WS}/computes/cpu-cluster`, 'compute', 'cpu-cluster'],
    [`${WS}/onlineEndpoints/credit-ep`, 'endpoint', 'credit-ep'],
    [`${WS}/onlineEndpoints/credit-ep/deployments/blue`, 'deployment', 'credit-ep/blue'],
    [
      '/subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/registries/shared/models/iris/versions/1',
      'model',
      'iris:1',
    ],
  ])('%s is a %s', (id, kind, label) => {
    const ref = parseArmId(id);
    expect(ref).toMatchObject({ kind, label });
    // ARM ids compare case-insensitively: logs upper-case them.
    expect(parseArmId(id.toUpperCase())?.key).toBe(ref?.key);
  });

  it('rejects ids that are not Azure ML resources', () => {
    expect(parseArmId('/subscriptions/s/resourceGroups/r/providers/Microsoft.Storage/storageAccounts/a')).toBeUndefined();
    expect(parseArmId(`${WS}/models/credit`)).toBeUndefined();
    expect(parseArmId(`${WS}/models/credit/versions/3/extra`)).toBeUndefined();
  });

  it('gives registry assets one identity whichever form names them', () => {
    const uri = parseRegistryUri('azureml://registries/shared/models/iris/versions/1');
    const arm = parseArmId(
      '/subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/registries/shared/models/iris/versions/1',
    );
    expect(uri?.key).toBe(arm?.key);
    expect(uri?.workspace).toBeNull();
  });

  it('normalises git remotes so ssh and https spellings meet', () => {
    expect(normalizeRepositoryUrl('git@github.com:Azure/MachineLearningNotebooks.git')).toBe('github.com/azure/machinelearningnotebooks');
    expect(normalizeRepositoryUrl('https://github.com/azure/machinelearningnotebooks/')).toBe('github.com/azure/machinelearningnotebooks');
    expect(gitCommit('https://user@dev.azure.com/org/p/_git/r', 'ABC').key).toBe('git:dev.azure.com/org/p/_git/r@abc');
  });

  it('node ids are deterministic, short and free of characters Cosmos forbids', () => {
    const ref = versionedAsset(ws, 'models', 'credit', '3');
    const id = nodeId(ref.kind, ref.key);
    expect(id).toBe(nodeId(ref.kind, ref.key));
    expect(id).toMatch(/^model-[0-9a-f]{32}$/);
  });
});

describe('lookup references', () => {
  const modelId = (() => {
    const r = versionedAsset(ws, 'models', 'credit', '3');
    return nodeId(r.kind, r.key);
  })();

  it('accepts the ARM id, the azureml: longhand and the node id', () => {
    expect(resolveRef(`${WS}/models/credit/versions/3`)).toEqual([modelId]);
    expect(resolveRef(`azureml:${WS}/models/credit/versions/3`)).toEqual([modelId]);
    expect(resolveRef(modelId)).toEqual([modelId]);
  });

  it('expands azureml:NAME:VERSION to every asset kind it may name, within the workspace', () => {
    const candidates = resolveRef('azureml:credit:3', WS);
    expect(candidates).toContain(modelId);
    expect(candidates).toHaveLength(5);
  });

  it('explains what is accepted when the ref is malformed', () => {
    for (const bad of ['credit', 'azureml:credit:3', '/subscriptions/x', '', 'x'.repeat(3000)]) {
      let error: unknown;
      try {
        resolveRef(bad);
      } catch (e) {
        error = e;
      }
      expect(error, bad).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe('invalid-ref');
    }
    expect(() => resolveRef('credit')).toThrow(/Accepted forms/);
    expect(() => resolveRef('azureml:credit:3', 'not-a-workspace')).toThrow(/workspace must be/);
  });
});

describe('storage locations', () => {
  it('keys datastore paths under the datastore and URLs without their query (no SAS tokens)', () => {
    const ds = parseArmId(`${WS}/datastores/WorkspaceBlobStore`)!;
    expect(storageLocation(ds, '/azureml/run/out/').key).toBe(`${ds.key}/paths/azureml/run/out`);
    expect(storageLocation(undefined, 'https://Acct.blob.core.windows.net/c/x.csv?sv=1&sig=SECRET').key).toBe(
      'https://acct.blob.core.windows.net/c/x.csv',
    );
  });

  it('keys every spelling of an Azure Storage path as its blob URL, and nothing else that way', () => {
    const forms = [
      'abfss://raw@Acct.dfs.core.windows.net/loans/2024/',
      'abfs://raw@acct.dfs.core.windows.net/loans/2024',
      'wasbs://raw@acct.blob.core.windows.net/loans/2024',
      'wasb://raw@acct.blob.core.windows.net/loans/2024/',
      'https://acct.blob.core.windows.net/raw/loans/2024/?sv=1&sig=SECRET',
      'https://acct.dfs.core.windows.net/raw/loans/2024',
    ];
    for (const form of forms) expect(storageLocation(undefined, form).key, form).toBe('https://acct.blob.core.windows.net/raw/loans/2024');
    // Paths are case-sensitive; other clouds and other services stay apart.
    expect(azureBlobUrl('abfss://raw@acct.dfs.core.windows.net/Loans')).toBe('https://acct.blob.core.windows.net/raw/Loans');
    expect(azureBlobUrl('abfss://raw@acct.dfs.core.chinacloudapi.cn/x')).toBe('https://acct.blob.core.chinacloudapi.cn/raw/x');
    expect(azureBlobUrl('https://acct.queue.core.windows.net/q')).toBeUndefined();
    expect(azureBlobUrl('s3://bucket/key')).toBeUndefined();
    expect(azureBlobUrl('abfss://acct.dfs.core.windows.net/no-container')).toBeUndefined();
    expect(storageLocation(undefined, 's3://Bucket/key/').key).toBe('s3://bucket/key');
  });

  it("keys a datastore's container by its account, container or filesystem, and cloud", () => {
    const blob = { datastoreType: 'AzureBlob', accountName: 'stcredit', containerName: 'data', endpoint: 'core.windows.net' };
    expect(datastoreBlobUrl(blob)).toBe('https://stcredit.blob.core.windows.net/data');
    expect(
      datastoreBlobUrl({ datastoreType: 'AzureDataLakeGen2', accountName: 'lake', filesystem: 'raw', endpoint: 'core.usgovcloudapi.net' }),
    ).toBe('https://lake.blob.core.usgovcloudapi.net/raw');
    expect(datastoreBlobUrl({ datastoreType: 'AzureFile', accountName: 'st', fileShareName: 'share' })).toBeUndefined();
    expect(datastoreBlobUrl({ datastoreType: 'AzureBlob', accountName: 'st' })).toBeUndefined();
  });
});
