import { expect, it } from 'vitest';
// The built pool: its workers load dist/workers/convert.js (npm test builds first).
import { createPool } from '../dist/src/run/pool.js';

it('destroy() waits until every worker has loaded its modules before terminating it', async () => {
  // Terminating a worker mid-load can abort the whole process (seen once under load: SIGABRT
  // inside require, a one-object run ending before the second worker had loaded).
  const pool = createPool(3);
  await pool.destroy(); // at once: no worker has loaded yet
  expect(pool.terminated).toEqual({ loaded: 3, of: 3 });
});
