"""What the degradation engine does to images, measured and shown, outside the pure engine.

- :mod:`.measures`: figures of one degraded image against its clean original (SSIM, PSNR,
  newly saturated pixels, CT noise in HU, RMSE);
- :mod:`.level_strength`: how strongly every type degrades the embedded sample at L1 and
  L2, with the targets the levels must meet (``medqdeg degradations report`` and the dataset
  card's table);
- :mod:`.gallery`: one PNG grid of an image under every applicable type at L0/L1/L2
  (``medqdeg degradations gallery``).

These modules call the engine through its public API (``medqdeg.dataset_builder.degradations``)
only; the engine never imports them.
"""
