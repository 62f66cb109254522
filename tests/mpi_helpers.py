"""Finding MPI for the tests that run mpiexec (test_distributed, test_capture_distributed)."""
import os
import shutil
import sys


def find_mpiexec():
    """The mpiexec beside this Python (an MPI wheel in the venv), else the one on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside if os.access(beside, os.X_OK) else shutil.which("mpiexec")


def mpi_available():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return find_mpiexec() is not None
