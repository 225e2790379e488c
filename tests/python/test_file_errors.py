"""File failures raise exceptions a program can act on: distill.NotFoundError
is a FileNotFoundError, FileIOError and DiskFullError are OSErrors,
CorruptFileError is a ValueError (what a damaged file raised before), and
every one is a distill.Error whose ``status`` is the C ABI's code."""
import errno
import os
import pathlib

import pytest

import distill

MLP = {"kind": "mlp", "inputs": 4, "hidden": [8], "outputs": 3}


def test_the_classes_and_their_bases():
    assert issubclass(distill.NotFoundError, distill.Error)
    assert issubclass(distill.NotFoundError, FileNotFoundError)
    assert issubclass(distill.FileIOError, distill.Error)
    assert issubclass(distill.FileIOError, OSError)
    assert issubclass(distill.CorruptFileError, distill.Error)
    assert issubclass(distill.CorruptFileError, ValueError)
    assert issubclass(distill.DiskFullError, distill.Error)
    assert issubclass(distill.DiskFullError, OSError)
    assert not issubclass(distill.CorruptFileError, OSError)


def test_a_missing_file_is_file_not_found(tmp_path):
    missing = tmp_path / "missing.db"
    with pytest.raises(FileNotFoundError) as caught:
        distill.Store(str(missing), read_only=True)
    error = caught.value
    assert isinstance(error, distill.NotFoundError)
    assert error.status == 6 and error.errno == errno.ENOENT
    assert str(error) == (f"NOT_FOUND: opening the store for reading '{missing}' failed: "
                          "No such file or directory")
    assert not missing.exists()

    with pytest.raises(distill.NotFoundError, match="absent.safetensors"):
        distill.Model.load(str(tmp_path / "absent.safetensors"))
    with pytest.raises(distill.NotFoundError, match="images"):
        distill.Dataset.load_idx(str(tmp_path / "images"), str(tmp_path / "labels"))
    with pytest.raises(distill.NotFoundError, match="Fashion-MNIST"):
        distill.Dataset.fashion_mnist("train", directory=str(tmp_path))
    trainer = distill.Trainer(distill.Model(MLP, seed=1))
    with pytest.raises(distill.NotFoundError, match=r"\(not found\)"):
        trainer.resume(str(tmp_path / "no-checkpoint"))


def test_a_directory_is_a_file_io_error(tmp_path):
    for read_only in (False, True):
        with pytest.raises(distill.FileIOError, match="which is a directory") as caught:
            distill.Store(str(tmp_path), read_only=read_only)
        assert isinstance(caught.value, OSError) and caught.value.status == 7


def test_damaged_files_are_corrupt_file_errors(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("these are my notes, not a database\n")
    with pytest.raises(distill.CorruptFileError, match="not an intact SQLite database") as caught:
        distill.Store(str(notes))
    assert caught.value.status == 8 and isinstance(caught.value, ValueError)

    weights = tmp_path / "model.safetensors"
    distill.Model(MLP, seed=1).save(str(weights))
    distill.Model.load(str(weights))
    os.truncate(weights, weights.stat().st_size - 5)
    with pytest.raises(distill.CorruptFileError, match=f"safetensors file '{weights}'"):
        distill.Model.load(str(weights))


@pytest.mark.skipif(not pathlib.Path("/dev/full").exists(), reason="no /dev/full")
def test_a_full_disk_is_disk_full():
    # A model file has bytes to write (an empty store's export would not).
    with pytest.raises(OSError) as caught:
        distill.Model(MLP, seed=1).save("/dev/full")
    error = caught.value
    assert isinstance(error, distill.DiskFullError)
    assert error.status == 9 and error.errno == errno.ENOSPC
    assert str(error) == "DISK_FULL: writing '/dev/full' failed: No space left on device"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_an_unreadable_file_is_a_file_io_error(tmp_path):
    weights = tmp_path / "model.safetensors"
    distill.Model(MLP, seed=1).save(str(weights))
    weights.chmod(0)
    with pytest.raises(distill.FileIOError, match="Permission denied"):
        distill.Model.load(str(weights))


def test_a_bad_argument_is_still_invalid_argument(tmp_path):
    with pytest.raises(distill.InvalidArgumentError):
        distill.Dataset.load_idx(str(tmp_path / "images"), str(tmp_path / "labels"), limit=0)
