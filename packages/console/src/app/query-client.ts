import { QueryClient } from '@tanstack/react-query';
import { ApiError } from '../lib/api/api-error';

/**
 * Server state lives in TanStack Query. Live updates: every query refetches when the window
 * regains focus and every 5 s while the tab is visible, so a change made in another tab, through
 * the API or by the safety monitor shows without a reload.
 */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        refetchOnWindowFocus: true,
        refetchInterval: 5_000,
        refetchIntervalInBackground: false,
        staleTime: 2_000,
        retry: (count, err) => !(err instanceof ApiError && err.status < 500) && count < 2,
      },
    },
  });
}
