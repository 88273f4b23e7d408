import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { RouterProvider } from 'react-router';
import { ApiError } from './api/client';
import { router } from './router';
import './styles.css';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // Live data arrives over SSE; a refetch on focus is the only other refresh.
      staleTime: 5_000,
      // A 429 (the warehouse's query slots are taken by this page's other charts) is worth
      // waiting for; any other 4xx is an answer.
      retry: (n, err) => (err instanceof ApiError && err.problem.status === 429 ? n < 6 : n < 2 && !(err instanceof ApiError && err.problem.status < 500)),
      retryDelay: (n) => Math.min(250 * 2 ** n, 4_000),
    },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
