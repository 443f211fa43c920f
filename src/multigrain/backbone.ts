/**
 * The backbones MultiGrain can use, as the original release lists them (resnet18/50/101/152,
 * senet154, pnasnet5large, nasnetamobile; plus resnet34): their flag names, their input
 * normalization, the dropout the original's `BackBone` wrapper keeps before the classifier
 * (`pre_classifier`), and the module path of the trunk in the original's state dicts.
 */
import { type Tensor, relu } from '../engine/index.js';
import {
  Module, ResNet, TRUNK_NAMES, buildTrunk, isTrunkName, type ResNetDepth, type TrunkName, type TrunkOptions, type Trunk,
} from '../nn/index.js';

/** A ResNet depth, or the name of one of the other trunks. */
export type Backbone = ResNetDepth | TrunkName;

const RESNET_DEPTHS: readonly ResNetDepth[] = [18, 34, 50, 101, 152];

/** The `--backbone` values, in the original's spelling. */
export const BACKBONE_FLAGS: readonly string[] = [...RESNET_DEPTHS.map((d) => `resnet${d}`), ...TRUNK_NAMES];

export function isBackbone(v: unknown): v is Backbone {
  return isTrunkName(v) || (RESNET_DEPTHS as readonly unknown[]).includes(v);
}

/** `resnet50` → 50, `senet154` → 'senet154'; anything else is refused, naming the choices. */
export function backboneFromFlag(v: string): Backbone {
  const b = /^resnet\d+$/.test(v) ? Number(v.slice('resnet'.length)) : v;
  if (!isBackbone(b)) throw new Error(`--backbone ${v} is not supported (${BACKBONE_FLAGS.join(', ')})`);
  return b;
}

/** The flag spelling of a backbone: 50 → `resnet50`. */
export function backboneFlag(b: Backbone): string {
  return typeof b === 'number' ? `resnet${b}` : b;
}

/** `ResNet-50`, `SENet154`, ...: for messages. */
export function backboneLabel(b: Backbone): string {
  const labels: Record<TrunkName, string> = { senet154: 'SENet154', pnasnet5large: 'PNASNet-5-Large', nasnetamobile: 'NASNet-A-Mobile' };
  return typeof b === 'number' ? `ResNet-${b}` : labels[b];
}

/** Per-channel mean and std of the input normalization. */
export interface InputNormalization {
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/**
 * The normalization the backbone was trained with: mean and std 0.5 for the NASNets (as the
 * original's `get_transforms(backbone=...)`), ImageNet's statistics otherwise.
 */
export function inputNormalization(b: Backbone): InputNormalization {
  return b === 'pnasnet5large' || b === 'nasnetamobile'
    ? { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }
    : { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
}

/** Dropout probability of the `pre_classifier` the original keeps (the trunk's own `dropout`; ResNets have none). */
export function preClassifierDropout(b: Backbone): number {
  return b === 'senet154' ? 0.2 : b === 'pnasnet5large' || b === 'nasnetamobile' ? 0.5 : 0;
}

/**
 * Key prefix of the trunk's own parameters in the original's MultiGrain state dicts: `features.`
 * (ResNet, SENet: the trunk's children), `features.0.base_net.` (the NASNets, wrapped whole).
 */
export function trunkKeyPrefix(b: Backbone): string {
  return b === 'pnasnet5large' || b === 'nasnetamobile' ? 'features.0.base_net.' : 'features.';
}

/** `Features(net)` of the original (`base_net`): the net's `features()`. */
class BaseNet extends Module {
  constructor(readonly net: Trunk) {
    super();
    this.addModule('base_net', net);
  }
}

/**
 * The original's `nn.Sequential(Features(net), nn.ReLU())` for the NASNets: the trunk at
 * `features.0.base_net`, a ReLU on its output (their `features()` ends before it).
 */
class WrappedTrunk extends Module implements Trunk {
  readonly featureDim: number;
  constructor(readonly net: Trunk) {
    super();
    this.addModule('0', new BaseNet(net));
    this.featureDim = net.featureDim;
  }
  features(x: Tensor): Tensor {
    const f = this.net.features(x);
    const out = relu(f);
    f.dispose();
    return out;
  }
}

export interface TrunkBuildOptions {
  /** ResNet base width (64 = the real ResNet). */
  baseWidth: number;
  /** Width parameters of the other trunks (defaults: the published nets). */
  trunkOptions?: TrunkOptions;
  seed: number;
}

/** MultiGrain's `features` module for a backbone, laid out as in the original's state dicts. */
export function buildFeatures(b: Backbone, o: TrunkBuildOptions): Trunk {
  if (typeof b === 'number') return new ResNet({ depth: b, baseWidth: o.baseWidth, seed: o.seed, head: false });
  const trunk = buildTrunk(b, o.trunkOptions ?? {}, o.seed);
  return trunkKeyPrefix(b) === 'features.' ? trunk : new WrappedTrunk(trunk);
}
