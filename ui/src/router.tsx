import { createBrowserRouter } from 'react-router';
import { Layout } from './components/layout';
import { AssetPage, Assets } from './pages/assets';
import { NotFound } from './pages/not-found';
import { PartitionsPage } from './pages/partitions';
import { QualityPage } from './pages/quality';
import { Overview } from './pages/overview';
import { LaunchPage, PipelinePage } from './pages/pipeline';
import { Pipelines } from './pages/pipelines';
import { RunPage } from './pages/run';
import { Runs } from './pages/runs';
import { SqlPage } from './pages/sql';
import { StreamsPage } from './pages/streams';
import { TokensPage } from './pages/tokens';
import { WorkersPage } from './pages/workers';

/** Every page has a stable URL; the server answers each of them with index.html. */
export const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { path: '/', element: <Overview /> },
      { path: '/pipelines', element: <Pipelines /> },
      { path: '/pipelines/:name', element: <PipelinePage /> },
      { path: '/pipelines/:name/launch', element: <LaunchPage /> },
      { path: '/pipelines/:name/partitions', element: <PartitionsPage /> },
      { path: '/assets', element: <Assets /> },
      { path: '/assets/:name', element: <AssetPage /> },
      { path: '/runs', element: <Runs /> },
      { path: '/runs/:id', element: <RunPage /> },
      { path: '/streams', element: <StreamsPage /> },
      { path: '/quality', element: <QualityPage /> },
      { path: '/sql', element: <SqlPage /> },
      { path: '/workers', element: <WorkersPage /> },
      { path: '/tokens', element: <TokensPage /> },
      { path: '*', element: <NotFound /> },
    ],
  },
]);
