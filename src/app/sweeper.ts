/**
 * Runs the farm's periodic checks (`Farm.sweep`) every `intervalMs`, never two at once: a sweep
 * still running when the next tick comes makes that tick a no-op. Answers the function that stops it.
 */
export function startSweeper(sweep: () => Promise<void>, intervalMs: number): () => void {
  let sweeping = false;
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    sweep().finally(() => {
      sweeping = false;
    });
  }, intervalMs);
  return () => clearInterval(timer);
}
