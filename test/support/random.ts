import { randomInt } from 'node:crypto';

/**
 * The one source of randomness of the tests' data: a seeded PRNG (mulberry32), so a seed
 * gives the same events on every run, and the seed of each randomised test printed when it
 * fails, to replay it with `TEST_SEED=<seed>`.
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle of a copy, driven by `rnd`. */
export function shuffled<T>(xs: readonly T[], rnd: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Every event once, ~40% again, shuffled, cut into batches of 1..max (a redelivering, reordering broker). */
export function deliveries<T>(rnd: () => number, stream: readonly T[], max: number): T[][] {
  const all = shuffled([...stream, ...stream.filter(() => rnd() < 0.4)], rnd);
  const out: T[][] = [];
  for (let i = 0; i < all.length; ) {
    const n = 1 + Math.floor(rnd() * max);
    out.push(all.slice(i, i + n));
    i += n;
  }
  return out;
}

/** A fresh seed for a randomised test, or `TEST_SEED` from the environment (to replay a failure). */
export function newSeed(): number {
  const given = process.env.TEST_SEED;
  return given !== undefined && given !== '' ? Number(given) >>> 0 : randomInt(2 ** 31);
}

/**
 * Runs a randomised test with a seed (`newSeed()` unless given) and its PRNG; when the run
 * fails, prints `<what> failed with seed <seed> (rerun with TEST_SEED=<seed>)` to stderr and
 * fails with the run's error.
 */
export async function withSeed<T>(what: string, run: (rnd: () => number, seed: number) => Promise<T> | T, seed = newSeed()): Promise<T> {
  try {
    return await run(prng(seed), seed);
  } catch (err) {
    process.stderr.write(`${what} failed with seed ${seed} (rerun with TEST_SEED=${seed})\n`);
    throw err;
  }
}
