import { LocalNonces } from './qchat-auth.guard';

describe('LocalNonces (the QChat Nonce while Redis refuses to remember it)', () => {
  it('refuses a Nonce seen until its time is up, then accepts it again', () => {
    const n = new LocalNonces();
    expect(n.remember('a', 1_000, 0)).toBe(true);
    expect(n.has('a', 999)).toBe(true);
    expect(n.remember('a', 2_000, 500)).toBe(false);
    expect(n.remember('a', 3_000, 1_000)).toBe(true);
  });

  it(`forgets the oldest past ${LocalNonces.MAX} entries`, () => {
    const n = new LocalNonces();
    for (let i = 0; i <= LocalNonces.MAX; i++) n.remember(`k${i}`, 10_000, 0);
    expect(n.size).toBe(LocalNonces.MAX);
    expect(n.has('k0', 1)).toBe(false);
    expect(n.has(`k${LocalNonces.MAX}`, 1)).toBe(true);
  });
});
