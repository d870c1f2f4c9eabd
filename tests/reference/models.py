"""Reference PyTorch modules of the two networks.

Their state_dict keys are the tensor names of the weight file
(weights/FORMAT.md); the C core (nn/model.c) builds the same layers.
Development tool only: the product never runs Python.
"""
import torch
from torch import nn


def conv3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1)


class ColorizationCNN(nn.Module):
    """The seed's plain CNN (a Keras Sequential there): 3,892,194 params."""

    def __init__(self):
        super().__init__()
        spec = [(1, 64, 1), (64, 64, 2), (64, 128, 1), (128, 128, 2),
                (128, 256, 1), (256, 256, 2), (256, 512, 1), (512, 256, 1),
                (256, 128, 1), (128, 64, 1), (64, 32, 1), (32, 2, 1)]
        for i, (cin, cout, stride) in enumerate(spec, 1):
            setattr(self, "conv%d" % i, conv3(cin, cout, stride))
        self.up = nn.Upsample(scale_factor=2)

    def forward(self, x):
        r = torch.relu
        for i in range(1, 10):
            x = r(getattr(self, "conv%d" % i)(x))
        x = r(self.conv10(self.up(x)))
        x = r(self.conv11(self.up(x)))
        x = torch.tanh(self.conv12(x))
        return self.up(x)


class BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock, same attribute names."""

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ColorizationNet(nn.Module):
    """The seed's ResNet18-gray colorizer (children 0..5 of torchvision's
    resnet18 with a one-channel conv1, then the upsampling decoder):
    954,722 trainable parameters."""

    def __init__(self):
        super().__init__()
        conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.midlevel_resnet = nn.Sequential(
            conv1, nn.BatchNorm2d(64), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
            nn.Sequential(BasicBlock(64, 64), BasicBlock(64, 64)),
            nn.Sequential(BasicBlock(64, 128, 2), BasicBlock(128, 128)))
        self.upsample = nn.Sequential(
            nn.Conv2d(128, 128, kernel_size=3, stride=1, padding=1),
            nn.BatchNorm2d(128),
            nn.ReLU(),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 64, kernel_size=3, stride=1, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.Conv2d(64, 64, kernel_size=3, stride=1, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(64, 32, kernel_size=3, stride=1, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.Conv2d(32, 2, kernel_size=3, stride=1, padding=1),
            nn.Upsample(scale_factor=2))

    def forward(self, x):
        return self.upsample(self.midlevel_resnet(x))


ARCHS = {"cnn": ColorizationCNN, "resnet18": ColorizationNet}


def make(arch):
    return ARCHS[arch]()


def trainable_count(module):
    return sum(p.numel() for p in module.parameters())
