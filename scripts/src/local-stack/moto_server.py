"""The local stack's AWS emulator: moto's server, without moto's record of every model ever made.

moto (5.2.5) appends every instance of its models to a class-level list, `instances_tracked`
(moto/core/common_models.py, `BaseModel.__new__`), for its dashboard, and drops them only on a full
reset. For S3 that list holds every object body ever written (a `FakeKey` keeps its bytes in memory
below 5 MB): every overwritten or deleted version, and the copy of every version of the bucket that
each ListObjectVersions call makes (moto/s3/models.py, `list_object_versions`: `copy.deepcopy` of
each version, bytes included). The emulator's memory thus grows by the bytes written and listed and
is never given back: ~1 GB per round of `bench:erase` at scale 0.05 (bench/README.md, "The emulator's
memory"). Here the tracking is off; nothing else changes, except that moto's dashboard
(`/moto-api/data.json`) lists no models. `moto-memory-experiment.py` beside this file shows both.

Run as `python moto_server.py -H 127.0.0.1 -p PORT` (the arguments of moto's `moto_server`).
"""

import sys

from moto.core.common_models import BaseModel


def untrack_models() -> None:
    """Makes new moto models no longer append themselves to `instances_tracked`."""

    def untracked_new(cls, *args, **kwargs):  # noqa: ARG001 (moto's signature)
        return super(BaseModel, cls).__new__(cls)

    BaseModel.__new__ = staticmethod(untracked_new)


if __name__ == "__main__":
    untrack_models()
    from moto.server import main

    sys.exit(main())
