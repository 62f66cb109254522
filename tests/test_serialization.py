"""save_parameters / load_parameters: round trip, and errors that name the file and the
parameter (missing, corrupt, mismatched files; pickled content refused)."""
import re
import zipfile

import numpy as np
import pytest

import fastgrad
from fastgrad import nn


def model(fg, seed=0, sizes=(3, 4, 2), dtype=np.float64):
    return nn.mlp(list(sizes), seed=seed, dtype=dtype, backend=fg.name)


def test_round_trip(fg, tmp_path):
    a, b = model(fg, 0), model(fg, 1)
    path = tmp_path / "weights.npz"
    assert fastgrad.save_parameters(a, path) == str(path)
    assert fastgrad.load_parameters(b, path) is b
    for (name, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa.data, pb.data, err_msg=name)
    x = np.ones((2, 3))
    np.testing.assert_array_equal(a(x).data, b(x).data)
    assert set(fastgrad.load_state(path)) == {"0.weight", "0.bias", "1.weight", "1.bias"}
    # numpy adds .npz to a name without it; the name written is returned
    assert fastgrad.save_parameters(a.state_dict(), tmp_path / "w") == str(tmp_path / "w.npz")


def test_dtype_is_the_models(fg, tmp_path):
    path = tmp_path / "w.npz"
    fastgrad.save_parameters(model(fg, 0, dtype=np.float32), path)
    b = model(fg, 1)
    fastgrad.load_parameters(b, path)
    assert b[0].weight.dtype == np.float64
    np.testing.assert_array_equal(b[0].weight.data,
                                  model(fg, 0, dtype=np.float32)[0].weight.data.astype(float))


def unchanged(m, before):
    return all(np.array_equal(p.data, before[name]) for name, p in m.named_parameters())


def test_missing_file(fg, tmp_path):
    path = tmp_path / "nope.npz"
    with pytest.raises(FileNotFoundError, match=re.escape(str(path))):
        fastgrad.load_parameters(model(fg), path)


def test_corrupt_files(fg, tmp_path):
    m = model(fg)
    before = m.state_dict()
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"\x00\x01 definitely not a zip archive" * 10)
    good = tmp_path / "good.npz"
    fastgrad.save_parameters(m, good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:200])
    single = tmp_path / "single.npy"
    np.save(single, np.ones(3))
    for path in (garbage, truncated, single):
        with pytest.raises(ValueError, match=r"load_parameters: .*" + re.escape(path.name)
                                             + r".* is not a readable \.npz file"):
            fastgrad.load_parameters(m, path)
    # a damaged member: the archive opens, one parameter's bytes are wrong
    damaged = tmp_path / "damaged.npz"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(damaged, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, data[:len(data) // 2] if info.filename == "1.bias.npy" else data)
    with pytest.raises(ValueError, match=r"damaged\.npz.*parameter '1\.bias' is corrupt"):
        fastgrad.load_parameters(m, damaged)
    assert unchanged(m, before)


def test_pickled_content_is_refused(fg, tmp_path):
    path = tmp_path / "pickled.npz"
    state = model(fg).state_dict()
    state["0.bias"] = np.array([{"not": "numbers"}, None, 1, 2], dtype=object)
    np.savez(path, **state)
    with pytest.raises(ValueError, match=r"pickled\.npz.*parameter '0\.bias' cannot be read "
                                         r"without unpickling"):
        fastgrad.load_parameters(model(fg), path)


def test_mismatched_parameters(fg, tmp_path):
    m = model(fg)
    before = m.state_dict()
    wider = tmp_path / "wider.npz"
    fastgrad.save_parameters(model(fg, sizes=(3, 5, 2)), wider)
    with pytest.raises(ValueError, match=r"wider\.npz.*parameter '0\.weight' has shape \(3, 5\) "
                                         r"in the file but \(3, 4\) in the model"):
        fastgrad.load_parameters(m, wider)
    deeper = tmp_path / "deeper.npz"
    fastgrad.save_parameters(model(fg, sizes=(3, 4, 2, 2)), deeper)
    with pytest.raises(KeyError, match=r"deeper\.npz.*holds parameter '2\.bias', which the model "
                                       r"does not have"):
        fastgrad.load_parameters(m, deeper)
    partial = tmp_path / "partial.npz"
    state = m.state_dict()
    del state["1.weight"]
    fastgrad.save_parameters(state, partial)
    with pytest.raises(KeyError, match=r"partial\.npz.*has no parameter '1\.weight'"):
        fastgrad.load_parameters(m, partial)
    strings = tmp_path / "strings.npz"
    state = m.state_dict()
    state["1.bias"] = np.array(["a", "b"])
    np.savez(strings, **state)
    with pytest.raises(TypeError, match=r"strings\.npz.*parameter '1\.bias' has dtype <U1"):
        fastgrad.load_parameters(m, strings)
    assert unchanged(m, before)
    # strict=False: what the file has is loaded, the rest kept
    other = model(fg, 5)
    fastgrad.load_parameters(other, partial, strict=False)
    np.testing.assert_array_equal(other[0].weight.data, before["0.weight"])
    assert not np.array_equal(other[1].weight.data, before["1.weight"])
