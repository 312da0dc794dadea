import type { CosmosClient } from '@azure/cosmos';
import type { TokenCredential } from '@azure/identity';
import type { BlobServiceClient } from '@azure/storage-blob';
import type { Settings } from './config.js';
import { KeyVaultSigner, LocalKeyFileSigner } from './store/checkpointSigner.js';
import { CONTAINERS, container } from './store/cosmosClient.js';
import type { StoreMeter } from './store/storeMeter.js';
import { TlogStore } from './store/tlogStore.js';
import { publicKeyInfo, type CheckpointPublicKey, type CheckpointSigner } from './tlog/checkpoint.js';
import type { SequencerDeps } from './usecases/sequenceEvents.js';

/**
 * The evidence log's part of the composition root: its store, its signer (Key Vault when
 * TLOG_KEYVAULT_KEY_ID is set, else the local key file) and the sequencer's dependencies, built
 * from clients the composition root already holds.
 */
export interface TlogServices {
  store: TlogStore;
  /** The same store counting into another meter (a compliance run's own). */
  storeFor(meter: StoreMeter): TlogStore;
  signer: CheckpointSigner;
  sequencer: SequencerDeps;
  /** What `GET /api/checkpoints/key` serves. */
  publicKey(): Promise<CheckpointPublicKey>;
}

export function buildTlog(
  settings: Settings,
  cosmos: CosmosClient,
  blobs: BlobServiceClient,
  meter: StoreMeter,
  credential: () => Promise<TokenCredential>,
): TlogServices {
  const storeFor = (storeMeter: StoreMeter) =>
    new TlogStore(
      container(cosmos, settings.COSMOS_DATABASE, CONTAINERS.tlog),
      container(cosmos, settings.COSMOS_DATABASE, CONTAINERS.events),
      blobs.getContainerClient(settings.TLOG_CHECKPOINT_CONTAINER),
      storeMeter,
    );
  const store = storeFor(meter);
  const keyId = settings.TLOG_KEYVAULT_KEY_ID;
  const signer: CheckpointSigner = keyId
    ? new KeyVaultSigner(settings.TLOG_ORIGIN, keyId, credential)
    : new LocalKeyFileSigner(settings.TLOG_ORIGIN, settings.TLOG_LOCAL_KEY_FILE);
  return {
    store,
    storeFor,
    signer,
    sequencer: {
      tlog: store,
      signer,
      origin: settings.TLOG_ORIGIN,
      overlapSeconds: settings.TLOG_SCAN_OVERLAP_SECONDS,
      now: () => new Date(),
    },
    publicKey: async () => publicKeyInfo(signer.keyName, await signer.publicKey()),
  };
}
