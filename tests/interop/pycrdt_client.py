"""A second, independent Yjs client: pycrdt (Rust yrs bindings, its own sync code).

Connects to the note, checks it received the body, adds an edit, prints `edited`, then waits
until another client's edit (a REST PUT from the test) arrives and prints the final text as
JSON. Usage: python pycrdt_client.py URL EXPECTED_START EXPECTED_LATER
"""

import json
import sys

import anyio
from pycrdt import Doc, Provider, Text
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed


class WebsocketChannel:
    """pycrdt's `Channel` over a `websockets` connection: binary frames in and out."""

    def __init__(self, websocket, path: str) -> None:
        self._websocket = websocket
        self._path = path

    @property
    def path(self) -> str:
        return self._path

    def __aiter__(self) -> "WebsocketChannel":
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.recv()
        except ConnectionClosed:
            raise StopAsyncIteration() from None

    async def send(self, message: bytes) -> None:
        await self._websocket.send(message)

    async def recv(self) -> bytes:
        while True:
            message = await self._websocket.recv()
            if isinstance(message, bytes):
                return message


async def wait_for(what: str, check, seconds: float = 10.0) -> None:
    with anyio.fail_after(seconds):
        while not check():
            await anyio.sleep(0.01)


async def main(url: str, expected_start: str, expected_later: str) -> None:
    doc = Doc()
    text = doc.get("content", type=Text)
    async with connect(url, max_size=None) as websocket:
        async with Provider(doc, WebsocketChannel(websocket, url)) as provider:
            with anyio.fail_after(10):
                await provider.synced.wait()
            await wait_for("the stored body", lambda: str(text) == expected_start)
            text += "from python. "
            print("edited", flush=True)
            await wait_for("the REST edit", lambda: str(text) == expected_later)
    print(json.dumps({"text": str(text)}), flush=True)


if __name__ == "__main__":
    anyio.run(main, *sys.argv[1:4])
