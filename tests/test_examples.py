"""The examples run (briefly) and write their plots."""
import os
import pytest
from helpers import run_python

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_example(name, *args, cwd):
    """Run examples/<name> with this interpreter, importing the very fastgrad the tests import."""
    return run_python([os.path.join(ROOT, "examples", name), *args], cwd=cwd, timeout=120)


def test_moons_example(tmp_path):
    out = tmp_path / "moons.png"
    result = run_example("moons.py", "--steps", "20", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "20 steps" in result.stdout and "accuracy" in result.stdout
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return
    assert out.stat().st_size > 0


def test_digits_example(tmp_path):
    pytest.importorskip("sklearn")
    out, weights = tmp_path / "digits.png", tmp_path / "w.npz"
    result = run_example("digits.py", "--epochs", "2", "--out", str(out), "--weights",
                         str(weights), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout and "reloaded" in result.stdout
    assert weights.stat().st_size > 0


def test_draw_graph_example(tmp_path):
    import xml.etree.ElementTree as ET
    result = run_example("draw_graph.py", "--out-dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("neuron", "mlp"):
        assert f"{name}: " in result.stdout
        ET.parse(tmp_path / f"{name}.svg")
        png = tmp_path / f"{name}.png"
        assert png.exists() or f"{name}: no PNG" in result.stdout
