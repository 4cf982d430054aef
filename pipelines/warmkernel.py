"""A Papermill engine that runs successive notebooks of one worker in one started kernel.

The per-site fan-out runs the same notebook once per library: starting a kernel and importing
pandas, matplotlib and the pipeline cost more than writing the report. This engine keeps one
kernel per worker (process and thread) and reuses it. Before each later notebook the kernel's
user namespace is reset (fresh execution counts too) and matplotlib figures are closed, so no
variable leaks from one site to the next; imported modules stay loaded, which is the saving.

A kernel that died, timed out or ran a notebook with a failing cell is shut down and the next
notebook gets a new one. Kernels are shut down when their worker ends (``multiprocessing``
finalizer; ``ProcessPoolExecutor`` workers skip ``atexit``) and exit by themselves if the
worker is killed (ipykernel watches its parent); with long-lived workers (a Dask cluster) a
kernel waits, idle, until the worker's next run replaces it. Only the fan-out uses this engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from dataclasses import dataclass, field
from multiprocessing.util import Finalize
from pathlib import Path
from queue import Empty
from typing import Any

from jupyter_core.utils import run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.log import logger
from papermill.utils import merge_kwargs, remove_args

ENGINE = "dampak-warm"
RESET_TIMEOUT = 30.0  # seconds for the namespace reset before a notebook

# Run in the kernel before each notebook after its first: a clean namespace and execution
# counts from 1 (failure messages name cells as in a fresh kernel), no open figures, the
# kernel's start folder. Everything lives in a function, so nothing is left behind. The last
# notebook's garbage is collected, then what survives (modules, their caches) is frozen out of
# the cyclic collector: a full collection over ~1,500 loaded modules otherwise costs ~0.15 s,
# at every reset and whenever the collector runs during a notebook.
RESET_CODE = """\
def __dampak_reset(cwd):
    import gc, os, sys
    get_ipython().reset(new_session=True)
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")
    os.chdir(cwd)
    gc.collect()
    gc.freeze()
__dampak_reset({cwd!r})
"""


@dataclass(eq=False)
class WarmKernel:
    """One started kernel of this worker and what it was started for."""

    key: tuple[str, str, str]  # kernel name, working folder, scope (one run's fan-out)
    km: Any  # jupyter_client AsyncKernelManager
    kc: Any  # its client, connected once: each new connection waits ~0.2 s for IOPub
    log: Path
    pid: int = field(default_factory=os.getpid)  # the worker that owns it
    notebooks: int = 0  # notebooks run so far


_state = threading.local()  # .kernel: this thread's WarmKernel, if any
_all: set[WarmKernel] = set()  # every live kernel of this process, for the exit finalizer
_lock = threading.Lock()
_finalizer: Finalize | None = None


def _forget_after_fork() -> None:
    """A forked child must neither reuse nor shut down its parent's kernels."""
    global _state, _all, _lock, _finalizer
    _state, _all, _lock, _finalizer = threading.local(), set(), threading.Lock(), None


os.register_at_fork(after_in_child=_forget_after_fork)


def current() -> WarmKernel | None:
    """This thread's warm kernel (for tests and diagnostics)."""
    return getattr(_state, "kernel", None)


def kernel_pid(kernel: WarmKernel) -> int | None:
    """The kernel process's id, when it is a local process."""
    process = getattr(getattr(kernel.km, "provisioner", None), "process", None)
    return getattr(process, "pid", None)


def shutdown_all() -> None:
    """Shut down every warm kernel this process started (worker exit, tests)."""
    with _lock:
        kernels = [k for k in _all if k.pid == os.getpid()]
    for kernel in kernels:
        _shutdown(kernel)


def _shutdown(kernel: WarmKernel) -> None:
    """Stop the kernel (it keeps nothing worth a graceful exit) and forget it."""
    with _lock:
        _all.discard(kernel)
    if getattr(_state, "kernel", None) is kernel:
        _state.kernel = None
    with contextlib.suppress(Exception):
        kernel.kc.stop_channels()
    with contextlib.suppress(Exception):
        run_sync(kernel.km.shutdown_kernel)(now=True)


def _start(key: tuple[str, str, str], log: Path, timeout: float) -> WarmKernel:
    """Start a kernel like nbclient does (in-memory history), its stderr appended to ``log``."""
    global _finalizer
    from jupyter_client.manager import AsyncKernelManager

    name, cwd, _scope = key
    km = AsyncKernelManager(kernel_name=name)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as fh:
        run_sync(km.start_kernel)(
            cwd=cwd,
            extra_arguments=["--HistoryManager.hist_file=:memory:"],
            stderr=fh,
        )
    kernel = WarmKernel(key, km, km.client(), log)
    with _lock:
        _all.add(kernel)
        if _finalizer is None:
            _finalizer = Finalize(None, shutdown_all, exitpriority=10)
    try:
        kernel.kc.start_channels()
        run_sync(kernel.kc.wait_for_ready)(timeout=timeout)
    except BaseException:
        _shutdown(kernel)
        raise
    kernel.kc.allow_stdin = False
    return kernel


async def _reset(kc: Any, cwd: str) -> bool:
    """Run RESET_CODE silently (no execution count); whether the kernel says it went well.
    Messages left from the previous notebook are dropped (nbclient would skip them anyway)."""
    msg_id = kc.execute(RESET_CODE.format(cwd=cwd), silent=True, store_history=False)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RESET_TIMEOUT
    ok = False
    while (left := deadline - loop.time()) > 0:
        reply = await kc.get_shell_msg(timeout=left)
        if reply["parent_header"].get("msg_id") == msg_id:
            ok = reply["content"].get("status") == "ok"
            break
    with contextlib.suppress(Empty):
        while True:
            await kc.get_iopub_msg(timeout=0)
    return ok


def acquire(kernel_name: str, cwd: str, scope: str, log: Path, timeout: float) -> WarmKernel:
    """This thread's kernel for (kernel, cwd, scope), reset if it ran a notebook before; a new
    kernel if there is none, it differs, died or does not reset."""
    key = (kernel_name, cwd, scope)
    kernel = current()
    if kernel is not None and (kernel.key != key or kernel.pid != os.getpid()):
        if kernel.pid == os.getpid():
            _shutdown(kernel)
        kernel = _state.kernel = None
    if kernel is not None:
        try:
            if not run_sync(kernel.km.is_alive)():
                raise RuntimeError("warm kernel died")
            if not run_sync(_reset)(kernel.kc, cwd):
                raise RuntimeError("warm kernel did not reset")
            return kernel
        except Exception:  # noqa: BLE001 - any trouble: a fresh kernel for this notebook
            logger.warning("Restarting the warm kernel before the next notebook.")
            _shutdown(kernel)
    kernel = _state.kernel = _start(key, log, timeout)
    return kernel


def release(kernel: WarmKernel, healthy: bool) -> None:
    """Count the notebook; keep the kernel only if the notebook went well."""
    kernel.notebooks += 1
    if not healthy:
        _shutdown(kernel)


class WarmEngine(NBClientEngine):
    """Papermill's nbclient engine, but on this worker's warm kernel (see the module doc)."""

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man,
        kernel_name,
        log_output=False,
        stdout_file=None,
        stderr_file=None,
        start_timeout=60,
        execution_timeout=None,
        warm_scope="",
        kernel_log=None,
        **kwargs,
    ):
        """Like ``NBClientEngine``'s: the same client and options, given a started kernel."""
        log = Path(kernel_log) if kernel_log else Path(os.devnull)
        kernel = acquire(kernel_name, os.getcwd(), warm_scope, log, start_timeout)
        kwargs = remove_args(["input_path"], **kwargs)
        safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
        final_kwargs = merge_kwargs(
            safe_kwargs,
            timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=logger,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        healthy = False
        try:
            client = PapermillNotebookClient(nb_man, km=kernel.km, **final_kwargs)
            client.kc = kernel.kc  # not owned: nbclient neither starts nor stops these
            client.execute()
            failed = nb_man.nb.metadata.get("papermill", {}).get("exception")
            healthy = not failed and run_sync(kernel.km.is_alive)()
        finally:
            release(kernel, healthy)
        return nb_man.nb


papermill_engines.register(ENGINE, WarmEngine)
