#!/usr/bin/python3
"""Bytes CloudHub sends an edge holding 1,000 objects when it reconnects
after 10 of them changed, against a full snapshot of the same node, in
the same run. Speaks docs/protocol.md directly (python websocket).

    hub_resume.py CLOUD_DATA_DIR HUB_URL KEDGE_BIN
"""
import json
import os
import ssl
import subprocess
import sys
import tempfile
import urllib.request

import websocket

data, hub, kedge = sys.argv[1], sys.argv[2], sys.argv[3]
N_OBJECTS = int(os.environ.get("N_OBJECTS", "1000"))
N_CHANGED = int(os.environ.get("N_CHANGED", "10"))
pki = os.path.join(data, "pki")
work = tempfile.mkdtemp()
ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
ctx.load_cert_chain(os.path.join(pki, "admin.crt"), os.path.join(pki, "admin.key"))
api = open(os.path.join(data, "admin.kubeconfig")).read().split("server: ")[1].split()[0].strip('"')


def call(method, path, body=None, ctype="application/json"):
    req = urllib.request.Request(api + path, method=method,
                                 data=json.dumps(body).encode() if body else None,
                                 headers={"Content-Type": ctype})
    with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
        return json.loads(r.read())


token = subprocess.run([kedge, "token", "create", "--data-dir", data],
                       capture_output=True, text=True, check=True).stdout.strip()
key, csr = os.path.join(work, "n.key"), os.path.join(work, "n.csr")
subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out",
                csr, "-subj", "/CN=x"], check=True, capture_output=True)
jctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
req = urllib.request.Request(hub + "/join", data=json.dumps(
    {"token": token, "node": "resume-edge", "csr": open(csr).read()}).encode())
crt = os.path.join(work, "n.crt")
with urllib.request.urlopen(req, context=jctx) as r:
    open(crt, "w").write(json.loads(r.read())["certificate"])

# 1,000 objects for the node: pods bound to it (each also references the
# default service account).
for i in range(N_OBJECTS - 1):
    call("POST", "/api/v1/namespaces/default/pods",
         {"apiVersion": "v1", "kind": "Pod",
          "metadata": {"name": "obj-%d" % i, "labels": {"app": "bench"}},
          "spec": {"nodeName": "resume-edge",
                   "containers": [{"name": "c", "image": "busybox:1.36"}]}})


def session(rev):
    ws = websocket.create_connection(
        hub.replace("https://", "wss://") + "/hub",
        sslopt={"certfile": crt, "keyfile": key,
                "ca_certs": os.path.join(pki, "ca.crt")}, timeout=60)
    ws.send(json.dumps({"type": "hello", "node": "resume-edge", "rev": rev}))
    total, objects, last = 0, 0, rev
    while True:
        raw = ws.recv()
        total += len(raw)
        m = json.loads(raw)
        if m["type"] in ("put", "delete"):
            objects += 1
        if m["type"] in ("sync", "snapshot-end"):
            last = m["rev"]
            break
    ws.close()
    return total, objects, last


snap_bytes, snap_objs, rev = session(0)
for i in range(N_CHANGED):
    call("PATCH", "/api/v1/namespaces/default/pods/obj-%d" % i,
         {"metadata": {"labels": {"changed": "yes"}}},
         "application/merge-patch+json")
inc_bytes, inc_objs, _ = session(rev)
print("\nreconnect of an edge holding %d objects:" % snap_objs)
print("  %-36s %10d bytes (%d objects)" % ("full snapshot", snap_bytes, snap_objs))
print("  %-36s %10d bytes (%d objects)" % ("resume after %d changes" % N_CHANGED,
                                           inc_bytes, inc_objs))
print("  %-36s %10.4f (objects changed / total: %.4f)" % (
    "ratio resume / snapshot", inc_bytes / snap_bytes, N_CHANGED / snap_objs))
