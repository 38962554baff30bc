"""Neural engines: the same interface as ``gpu_worker.engines`` (NAME, VERSION, INPUTS, run), backed by
the torch models of ``gpu_worker.models``.

* ``runtime``: device choice (after fork only), the per-process model cache, ``inference()`` (inference
  mode + autocast) and the weight sources (installed weights, or recipe weights for tests).
* ``selection.pick_engine(capability)``: the neural engine when its weights are installed and a GPU (or
  ``GASANG_NEURAL_ON_CPU=1``) is there, else the classical engine.
* ``swap``, ``restore``, ``generate``, ``second_generation``: the engines; ``faces`` and ``parsing``: the
  face crops, masks and paste-back they share; ``directions``: latent directions; ``projector``: W+
  optimisation with a VGG16 perceptual loss.

Importing this package does not import torch; every module imports it where it is used, so the Celery
parent process never initialises CUDA before it forks.
"""
