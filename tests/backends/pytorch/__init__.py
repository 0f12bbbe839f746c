"""Tests of the torch backend, and the comparisons with torchvision and timm."""
