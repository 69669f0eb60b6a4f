"""Ray, initialised once per process: in-process on the embedded default, or the cluster named
by the profile's ray_address (RAY_ADDRESS)."""

from __future__ import annotations

import logging
import os

from smartmon.config import Settings, settings

log = logging.getLogger(__name__)


def get_ray(cfg: Settings | None = None, *, num_cpus: int | None = None):
    """Return the ray module, initialised. The dashboard stays off (it costs about 1 GiB and
    11 processes here); a local Ray binds to loopback only."""
    import ray

    if ray.is_initialized():
        return ray
    cfg = cfg or settings()
    kwargs: dict = {"include_dashboard": False, "logging_level": logging.WARNING, "log_to_driver": True}
    if cfg.ray_address:
        log.info("connecting to Ray at %s", cfg.ray_address)
        ray.init(address=cfg.ray_address, **kwargs)
    else:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        ray.init(num_cpus=num_cpus or os.cpu_count() or 2, _node_ip_address="127.0.0.1", **kwargs)
        log.info("started Ray in-process (%s CPUs)", ray.cluster_resources().get("CPU"))
    return ray
