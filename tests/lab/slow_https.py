"""A hostile MTA-STS policy host for the lab: accepts TLS, reads the
request, then trickles a valid-looking answer one byte a second (a
slow-loris server), for at most two minutes per connection.

usage: slow_https.py ADDRESS PORT CERT_CHAIN KEY"""

import asyncio
import ssl
import sys

ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 90\r\n\r\n"
          b"version: STSv1\r\nmode: enforce\r\nmx: mx.sts-slow.test\r\nmax_age: 86400\r\n" + b"x" * 30)


async def handle(reader, writer):
    try:
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        for i in range(min(len(ANSWER), 120)):
            writer.write(ANSWER[i:i + 1])
            await writer.drain()
            await asyncio.sleep(1)
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def main(address, port, chain, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain, key)
    server = await asyncio.start_server(handle, address, int(port), ssl=ctx)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
