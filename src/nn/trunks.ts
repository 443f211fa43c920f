/**
 * The original MultiGrain release's trunks besides ResNet, by name: SENet154, PNASNet-5-Large,
 * NASNet-A-Mobile, built without their `last_linear` head (MultiGrain has its own classifier).
 */
import type { Tensor } from '../engine/index.js';
import type { Module } from './module.js';
import { SENet154, type SENetOptions } from './senet.js';
import { PNASNet5Large, type PNASNetOptions } from './pnasnet.js';
import { NASNetAMobile, type NASNetMobileOptions } from './nasnet-mobile.js';

export const TRUNK_NAMES = ['senet154', 'pnasnet5large', 'nasnetamobile'] as const;
export type TrunkName = (typeof TRUNK_NAMES)[number];

type SizeOf<T> = Omit<T, 'numClasses' | 'head' | 'seed'>;
/** The width parameters of every trunk (each reads its own; defaults: the published nets). */
export type TrunkOptions = SizeOf<SENetOptions> & SizeOf<PNASNetOptions> & SizeOf<NASNetMobileOptions>;

/** A feature extractor: image [N, 3, H, W] → feature maps [N, featureDim, h, w]. */
export interface Trunk extends Module {
  readonly featureDim: number;
  features(x: Tensor): Tensor;
}

export function isTrunkName(v: unknown): v is TrunkName {
  return (TRUNK_NAMES as readonly unknown[]).includes(v);
}

/** The named trunk without its classification head. */
export function buildTrunk(name: TrunkName, options: TrunkOptions = {}, seed = 0): SENet154 | PNASNet5Large | NASNetAMobile {
  switch (name) {
    case 'senet154': return new SENet154({ ...options, seed, head: false });
    case 'pnasnet5large': return new PNASNet5Large({ ...options, seed, head: false });
    case 'nasnetamobile': return new NASNetAMobile({ ...options, seed, head: false });
  }
}
