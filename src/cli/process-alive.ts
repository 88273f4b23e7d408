/**
 * Whether a process with this pid exists. EPERM means it exists but belongs to someone
 * else, which for a lock or a pid file is still "held".
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
