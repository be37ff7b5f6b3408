/**
 * Preloaded into a daemon under test (node --import): SIGUSR2 makes it busy-wait on its
 * event loop for FERRY_TEST_BLOCK_MS (default 1500 ms), the way a stuck handler would, so
 * a test can see that nothing driven by the loop (WATCHDOG=1) goes out meanwhile.
 */
process.on('SIGUSR2', () => {
  const until = Date.now() + Number(process.env.FERRY_TEST_BLOCK_MS ?? 1500);
  while (Date.now() < until) {
    // blocked, as a stuck loop would be
  }
});
