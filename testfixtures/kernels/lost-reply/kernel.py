"""A real ipykernel that never sends the execute_reply of code containing
LOSE_REPLY: it runs the code, publishes its outputs and status idle, and the
reply is lost (what a burst of SIGINTs can do to ipykernel 7.4)."""
from jupyter_client.session import Session
from ipykernel.kernelapp import IPKernelApp

_send = Session.send


def send(self, stream, msg_or_type, content=None, parent=None, *args, **kwargs):
    if msg_or_type == "execute_reply" and isinstance(parent, dict) and "LOSE_REPLY" in parent.get("content", {}).get("code", ""):
        return None
    return _send(self, stream, msg_or_type, content, parent, *args, **kwargs)


Session.send = send
IPKernelApp.launch_instance()
