"""Build fastgrad: cythonize csrc/<name>.pyx into the compiled module fastgrad._cy.<name>.

If Cython, numpy or the C compiler fails, the build says so plainly and fastgrad installs on
its pure-Python twins (fastgrad._py); set FASTGRAD_REQUIRE_EXTENSIONS=1 (CI and wheel builds
do) to make such a failure fail the build. FASTGRAD_CYTHON_DEBUG=1 compiles with Python's
division checks and memoryview initialisation checks on, and defines FG_DEBUG=1, which turns on
the kernels' explicit bounds assertions (e.g. BLAS's leading dimensions and the memory each
BLAS call touches), for hunting errors in tests.
"""
import glob
import os
import sys
import tempfile

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CompileError

HERE = os.path.dirname(os.path.abspath(__file__))
REQUIRE = os.environ.get("FASTGRAD_REQUIRE_EXTENSIONS", "").strip() not in ("", "0")
DEBUG = os.environ.get("FASTGRAD_CYTHON_DEBUG", "").strip() not in ("", "0")


def warn(what, error):
    """Say plainly that fastgrad installs without its compiled modules (or fail, if required)."""
    if REQUIRE:
        raise error
    bar = "*" * 78
    sys.stderr.write(
        f"\n{bar}\nfastgrad: {what} failed: {error}\n"
        f"fastgrad will install WITHOUT its compiled modules and run on its pure-Python\n"
        f"backend (correct, but much slower). Install a C compiler and the Python headers\n"
        f"and reinstall to get the compiled engine; set FASTGRAD_REQUIRE_EXTENSIONS=1 to\n"
        f"make this an error.\n{bar}\n\n")


def extensions():
    try:
        import numpy
        from Cython.Build import cythonize
    except ImportError as e:
        warn("importing the build tools (Cython, numpy)", e)
        return []
    # The kernels index raw pointers, which these directives never touch; what they would
    # change is indexing of Python tuples and lists in the modules' Python-level code, where
    # "off" turns a negative or out-of-range index into a silent memory error. So they stay on.
    directives = {
        "language_level": 3,
        "boundscheck": True,
        "wraparound": True,
        "initializedcheck": DEBUG,
        "cdivision": not DEBUG,
        "embedsignature": True,
    }
    # -ffp-contract=off: no fused multiply-add, so typed loops round exactly like numpy
    compile_args = ([] if sys.platform == "win32"
                    else ["-O3", "-ffp-contract=off", "-Wno-unused-function"])
    # an edited C header (csrc/*.h) must rebuild the modules that include it
    headers = [os.path.relpath(path, HERE) for path in glob.glob(os.path.join(HERE, "csrc", "*.h"))]
    modules = [
        Extension(
            f"fastgrad._cy.{os.path.splitext(os.path.basename(path))[0]}",
            [os.path.relpath(path, HERE)],
            depends=sorted(headers),
            include_dirs=[numpy.get_include(), os.path.join(HERE, "csrc")],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]
            + ([("FG_DEBUG", "1")] if DEBUG else []),
            extra_compile_args=compile_args,
        )
        for path in sorted(glob.glob(os.path.join(HERE, "csrc", "*.pyx")))
    ]
    try:
        return cythonize(modules, include_path=[HERE], compiler_directives=directives,
                         quiet=True)
    except Exception as e:  # a Cython compile error is raised as a plain Exception
        warn("cythonizing csrc/*.pyx", e)
        return []


# GCC's generic tuning never vectorises a table lookup into an AVX2/AVX-512 gather (it loads the
# lanes one by one); vmath's table-driven exp and log run faster with the gathers (measured by
# benchmarks/test_t1.py). A tuning option only: it assumes no instruction set. Compilers that
# reject it (Clang, MSVC) build without it.
VMATH_FLAGS = ["-mtune-ctrl=use_gather_2parts,use_gather_4parts,use_gather"]


def accepted_flags(compiler, flags):
    """The flags of `flags` that `compiler` compiles a trivial C file with."""
    accepted = []
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "probe.c")
        with open(source, "w") as f:
            f.write("int main(void) { return 0; }\n")
        for flag in flags:
            try:
                compiler.compile([source], output_dir=tmp, extra_postargs=["-Werror", flag])
            except CompileError:
                continue
            accepted.append(flag)
    return accepted


class OptionalBuildExt(build_ext):
    """build_ext that turns a compiler failure into a warning unless extensions are required."""

    def finalize_options(self):
        super().finalize_options()
        if self.parallel is None:  # compile the modules side by side
            self.parallel = os.cpu_count() or 1
        self.failed = []

    def run(self):
        try:
            super().run()
        except Exception as e:
            self.failed.append(("the extension modules", e))
        if self.failed:
            names = ", ".join(name for name, _ in self.failed)
            warn(f"compiling {names}", self.failed[0][1])

    def build_extension(self, ext):
        if ext.name == "fastgrad._cy.vmath" and self.compiler.compiler_type == "unix":
            ext.extra_compile_args = ext.extra_compile_args + accepted_flags(self.compiler,
                                                                             VMATH_FLAGS)
        try:
            super().build_extension(ext)
        except Exception as e:
            if REQUIRE:
                raise
            self.failed.append((ext.name, e))
            # a module left from an earlier build must not ship in place of this one
            for stale in (self.get_ext_fullpath(ext.name),):
                if os.path.exists(stale):
                    os.remove(stale)


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
