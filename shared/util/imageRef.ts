/**
 * The digest of a container image reference pinned by content (`REPO@sha256:HEX`, the only form
 * that names one image for ever); undefined for a tag (`REPO:TAG`), which can be pushed again.
 */
export function imageDigest(image: unknown): string | undefined {
  if (typeof image !== 'string') return undefined;
  return /@(sha256:[0-9a-f]{64})$/i.exec(image.trim())?.[1]?.toLowerCase();
}
