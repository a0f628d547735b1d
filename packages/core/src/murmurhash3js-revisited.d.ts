declare module 'murmurhash3js-revisited' {
  interface Murmur {
    x86: {
      hash32(bytes: Uint8Array | ArrayLike<number>, seed?: number): number;
    };
  }
  const murmur: Murmur;
  export default murmur;
}
