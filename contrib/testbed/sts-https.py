#!/usr/bin/python3
# sts-https.py - the MTA-STS policy server of the test bed (testbed-lib.sh)
#
#   sts-https.py ADDRESS DIRECTORY CERT KEY
# Serves DIRECTORY (.well-known/mta-sts.txt, text/plain) over HTTPS on
# ADDRESS port 443 until killed. Standard library only.
import functools
import http.server
import ssl
import sys

addr, root, cert, key = sys.argv[1:5]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
server = http.server.HTTPServer((addr, 443), handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
