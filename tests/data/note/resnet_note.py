"""A learner's ResNet, written as a study note writes it (biased convs, option B, `conv1` as a
Sequential, stages named layer0..layer3). ResNet50 is written as it really runs: `create_layer`
takes (block, out_channels, stride, num_blocks) but is called with the block counts in the
stride position."""

import torch
from torch import nn


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=True)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=True)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=True),
                nn.BatchNorm2d(out_channels))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 1, 1, 0, bias=True)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride, 1, bias=True)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv3 = nn.Conv2d(out_channels, out_channels * 4, 1, 1, 0, bias=True)
        self.bn3 = nn.BatchNorm2d(out_channels * 4)
        self.relu = nn.ReLU()
        self.shortcut = nn.Sequential()
        if stride != 1 or in_channels != out_channels * 4:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels * 4, 1, stride, bias=True),
                nn.BatchNorm2d(out_channels * 4))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, block, num_blocks, num_classes=10):
        super().__init__()
        self.in_channels = 64
        self.conv1 = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=True), nn.BatchNorm2d(64),
                                   nn.ReLU())
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer0 = self.create_layer(block, 64, num_blocks[0], 1)
        self.layer1 = self.create_layer(block, 128, num_blocks[1], 2)
        self.layer2 = self.create_layer(block, 256, num_blocks[2], 2)
        self.layer3 = self.create_layer(block, 512, num_blocks[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512 * block.expansion, num_classes)

    def create_layer(self, block, out_channels, num_blocks, stride):
        layers = []
        for s in [stride] + [1] * (num_blocks - 1):
            layers.append(block(self.in_channels, out_channels, s))
            self.in_channels = out_channels * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.conv1(x))
        x = self.layer3(self.layer2(self.layer1(self.layer0(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class ResNet34(ResNet):
    def __init__(self, num_classes=10):
        super().__init__(BasicBlock, [3, 4, 6, 3], num_classes)


class SwappedResNet(ResNet):
    """The note's deeper nets: its create_layer is declared (block, out_channels, stride,
    num_blocks) while the calls pass the block counts first."""

    def create_layer(self, block, out_channels, stride, num_blocks):  # type: ignore[override]
        return super().create_layer(block, out_channels, num_blocks, stride)


class ResNet50(SwappedResNet):
    def __init__(self, num_classes=10):
        super().__init__(Bottleneck, [3, 4, 6, 3], num_classes)
