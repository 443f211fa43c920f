"""PyTorch reference definitions of the original MultiGrain release's other trunks, written here
because pip is not reachable: SENet154 (Cadene's pretrainedmodels/models/senet.py), PNASNet-5-Large
and NASNet-A-Mobile (pretrainedmodels' pnasnet.py / nasnet_mobile.py with the forwards of the
original release's multigrain/backbones/pnasnet.py and nasnet_mobile.py, which crop branches to a
common size so any input size works). Module names are the originals', so state_dict() keys are
the layout the original loads. Each net takes width parameters (defaults: the published nets) so
that tools/gen_trunk_fixtures.py can build reduced variants with every cell type and key.
`BackBone` is the original's MultiGrain wrapper (multigrain/backbones/backbone.py +
multigrain/lib/multigrain.py): GeM in place of the average pool, pre_classifier, classifier.
Needs Debian's python3-torch."""
from collections import OrderedDict
import torch
import torch.nn as nn


# ---- the original release's cropping helpers (multigrain/backbones/pnasnet.py) ----

def _equal_except(a, b, avoid=None):
    return all(ai == bi or (avoid is not None and i == avoid) for i, (ai, bi) in enumerate(zip(a, b)))


def shrink_common(*tensors, avoid=None):
    sizes = [tuple(t.size()) for t in tensors]
    st = tuple(min(*dims) for dims in zip(*sizes))
    out = []
    for t, s in zip(tensors, sizes):
        if not _equal_except(s, st, avoid):
            dest = list(st)
            if avoid is not None:
                dest[avoid] = s[avoid]
            t = t.__getitem__(tuple(slice(si) for si in dest))
        out.append(t)
    return out


def shrink_sum(*tensors):
    return sum(shrink_common(*tensors))


def shrink_cat(tensors, dim=1):
    return torch.cat(shrink_common(*tensors, avoid=dim), dim=1)


# ---- SENet154 (Cadene's senet.py; `width` = 64 in the published net) ----

class SEModule(nn.Module):
    def __init__(self, channels, reduction):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, channels // reduction, kernel_size=1, padding=0)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(channels // reduction, channels, kernel_size=1, padding=0)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return x * self.sigmoid(self.fc2(self.relu(self.fc1(self.avg_pool(x)))))


class SEBottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, groups, reduction, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes * 2, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes * 2)
        self.conv2 = nn.Conv2d(planes * 2, planes * 4, kernel_size=3, stride=stride, padding=1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(planes * 4)
        self.conv3 = nn.Conv2d(planes * 4, planes * 4, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.se_module = SEModule(planes * 4, reduction=reduction)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        residual = self.downsample(x) if self.downsample is not None else x
        return self.relu(self.se_module(out) + residual)


class SENet(nn.Module):
    def __init__(self, layers=(3, 8, 36, 3), groups=64, reduction=16, dropout_p=0.2, inplanes=128, width=64, num_classes=1000):
        super().__init__()
        self.inplanes = inplanes
        self.layer0 = nn.Sequential(OrderedDict([
            ('conv1', nn.Conv2d(3, width, 3, stride=2, padding=1, bias=False)),
            ('bn1', nn.BatchNorm2d(width)),
            ('relu1', nn.ReLU(inplace=True)),
            ('conv2', nn.Conv2d(width, width, 3, stride=1, padding=1, bias=False)),
            ('bn2', nn.BatchNorm2d(width)),
            ('relu2', nn.ReLU(inplace=True)),
            ('conv3', nn.Conv2d(width, inplanes, 3, stride=1, padding=1, bias=False)),
            ('bn3', nn.BatchNorm2d(inplanes)),
            ('relu3', nn.ReLU(inplace=True)),
            ('pool', nn.MaxPool2d(3, stride=2, ceil_mode=True)),
        ]))
        for i, n in enumerate(layers):
            k, p = (1, 0) if i == 0 else (3, 1)
            setattr(self, f'layer{i + 1}', self._make_layer(width * 2 ** i, n, groups, reduction, 1 if i == 0 else 2, k, p))
        self.avg_pool = nn.AvgPool2d(7, stride=1)
        self.dropout = nn.Dropout(dropout_p) if dropout_p is not None else None
        self.last_linear = nn.Linear(width * 8 * 4, num_classes)

    def _make_layer(self, planes, blocks, groups, reduction, stride, ds_kernel, ds_padding):
        downsample = None
        if stride != 1 or self.inplanes != planes * 4:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * 4, kernel_size=ds_kernel, stride=stride, padding=ds_padding, bias=False),
                nn.BatchNorm2d(planes * 4))
        layers = [SEBottleneck(self.inplanes, planes, groups, reduction, stride, downsample)]
        self.inplanes = planes * 4
        layers += [SEBottleneck(self.inplanes, planes, groups, reduction) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def features(self, x):
        return self.layer4(self.layer3(self.layer2(self.layer1(self.layer0(x)))))


# ---- PNASNet-5-Large (pretrainedmodels' pnasnet.py + the release's cropping forward) ----

class MaxPool(nn.Module):
    def __init__(self, kernel_size, stride=1, padding=1, zero_pad=False):
        super().__init__()
        self.zero_pad = nn.ZeroPad2d((1, 0, 1, 0)) if zero_pad else None
        self.pool = nn.MaxPool2d(kernel_size, stride=stride, padding=padding)

    def forward(self, x):
        if self.zero_pad:
            x = self.zero_pad(x)
        x = self.pool(x)
        if self.zero_pad:
            x = x[:, :, 1:, 1:]
        return x


class SeparableConv2d(nn.Module):
    def __init__(self, in_channels, out_channels, dw_kernel_size, dw_stride, dw_padding):
        super().__init__()
        self.depthwise_conv2d = nn.Conv2d(in_channels, in_channels, kernel_size=dw_kernel_size, stride=dw_stride,
                                          padding=dw_padding, groups=in_channels, bias=False)
        self.pointwise_conv2d = nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)

    def forward(self, x):
        return self.pointwise_conv2d(self.depthwise_conv2d(x))


class PBranchSeparables(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, stem_cell=False, zero_pad=False):
        super().__init__()
        padding = kernel_size // 2
        middle = out_channels if stem_cell else in_channels
        self.zero_pad = nn.ZeroPad2d((1, 0, 1, 0)) if zero_pad else None
        self.relu_1 = nn.ReLU()
        self.separable_1 = SeparableConv2d(in_channels, middle, kernel_size, dw_stride=stride, dw_padding=padding)
        self.bn_sep_1 = nn.BatchNorm2d(middle, eps=0.001)
        self.relu_2 = nn.ReLU()
        self.separable_2 = SeparableConv2d(middle, out_channels, kernel_size, dw_stride=1, dw_padding=padding)
        self.bn_sep_2 = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x):
        x = self.relu_1(x)
        if self.zero_pad:
            x = self.zero_pad(x)
        x = self.separable_1(x)
        if self.zero_pad:
            x = x[:, :, 1:, 1:].contiguous()
        x = self.relu_2(self.bn_sep_1(x))
        return self.bn_sep_2(self.separable_2(x))


class ReluConvBn(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1):
        super().__init__()
        self.relu = nn.ReLU()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=kernel_size, stride=stride, bias=False)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x):
        return self.bn(self.conv(self.relu(x)))


class FactorizedReduction(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.relu = nn.ReLU()
        self.path_1 = nn.Sequential(OrderedDict([
            ('avgpool', nn.AvgPool2d(1, stride=2, count_include_pad=False)),
            ('conv', nn.Conv2d(in_channels, out_channels // 2, kernel_size=1, bias=False))]))
        self.path_2 = nn.Sequential(OrderedDict([
            ('pad', nn.ZeroPad2d((0, 1, 0, 1))),
            ('avgpool', nn.AvgPool2d(1, stride=2, count_include_pad=False)),
            ('conv', nn.Conv2d(in_channels, out_channels // 2, kernel_size=1, bias=False))]))
        self.final_path_bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x):
        x = self.relu(x)
        x_path1 = self.path_1(x)
        x_path2 = self.path_2.conv(self.path_2.avgpool(self.path_2.pad(x)[:, :, 1:, 1:]))
        return self.final_path_bn(torch.cat([x_path1, x_path2], 1))


class CellBase(nn.Module):
    def cell_forward(self, x_left, x_right):
        c0 = shrink_sum(self.comb_iter_0_left(x_left), self.comb_iter_0_right(x_left))
        c1 = shrink_sum(self.comb_iter_1_left(x_right), self.comb_iter_1_right(x_right))
        c2 = shrink_sum(self.comb_iter_2_left(x_right), self.comb_iter_2_right(x_right))
        c3 = shrink_sum(self.comb_iter_3_left(c2), self.comb_iter_3_right(x_right))
        r4 = self.comb_iter_4_right(x_right) if self.comb_iter_4_right else x_right
        c4 = shrink_sum(self.comb_iter_4_left(x_left), r4)
        return shrink_cat([c0, c1, c2, c3, c4], 1)


class PCellStem0(CellBase):
    def __init__(self, in_left, out_left, in_right, out_right):
        super().__init__()
        self.conv_1x1 = ReluConvBn(in_right, out_right, kernel_size=1)
        self.comb_iter_0_left = PBranchSeparables(in_left, out_left, kernel_size=5, stride=2, stem_cell=True)
        self.comb_iter_0_right = nn.Sequential(OrderedDict([
            ('max_pool', MaxPool(3, stride=2)),
            ('conv', nn.Conv2d(in_left, out_left, kernel_size=1, bias=False)),
            ('bn', nn.BatchNorm2d(out_left, eps=0.001))]))
        self.comb_iter_1_left = PBranchSeparables(out_right, out_right, kernel_size=7, stride=2)
        self.comb_iter_1_right = MaxPool(3, stride=2)
        self.comb_iter_2_left = PBranchSeparables(out_right, out_right, kernel_size=5, stride=2)
        self.comb_iter_2_right = PBranchSeparables(out_right, out_right, kernel_size=3, stride=2)
        self.comb_iter_3_left = PBranchSeparables(out_right, out_right, kernel_size=3)
        self.comb_iter_3_right = MaxPool(3, stride=2)
        self.comb_iter_4_left = PBranchSeparables(in_right, out_right, kernel_size=3, stride=2, stem_cell=True)
        self.comb_iter_4_right = ReluConvBn(out_right, out_right, kernel_size=1, stride=2)

    def forward(self, x_left):
        return self.cell_forward(x_left, self.conv_1x1(x_left))


class PCell(CellBase):
    def __init__(self, in_left, out_left, in_right, out_right, is_reduction=False, zero_pad=False, match_prev_layer_dimensions=False):
        super().__init__()
        stride = 2 if is_reduction else 1
        self.conv_prev_1x1 = FactorizedReduction(in_left, out_left) if match_prev_layer_dimensions \
            else ReluConvBn(in_left, out_left, kernel_size=1)
        self.conv_1x1 = ReluConvBn(in_right, out_right, kernel_size=1)
        self.comb_iter_0_left = PBranchSeparables(out_left, out_left, 5, stride=stride, zero_pad=zero_pad)
        self.comb_iter_0_right = MaxPool(3, stride=stride, zero_pad=zero_pad)
        self.comb_iter_1_left = PBranchSeparables(out_right, out_right, 7, stride=stride, zero_pad=zero_pad)
        self.comb_iter_1_right = MaxPool(3, stride=stride, zero_pad=zero_pad)
        self.comb_iter_2_left = PBranchSeparables(out_right, out_right, 5, stride=stride, zero_pad=zero_pad)
        self.comb_iter_2_right = PBranchSeparables(out_right, out_right, 3, stride=stride, zero_pad=zero_pad)
        self.comb_iter_3_left = PBranchSeparables(out_right, out_right, 3)
        self.comb_iter_3_right = MaxPool(3, stride=stride, zero_pad=zero_pad)
        self.comb_iter_4_left = PBranchSeparables(out_left, out_left, 3, stride=stride, zero_pad=zero_pad)
        self.comb_iter_4_right = ReluConvBn(out_right, out_right, 1, stride=stride) if is_reduction else None

    def forward(self, x_left, x_right):
        return self.cell_forward(self.conv_prev_1x1(x_left), self.conv_1x1(x_right))


class PNASNet5Large(nn.Module):
    """`stem` = 96 and `f` = 54 in the published net (cells of 5f, 10f, 20f, 40f, 80f channels)."""

    def __init__(self, num_classes=1001, stem=96, f=54):
        super().__init__()
        self.conv_0 = nn.Sequential(OrderedDict([
            ('conv', nn.Conv2d(3, stem, kernel_size=3, stride=2, bias=False)),
            ('bn', nn.BatchNorm2d(stem, eps=0.001))]))
        self.cell_stem_0 = PCellStem0(stem, f, stem, f)
        self.cell_stem_1 = PCell(stem, 2 * f, 5 * f, 2 * f, match_prev_layer_dimensions=True, is_reduction=True)
        self.cell_0 = PCell(5 * f, 4 * f, 10 * f, 4 * f, match_prev_layer_dimensions=True)
        self.cell_1 = PCell(10 * f, 4 * f, 20 * f, 4 * f)
        self.cell_2 = PCell(20 * f, 4 * f, 20 * f, 4 * f)
        self.cell_3 = PCell(20 * f, 4 * f, 20 * f, 4 * f)
        self.cell_4 = PCell(20 * f, 8 * f, 20 * f, 8 * f, is_reduction=True, zero_pad=True)
        self.cell_5 = PCell(20 * f, 8 * f, 40 * f, 8 * f, match_prev_layer_dimensions=True)
        self.cell_6 = PCell(40 * f, 8 * f, 40 * f, 8 * f)
        self.cell_7 = PCell(40 * f, 8 * f, 40 * f, 8 * f)
        self.cell_8 = PCell(40 * f, 16 * f, 40 * f, 16 * f, is_reduction=True)
        self.cell_9 = PCell(40 * f, 16 * f, 80 * f, 16 * f, match_prev_layer_dimensions=True)
        self.cell_10 = PCell(80 * f, 16 * f, 80 * f, 16 * f)
        self.cell_11 = PCell(80 * f, 16 * f, 80 * f, 16 * f)
        self.relu = nn.ReLU()
        self.avg_pool = nn.AvgPool2d(11, stride=1, padding=0)
        self.dropout = nn.Dropout(0.5)
        self.last_linear = nn.Linear(80 * f, num_classes)

    def features(self, x):
        x_conv_0 = self.conv_0(x)
        x_stem_0 = self.cell_stem_0(x_conv_0)
        x_stem_1 = self.cell_stem_1(x_conv_0, x_stem_0)
        c = [x_stem_0, x_stem_1]
        for i in range(12):
            c.append(getattr(self, f'cell_{i}')(c[-2], c[-1]))
        return c[-1]


# ---- NASNet-A-Mobile (pretrainedmodels' nasnet_mobile.py + the release's cropping forwards) ----

class MaxPoolPad(nn.Module):
    def __init__(self):
        super().__init__()
        self.pad = nn.ZeroPad2d((1, 0, 1, 0))
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)

    def forward(self, x):
        return self.pool(self.pad(x))[:, :, 1:, 1:].contiguous()


class AvgPoolPad(nn.Module):
    def __init__(self, stride=2, padding=1):
        super().__init__()
        self.pad = nn.ZeroPad2d((1, 0, 1, 0))
        self.pool = nn.AvgPool2d(3, stride=stride, padding=padding, count_include_pad=False)

    def forward(self, x):
        return self.pool(self.pad(x))[:, :, 1:, 1:].contiguous()


class BranchSeparables(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, name=None, stem=False):
        super().__init__()
        middle = out_channels if stem else in_channels
        self.relu = nn.ReLU()
        self.separable_1 = SeparableConv2d(in_channels, middle, kernel_size, stride, padding)
        self.bn_sep_1 = nn.BatchNorm2d(middle, eps=0.001, momentum=0.1, affine=True)
        self.relu1 = nn.ReLU()
        self.separable_2 = SeparableConv2d(middle, out_channels, kernel_size, 1, padding)
        self.bn_sep_2 = nn.BatchNorm2d(out_channels, eps=0.001, momentum=0.1, affine=True)
        self.name = name

    def forward(self, x):
        x = self.relu(x)
        if self.name == 'specific':
            x = nn.ZeroPad2d((1, 0, 1, 0))(x)
        x = self.separable_1(x)
        if self.name == 'specific':
            x = x[:, :, 1:, 1:].contiguous()
        x = self.relu1(self.bn_sep_1(x))
        return self.bn_sep_2(self.separable_2(x))


def _relu_conv_bn(cin, cout):
    m = nn.Sequential()
    m.add_module('relu', nn.ReLU())
    m.add_module('conv', nn.Conv2d(cin, cout, 1, stride=1, bias=False))
    m.add_module('bn', nn.BatchNorm2d(cout, eps=0.001, momentum=0.1, affine=True))
    return m


def _avg3():
    return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)


class _FactorizedPaths(nn.Module):
    """path_1 / path_2 / final_path_bn of CellStem1 and FirstCell."""

    def add_paths(self, cin, half):
        self.relu = nn.ReLU()
        self.path_1 = nn.Sequential()
        self.path_1.add_module('avgpool', nn.AvgPool2d(1, stride=2, count_include_pad=False))
        self.path_1.add_module('conv', nn.Conv2d(cin, half, 1, stride=1, bias=False))
        self.path_2 = nn.ModuleList()
        self.path_2.add_module('pad', nn.ZeroPad2d((0, 1, 0, 1)))
        self.path_2.add_module('avgpool', nn.AvgPool2d(1, stride=2, count_include_pad=False))
        self.path_2.add_module('conv', nn.Conv2d(cin, half, 1, stride=1, bias=False))
        self.final_path_bn = nn.BatchNorm2d(half * 2, eps=0.001, momentum=0.1, affine=True)

    def paths(self, x):
        x_relu = self.relu(x)
        x_path1 = self.path_1(x_relu)
        x_path2 = self.path_2.conv(self.path_2.avgpool(self.path_2.pad(x_relu)[:, :, 1:, 1:]))
        return self.final_path_bn(shrink_cat([x_path1, x_path2], 1))


class CellStem0(nn.Module):
    def __init__(self, stem_filters, num_filters=42):
        super().__init__()
        self.conv_1x1 = _relu_conv_bn(stem_filters, num_filters)
        self.comb_iter_0_left = BranchSeparables(num_filters, num_filters, 5, 2, 2)
        self.comb_iter_0_right = BranchSeparables(stem_filters, num_filters, 7, 2, 3, stem=True)
        self.comb_iter_1_left = nn.MaxPool2d(3, stride=2, padding=1)
        self.comb_iter_1_right = BranchSeparables(stem_filters, num_filters, 7, 2, 3, stem=True)
        self.comb_iter_2_left = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.comb_iter_2_right = BranchSeparables(stem_filters, num_filters, 5, 2, 2, stem=True)
        self.comb_iter_3_right = _avg3()
        self.comb_iter_4_left = BranchSeparables(num_filters, num_filters, 3, 1, 1)
        self.comb_iter_4_right = nn.MaxPool2d(3, stride=2, padding=1)

    def forward(self, x):
        x1 = self.conv_1x1(x)
        c0 = shrink_sum(self.comb_iter_0_left(x1), self.comb_iter_0_right(x))
        c1 = shrink_sum(self.comb_iter_1_left(x1), self.comb_iter_1_right(x))
        c2 = shrink_sum(self.comb_iter_2_left(x1), self.comb_iter_2_right(x))
        c3 = shrink_sum(self.comb_iter_3_right(c0), c1)
        c4 = shrink_sum(self.comb_iter_4_left(c0), self.comb_iter_4_right(x1))
        return shrink_cat([c1, c2, c3, c4], 1)


class _Reduction(_FactorizedPaths):
    """The comb_iter_* of CellStem1, ReductionCell0 and ReductionCell1 (all 'specific' separables)."""

    def add_combs(self, c):
        self.comb_iter_0_left = BranchSeparables(c, c, 5, 2, 2, name='specific')
        self.comb_iter_0_right = BranchSeparables(c, c, 7, 2, 3, name='specific')
        self.comb_iter_1_left = MaxPoolPad()
        self.comb_iter_1_right = BranchSeparables(c, c, 7, 2, 3, name='specific')
        self.comb_iter_2_left = AvgPoolPad()
        self.comb_iter_2_right = BranchSeparables(c, c, 5, 2, 2, name='specific')
        self.comb_iter_3_right = _avg3()
        self.comb_iter_4_left = BranchSeparables(c, c, 3, 1, 1, name='specific')
        self.comb_iter_4_right = MaxPoolPad()

    def combs(self, x_left, x_right):
        c0 = shrink_sum(self.comb_iter_0_left(x_left), self.comb_iter_0_right(x_right))
        c1 = shrink_sum(self.comb_iter_1_left(x_left), self.comb_iter_1_right(x_right))
        c2 = shrink_sum(self.comb_iter_2_left(x_left), self.comb_iter_2_right(x_right))
        c3 = shrink_sum(self.comb_iter_3_right(c0), c1)
        c4 = shrink_sum(self.comb_iter_4_left(c0), self.comb_iter_4_right(x_left))
        return shrink_cat([c1, c2, c3, c4], 1)


class CellStem1(_Reduction):
    def __init__(self, stem_filters, num_filters):
        super().__init__()
        self.conv_1x1 = _relu_conv_bn(2 * num_filters, num_filters)
        self.add_paths(stem_filters, num_filters // 2)
        self.add_combs(num_filters)

    def forward(self, x_conv0, x_stem_0):
        return self.combs(self.conv_1x1(x_stem_0), self.paths(x_conv0))


class ReductionCell(_Reduction):
    """ReductionCell0 and ReductionCell1: the same modules (the release's forwards agree; Cadene's
    ReductionCell0 pads through BranchSeparablesReduction, which holds the same parameters)."""

    def __init__(self, in_left, out_left, in_right, out_right):
        super().__init__()
        self.conv_prev_1x1 = _relu_conv_bn(in_left, out_left)
        self.conv_1x1 = _relu_conv_bn(in_right, out_right)
        self.add_combs(out_right)

    def forward(self, x, x_prev):
        # the release's ReductionCell forwards: left branches read x_right, right ones x_left
        return self.combs(self.conv_1x1(x), self.conv_prev_1x1(x_prev))


class _Normal(nn.Module):
    def add_combs(self, out_left, out_right):
        self.comb_iter_0_left = BranchSeparables(out_right, out_right, 5, 1, 2)
        self.comb_iter_0_right = BranchSeparables(out_left, out_left, 3, 1, 1)
        self.comb_iter_1_left = BranchSeparables(out_left, out_left, 5, 1, 2)
        self.comb_iter_1_right = BranchSeparables(out_left, out_left, 3, 1, 1)
        self.comb_iter_2_left = _avg3()
        self.comb_iter_3_left = _avg3()
        self.comb_iter_3_right = _avg3()
        self.comb_iter_4_left = BranchSeparables(out_right, out_right, 3, 1, 1)

    def combs(self, x_left, x_right):
        c0 = shrink_sum(self.comb_iter_0_left(x_right), self.comb_iter_0_right(x_left))
        c1 = shrink_sum(self.comb_iter_1_left(x_left), self.comb_iter_1_right(x_left))
        c2 = shrink_sum(self.comb_iter_2_left(x_right), x_left)
        c3 = shrink_sum(self.comb_iter_3_left(x_left), self.comb_iter_3_right(x_left))
        c4 = shrink_sum(self.comb_iter_4_left(x_right), x_right)
        return shrink_cat([x_left, c0, c1, c2, c3, c4], 1)


class FirstCell(_Normal, _FactorizedPaths):
    def __init__(self, in_left, out_left, in_right, out_right):
        super().__init__()
        self.conv_1x1 = _relu_conv_bn(in_right, out_right)
        self.add_paths(in_left, out_left)
        self.add_combs(2 * out_left, out_right)  # x_left is the two paths' 2 * out_left channels

    def forward(self, x, x_prev):
        return self.combs(self.paths(x_prev), self.conv_1x1(x))


class NormalCell(_Normal):
    def __init__(self, in_left, out_left, in_right, out_right):
        super().__init__()
        self.conv_prev_1x1 = _relu_conv_bn(in_left, out_left)
        self.conv_1x1 = _relu_conv_bn(in_right, out_right)
        self.add_combs(out_left, out_right)

    def forward(self, x, x_prev):
        return self.combs(self.conv_prev_1x1(x_prev), self.conv_1x1(x))


class NASNetAMobile(nn.Module):
    def __init__(self, num_classes=1000, stem_filters=32, penultimate_filters=1056, filters_multiplier=2):
        super().__init__()
        f = penultimate_filters // 24
        self.conv0 = nn.Sequential()
        self.conv0.add_module('conv', nn.Conv2d(3, stem_filters, 3, padding=0, stride=2, bias=False))
        self.conv0.add_module('bn', nn.BatchNorm2d(stem_filters, eps=0.001, momentum=0.1, affine=True))
        self.cell_stem_0 = CellStem0(stem_filters, num_filters=f // (filters_multiplier ** 2))
        self.cell_stem_1 = CellStem1(stem_filters, num_filters=f // filters_multiplier)
        self.cell_0 = FirstCell(f, f // 2, 2 * f, f)
        self.cell_1 = NormalCell(2 * f, f, 6 * f, f)
        self.cell_2 = NormalCell(6 * f, f, 6 * f, f)
        self.cell_3 = NormalCell(6 * f, f, 6 * f, f)
        self.reduction_cell_0 = ReductionCell(6 * f, 2 * f, 6 * f, 2 * f)
        self.cell_6 = FirstCell(6 * f, f, 8 * f, 2 * f)
        self.cell_7 = NormalCell(8 * f, 2 * f, 12 * f, 2 * f)
        self.cell_8 = NormalCell(12 * f, 2 * f, 12 * f, 2 * f)
        self.cell_9 = NormalCell(12 * f, 2 * f, 12 * f, 2 * f)
        self.reduction_cell_1 = ReductionCell(12 * f, 4 * f, 12 * f, 4 * f)
        self.cell_12 = FirstCell(12 * f, 2 * f, 16 * f, 4 * f)
        self.cell_13 = NormalCell(16 * f, 4 * f, 24 * f, 4 * f)
        self.cell_14 = NormalCell(24 * f, 4 * f, 24 * f, 4 * f)
        self.cell_15 = NormalCell(24 * f, 4 * f, 24 * f, 4 * f)
        self.relu = nn.ReLU()
        self.avg_pool = nn.AvgPool2d(7, stride=1, padding=0)
        self.dropout = nn.Dropout()
        self.last_linear = nn.Linear(24 * f, num_classes)

    def features(self, x):
        x_conv0 = self.conv0(x)
        x_stem_0 = self.cell_stem_0(x_conv0)
        x_stem_1 = self.cell_stem_1(x_conv0, x_stem_0)
        c0 = self.cell_0(x_stem_1, x_stem_0)
        c1 = self.cell_1(c0, x_stem_1)
        c2 = self.cell_2(c1, c0)
        c3 = self.cell_3(c2, c1)
        r0 = self.reduction_cell_0(c3, c2)
        c6 = self.cell_6(r0, c3)
        c7 = self.cell_7(c6, r0)
        c8 = self.cell_8(c7, c6)
        c9 = self.cell_9(c8, c7)
        r1 = self.reduction_cell_1(c9, c8)
        c12 = self.cell_12(r1, c9)
        c13 = self.cell_13(c12, r1)
        c14 = self.cell_14(c13, c12)
        return self.cell_15(c14, c13)


# ---- the original's MultiGrain wrapper ----

def gem(x, p, eps=1e-6):
    return x.clamp(min=eps).pow(p).mean(dim=(-2, -1)).pow(1.0 / p)


class Features(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.base_net = net

    def forward(self, x):
        return self.base_net.features(x)


class SENetFeatures(nn.Sequential):
    def forward(self, x):
        return super().forward(x)


class GeM(nn.Module):
    """The original's `Layer('gem', p=p)`: p is a buffer (`pool.p`)."""

    def __init__(self, p):
        super().__init__()
        self.register_buffer('p', torch.tensor(float(p)))

    def forward(self, x):
        return gem(x, self.p)


class BackBone(nn.Module):
    """MultiGrain(backbone) of the original: embedding = GeM(features(x)); classifier(pre_classifier(embedding))."""

    def __init__(self, net, p=3.0):
        super().__init__()
        children = list(net.named_children())
        if isinstance(net, SENet):
            self.features = nn.Sequential(OrderedDict(children[:-3]))
        else:
            self.features = nn.Sequential(Features(net), nn.ReLU())
        self.pool = GeM(p)
        self.pre_classifier = children[-2][1]
        self.classifier = children[-1][1]

    def forward(self, x):
        embedding = self.pool(self.features(x))
        return embedding, self.classifier(self.pre_classifier(embedding))
