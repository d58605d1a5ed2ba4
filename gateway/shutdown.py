"""Clean shutdown: SIGTERM and SIGINT unwind `fir serve` (so the embedded PostgreSQL stops), WebSockets close 1001."""

from __future__ import annotations

import signal
from types import FrameType

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

# What uvicorn loads for WebSockets (by import path, so that worker processes load it too).
WS_PROTOCOL = "gateway.shutdown:GoingAwayWebSocketProtocol"
GRACE_SECONDS = 10  # in-flight requests get this long to finish after SIGTERM; then they are cut


class GoingAwayWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, closing with 1001 (going away) rather than 1012 at shutdown.

    1012 tells a client the service restarts; a process that stops (SIGTERM, `docker stop`) is
    going away, and a client should reconnect elsewhere or later.
    """

    def shutdown(self) -> None:
        self.stop_keepalive()
        if self.close_sent or not self.handshake_complete:
            super().shutdown()
            return
        self.queue.put_nowait({"type": "websocket.disconnect", "code": 1001})
        self.conn.send_close(1001, "server shutting down")
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.transport.close()


class Stopped(SystemExit):
    """Raised in the main thread by SIGTERM or SIGINT once uvicorn has drained: unwinds to a clean exit."""


def _stop(_signum: int, _frame: FrameType | None) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):  # a second signal must not interrupt the clean-up
        signal.signal(sig, signal.SIG_IGN)
    raise Stopped(0)


def exit_cleanly_on_signals() -> None:
    """Turn SIGTERM and SIGINT into an exception rather than the default abrupt exit.

    uvicorn handles both while it serves (stop accepting, drain, lifespan shutdown), then re-raises
    the signal with the handlers it found. With the default SIGTERM handler that kills the process
    on the spot, skipping the `finally` that stops the embedded PostgreSQL; with this one, the
    stack unwinds and every context manager runs. The same holds for a signal during migrations.
    """
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stop)
