"""The vectorised transcendentals' SIMD levels, ulp bounds and messages, shared by
fastgrad._cy.vmath and its twin fastgrad._py.vmath."""

# the compiled kernels' dispatch levels, lowest first
LEVELS = ("baseline", "avx2", "avx512")


ULP_BOUNDS = {
    "exp": {"float64": 1, "float32": 1},
    "log": {"float64": 2, "float32": 1},
    "log1p": {"float64": 2, "float32": 1},
    "tanh": {"float64": 3, "float32": 2},
    "sigmoid": {"float64": 2, "float32": 2},
}


def level_error(name, supported):
    return ValueError(f"set_simd_level: {name!r} is not a dispatch level this CPU runs; "
                      f"choose one of {tuple(supported)} (all levels: {LEVELS})")
