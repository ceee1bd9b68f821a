"""A real ipykernel that takes SLOW_START_SECONDS (default 3) to start."""
import os
import time

time.sleep(float(os.environ.get("SLOW_START_SECONDS", "3")))

from ipykernel import kernelapp  # noqa: E402

kernelapp.launch_new_instance()
