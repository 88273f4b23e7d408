import { useQuery } from '@tanstack/react-query';
import { api, data } from './client';

/** How many results the charts read: the API's largest page. */
const HISTORY = 200;

export const useAssets = () => useQuery({ queryKey: ['assets'], queryFn: () => data(api.GET('/api/v1/assets')) });

export const useMaterializations = (name: string) => useQuery({
  queryKey: ['asset', name, 'materializations'],
  queryFn: () => data(api.GET('/api/v1/assets/{name}/materializations', { params: { path: { name }, query: { limit: HISTORY } } })),
});

export const useCheckResults = (name: string) => useQuery({
  queryKey: ['asset', name, 'checks'],
  queryFn: () => data(api.GET('/api/v1/assets/{name}/checks', { params: { path: { name }, query: { limit: HISTORY } } })),
});

export const assetPath = (name: string) => `/assets/${encodeURIComponent(name)}`;

/**
 * Where a result sits on a time axis (unix seconds): its partition's start when the key is
 * a date or an hour, else when it was recorded.
 */
export function partitionTime(partition: string | null, ts: string): number {
  if (partition) {
    const t = Date.parse(/^\d{4}-\d{2}-\d{2}T\d{2}$/.test(partition) ? `${partition}:00:00Z` : partition);
    if (!Number.isNaN(t)) return t / 1000;
  }
  return Date.parse(ts) / 1000;
}
