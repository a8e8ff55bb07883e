"""`panel serve app/main.py`: the dashboard. JAX is configured here (and in tests/conftest.py).

Limits (widest network, steps, data size, ...) come from IWE_* environment variables or
from arguments after --args, e.g. `panel serve app/main.py --args --max-width 1024`
(app/state/limits.py). The long computations run on Dask (app/jobs/dask_cluster.py): an embedded
LocalCluster of worker processes, started once per server process in a thread of its own,
or the cluster of `--args --scheduler tcp://HOST:8786` (IWE_SCHEDULER). `--plugins
app.readiness` starts it with the server and serves /readiness (app/readiness.py).
"""
import os
import sys

#: compiled XLA programs kept on disk and shared by the server and its Dask workers (which
#: inherit these variables): a worker or a restarted server loads a program another process
#: compiled instead of compiling it again. IWE_COMPILE_CACHE sets the folder ("off": none);
#: JAX's own JAX_COMPILATION_CACHE_DIR, if set, wins.
_CACHE = os.environ.get("IWE_COMPILE_CACHE") or os.path.join(
    os.path.expanduser("~"), ".cache", "infinite-width-explorer", "xla")
if _CACHE != "off":
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", _CACHE)
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")
    os.environ.setdefault("JAX_COMPILATION_CACHE_MAX_SIZE", str(2 ** 30))  # bytes, LRU

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import holoviews as hv  # noqa: E402
import panel as pn  # noqa: E402

from app.busy_counter import serialize_busy_counter  # noqa: E402
from app.dashboard import App  # noqa: E402
from app.jobs import dask_cluster  # noqa: E402
from app.local_resources import serve_stylesheets_locally  # noqa: E402
from app.ordered_writes import write_in_order  # noqa: E402
from app.state.limits import from_environment  # noqa: E402
from app.state.session import Session  # noqa: E402

pn.extension(sizing_mode="stretch_width")
serve_stylesheets_locally()  # no CDN links, also from hidden tabs (app/local_resources.py)
serialize_busy_counter()  # callbacks on several threads (app/busy_counter.py)
write_in_order()  # a page's messages in the order they were made (app/ordered_writes.py)
hv.extension("bokeh")
# Bokeh's canvas, not HoloViews' default WebGL: a browser without a GPU (a school laptop,
# headless Chromium) draws WebGL in software and copies every frame back, which cost 40 %
# of the browser's CPU to open the default page; our glyphs are a few thousand points
hv.renderer("bokeh").webgl = False

if pn.state.served:
    dask_cluster.start(dask_cluster.scheduler_option(sys.argv[1:]))  # once; never blocks
    App(session=Session(from_environment(sys.argv[1:]))).servable(title="Infinite-width explorer")
