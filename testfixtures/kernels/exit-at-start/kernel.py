"""A kernel that dies before it binds any socket."""
import sys

sys.stderr.write("exit-at-start: simulated crash before binding sockets\n")
sys.exit(3)
