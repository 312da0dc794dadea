import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../shared/config.js';
import { appOrigin, explorerLink } from '../../shared/util/explorerLinks.js';

const LOCAL = { COSMOS_ENDPOINT: 'https://127.0.0.1:8081/', STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true' };

describe('explorer links', () => {
  it('builds view URLs with the same query parameters as the API routes, leaving out empty ones', () => {
    expect(
      explorerLink('https://app.example.com/', 'lineage', { ref: 'model-1', workspace: undefined, direction: 'upstream', depth: 6 }),
    ).toBe('https://app.example.com/api/explorer/lineage?ref=model-1&direction=upstream&depth=6');
    expect(explorerLink('http://127.0.0.1:7071', 'endpoint', { endpoint: '/subscriptions/s/x y', at: '2024-05-20T00:00:00Z' })).toBe(
      'http://127.0.0.1:7071/api/explorer/endpoint?endpoint=%2Fsubscriptions%2Fs%2Fx+y&at=2024-05-20T00%3A00%3A00Z',
    );
    expect(explorerLink('https://a.example', 'compliance')).toBe('https://a.example/api/explorer/compliance');
  });

  it("finds the app's origin: PUBLIC_BASE_URL first, else the platform's host name (https; http on loopback), else none", () => {
    const origin = (env: Record<string, string>) => appOrigin(loadSettings({ ...LOCAL, ...env }));
    expect(origin({ PUBLIC_BASE_URL: 'https://lineage.contoso.com/', WEBSITE_HOSTNAME: 'x.azurewebsites.net' })).toBe(
      'https://lineage.contoso.com',
    );
    expect(origin({ WEBSITE_HOSTNAME: 'func-lineage.azurewebsites.net' })).toBe('https://func-lineage.azurewebsites.net');
    expect(origin({ WEBSITE_HOSTNAME: 'localhost:7071' })).toBe('http://localhost:7071');
    expect(origin({ WEBSITE_HOSTNAME: '127.0.0.1:43121' })).toBe('http://127.0.0.1:43121');
    expect(origin({})).toBeNull();
    // Settings that could not make a working link are refused by name, as every setting is.
    expect(() => origin({ PUBLIC_BASE_URL: 'not a url' })).toThrow(/PUBLIC_BASE_URL/);
    expect(() => origin({ WEBSITE_HOSTNAME: 'evil.example/"><script>' })).toThrow(/WEBSITE_HOSTNAME/);
  });
});
