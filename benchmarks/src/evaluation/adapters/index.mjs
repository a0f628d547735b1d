import switchyard from './switchyard.mjs';
import flagd from './flagd.mjs';
import growthbook from './growthbook.mjs';
import unleash from './unleash.mjs';
import launchdarkly from './launchdarkly.mjs';
import { floorBytes, floorChars } from './floor.mjs';

/** Every adapter, in table order: Switchyard, the peers, then the floors. */
export const ADAPTERS = [switchyard, flagd, growthbook, unleash, launchdarkly, floorChars, floorBytes];
