#!/usr/bin/python3
"""Writes kernels-test/multigrain/fixtures/release/: the files of the original release's pipeline,
in the exact layout its scripts write them, at a width small enough for CI.

Run with Debian's python3-torch:
    /usr/bin/python3 tools/gen_release_fixture.py

The network, the MultiGrain wrapper (features / pool.p / classifier / whitening.pca.*), the
whitening fit and the test inputs are those of tools/gen_multigrain_pth_fixtures.py (imported,
not copied). What this script adds is the rest of the release's pipeline, each file as the
original writes it (facebookresearch/multigrain):

  finetune500/checkpoint_1.pth
      what scripts/finetune_p.py saves: CheckpointHandler.save(model, epoch + 1, optimizers,
      metrics_history) -> torch.save({'model_state': model.state_dict(),
      'optimizer_state': MultiOptim({'p': SGD([p])}).state_dict()}) -- no 'extra' (train.py's
      beta). p was learned (get_multigrain(learn_p=True): `pool.p` a 0-d Parameter; state_dict
      stores it as a 0-d tensor). MultiOptim flattens its optimizers' state dicts as
      'p.state' / 'p.param_groups'. p = 2.25 (not train.py's default 3, so a loader that
      ignores pool.p is caught). ResNet-50 layout (the released models'), base width 2, 10 classes.
  finetune500_whitened/checkpoint_1.pth
      what scripts/whiten.py saves: CheckpointHandler.save(model, resume_epoch) with no optimizer
      and no extra -> torch.save({'model_state': ...}) only; the model is the p-finetuned one
      (p = 2.25 kept) after init_whitening() + integrate_whitening(m, P): keys
      `whitening.pca.pca_m` [65], `whitening.pca.pca_P` [65, 65], `classifier.weight` [10, 65],
      `classifier.bias` [10]. Legacy torch.save stream, the format of the 2019 release.
  expected.safetensors
      float64 references of both models (a float64 copy of the float32 weights), eval mode:
        finetuned.<img>.{logits,embedding,normalized}, whitened.<img>.{logits,embedding,normalized},
        input.<img>.head (first 16 input values), <img> in a (2x3x64x64), b (1x3x48x80).
"""
import copy
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_multigrain_pth_fixtures as base  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'kernels-test', 'multigrain', 'fixtures', 'release')
FINETUNED_P = 2.25


def finetune_p_optimizer_state(p_grad_buffer):
    """MultiOptim(OD(p=SGD([p], lr, momentum))).state_dict(): each optimizer's state dict, keys prefixed 'p.'."""
    sgd = torch.optim.SGD([torch.nn.Parameter(torch.tensor(FINETUNED_P))], lr=0.005, momentum=0.9)
    sd = sgd.state_dict()
    sd['state'] = {0: {'momentum_buffer': p_grad_buffer}}
    sd['param_groups'][0]['lr'] = 0.0  # the polynomial decay's last value, lr (1 - i/N)^0.9 at i = N
    return {'p.' + k: v for k, v in sd.items()}


def main():
    os.makedirs(os.path.join(OUT, 'finetune500'), exist_ok=True)
    os.makedirs(os.path.join(OUT, 'finetune500_whitened'), exist_ok=True)
    gen = torch.Generator().manual_seed(500)
    torch.manual_seed(500)
    inputs = {name: base.fixture_input(shape, seed) for name, (shape, seed) in base.INPUTS.items()}
    expected = {}
    for name, x in inputs.items():
        expected[f'input.{name}.head'] = x.flatten()[:16].numpy()

    def record(prefix, model):
        m64 = copy.deepcopy(model).double().eval()
        for name, x in inputs.items():
            with torch.no_grad():
                out = m64(x)
            expected[f'{prefix}.{name}.logits'] = out['classifier_output'].numpy()
            expected[f'{prefix}.{name}.embedding'] = out['embedding'].numpy()
            expected[f'{prefix}.{name}.normalized'] = out['normalized_embedding'].numpy()

    # --- scripts/finetune_p.py's output: model_state + MultiOptim's 'p.*' optimizer state -----------
    model = base.MultiGrain(base.make_resnet(base.Bottleneck, [3, 4, 6, 3], gen), base.P).eval()
    model.pool.p = torch.nn.Parameter(torch.tensor(FINETUNED_P))  # learn_p=True: a 0-d Parameter
    state = base.float32_state(model)
    assert state['pool.p'].shape == () and float(state['pool.p']) == FINETUNED_P
    assert state['classifier.weight'].shape == (base.NUM_CLASSES, 64)
    ckpt = {'model_state': state, 'optimizer_state': finetune_p_optimizer_state(torch.tensor(-0.0125))}
    torch.save(ckpt, os.path.join(OUT, 'finetune500', 'checkpoint_1.pth'))
    record('finetuned', model)

    # --- scripts/whiten.py's output: model_state only, the p-finetuned model whitened ----------------
    white = copy.deepcopy(model)
    white.pool.p = torch.nn.Parameter(torch.tensor(FINETUNED_P), requires_grad=False)
    white.init_whitening()
    with torch.no_grad():
        pooled = white.pool(white.features(base.random_images(320, 48, 48, gen)))  # [320, 65], bias channel last
    m, P, var = base.fit_whitening(base.l2n(pooled))
    cond = float((var.max() / var.min()).sqrt())
    print(f'whitening: {pooled.shape[1]} dims, condition number of P {cond:.1f}')
    assert cond < 1e3, 'whitening set too degenerate for a float32 parity test'
    white.integrate_whitening(m, P)
    wstate = base.float32_state(white)
    assert wstate['whitening.pca.pca_P'].shape == (65, 65) and wstate['classifier.weight'].shape == (base.NUM_CLASSES, 65)
    assert float(wstate['pool.p']) == FINETUNED_P
    torch.save({'model_state': wstate}, os.path.join(OUT, 'finetune500_whitened', 'checkpoint_1.pth'), _use_new_zipfile_serialization=False)
    record('whitened', white)

    base.write_safetensors(os.path.join(OUT, 'expected.safetensors'), expected,
                           {'generator': 'tools/gen_release_fixture.py', 'torch': torch.__version__, 'p': str(FINETUNED_P)})
    total = 0
    for root, _, files in os.walk(OUT):
        for f in sorted(files):
            size = os.path.getsize(os.path.join(root, f))
            total += size
            print(f'{os.path.relpath(os.path.join(root, f), OUT):42s} {size:8d} bytes')
    print(f'{"total":42s} {total:8d} bytes')
    assert total < 500_000


if __name__ == '__main__':
    main()
