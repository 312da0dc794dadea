import { describe, expect, it } from 'vitest';
import { appOrigin, explorerLink } from '../../shared/util/explorerLinks.js';

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
    expect(appOrigin({ PUBLIC_BASE_URL: 'https://lineage.contoso.com/', WEBSITE_HOSTNAME: 'x.azurewebsites.net' })).toBe(
      'https://lineage.contoso.com',
    );
    expect(appOrigin({ WEBSITE_HOSTNAME: 'func-lineage.azurewebsites.net' })).toBe('https://func-lineage.azurewebsites.net');
    expect(appOrigin({ WEBSITE_HOSTNAME: 'localhost:7071' })).toBe('http://localhost:7071');
    expect(appOrigin({ WEBSITE_HOSTNAME: '127.0.0.1:43121' })).toBe('http://127.0.0.1:43121');
    expect(appOrigin({ PUBLIC_BASE_URL: 'not a url', WEBSITE_HOSTNAME: 'h.example' })).toBe('https://h.example');
    expect(appOrigin({ WEBSITE_HOSTNAME: 'evil.example/"><script>' })).toBeNull();
    expect(appOrigin({})).toBeNull();
  });
});
