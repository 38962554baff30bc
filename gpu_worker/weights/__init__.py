"""Model weights: the registry of official files and their licences, the model directory (``stores``),
install/verify, verified loading with the one container table, and the weight sources neural engines load from.

Importing this package (and ``registry``, ``licences``, ``install``, ``cli``) does not import torch.
"""
