"""The asyncio shell: websocket protocol, HTTP routes, fan-out."""
