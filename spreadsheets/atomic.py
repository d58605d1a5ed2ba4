"""Files that appear complete or not at all, written beside their final name and renamed into place."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def replaced_atomically(path: Path) -> Iterator[Path]:
    """A new partial file beside `path` to write to, renamed onto `path` when the block ends, removed
    if it raises. The partial's name is unique and it is created exclusively (never a file or symlink
    someone left there, never another run's partial); it gets the mode a new file would."""
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(handle)
    partial = Path(name)
    try:
        yield partial
        partial.chmod(0o666 & ~_UMASK)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
