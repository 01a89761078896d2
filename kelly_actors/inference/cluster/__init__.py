"""Inference on a Ray cluster (``backend = "ray"``, the ``cluster`` extra): replicas that
batch across streams and performances (``replica``), deploying and finding them
(``deploy``), the bridge process that serves the pool through them (``bridge``) and the
actor's side of it (``link``); settings in ``config``. See docs/inference.md."""
