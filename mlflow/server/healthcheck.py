"""Container health check: exits 0 when the MLflow server on this host answers /health with 200.

Standard library only; reads MLFLOW_PORT (default 5000) and MLFLOW_STATIC_PREFIX like the entrypoint.
"""
import os
import sys
import urllib.request

port = os.environ.get("MLFLOW_PORT", "5000")
prefix = os.environ.get("MLFLOW_STATIC_PREFIX", "").rstrip("/")
url = f"http://127.0.0.1:{port}{prefix}/health"
try:
    with urllib.request.urlopen(url, timeout=4) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as error:  # noqa: BLE001 - any failure means unhealthy
    print(f"unhealthy: {url}: {error}", file=sys.stderr)
    sys.exit(1)
