"""Why the emulator's memory grows (see moto_server.py): moto in-process, no server, two lines.

    .local/venv/bin/python scripts/src/local-stack/moto-memory-experiment.py          # moto as shipped
    .local/venv/bin/python scripts/src/local-stack/moto-memory-experiment.py --lean   # as the stack runs it

Writes 20 versions of 1 MB into a versioned bucket, overwrites each once and deletes the old
versions (an erasure's rewrite), lists the versions 5 times, and prints the process's RSS and how
many S3 object models (`FakeKey`) are alive, after a full garbage collection, against the 20 the
bucket holds.
"""

import gc
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
if "--lean" in sys.argv:
    from moto_server import untrack_models

    untrack_models()

from moto.s3.models import FakeKey, s3_backends  # noqa: E402


def rss_mb() -> int:
    with open(f"/proc/{os.getpid()}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS"))
    return int(line.split()[1]) // 1024


def report(label: str) -> None:
    gc.collect()
    alive = sum(isinstance(o, FakeKey) for o in gc.get_objects())
    print(f"{label:38s} RSS {rss_mb():5d} MB, FakeKey models alive {alive:4d} (the bucket holds 20)")


s3 = s3_backends["123456789012"]["aws"]
s3.create_bucket("lake", "us-east-1")
s3.put_bucket_versioning("lake", "Enabled")
report("start")
for i in range(20):
    s3.put_object("lake", f"k{i}", os.urandom(1_000_000))
report("20 objects of 1 MB written")
for i in range(20):
    old = [v.version_id for v in s3.list_object_versions("lake", prefix=f"k{i}")[0]]
    s3.put_object("lake", f"k{i}", os.urandom(1_000_000))
    for version_id in old:
        s3.delete_object("lake", f"k{i}", version_id)
report("each rewritten, old version deleted")
for _ in range(5):
    s3.list_object_versions("lake")
report("versions listed 5 times")
