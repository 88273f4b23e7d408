import { useQuery } from '@tanstack/react-query';
import { api, data, type Me } from './client';

export const RANK = { view: 0, edit: 1, admin: 2 } as const;

/** Who the caller is; undefined while unknown. */
export function useMe(): Me | undefined {
  return useQuery({ queryKey: ['me'], queryFn: () => data(api.GET('/api/v1/me')), staleTime: 60_000 }).data;
}

/** Whether the caller's role allows `need` (controls the role does not allow are not shown). */
export function useCan(need: keyof typeof RANK): boolean {
  const me = useMe();
  return me !== undefined && RANK[me.role] >= RANK[need];
}
